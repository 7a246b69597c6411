#!/usr/bin/env bash
# memcheck: run the end-to-end suites against bin/arcaded under valgrind's memcheck, and fail if any
# run of the server reported a memory error or a definite or indirect leak.
#
#   bash tests/memcheck.sh                      test_server, test_pvp, test_accounts, test_crash, test_faults, test_http
#   MEMCHECK_SUITES="test_pvp" bash tests/memcheck.sh
#
# With ARCADE_TEST_PG set (tests/pg.sh), the same suites run again against PostgreSQL, and
# test_cluster (two servers on PostgreSQL and a Redis of its own: the bus, tunnels, take-overs)
# with them; MEMCHECK_PG_SUITES picks others.
#
# The suites start the server through $ARCADED, so ARCADED points at a wrapper that runs the real
# binary under valgrind with one log file per process. A run killed with SIGKILL (test_faults does
# that on purpose) leaves a log without a summary: it is counted, not judged. A server whose run had
# errors also exits 99, which the suites see as a failed stop.
set -euo pipefail
cd "$(dirname "$0")/.."

suites=${MEMCHECK_SUITES:-"test_server test_pvp test_accounts test_crash test_faults test_http"}
# Valgrind runs the server some 20 to 50 times slower: Check's per-test limits are multiplied.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-4}

command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)"; exit 1; }
pg_suites=""
if [ -n "${ARCADE_TEST_PG:-}" ]; then
    pg_suites=${MEMCHECK_PG_SUITES:-"$suites test_cluster"}
else
    echo "memcheck: ARCADE_TEST_PG is not set: the runs against PostgreSQL are skipped"
fi
targets="bin/arcaded"
for s in $suites $pg_suites; do
    targets="$targets build/rel/tests/$s"
done
make -s $targets

logs=$(mktemp -d /tmp/arcade-memcheck-XXXXXX)
wrapper="$logs/arcaded"
cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \\
    --log-file=$logs/vg.%p.log "$PWD/bin/arcaded" "\$@"
EOF
chmod +x "$wrapper"

failed_suites=""
for s in $suites; do
    echo "== $s under valgrind"
    ARCADE_TEST_ENGINE=sqlite ARCADED="$wrapper" ARCADE="$PWD/bin/arcade" "build/rel/tests/$s" ||
        failed_suites="$failed_suites $s"
done
for s in $pg_suites; do
    echo "== $s under valgrind (postgresql)"
    ARCADE_TEST_ENGINE=pg ARCADED="$wrapper" ARCADE="$PWD/bin/arcade" "build/rel/tests/$s" ||
        failed_suites="$failed_suites $s(postgresql)"
done

runs=0 summarized=0 bad=0
for f in "$logs"/vg.*.log; do
    [ -e "$f" ] || continue
    runs=$((runs + 1))
    if ! grep -q "ERROR SUMMARY:" "$f"; then
        continue    # killed before valgrind could summarize
    fi
    summarized=$((summarized + 1))
    if grep -qE "ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]" "$f"; then
        bad=$((bad + 1))
        echo "memcheck: $f:"
        grep -E "ERROR SUMMARY|definitely lost|indirectly lost|Invalid|uninitialised|at 0x|by 0x" "$f" | head -40
    fi
done

echo "memcheck: $runs server runs, $summarized ran to exit, $bad with errors or leaks; logs in $logs"
if [ -n "$failed_suites" ]; then
    echo "memcheck: suites that failed under valgrind:$failed_suites"
fi
[ "$bad" -eq 0 ] && [ -z "$failed_suites" ]
