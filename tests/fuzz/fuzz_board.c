/*
 * libFuzzer target: the leaderboard query parser. A parsed query is always in
 * range and its name, if any, is a valid player name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct board_query q;
    const char *reason = NULL;

    if (board_parse((const char *)data, size, &q, &reason) < 0) {
        if (reason == NULL || reason[0] == '\0') {
            abort();
        }
        return 0;
    }
    if (q.kind == BOARD_TOP && (q.count < 1 || q.count > BOARD_TOP_MAX)) {
        abort();
    }
    if (q.kind == BOARD_RANK &&
        (q.count < 0 || q.count > BOARD_AROUND_MAX || !rps_valid_name(q.name, strlen(q.name)))) {
        abort();
    }
    return 0;
}
