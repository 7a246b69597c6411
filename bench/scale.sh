#!/usr/bin/env bash
# scale: arcaded's rounds a second and its CPU a round, against SQLite with one process and against
# PostgreSQL + Redis with 1, 2 and 4 workers, then connections held past one process's open-file
# limit by several workers, in one run.
#
#   sudo bash bench/scale.sh            # or: sudo make bench-scale
#
# For each setup, one after the other on the same port (each started, waited for until it answers,
# stopped with SIGTERM and waited for):
#
#   sqlite      arcaded --db FILE                          (one process)
#   pg w1       arcaded --workers 1 --db postgresql://... --bus unix://...redis.sock
#   pg w2       the same with --workers 2
#   pg w4       the same with --workers 4
#
# two loads of BENCH_SECS seconds: `arcade bench long -c 50` (bot rounds: a named player's move,
# stored) and `arcade bench pvp -c 50` (rated rounds between new named players, every one read back
# through the JSON API afterwards). For each: rounds a second, p99, errors, and the CPU time (user +
# system, from /proc/PID/stat at the start of the load and at its end, BENCH_SECS later; pvp's check
# after it is measured apart) used meanwhile by every arcaded process
# (the supervisor and its workers), by the PostgreSQL cluster (its postmaster and all its children:
# WAL writer, checkpointer..., and the backends, but for those of other databases, counted apart:
# someone else's tests, say), by redis-server and by the load
# generator, each in microseconds a round; and the whole machine's busy CPU (/proc/stat) a round,
# which also holds what no process is charged for (the loopback's softirqs) and anything else that
# ran meanwhile. PostgreSQL gets a fresh database for each setup, Redis is emptied.
#
# Then the hold: `--workers HOLD_WORKERS` on PostgreSQL + Redis, and HOLD_CLIENTS `arcade bench hold`
# processes at once holding HOLD_CONNS connections in all, HOLD_SECS seconds: every connection plays
# a round as a guest, is held, plays again. One process may open 20,000 files here, the load generator too,
# hence several of each. 40,000 connections from 127.0.0.1 to one port are more than the
# ephemeral ports (28,232 by default), so the hold runs in a network namespace of its own with the
# ephemeral ports widened there (the machine's own range is not touched) and arcaded on its
# loopback. PostgreSQL's TCP port is not in that namespace: the hold's arcaded reaches it over the
# cluster's unix socket, as the OS user postgres (peer authentication), into the same database.
# Reported: connections answered both rounds, the workers' resident memory (sum of VmRSS) idle and
# with all open, and the connections each worker held (sockets in /proc/PID/fd, less its own).
#
# Run as root: PostgreSQL comes from tests/pg.sh (started if it is down, and stopped at the end
# only then), Redis is a private redis-server on a unix socket in a temporary directory, run as
# nobody, nothing saved. Everything started is stopped on exit, on failure and on Ctrl-C, the
# database dropped and the namespace deleted. Prints each command, each run's summary line, a table
# and the hold's figures; exit status 0 when every run had no error.
#
#   BENCH_SECS     seconds a load (default 5)
#   BENCH_THREADS  load generator threads (default: cores - 1, at least 1, as make bench)
#   SCALE_PORT     the port of every setup (default 5400)
#   SCALE_DB       the database made and dropped (default arcade_scale)
#   HOLD_CONNS, HOLD_WORKERS, HOLD_CLIENTS, HOLD_SECS  (defaults 40000, 3, 3, 10)
#   ARCADE, ARCADED  the binaries (default bin/arcade, bin/arcaded; copied first, so that a
#                  rebuild during the run changes nothing)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

secs=${BENCH_SECS:-5}
cores=$(nproc 2>/dev/null || echo 1)
threads=${BENCH_THREADS:-$((cores > 1 ? cores - 1 : 1))}
port=${SCALE_PORT:-5400}
db_name=${SCALE_DB:-arcade_scale}
hold_conns=${HOLD_CONNS:-40000}
hold_workers=${HOLD_WORKERS:-3}
hold_clients=${HOLD_CLIENTS:-3}
hold_secs=${HOLD_SECS:-10}
WAIT_SECS=30
# The loads measure the server, not its limits against abuse.
OPEN=(--addr-conns 0 --name-rate 0 --conn-rate 0 --udp-rate 0 --frame-rate 0 --max-conns 19000)

