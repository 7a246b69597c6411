#!/usr/bin/env bash
# pg: a PostgreSQL server on this machine for the tests, and the address they want.
#
#   export ARCADE_TEST_PG=$(sudo bash tests/pg.sh)
#   make test       # the end-to-end suites run on SQLite, then again on PostgreSQL
#
# Starts Debian's cluster (main of the newest version installed; made if there is none), makes a
# role that may create databases (again and again: an existing role is given the same password),
# waits until the server takes connections on 127.0.0.1, and prints
# postgresql://ROLE:PASSWORD@127.0.0.1:PORT/postgres on stdout; all else goes to stderr. The tests
# make a database of their own there for each test and drop it after.
#
# Needs root (or the postgres user), unless the cluster is up and the role logs in already: then it
# only checks and prints. ARCADE_PG_ROLE and ARCADE_PG_PASSWORD name the role (default arcade and
# arcade): a throwaway role for tests over loopback, not for a database that keeps anything.
set -euo pipefail

role=${ARCADE_PG_ROLE:-arcade}
password=${ARCADE_PG_PASSWORD:-arcade}
WAIT_SECS=30

say() { echo "pg.sh: $*" >&2; }

# Both go into a URI and into SQL as they are.
[[ $role =~ ^[a-z_][a-z0-9_]*$ ]] || { say "ARCADE_PG_ROLE: lower-case letters, digits and _ only"; exit 1; }
[[ $password =~ ^[A-Za-z0-9_.-]+$ ]] || { say "ARCADE_PG_PASSWORD: letters, digits, _ . and - only"; exit 1; }
command -v pg_lsclusters >/dev/null || { say "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }

# Run as the cluster's owner: PostgreSQL's own tools refuse root, and peer authentication on the
# local socket lets postgres in without a password.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    elif [ "$(id -un)" = postgres ]; then
        "$@"
    else
        say "run as root (sudo bash tests/pg.sh) to start PostgreSQL and make the role"
        exit 1
    fi
}

# "version name port status" of main of the newest version, else of the first cluster listed.
find_cluster() {
    pg_lsclusters -h | awk '$2 == "main" { print $1, $2, $3, $4 }' | sort -V | tail -1 | grep . ||
        pg_lsclusters -h | awk '{ print $1, $2, $3, $4 }' | head -1
}

cluster=$(find_cluster || true)
if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    [ -n "$version" ] || { say "no PostgreSQL server in /usr/lib/postgresql"; exit 1; }
    [ "$(id -u)" = 0 ] || { say "no cluster: run as root to make one"; exit 1; }
    say "making cluster $version/main"
    pg_createcluster "$version" main >&2
    cluster=$(find_cluster)
fi
read -r version name port status <<<"$cluster"
uri="postgresql://$role:$password@127.0.0.1:$port/postgres"

ready() { pg_isready -q -h 127.0.0.1 -p "$port" -t 1; }
logs_in() { psql "$uri" -XAtqc 'SELECT 1' >/dev/null 2>&1; }

if [ "$status" = online ] && ready && logs_in; then
    echo "$uri"
    exit 0
fi

if [ "$status" != online ]; then
    say "starting cluster $version/$name on port $port"
    # Its words go to stderr: after an unclean stop it prints "Removed stale pid file." on stdout,
    # which would become part of the address.
    if [ "$(id -u)" = 0 ]; then
        pg_ctlcluster "$version" "$name" start >&2 || [ "$(find_cluster | awk '{ print $4 }')" = online ]
    else
        as_postgres pg_ctlcluster "$version" "$name" start >&2 || [ "$(find_cluster | awk '{ print $4 }')" = online ]
    fi
fi

for ((i = 0; i < WAIT_SECS; i++)); do
    ready && break
    sleep 1
done
ready || { say "PostgreSQL $version/$name does not take connections on 127.0.0.1:$port after ${WAIT_SECS} s"; exit 1; }

as_postgres psql -p "$port" -XAtq -v ON_ERROR_STOP=1 -v role="$role" -v password="$password" >&2 <<'SQL'
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN CREATEDB PASSWORD :'password';
SQL
say "role $role: may log in and create databases; password set"

logs_in || { say "role $role cannot log in at 127.0.0.1:$port with its password: see pg_hba.conf"; exit 1; }
echo "$uri"
