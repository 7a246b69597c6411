#!/usr/bin/env bash
# install: make install into a temporary DESTDIR and check what lands there, then make uninstall.
#
#   bash tests/install.sh
#
# Checks: every file at its place with its mode (0755 binaries, 0644 man pages and unit); the unit
# with @PREFIX@ replaced by PREFIX (for /usr and for another prefix); the man pages render without
# warnings (groff, man, when installed) and name every command and option that --help prints; the
# unit passes systemd-analyze verify (when installed); the installed binaries run; make uninstall
# leaves nothing behind. One line per check, then "N passed, N failed"; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

make=${MAKE:-make}
passed=0
failed=0
stage=$(mktemp -d /tmp/arcade-install-XXXXXX)
other=$(mktemp -d /tmp/arcade-install-XXXXXX)
trap 'rm -rf "$stage" "$other"' EXIT

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

log=$stage.log
if ! "$make" -s install DESTDIR="$stage" PREFIX=/usr >"$log" 2>&1; then
    fail "make install DESTDIR=$stage PREFIX=/usr"
    sed 's/^/    /' "$log"
    rm -f "$log"
    finish
fi
rm -f "$log"
pass "make install DESTDIR=... PREFIX=/usr"

# path mode
files="usr/bin/arcaded 755
usr/bin/arcade 755
usr/share/man/man8/arcaded.8 644
usr/share/man/man1/arcade.1 644
usr/lib/systemd/system/arcaded.service 644"
while read -r path mode; do
    if [ ! -f "$stage/$path" ]; then
        fail "/$path installed"
        continue
    fi
    got=$(stat -c %a "$stage/$path")
    check "/$path installed, mode $mode (is $got)" [ "$got" = "$mode" ]
done <<<"$files"

unexpected=$(cd "$stage" && find . -type f | sed 's|^\./||' | grep -vxF -f <(cut -d' ' -f1 <<<"$files"))
check "nothing else installed${unexpected:+: $unexpected}" [ -z "$unexpected" ]

unit=$stage/usr/lib/systemd/system/arcaded.service
if [ -f "$unit" ]; then
    check "unit: no @PREFIX@ left" bash -c '! grep -q "@PREFIX@" "$1"' _ "$unit"
    check "unit: ExecStart runs /usr/bin/arcaded" grep -q '^ExecStart=/usr/bin/arcaded ' "$unit"
    if command -v systemd-analyze >/dev/null; then
        # The unit names /usr/bin/arcaded, which need not exist here: verify a copy that runs the
        # staged binary, with the staged man pages for its Documentation=.
        copy=$stage/arcaded.service
        sed "s|/usr/bin/arcaded|$stage/usr/bin/arcaded|" "$unit" >"$copy"
        out=$(cd "$stage" && MANPATH="$stage/usr/share/man" systemd-analyze verify "$copy" 2>&1)
        check "systemd-analyze verify: clean${out:+: $out}" [ -z "$out" ]
        rm -f "$copy"
    else
        echo "skip systemd-analyze verify: systemd-analyze is not installed"
    fi
fi

# Renders without a warning, and says something.
for page in usr/share/man/man8/arcaded.8 usr/share/man/man1/arcade.1; do
    [ -f "$stage/$page" ] || continue
    if command -v groff >/dev/null; then
        warn=$(groff -man -Tutf8 -ww -z "$stage/$page" 2>&1)
        check "groff -ww renders /$page without warnings${warn:+: $warn}" [ -z "$warn" ]
    else
        echo "skip groff: groff is not installed"
    fi
    if command -v man >/dev/null; then
        text=$(MANWIDTH=80 man --warnings -l "$stage/$page" 2>"$stage/man.err")
        warn=$(cat "$stage/man.err")
        rm -f "$stage/man.err"
        check "man -l renders /$page without warnings${warn:+: $warn}" \
            [ -z "$warn" -a -n "$(grep -x 'NAME' <<<"$text")" ]
    else
        echo "skip man -l: man is not installed"
    fi
done

arcaded=$stage/usr/bin/arcaded
arcade=$stage/usr/bin/arcade
for b in arcaded arcade; do
    version=$("$stage/usr/bin/$b" --version 2>&1)
    check "installed $b --version runs${version:+: $version}" grep -qE "^$b [0-9]+\.[0-9]+" <<<"$version"
done

# Every option a --help prints has an entry in the page (in roff, - is written \-), and every
# command of arcade --help has a section: an option added to a binary and not to its page fails here.
options_of() {
    grep -oE '(^|[][ ,(|])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[][ ,(|]//' | sort -u
}
# documents TEXT WORD: WORD stands alone in TEXT. (No pipe into grep -q: with pipefail, grep
# leaving early would fail the pipe.)
documents() {
    grep -qE -- "(^|[^a-zA-Z0-9-])$2([^a-zA-Z0-9-]|\$)" <<<"$1"
}
page8=$stage/usr/share/man/man8/arcaded.8
page1=$stage/usr/share/man/man1/arcade.1
if [ -x "$arcaded" ] && [ -f "$page8" ]; then
    text=$(sed 's/\\-/-/g' "$page8")
    missing=""
    for o in $("$arcaded" --help | options_of); do
        documents "$text" "$o" || missing="$missing $o"
    done
    check "arcaded.8 names every option of arcaded --help${missing:+; missing:$missing}" [ -z "$missing" ]
fi
if [ -x "$arcade" ] && [ -f "$page1" ]; then
    text=$(sed 's/\\-/-/g' "$page1")
    commands=$("$arcade" --help | sed -n '/^commands:/,/^$/p' | awk '/^  [a-z]/ {print $1}')
    check "arcade --help lists commands" [ -n "$commands" ]
    for c in $commands; do
        if ! grep -qE "^\.SS \"arcade ([a-z]+\|)*$c[ |]" <<<"$text"; then
            fail "arcade.1 has a section for arcade $c"
            continue
        fi
        missing=""
        for o in $("$arcade" "$c" --help | options_of); do
            documents "$text" "$o" || missing="$missing $o"
        done
        check "arcade.1 has arcade $c and its options${missing:+; missing:$missing}" [ -z "$missing" ]
    done
fi

# Another prefix: the unit follows it.
if "$make" -s install DESTDIR="$other" PREFIX=/opt/arcade >/dev/null 2>&1; then
    check "PREFIX=/opt/arcade: ExecStart runs /opt/arcade/bin/arcaded" \
        grep -q '^ExecStart=/opt/arcade/bin/arcaded ' "$other/opt/arcade/lib/systemd/system/arcaded.service"
    check "PREFIX=/opt/arcade: binaries in /opt/arcade/bin" \
        [ -x "$other/opt/arcade/bin/arcaded" -a -x "$other/opt/arcade/bin/arcade" ]
else
    fail "make install DESTDIR=... PREFIX=/opt/arcade"
fi

if "$make" -s uninstall DESTDIR="$stage" PREFIX=/usr >/dev/null 2>&1; then
    left=$(cd "$stage" && find . -type f | sed 's|^\./|/|')
    check "make uninstall leaves no file${left:+: $left}" [ -z "$left" ]
else
    fail "make uninstall DESTDIR=... PREFIX=/usr"
fi

finish
