#!/usr/bin/env bash
# make bench: the same loads against bin/arcaded and against bin/arcade-null (the baseline
# that answers with constants), then the hold test against arcaded alone.
#
#   BENCH_SECS       seconds per load (default 10)
#   BENCH_HOLD_SECS  seconds the hold test keeps its connections idle (default 60)
#   BENCH_HOLD_CONNS connections of the hold test (default 19000: what fits under a process's
#                    limit of 20,000 open files on this machine, with room for the rest)
#   BENCH_THREADS    client threads (default: cores - 1, at least 1, so that on a small
#                    machine the single-threaded server keeps a core of its own)
#   BENCH_BOARD_PLAYERS  players in the database of the last pvp run (default 1000000; 0: no
#                    such run)
#   ARCADE, ARCADED, ARCADE_NULL, BENCH_RANK  the binaries (default bin/arcade, bin/arcaded,
#                    bin/arcade-null, build/rel/bench_rank: it fills that database)
#
# Prints each run's summary line, a table (ops/s, and each server's CPU time per op), arcaded's CPU
# for a rated round against a bot round's, what arcaded stored of pvp's rated rounds, and arcaded's
# resident memory around the hold test. Exit status 0 when every run had no error
# (a pvp run whose rounds the server does not all hold is one).
set -u
cd "$(dirname "$0")/.." || exit 2

secs=${BENCH_SECS:-10}
hold_secs=${BENCH_HOLD_SECS:-60}
hold_conns=${BENCH_HOLD_CONNS:-19000}
cores=$(nproc 2>/dev/null || echo 1)
threads=${BENCH_THREADS:-$((cores > 1 ? cores - 1 : 1))}
board_players=${BENCH_BOARD_PLAYERS:-1000000}
bench_rank=${BENCH_RANK:-build/rel/bench_rank}
arcade=${ARCADE:-bin/arcade}
arcaded=${ARCADED:-bin/arcaded}
null=${ARCADE_NULL:-bin/arcade-null}

for bin in "$arcade" "$arcaded" "$null"; do
    if [ ! -x "$bin" ]; then
        echo "bench: $bin is missing (make builds it)" >&2
        exit 2
    fi
done

tmp=$(mktemp -d /tmp/arcade-bench.XXXXXX)
pids=""        # the servers
hold_pid=""    # the hold run while it goes on
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    for p in $pids $hold_pid; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: run a server whose first stderr line names its port; sets $pid and $port.
start() {
    local name=$1
    shift
    "$@" 2>"$tmp/$name.err" &
    pid=$!
    pids="$pids $pid"
    port=""
    for _ in $(seq 100); do
        port=$(head -n 1 "$tmp/$name.err" 2>/dev/null | grep -o '127\.0\.0\.1:[0-9]*' | head -n 1 | cut -d: -f2)
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: $name did not start:" >&2
    cat "$tmp/$name.err" >&2
    exit 2
}

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

mb() {
    awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'
}

# cpu_ticks PID: the user + system CPU time the process (all its threads) has used, in clock ticks:
# fields 14 and 15 of /proc/PID/stat, counted here after the command name, which may hold spaces.
# A tick is 1/CLK_TCK s, 10 ms on Linux: a load of a few seconds of CPU is measured within 1%.
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
clk_tck=$(getconf CLK_TCK)

# The per-address and per-connection rate limits guard against abuse; a load
# generator is abuse by design, so they are off here, and the connection cap
# leaves room for the held connections.
start arcaded "$arcaded" --port 0 --db "$tmp/arcade.db" --quiet --conn-rate 0 --addr-conns 0 --frame-rate 0 --udp-rate 0 --name-rate 0 --max-conns 20000
arcaded_pid=$pid
arcaded_port=$port
start null "$null" --port 0
null_pid=$pid
null_port=$port
rss_start=$(rss_kb "$arcaded_pid")

status=0
rows=""
stored=""
bot_label="long -c 100 -p 1"   # against arcaded, each op a named player's move: a stored bot round
bot_cpu=""
single_label="long -c 1 -p 1"   # one connection, one move at a time: the round trip itself
single=""
rated_cpu=""

# loop_counts: from one read of arcaded's /metrics (over bash's /dev/tcp, nothing else needed), its
# loop iterations so far, those in which the loop worked more than 2 ms (from poll's return to the
# next poll) and kept everyone waiting, and those in which it used more than 2 ms of CPU (in the
# others, the thread waited for the machine).
loop_counts() {
    local body
    exec 3<>"/dev/tcp/127.0.0.1/$arcaded_port" || return
    printf 'GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n' >&3
    body=$(cat <&3)
    exec 3<&-
    echo "$body" | awk '
        $1 == "arcade_loop_busy_seconds_count" { all = $2 }
        $1 == "arcade_loop_busy_seconds_bucket{le=\"0.002\"}" { fast = $2 }
        $1 == "arcade_loop_busy_cpu_seconds_count" { cpu_all = $2 }
        $1 == "arcade_loop_busy_cpu_seconds_bucket{le=\"0.002\"}" { cpu_fast = $2 }
        END { print all + 0, all - fast, cpu_all - cpu_fast }'
}