say() { echo "scale.sh: $*" >&2; }
die() { say "$*"; exit 2; }

[ "$(id -u)" = 0 ] || die "run as root (sudo bash bench/scale.sh): it starts PostgreSQL, Redis and a network namespace"
[[ $db_name =~ ^[a-z_][a-z0-9_]*$ ]] || die "SCALE_DB: lower-case letters, digits and _ only"
for c in redis-server redis-cli psql pg_lsclusters curl setpriv ip; do
    command -v "$c" >/dev/null || die "$c is missing (apt-get install postgresql redis-server curl iproute2)"
done

tmp=$(mktemp -d /tmp/arcade-scale.XXXXXX)
chmod 0755 "$tmp"
arcaded=$tmp/arcaded
arcade=$tmp/arcade
if ! cp "${ARCADED:-bin/arcaded}" "$arcaded" || ! cp "${ARCADE:-bin/arcade}" "$arcade"; then
    rm -rf "$tmp"
    die "bin/arcaded or bin/arcade is missing (make builds them)"
fi

server_pid=""      # the arcaded running (the supervisor when it has workers)
redis_pid=""
clients=""         # the load generators while they run
ns=""              # the hold's network namespace once made
nsx=()             # what runs a command in it: ip netns exec NS (a simple command, so that $! is the
                   # process itself: ip netns exec and setpriv execute what follows)
db_made=0
pg_started=0       # tests/pg.sh started the cluster: stop it at the end
admin=""
pg_version=""
pg_cluster=""

# alive PID: running, not a zombie.
alive() {
    local stat
    [ -n "${1:-}" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null) && [ "$(cut -d' ' -f1 <<<"${stat##*) }")" != Z ]
}

# end PID WHAT: SIGTERM, then wait (arcaded drains for up to 5 s), SIGKILL after WAIT_SECS; sets
# end_status to its exit status when it is our child.
end() {
    local pid=$1 what=$2 i
    end_status=""
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < WAIT_SECS * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "$what (pid $pid) still running after $WAIT_SECS s: killed"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    end_status=$?
}

# shellcheck disable=SC2317  # called by the trap
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in $clients; do
        kill -TERM "$p" 2>/dev/null
    done
    end "$server_pid" arcaded
    end "$redis_pid" redis-server
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
    if [ "$db_made" = 1 ]; then
        psql "$admin" -XAtqc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 ||
            say "could not drop database $db_name"
    fi
    if [ "$pg_started" = 1 ]; then
        say "stopping PostgreSQL $pg_version/$pg_cluster (it was down before this run)"
        pg_ctlcluster "$pg_version" "$pg_cluster" stop
    fi
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

# ---- CPU time ----

clk_tck=$(getconf CLK_TCK)

# sample PID...: "pid ticks" for each process running, ticks its user + system CPU (fields 14 and
# 15 of /proc/PID/stat, counted after the command name, which may hold spaces).
sample() {
    local p s
    for p in "$@"; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        echo "$p ${s##*) }"
    done | awk '{ print $1, $13 + $14 }'
}

# spent BEFORE AFTER: ticks used between two samples; a process that started meanwhile counts
# from 0, one that ended meanwhile is lost (none of the measured ones does: their connections stay).
spent() {
    awk 'NR == FNR { t[$1] = $2; next } { s += $2 - ($1 in t ? t[$1] : 0) } END { print s + 0 }' "$1" "$2"
}

# machine: busy ticks of all CPUs so far (/proc/stat: all but idle and iowait).
machine() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# The load generator's CPU: the shell's children that ended so far, in seconds, from bash's times,
# which must run in this shell (in a subshell it counts the subshell's children): times >FILE, then
# child_secs <FILE.
child_secs() {
    tail -n 1 | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] } printf "%.3f\n", s }'
}

arcaded_pids() {
    [ -n "$server_pid" ] || return
    echo "$server_pid"
    pgrep -P "$server_pid" -x arcaded
}

