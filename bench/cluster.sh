#!/usr/bin/env bash
# cluster: arcade scaled out on one machine, for benchmarks and trials.
#
#   sudo bash bench/cluster.sh start N    # PostgreSQL, Redis, N arcaded, HAProxy in front on :5000
#   sudo bash bench/cluster.sh status     # each piece, and what HAProxy's checks say of each arcaded
#   sudo bash bench/cluster.sh stop       # all but PostgreSQL (a system service the tests share)
#   bin/arcade square --port 5000 12      # a player, through HAProxy
#
#   players --tcp--> HAProxy 127.0.0.1:$CLUSTER_PORT (mode tcp, leastconn, send-proxy-v2)
#               --> arcaded 1 on 127.0.0.1:$BASE_PORT+1 --\
#               --> arcaded 2 on 127.0.0.1:$BASE_PORT+2 ----> PostgreSQL (database arcade_cluster)
#               --> ...                                 --/   Redis on 127.0.0.1:$REDIS_PORT (--bus)
#
# N processes, each `--workers 1` on a port of its own, rather than one `--workers N`: HAProxy is
# the balancer here, and with a port per process it sees each one, checks each one's /healthz,
# sends a new connection to the one holding the fewest (leastconn, where SO_REUSEPORT only hashes
# addresses), shows each one in its stats, and stops sending to one that is down or stopped. One
# `arcaded --workers N` is for a machine without a balancer in front; behind HAProxy it would be
# one server entry whose workers HAProxy could not tell apart. Datagrams (UDP) do not go through
# HAProxy: a UDP client talks to one arcaded's port directly.
#
# Every arcaded has `--proxy-from 127.0.0.1`, and HAProxy starts every connection (its health
# checks too) with a PROXY header, version 2: per-address limits and logs see the players'
# addresses, not HAProxy's. Without a bus (Redis, `--bus`), players on different arcaded are not
# matched with each other; `--bus` is passed when `arcaded --help` has it, so the script serves
# arcaded before and after it does.
#
# Needs root (Debian packages postgresql, redis-server and haproxy, installed with apt-get when
# missing; PostgreSQL started by tests/pg.sh). Everything else lives in a directory made by mktemp
# (HAProxy's configuration, pid files, every log), named in $STATE, removed by stop (kept with
# KEEP=1). Settings, from the environment: CLUSTER_PORT (5000), BASE_PORT (5100), STATS_PORT
# (5099: HAProxy's stats page), REDIS_PORT (6390), RUN_AS (nobody: arcaded and Redis do not run as
# root), ARCADED (bin/arcaded).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER_PORT=${CLUSTER_PORT:-5000}
BASE_PORT=${BASE_PORT:-5100}
STATS_PORT=${STATS_PORT:-5099}
REDIS_PORT=${REDIS_PORT:-6390}
RUN_AS=${RUN_AS:-nobody}
ARCADED=${ARCADED:-$root/bin/arcaded}
STATE=/run/arcade-cluster.dir   # holds the path of the running cluster's directory
DB_NAME=arcade_cluster
N_MAX=64
WAIT_SECS=20
started=0                       # start got to the end