# loop_since "BEFORE": "stalls (cpu stalls) of iterations" since the loop_counts BEFORE.
loop_since() {
    echo "$1 $(loop_counts)" | awk '{ printf "%d (%d) of %d", $5 - $2, $6 - $3, $4 - $1 }'
}

# bench LABEL PORT PID ARGS...: one run against the server on PORT, process PID; prints its summary,
# keeps it in $line, and the server's CPU time per op over the run, in microseconds, in $cpu_per_op.
bench() {
    local label=$1 port=$2 server_pid=$3
    shift 3
    local before after rc
    before=$(cpu_ticks "$server_pid")
    line=$("$arcade" bench "$@" -d "$secs" -t "$threads" --port "$port" </dev/null 2>"$tmp/run.err")
    rc=$?
    # Read at once: what arcaded does later for the run (folding its last second of bot rounds into
    # the totals) is left out; in a trial it came to one tick.
    after=$(cpu_ticks "$server_pid")
    cpu_per_op=$(awk -v b="${before:-}" -v a="${after:-}" -v n="$(ops "$line")" -v t="$clk_tck" \
        'BEGIN { if (b != "" && a != "" && n > 0) printf "%.2f", (a - b) * 1e6 / t / n; else print "-" }')
    printf '%-7s %s\n' "$label" "${line:-no summary}"
    if [ "$rc" -ne 0 ]; then
        status=1
        sed 's/^/        /' "$tmp/run.err"
    fi
}

# The numbers in a summary line: ops LINE (the ops counted: requests, moves, datagrams, or pvp's
# rated rounds), ops_per_sec LINE, p99 LINE.
ops() {
    echo "$1" | sed -nE 's/.* s: ([0-9]+) (ops|rated rounds), .*/\1/p'
}

ops_per_sec() {
    echo "$1" | sed -n 's/.* \([0-9][0-9]*\) ops\/s.*/\1/p'
}

p99() {
    echo "$1" | sed -n 's/.* p99 \([0-9.][0-9.]*\) ms.*/\1/p'
}

p50() {
    echo "$1" | sed -n 's/.* p50 \([0-9.][0-9.]*\) ms.*/\1/p'
}

max_ms() {
    echo "$1" | sed -n 's/.* max \([0-9.][0-9.]*\) ms.*/\1/p'
}

echo "bench: $secs s per load, $threads client thread(s), $cores core(s)"
# The arguments are split into words on purpose.
# shellcheck disable=SC2086
while IFS='|' read -r label null_args arcade_args; do
    bench null "$null_port" "$null_pid" $null_args
    null_ops=$(ops_per_sec "$line")
    null_p50=$(p50 "$line")
    null_cpu=$cpu_per_op
    loop_before=$(loop_counts)
    bench arcade "$arcaded_port" "$arcaded_pid" $arcade_args
    arcade_ops=$(ops_per_sec "$line")
    arcade_p99=$(p99 "$line")
    arcade_max=$(max_ms "$line")
    loop=$(loop_since "$loop_before")
    arcade_cpu=$cpu_per_op
    case $label in
        pvp*)
            stored=$(echo "$line" | sed -n 's/.*, stored \([0-9.]*\) of \([0-9.]*\).*/\1 of the \2/p')
            rated_cpu=$arcade_cpu
            ;;
        "$bot_label") bot_cpu=$arcade_cpu ;;
        "$single_label") single="$(p50 "$line") ms against $null_p50 ms" ;;
    esac
    ratio=$(awk -v a="${arcade_ops:-0}" -v n="${null_ops:-0}" 'BEGIN { if (n > 0) printf "%.2f", a / n; else print "-" }')
    rows="$rows$(printf '%-18s | %10s | %12s | %5s | %-10s | %-10s | %14s | %16s | %s' \
        "$label" "${null_ops:--}" "${arcade_ops:--}" "$ratio" "${arcade_p99:--} ms" "${arcade_max:--} ms" \
        "$null_cpu" "$arcade_cpu" "$loop")
"
done <<'LOADS'
short -c 50|short -c 50|short -c 50
long -c 1 -p 1|long -c 1 -p 1 --anonymous|long -c 1 -p 1
long -c 100 -p 1|long -c 100 -p 1 --anonymous|long -c 100 -p 1
long -c 100 -p 16|long -c 100 -p 16 --anonymous|long -c 100 -p 16
udp -c 50|udp -c 50|udp -c 50
pvp -c 50|pvp -c 50|pvp -c 50
LOADS