# pg_pids ours|others|backends: the cluster's postmaster and its children, but for the backends of
# other databases (someone else's tests, say) with ours; those alone with others; with backends,
# the backends of our database alone (arcaded's connections).
pg_pids() {
    local pm p title db re='^postgres: [^:]*: [^ ]+ ([^ ]+) ([^ ]*\([0-9]+\)|\[local\])'
    pm=$(head -n 1 "$pg_datadir/postmaster.pid" 2>/dev/null) || return
    [ "$1" = ours ] && echo "$pm"
    for p in $(pgrep -P "$pm"); do
        title=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
        # A backend: "postgres: 15/main: ROLE DATABASE ADDRESS(PORT) STATE" or "... [local] STATE".
        db=""
        if [[ $title =~ $re ]]; then
            db=${BASH_REMATCH[1]}
        elif [[ $title =~ autovacuum\ worker\ ([^ ]+) ]]; then
            db=${BASH_REMATCH[1]}
        fi
        if [ -z "$db" ] || [ "$db" = "$db_name" ]; then
            [ "$1" = ours ] && echo "$p"
            [ "$1" = backends ] && [ "$db" = "$db_name" ] && echo "$p"
        else
            [ "$1" = others ] && echo "$p"
        fi
    done
}

# ---- the pieces ----

