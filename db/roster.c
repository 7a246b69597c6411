/* roster: see roster.h. Linear probing on a multiplicative hash of the id; no deletion but
 * roster_truncate, which rebuilds the table (it runs only after a failed batch). */
#include "roster.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_of(int64_t id, size_t nslot)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 20) & (nslot - 1);
}

struct roster_entry *roster_find(const struct roster *r, int64_t id)
{
    if (r->nslot == 0) {
        return NULL;
    }
    for (size_t i = hash_of(id, r->nslot);; i = (i + 1) & (r->nslot - 1)) {
        uint32_t s = r->slot[i];
        if (s == 0) {
            return NULL;
        }
        if (r->e[s - 1].id == id) {
            return &r->e[s - 1];
        }
    }
}

static void place(struct roster *r, size_t index)
{
    size_t i = hash_of(r->e[index].id, r->nslot);

    while (r->slot[i] != 0) {
        i = (i + 1) & (r->nslot - 1);
    }
    r->slot[i] = (uint32_t)index + 1;
}

/* A table of nslot slots holding the first r->n entries. */
static int rehash(struct roster *r, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof(*slot));

    if (slot == NULL) {
        return -1;
    }
    free(r->slot);
    r->slot = slot;
    r->nslot = nslot;
    for (size_t i = 0; i < r->n; i++) {
        place(r, i);
    }
    return 0;
}

struct roster_entry *roster_add(struct roster *r, const struct roster_entry *e)
{
    if (r->n >= UINT32_MAX - 1) {
        return NULL;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        struct roster_entry *p = realloc(r->e, cap * sizeof(*p));
        if (p == NULL) {
            return NULL;
        }
        r->e = p;
        r->cap = cap;
    }
    if (2 * (r->n + 1) > r->nslot && rehash(r, r->nslot ? r->nslot * 2 : 512) != 0) {
        return NULL;
    }
    r->e[r->n] = *e;
    place(r, r->n);
    return &r->e[r->n++];
}

void roster_truncate(struct roster *r, size_t n)
{
    if (n >= r->n) {
        return;
    }
    r->n = n;
    memset(r->slot, 0, r->nslot * sizeof(*r->slot));
    for (size_t i = 0; i < r->n; i++) {
        place(r, i);
    }
}

void roster_free(struct roster *r)
{
    free(r->e);
    free(r->slot);
    memset(r, 0, sizeof(*r));
}

void roster_form_push(char *form, char result)
{
    size_t len = strlen(form);

    if (len == BOARD_FORM_MAX) {
        memmove(form, form + 1, len - 1);
        len--;
    }
    form[len] = result;
    form[len + 1] = '\0';
}