echo
printf '%-18s | %10s | %12s | %5s | %-10s | %-10s | %14s | %16s | %s\n' load "null ops/s" "arcade ops/s" \
    ratio "arcade p99" "arcade max" "null cpu us/op" "arcade cpu us/op" "arcade loop > 2 ms"
printf '%s' "$rows"
echo "(null: arcade-null, long as a guest; arcade: arcaded, long with named players;"
echo " pvp: 50 pairs, arcade's ops are rated rounds, null's the same exchanges of frames;"
echo " cpu us/op: the server process's user + system CPU time from just before the run to just after,"
echo " in $((1000 / clk_tck)) ms ticks, over its ops: short a connection's request, long a move (against arcaded"
echo " a stored bot round), udp a datagram, pvp a rated round (a move from each side);"
echo " loop > 2 ms: arcaded's loop iterations in the run that kept it busy over 2 ms, from poll's"
echo " return to the next poll, (those of them that used over 2 ms of CPU: the others waited for"
echo " the machine) of all its iterations, from its /metrics)"
rated_vs_bot=$(awk -v r="${rated_cpu:--}" -v b="${bot_cpu:--}" \
    'BEGIN { if (r != "-" && b != "-" && b > 0) printf "%.1f times", r / b; else print "unknown" }')
echo "rated round: ${rated_cpu:--} us of arcaded's CPU against ${bot_cpu:--} us for a bot round" \
     "($bot_label): $rated_vs_bot"
echo "pvp: arcaded stored ${stored:-an unknown number of the} rated rounds it told of"
single_ratio=$(echo "$single" | awk '{ if ($4 > 0) printf "%.2f times", $1 / $4; else print "unknown" }')
echo "one connection ($single_label): p50 ${single:-unknown} for the null server, $single_ratio"

# The same pvp load against a second arcaded whose database holds board_players rated players
# (filled by bench_rank --fill): what a rated round costs when the leaderboard is big.
if [ "$board_players" -gt 0 ]; then
    echo
    if "$bench_rank" --fill "$tmp/board.db" "$board_players" >"$tmp/fill.out" 2>&1; then
        start board "$arcaded" --port 0 --db "$tmp/board.db" --quiet --conn-rate 0 --addr-conns 0 \
            --frame-rate 0 --udp-rate 0 --name-rate 0
        main_port=$arcaded_port
        arcaded_port=$port   # the loop's figures from this server's /metrics
        loop_before=$(loop_counts)
        bench board "$port" "$pid" pvp -c 50
        loop=$(loop_since "$loop_before")
        board_ratio=$(awk -v b="$cpu_per_op" -v r="${rated_cpu:--}" \
            'BEGIN { if (b != "-" && r != "-" && r > 0) printf "%.2f times", b / r; else print "unknown" }')
        echo "pvp with $board_players players in the database: $cpu_per_op us of arcaded's CPU a rated" \
             "round against ${rated_cpu:--} us with none, $board_ratio; loop > 2 ms: $loop"
        kill "$pid" 2>/dev/null
        arcaded_port=$main_port
    else
        status=1
        echo "bench: could not fill a database of $board_players players:"
        cat "$tmp/fill.out"
    fi
fi

# Hold: connections idle for a while, memory before, with all of them open, and after.
echo
sleep 1
rss_idle=$(rss_kb "$arcaded_pid")
"$arcade" bench hold -c "$hold_conns" -d "$hold_secs" -t "$threads" --port "$arcaded_port" \
    </dev/null >"$tmp/hold.out" 2>"$tmp/hold.err" &
hold_pid=$!
rss_open=""
while kill -0 "$hold_pid" 2>/dev/null; do
    if grep -q 'connections open, holding' "$tmp/hold.err"; then
        rss_open=$(rss_kb "$arcaded_pid")
        break
    fi
    sleep 0.2
done
wait "$hold_pid"
hold_rc=$?
hold_pid=""
[ "$hold_rc" -ne 0 ] && status=1
sleep 1
rss_after=$(rss_kb "$arcaded_pid")
cat "$tmp/hold.out"
grep -v 'connections open, holding' "$tmp/hold.err" | sed 's/^/        /'
open_mb=unknown
[ -n "$rss_open" ] && open_mb=$(mb "$rss_open")
echo "arcaded VmRSS: at start $(mb "$rss_start"), idle before hold $(mb "$rss_idle")," \
     "with $hold_conns open $open_mb, after they closed $(mb "$rss_after")"
if [ -n "$rss_open" ]; then
    awk -v o="$rss_open" -v i="$rss_idle" -v n="$hold_conns" \
        'BEGIN { printf "arcaded memory per held connection: %.2f KB\n", (o - i) / n }'
fi
exit $status