# pg_up: the cluster up (tests/pg.sh), its role, data directory and unix socket.
pg_up() {
    local before
    before=$(pg_lsclusters -h | awk '$4 == "online"' | wc -l)
    admin=$(bash "$root/tests/pg.sh") || die "tests/pg.sh could not give a PostgreSQL server"
    [[ $admin =~ ^postgresql://([^:]+):([^@]+)@([^:/]+):([0-9]+)/postgres$ ]] || die "unexpected URI from tests/pg.sh"
    pg_role=${BASH_REMATCH[1]}
    pg_password=${BASH_REMATCH[2]}
    pg_host=${BASH_REMATCH[3]}
    pg_port=${BASH_REMATCH[4]}
    read -r pg_version pg_cluster pg_datadir < <(pg_lsclusters -h | awk -v p="$pg_port" '$3 == p { print $1, $2, $6 }')
    [ -n "$pg_datadir" ] || die "no cluster on port $pg_port in pg_lsclusters"
    if [ "$before" -lt "$(pg_lsclusters -h | awk '$4 == "online"' | wc -l)" ]; then
        pg_started=1
    fi
    pg_socket=$(pg_conftool -s "$pg_version" "$pg_cluster" show unix_socket_directories 2>/dev/null |
        cut -d, -f1 | tr -d " '")
    pg_socket=${pg_socket:-/var/run/postgresql}
}

fresh_db() {
    PGOPTIONS='-c client_min_messages=warning' psql "$admin" -XAtq -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" \
        -c "CREATE DATABASE $db_name" >/dev/null || die "cannot make database $db_name"
    db_made=1
}

redis_up() {
    local i
    mkdir -p "$tmp/redis"
    chown nobody "$tmp/redis"
    redis_sock=$tmp/redis/redis.sock
    # setpriv executes redis-server in its place: $! is Redis. The socket is open to every user,
    # since the hold's arcaded runs as postgres; no TCP port.
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- redis-server --port 0 \
        --unixsocket "$redis_sock" --unixsocketperm 777 --save '' --appendonly no --dir "$tmp/redis" \
        --logfile "$tmp/redis/redis.log" </dev/null &
    redis_pid=$!
    for ((i = 0; i < WAIT_SECS * 10; i++)); do
        [ "$(redis-cli -s "$redis_sock" ping 2>/dev/null)" = PONG ] && return 0
        alive "$redis_pid" || break
        sleep 0.1
    done
    die "redis-server did not answer on $redis_sock (log: $tmp/redis/redis.log)"
}

healthy() {
    [ "$("${nsx[@]}" curl -s -m 2 "http://127.0.0.1:$port/healthz" 2>/dev/null)" = ok ]
}

# start NAME WORKERS [AS_USER] ARGS...: arcaded on the port, waited for until every worker is
# ready and /healthz says ok over 3 fresh connections a worker in a row (spread by the kernel
# over the workers); the command goes to stdout.
start() {
    local name=$1 workers=$2 as=$3 i ok=0 log
    shift 3
    log=$tmp/$name.log
    "${nsx[@]}" curl -s -m 1 "http://127.0.0.1:$port/" >/dev/null 2>&1 && die "port $port is taken (SCALE_PORT)"
    echo "\$ arcaded --port $port $*"
    if [ -n "$as" ]; then
        "${nsx[@]}" setpriv --reuid="$as" --regid="$(id -g "$as")" --clear-groups -- "$arcaded" --port "$port" "$@" \
            </dev/null 2>"$log" &
    else
        PGPASSWORD=$pg_password "${nsx[@]}" "$arcaded" --port "$port" "$@" </dev/null 2>"$log" &
    fi
    server_pid=$!
    for ((i = 0; i < WAIT_SECS * 10; i++)); do
        alive "$server_pid" || break
        # ip netns exec and setpriv execute what follows: $! becomes arcaded.
        if [ "$(cat "/proc/$server_pid/comm" 2>/dev/null)" = arcaded ] &&
            { [ "$workers" -le 1 ] || grep -q "all $workers workers ready" "$log"; }; then
            if healthy; then ok=$((ok + 1)); else ok=0; fi
            [ $ok -ge $((3 * workers)) ] && return 0
        fi
        sleep 0.1
    done
    say "$name did not come up:"
    cat "$log" >&2
    exit 2
}

stop() {
    local name=$1
    end "$server_pid" "arcaded ($name)"
    server_pid=""
    if [ "$end_status" != 0 ]; then
        say "arcaded ($name) exited with status $end_status"
        status=1
    fi
}

# ---- the loads ----

status=0
rows=""

field() {   # field LINE REGEX: the first group of a sed -E pattern on a summary line
    sed -nE "s#$2#\1#p" <<<"$1"
}

# snap N: every measured process's CPU so far, in files $tmp/{a,p,b,o,r}N (arcaded, PostgreSQL, of
# which its backends for arcaded, other databases' backends, Redis), the machine's busy ticks in
# $tmp/mN, the time in $tmp/wN.
snap() {
    sample "${apids[@]}" >"$tmp/a$1"
    # shellcheck disable=SC2046
    sample $(pg_pids ours) >"$tmp/p$1"
    # shellcheck disable=SC2046
    sample $(pg_pids backends) >"$tmp/b$1"
    # shellcheck disable=SC2046
    sample $(pg_pids others) >"$tmp/o$1"
    sample $redis_pid >"$tmp/r$1"
    machine >"$tmp/m$1"
    date +%s.%N >"$tmp/w$1"
}

# secs_of WHAT FROM TO: CPU seconds of a, p, b, o or r between two snaps; m: the machine's; w: wall.
secs_of() {
    case $1 in
        m | w) awk -v h="$([ "$1" = m ] && echo "$clk_tck" || echo 1)" 'NR == 1 { a = $1 } NR == 2 { printf "%.3f", ($1 - a) / h }' \
            "$tmp/$1$2" "$tmp/$1$3" ;;
        *) awk -v t="$(spent "$tmp/$1$2" "$tmp/$1$3")" -v h="$clk_tck" 'BEGIN { printf "%.3f", t / h }' ;;
    esac
}

# commits WORKERS: the group commits so far, summed over the workers, from their /metrics. Each read
# is a fresh connection, which the kernel hands to one worker or another (arcade_worker_pid says
# which): read until every worker has answered; nothing when one never did.
commits() {
    local want=$1 i body pid n
    local -A seen=()
    for ((i = 0; i < want * 40 && ${#seen[@]} < want; i++)); do
        body=$("${nsx[@]}" curl -s -m 2 "http://127.0.0.1:$port/metrics") || continue
        pid=$(awk '$1 == "arcade_worker_pid" { print $2 }' <<<"$body")
        n=$(awk '$1 == "arcade_commits_total" { print $2 }' <<<"$body")
        [ -n "$n" ] && seen[${pid:-0}]=$n
    done
    [ ${#seen[@]} -eq "$want" ] || return 0
    printf '%s\n' "${seen[@]}" | awk '{ s += $1 } END { print s }'
}

# us SECONDS OPS: microseconds an op.
us() {
    awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0 && s != "") printf "%.2f", s * 1e6 / n; else print "-" }'
}

# run SETUP LOAD ARGS...: one run against the server on the port; a row of the table.
#
# The CPU of the load is what was used from the start of `arcade bench` until BENCH_SECS later,
# when its timed load ends (it starts the clock once its connections are up, a few ms after it
# starts: the window misses about that much of the load, under 1% of it). What comes after, until
# it exits, is pvp's check of every player's rounds through the API: measured apart.
run() {
    local setup=$1 load=$2
    shift 2
    local rc line ops t0 t1 bench c0 c1 nw
    # shellcheck disable=SC2207
    apids=($(arcaded_pids))
    nw=$((${#apids[@]} > 1 ? ${#apids[@]} - 1 : 1))
    c0=$(commits "$nw")
    snap 0
    times >"$tmp/times"
    t0=$(child_secs <"$tmp/times")
    "${nsx[@]}" "$arcade" bench "$load" "$@" -d "$secs" -t "$threads" --port "$port" </dev/null \
        >"$tmp/run.out" 2>"$tmp/run.err" &
    bench=$!
    clients=$bench
    sleep "$(awk -v s="$secs" -v a="$(cat "$tmp/w0")" -v b="$(date +%s.%N)" 'BEGIN { d = s - (b - a); print (d > 0 ? d : 0) }')"
    snap 1
    wait "$bench"
    rc=$?
    clients=""
    snap 2
    times >"$tmp/times"
    t1=$(child_secs <"$tmp/times")
    c1=$(commits "$nw")
    line=$(cat "$tmp/run.out")
    echo "$setup  ${line:-no summary}"
    if [ "$rc" -ne 0 ]; then
        status=1
        sed 's/^/        /' "$tmp/run.err"
    fi
    ops=$(field "$line" '.* s: ([0-9]+) (ops|rated rounds), .*')
    ops=${ops:-0}
    if [ ${#apids[@]} -gt 1 ]; then
        # Each worker's share of arcaded's CPU: how the kernel spread the connections.
        echo "        CPU s by worker during the load: $(awk -v h="$clk_tck" 'NR == FNR { t[$1] = $2; next }
            FNR > 1 { printf "%s%.2f", sep, ($2 - t[$1]) / h; sep = " " }' "$tmp/a0" "$tmp/a1")"
    fi
    if [ "$uses_pg" = 1 ]; then
        # Each backend is one process: one core at most. The rest is shared (WAL writer, checkpointer).
        echo "        postgres CPU s during the load: arcaded's backends $(secs_of b 0 1) (by backend:" \
             "$(awk -v h="$clk_tck" 'NR == FNR { t[$1] = $2; next } { printf "%s%.2f", sep, ($2 - ($1 in t ? t[$1] : 0)) / h; sep = " " }' \
                 "$tmp/b0" "$tmp/b1")), the rest of the cluster" \
             "$(awk -v p="$(secs_of p 0 1)" -v b="$(secs_of b 0 1)" 'BEGIN { printf "%.2f", (p > b ? p - b : 0) }')"
    fi
    if [ "$load" = pvp ]; then
        echo "        the check afterwards: $(secs_of w 1 2) s; CPU s: arcaded $(secs_of a 1 2)," \
             "postgres $(secs_of p 1 2), redis $(secs_of r 1 2)"
    fi
    if [ -s "$tmp/o0" ] || [ -s "$tmp/o2" ]; then
        echo "        note: backends of other databases on the cluster used $(secs_of o 0 2) s of CPU meanwhile" \
             "(not in postgres; in machine)"
    fi
    local pg="" redis="" errors stored
    if [ "$uses_pg" = 1 ]; then
        pg=$(us "$(secs_of p 0 1)" "$ops")
        redis=$(us "$(secs_of r 0 1)" "$ops")
    fi
    # Rounds a group commit: each worker commits once a loop iteration what it has; the fewer rounds
    # a commit, the more each pays of a commit's own cost.
    local per_commit=-
    if [ -n "$c0" ] && [ -n "$c1" ] && [ "$c1" -gt "$c0" ]; then
        per_commit=$(awk -v n="$ops" -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", n / c }')
        echo "        group commits: $((c1 - c0)) (the load's and the check's), $per_commit rounds a commit"
    fi
    errors=$(field "$line" '.* errors ([0-9]+).*')
    stored=$(field "$line" '.*, stored ([0-9]+ of [0-9]+).*')
    rows="$rows$(printf '%-8s | %-5s | %9s | %8s | %6s | %7s | %8s | %8s | %7s | %7s | %7s | %4s | %s' \
        "$setup" "$load" "$(field "$line" '.* ([0-9]+) ops/s.*')" "$(field "$line" '.* p99 ([0-9.]+) ms.*')" \
        "${errors:--}" "$per_commit" "$(us "$(secs_of a 0 1)" "$ops")" "${pg:--}" "${redis:--}" \
        "$(us "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$ops")" "$(us "$(secs_of m 0 1)" "$ops")" \
        "$(awk -v m="$(secs_of m 0 1)" -v w="$(secs_of w 0 1)" -v n="$cores" 'BEGIN { printf "%.0f%%", m * 100 / w / n }')" \
        "${stored:+stored $stored}")
"
}

setup() {
    local name=$1 workers=$2
    shift 2
    uses_pg=$([[ $name == pg* ]] && echo 1 || echo 0)
    echo
    echo "== $name"
    start "$name" "$workers" "" "$@"
    echo "\$ arcade bench long -c 50 -d $secs -t $threads --port $port"
    run "$name" long -c 50
    echo "\$ arcade bench pvp -c 50 -d $secs -t $threads --port $port"
    run "$name" pvp -c 50
    stop "$name"
}

pg_up
redis_up
pg_uri="postgresql://$pg_role@$pg_host:$pg_port/$db_name"
bus=(--bus "unix://$redis_sock")

echo "scale: $secs s a load, $threads load generator thread(s), $cores core(s), $(nproc --all) CPU(s) online;" \
     "arcaded of commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
     "PostgreSQL $pg_version, $(redis-server --version | awk '{ print $1, $3 }')"

setup sqlite 1 --db "$tmp/scale.db" "${OPEN[@]}"
for w in 1 2 4; do
    fresh_db
    redis-cli -s "$redis_sock" flushall >/dev/null
    setup "pg w$w" "$w" --workers "$w" --db "$pg_uri" "${bus[@]}" "${OPEN[@]}"
done

# ---- the hold ----

# workers_now: the supervisor's workers.
workers_now() { pgrep -P "$server_pid" -x arcaded; }

rss_kb() {
    local p s=0
    for p in "$@"; do
        s=$((s + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo $s
}

sockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }

echo
echo "== hold: $hold_conns connections, $hold_workers workers, $hold_clients load generators"
ns=arcade-scale-$$
ip netns add "$ns" || { ns=""; die "cannot make a network namespace"; }
nsx=(ip netns exec "$ns")
ip netns exec "$ns" ip link set lo up
# 40,000 connections to one address and port need more than the default 28,232 ephemeral ports;
# this range is the namespace's own.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
echo "(in network namespace $ns: ip link set lo up; sysctl net.ipv4.ip_local_port_range=\"1024 65535\")"
fresh_db
redis-cli -s "$redis_sock" flushall >/dev/null
start hold "$hold_workers" postgres --workers "$hold_workers" \
    --db "postgresql:///$db_name?host=$pg_socket&port=$pg_port" "${bus[@]}" "${OPEN[@]}"
# shellcheck disable=SC2207
hw=($(workers_now))
declare -A base
for p in "${hw[@]}"; do
    base[$p]=$(sockets "$p")
done
rss_idle=$(rss_kb "${hw[@]}")
for ((i = 1; i <= hold_clients; i++)); do
    n=$((hold_conns / hold_clients + (i <= hold_conns % hold_clients ? 1 : 0)))
    [ $i = 1 ] && echo "\$ arcade bench hold -c $n -d $hold_secs -t 1 --anonymous --port $port    # $hold_clients of these at once"
    # Guests: the load generators would each say hello with the same names.
    "${nsx[@]}" "$arcade" bench hold -c "$n" -d "$hold_secs" -t 1 --anonymous --port "$port" </dev/null \
        >"$tmp/hold$i.out" 2>"$tmp/hold$i.err" &
    clients="$clients $!"
done
# With every load generator holding, all connections are open at once: memory and spread then.
# Each holds HOLD_SECS from its own last open connection, so the first may let go before the last
# has opened all of its own when opening takes longer than that: the counts say so.
rss_open=""
spread=""
held=0
while :; do
    holding=$(cat "$tmp"/hold*.err 2>/dev/null | grep -c 'connections open, holding')
    running=0
    for p in $clients; do
        alive "$p" && running=$((running + 1))
    done
    if [ "$holding" -ge "$hold_clients" ] || [ "$running" -lt "$hold_clients" ]; then
        break
    fi
    sleep 0.1
done
rss_open=$(rss_kb "${hw[@]}")
for p in "${hw[@]}"; do
    n=$(($(sockets "$p") - ${base[$p]:-0}))
    held=$((held + n))
    spread="$spread $n"
done
for p in $clients; do
    wait "$p" || status=1
done
clients=""
rss_after=$(rss_kb "${hw[@]}")
opened=0
answered=0
for ((i = 1; i <= hold_clients; i++)); do
    line=$(cat "$tmp/hold$i.out")
    echo "hold $i  ${line:-no summary}"
    grep -v 'connections open, holding' "$tmp/hold$i.err" | sed 's/^/        /'
    n=$(field "$line" '.* ([0-9]+) opened.*')
    opened=$((opened + ${n:-0}))
    n=$(field "$line" '.* ([0-9]+) answered both rounds.*')
    answered=$((answered + ${n:-0}))
done
hold_pid_list=${hw[*]}
stop hold
[ "$answered" = "$hold_conns" ] || status=1

# ---- report ----

echo
echo "== server logs: lines about refusals, errors and failures"
for log in "$tmp"/*.log; do
    n=$(grep -ciE 'refus|error|fail|ebusy|closed to make room|cannot' "$log")
    echo "$(basename "$log" .log): $n$( [ "$n" -gt 0 ] && echo ", the first: $(grep -iE 'refus|error|fail|ebusy|closed to make room|cannot' "$log" | head -n 3 | tr '\n' '|')")"
done

echo
printf '%-8s | %-5s | %9s | %8s | %6s | %7s | %8s | %8s | %7s | %7s | %7s | %4s | %s\n' setup load "rounds/s" "p99 ms" errors \
    "rounds/" "arcaded" postgres redis client machine busy ""
printf '%-8s | %-5s | %9s | %8s | %6s | %7s | %8s | %8s | %7s | %7s | %7s | %4s | %s\n' "" "" "" "" "" "commit" "us/round" \
    "us/round" "us/rnd" "us/rnd" "us/rnd" "" ""
printf '%s' "$rows"
echo "(long: bot rounds, each a named player's move stored; pvp: rated rounds, every one read back"
echo " through the API after the run; us/round: CPU time, user + system in $((1000 / clk_tck)) ms ticks,"
echo " divided by its rounds, of all arcaded processes, the PostgreSQL cluster's (its postmaster, background"
echo " processes and the backends of database $db_name), redis-server, the load generator (with pvp's"
echo " check), and the whole machine (busy time of all $cores CPUs, softirqs and anything else running"
echo " included), from the start of the load to BENCH_SECS later; pvp's check of the stored rounds"
echo " afterwards is not in them (its cost is on the line under its run); busy: the machine's CPUs busy"
echo " over the load; rounds/commit: the run's rounds over the group commits of all workers, from /metrics)"
echo
kb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
echo "hold: $hold_workers workers (pids $hold_pid_list), $hold_clients load generators: $opened of $hold_conns opened," \
     "$answered answered both rounds, $held held at once when all were holding"
echo "hold: connections by worker:$spread"
echo "hold: workers' VmRSS in all: idle $(kb "$rss_idle"), with the connections open $(kb "$rss_open")," \
     "after $(kb "$rss_after"); $(awk -v o="$rss_open" -v i="$rss_idle" -v n="$held" \
     'BEGIN { if (n > 0) printf "%.2f KB a held connection", (o - i) / n; else print "no connection held" }')"
exit $status