say() { echo "cluster.sh: $*" >&2; }
die() { say "$*"; exit 1; }
usage() { echo "usage: $0 start N | stop | status" >&2; exit 2; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (sudo bash bench/cluster.sh $*)"; }

# Debian's packages for the commands missing.
install_missing() {
    local missing=()
    command -v pg_lsclusters >/dev/null || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v haproxy >/dev/null || missing+=(haproxy)
    [ ${#missing[@]} -eq 0 ] && return
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts the services it installs; this script runs its own Redis and HAProxy.
    for s in redis-server haproxy; do
        [[ " ${missing[*]} " == *" $s "* ]] && systemctl disable --now "$s" >/dev/null 2>&1 || true
    done
}

# Wait until a TCP port on 127.0.0.1 takes connections, WAIT_SECS at most.
wait_port() {
    local port=$1 what=$2 i
    for ((i = 0; i < WAIT_SECS * 10; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    die "$what does not take connections on 127.0.0.1:$port after ${WAIT_SECS} s"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Running: a zombie (ended, not yet reaped by whoever inherited it) is not.
alive() {
    local stat
    [ -n "${1:-}" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null) && [ "$(cut -d' ' -f1 <<<"${stat##*) }")" != Z ]
}

# SIGTERM, then wait for the process to end (its drain is 5 s), SIGKILL past WAIT_SECS.
end() {
    local pid=$1 what=$2 i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < WAIT_SECS * 10; i++)); do
        alive "$pid" || { say "$what stopped"; return 0; }
        sleep 0.1
    done
    say "$what (pid $pid) still running after ${WAIT_SECS} s: killed"
    kill -KILL "$pid" 2>/dev/null || true
}

start() {
    local n=$1 i
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le $N_MAX ] || die "N: a number from 1 to $N_MAX, not '$n'"
    need_root start "$n"
    if [ -f "$STATE" ] && [ -d "$(cat "$STATE")" ]; then
        die "a cluster runs already ($(cat "$STATE")): bench/cluster.sh stop first"
    fi
    [ -x "$ARCADED" ] || make -C "$root" >&2 || die "cannot build $ARCADED"
    for p in "$CLUSTER_PORT" "$STATS_PORT" "$REDIS_PORT" $(seq $((BASE_PORT + 1)) $((BASE_PORT + n))); do
        port_free "$p" || die "port $p is taken"
    done
    install_missing

    local dir
    dir=$(mktemp -d /tmp/arcade-cluster.XXXXXX)
    chmod 0755 "$dir"
    chown "$RUN_AS" "$dir"      # Redis writes its pid file and log there
    echo "$dir" >"$STATE"
    say "state, configuration and logs in $dir"
    # A start that fails half-way takes down what it started.
    trap '[ $started = 1 ] || { say "start failed: stopping what was started"; KEEP=1 stop; }' EXIT

    # PostgreSQL: tests/pg.sh starts the cluster and prints a maintenance URI of a role that may
    # create databases; the password goes to arcaded through PGPASSWORD, not its command line.
    local admin
    admin=$(bash "$root/tests/pg.sh")
    [[ $admin =~ ^postgresql://([^:]+):([^@]+)@([^/]+)/postgres$ ]] || die "unexpected URI from tests/pg.sh"
    local role=${BASH_REMATCH[1]} password=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]}
    if [ "$(psql "$admin" -XAtqc "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'")" = 0 ]; then
        psql "$admin" -XAtqc "CREATE DATABASE $DB_NAME" >/dev/null
        say "database $DB_NAME made"
    fi
    local db="postgresql://$role@$host/$DB_NAME"

    # Redis, on localhost only, nothing saved to disk: the bus carries what is live, not what is kept.
    runuser -u "$RUN_AS" -- redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --save '' --appendonly no --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
        --logfile "$dir/redis.log"
    wait_port "$REDIS_PORT" Redis
    say "Redis on 127.0.0.1:$REDIS_PORT"

    local bus=()
    if grep -q -- '--bus' <<<"$("$ARCADED" --help)"; then
        bus=(--bus "redis://127.0.0.1:$REDIS_PORT")
    else
        say "this arcaded has no --bus: players on different arcaded are not matched with each other"
    fi

    for ((i = 1; i <= n; i++)); do
        local port=$((BASE_PORT + i))
        # setpriv executes arcaded in its place (runuser would stay as its parent, and turn a
        # SIGTERM into a SIGKILL two seconds later, before arcaded's drain is done).
        PGPASSWORD=$password setsid setpriv --reuid="$RUN_AS" --regid="$(id -g "$RUN_AS")" --clear-groups -- "$ARCADED" --bind 127.0.0.1 --port "$port" \
            --db "$db" --proxy-from 127.0.0.1 "${bus[@]}" </dev/null >>"$dir/arcaded-$i.log" 2>&1 &
        echo $! >"$dir/arcaded-$i.pid"
    done
    for ((i = 1; i <= n; i++)); do
        wait_port $((BASE_PORT + i)) "arcaded $i (log: $dir/arcaded-$i.log)"
        say "arcaded $i: $(head -1 "$dir/arcaded-$i.log" | sed 's/^[^ ]* //')"
    done

    # Two descriptors a connection (the player's and arcaded's), within the hard limit on open files.
    local maxconn=$((($(ulimit -Hn) - 100) / 2))
    [ $maxconn -le 20000 ] || maxconn=20000
    # HAProxy: TCP, every connection (and every health check) with a PROXY header, version 2.
    # Timeouts past arcaded's own (--long-idle-timeout 300 s), so that arcaded decides who is idle.
    {
        cat <<EOF
global
    daemon
    pidfile $dir/haproxy.pid
    maxconn $maxconn

defaults
    mode tcp
    timeout connect 5s
    timeout client 330s
    timeout server 330s

frontend arcade
    bind 127.0.0.1:$CLUSTER_PORT
    default_backend arcaded

backend arcaded
    balance leastconn
    option httpchk GET /healthz
EOF
        for ((i = 1; i <= n; i++)); do
            echo "    server arcaded$i 127.0.0.1:$((BASE_PORT + i)) send-proxy-v2 check check-send-proxy inter 2s"
        done
        cat <<EOF

listen stats
    mode http
    bind 127.0.0.1:$STATS_PORT
    stats enable
    stats uri /
EOF
    } >"$dir/haproxy.cfg"
    haproxy -c -q -f "$dir/haproxy.cfg" || die "HAProxy refuses $dir/haproxy.cfg"
    haproxy -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1
    wait_port "$CLUSTER_PORT" HAProxy
    say "HAProxy on 127.0.0.1:$CLUSTER_PORT, stats on http://127.0.0.1:$STATS_PORT/"
    # An arcaded may listen before its database connection is up, and say 503 to a first check.
    for ((i = 0; i < WAIT_SECS * 10; i++)); do
        [ "$(checks | grep -c ' UP$')" = "$n" ] && break
        sleep 0.1
    done
    checks | while read -r server check; do say "HAProxy: $server $check"; done
    say "ready: bin/arcade square --port $CLUSTER_PORT 12"
    started=1
    trap - EXIT
}

stop() {
    need_root stop
    [ -f "$STATE" ] || { say "no cluster runs"; return 0; }
    local dir
    dir=$(cat "$STATE")
    end "$(cat "$dir/haproxy.pid" 2>/dev/null)" HAProxy
    for f in "$dir"/arcaded-*.pid; do
        [ -f "$f" ] || continue
        local i=${f##*/arcaded-}
        end "$(cat "$f")" "arcaded ${i%.pid}"
    done
    end "$(cat "$dir/redis.pid" 2>/dev/null)" Redis
    rm -f "$STATE"
    if [ "${KEEP:-0}" = 1 ]; then
        say "logs kept in $dir"
    else
        rm -rf "$dir"
    fi
    say "stopped (PostgreSQL keeps running: it is the system's, and database $DB_NAME stays)"
}

# "arcadedI STATUS" for each server, from HAProxy's stats: its health checks (GET /healthz).
checks() {
    curl -fsS "http://127.0.0.1:$STATS_PORT/;csv" 2>/dev/null | awk -F, '$1 == "arcaded" && $2 != "BACKEND" { print $2, $18 }'
}

status() {
    [ -f "$STATE" ] || { echo "no cluster runs"; return 3; }
    local dir down=0
    dir=$(cat "$STATE")
    echo "directory $dir"
    for what in haproxy redis; do
        local pid
        pid=$(cat "$dir/$what.pid" 2>/dev/null || true)
        if alive "$pid"; then echo "$what: running (pid $pid)"; else echo "$what: DOWN"; down=1; fi
    done
    local seen
    seen=$(checks || true)
    for f in "$dir"/arcaded-*.pid; do
        [ -f "$f" ] || continue
        local i=${f##*/arcaded-} pid
        i=${i%.pid}
        pid=$(cat "$f")
        local check
        check=$(awk -v s="arcaded$i" '$1 == s { $1 = ""; print substr($0, 2) }' <<<"$seen")
        if alive "$pid"; then
            echo "arcaded $i: running (pid $pid, port $((BASE_PORT + i))), HAProxy says ${check:-nothing}"
        else
            echo "arcaded $i: DOWN (log: $dir/arcaded-$i.log)"
            down=1
        fi
        [[ $check == UP* ]] || down=1   # "UP 1/3": up, a check failed lately
    done
    return $down
}

case "${1:-}" in
start) [ $# -eq 2 ] || usage; start "$2" ;;
stop) [ $# -eq 1 ] || usage; stop ;;
status) [ $# -eq 1 ] || usage; status ;;
*) usage ;;
esac
