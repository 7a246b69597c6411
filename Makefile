# arcade: bin/arcaded (the server) and bin/arcade (the client).
#
#   make            build both
#   make run        install missing packages, build, start the server on :5000
#   make test       build and run every Check suite (unit and end-to-end); with ARCADE_TEST_PG set
#                   (tests/pg.sh), the end-to-end suites once more against PostgreSQL
#   make test-pg    only that second run
#   make test SAN=1 the same, built with AddressSanitizer and UBSan
#   make test-browser  the page in headless Chromium against the real server (needs chromium,
#                   Node.js and npm; fetches the browser driver from the npm registry)
#   make bench      run the load benchmark against arcaded and a null server
#   make bench-scale  rounds a second and CPU a round against SQLite and PostgreSQL + Redis with 1, 2
#                   and 4 workers, and 40,000 connections held by 3 workers (as root: bench/scale.sh)
#   make fuzz       run each libFuzzer target for FUZZ_SECS seconds (default 60)
#   make memcheck   the end-to-end suites with arcaded under valgrind
#   make install    install the binaries, man pages and systemd unit under PREFIX (default
#                   /usr/local), below DESTDIR when set (for packaging)
#   make uninstall  remove what make install put there

SHELL   := /bin/bash
CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -iquote games -iquote db -iquote server -iquote client -MMD -MP
LDLIBS  := -lpthread -lev -lsqlite3 -lpq -lhiredis -lgmp -lsodium -lwslay -lhttp_parser -lnettle -lm
TESTLIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread -lm)

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
BUILD   := build/san
BIN     := build/san/bin
else
BUILD   := build/rel
BIN     := bin
endif

# The packages arcade builds against (Debian names) and a header each provides.
DEB_PACKAGES := libev-dev:ev.h libsqlite3-dev:sqlite3.h libgmp-dev:gmp.h libsodium-dev:sodium.h \
	libwslay-dev:wslay/wslay.h libhttp-parser-dev:http_parser.h nettle-dev:nettle/sha1.h libpq-dev:postgresql/libpq-fe.h libhiredis-dev:hiredis/hiredis.h check:check.h pkg-config:

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

GAMES_SRC  := $(wildcard games/*.c)
DB_SRC     := $(filter-out db/bench_%.c,$(wildcard db/*.c))
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
CLIENT_SRC := $(filter-out client/main.c client/null_server.c,$(wildcard client/*.c))
TEST_SRC   := $(wildcard tests/test_*.c)
# Unit suites of the pure rules: they link games/ and the suites' main (tests/suite.c), nothing else,
# but for a pure module of db/ or server/ that a suite names below.
UNIT_TESTS := test_math test_rps test_board test_elo test_query test_ladder test_roster test_proxy
TESTLIB_SRC := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
# The suites that start arcaded: make test runs them a second time against PostgreSQL when
# ARCADE_TEST_PG names a server for the tests (tests/pg.sh), with ARCADE_TEST_ENGINE=pg, which the
# harness reads.
# test_workers is not among them: several workers need a shared database, so it runs against
# PostgreSQL in the first run already (and without ARCADE_TEST_PG skips all but its SQLite refusal).
E2E_TESTS  := test_server test_pvp test_accounts test_web test_http test_abuse test_faults test_crash \
	test_proxy_e2e test_play_tty test_client test_bench

# The page (web/), built into arcaded as bytes by web/embed.sh.
WEB_FILES  := $(wildcard web/*.html web/*.js web/*.css web/*.svg web/*.png)
ASSETS_OBJ := $(BUILD)/web/assets.o
CORE_OBJ   := $(call obj,$(GAMES_SRC) $(DB_SRC) $(SERVER_SRC)) $(ASSETS_OBJ)
CLIENT_OBJ := $(call obj,$(CLIENT_SRC))
TESTLIB_OBJ := $(call obj,$(TESTLIB_SRC))
TEST_BIN   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
E2E_BIN    := $(patsubst %,$(BUILD)/tests/%,$(E2E_TESTS))

BINS := $(BIN)/arcaded
ifneq ($(wildcard client/main.c),)
BINS += $(BIN)/arcade
endif

.PHONY: all run test test-pg test-browser bench bench-rank fuzz memcheck deps install uninstall clean
.SECONDARY:
all: $(BINS)

$(BIN)/arcaded: $(call obj,server/main.c) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/arcade: $(call obj,client/main.c) $(CLIENT_OBJ) $(call obj,$(GAMES_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/web/assets.c: web/embed.sh $(WEB_FILES)
	@mkdir -p $(dir $@)
	sh web/embed.sh $@ $(WEB_FILES)

$(ASSETS_OBJ): $(BUILD)/web/assets.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BIN)/arcade-null: $(call obj,client/null_server.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(patsubst %,$(BUILD)/tests/%,$(UNIT_TESTS)): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(call obj,$(GAMES_SRC) tests/suite.c)
	$(CC) $(LDFLAGS) -o $@ $^ -lgmp -lm $(TESTLIBS)

# The leaderboard's order and the roster of rated players live in db/ beside the store that uses
# them, but are pure.
$(BUILD)/tests/test_ladder: $(call obj,db/ladder.c)
$(BUILD)/tests/test_roster: $(call obj,db/roster.c)
# The PROXY protocol header is the transport's, but a plain parser all the same.
$(BUILD)/tests/test_proxy: $(call obj,server/proxy.c)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TESTLIB_OBJ) $(CORE_OBJ) $(CLIENT_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TESTLIBS)

# test_pending is its own PostgreSQL engine, whose answers come when the test gives them: it links
# everything but db/pg.o. Its realloc can be made to fail, for the server's paths out of memory.
$(BUILD)/tests/test_pending: $(BUILD)/tests/test_pending.o $(TESTLIB_OBJ) $(filter-out $(BUILD)/db/pg.o,$(CORE_OBJ)) $(CLIENT_OBJ)
	$(CC) $(LDFLAGS) -Wl,--wrap=realloc -o $@ $^ $(LDLIBS) $(TESTLIBS)

TEST_ENV = ARCADED=$(CURDIR)/$(BIN)/arcaded ARCADE=$(CURDIR)/$(BIN)/arcade ARCADE_NULL=$(CURDIR)/$(BIN)/arcade-null
# The end-to-end suites against PostgreSQL, in a recipe that keeps status.
PG_RUNS = if [ -n "$$ARCADE_TEST_PG" ]; then for t in $(E2E_BIN); do \
		echo "== $$t (postgresql)"; ARCADE_TEST_ENGINE=pg $(TEST_ENV) $$t || status=1; \
	done; else \
		echo "== PostgreSQL runs skipped: ARCADE_TEST_PG is not set (export ARCADE_TEST_PG=\$$(sudo bash tests/pg.sh))"; \
	fi

# Every suite runs even when one fails; the exit status says whether all passed.
test: deps $(BINS) $(BIN)/arcade-null $(TEST_BIN)
	@status=0; for t in $(TEST_BIN); do \
		echo "== $$t"; ARCADE_TEST_ENGINE=sqlite $(TEST_ENV) $$t || status=1; \
	done; $(PG_RUNS); \
	echo "== tests/install.sh"; MAKE="$(MAKE)" bash tests/install.sh || status=1; exit $$status

test-pg: deps $(BINS) $(BIN)/arcade-null $(E2E_BIN)
	@test -n "$$ARCADE_TEST_PG" || { echo "ARCADE_TEST_PG is not set: export ARCADE_TEST_PG=\$$(sudo bash tests/pg.sh)"; \
		exit 1; }; status=0; $(PG_RUNS); exit $$status

# The page (web/) in Debian's headless Chromium, driven by playwright-core, against the real
# arcaded; screenshots of every step go to build/screenshots/.
test-browser: all
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && ARCADED=$(CURDIR)/$(BIN)/arcaded node suite.mjs

# Not a test: figures for README's performance section (BENCH_SECS, BENCH_HOLD_SECS).
bench: deps all $(BIN)/arcade-null $(BUILD)/bench_rank
	ARCADED=$(CURDIR)/$(BIN)/arcaded ARCADE=$(CURDIR)/$(BIN)/arcade ARCADE_NULL=$(CURDIR)/$(BIN)/arcade-null \
		BENCH_RANK=$(CURDIR)/$(BUILD)/bench_rank bash tests/bench.sh

# Every end-to-end suite against arcaded under valgrind memcheck.
memcheck: deps all $(TEST_BIN)
	bash tests/memcheck.sh

run: deps all
	./bin/arcaded --port 5000 --db arcade.db

# Installs what is missing with apt-get when run as root, else prints the command.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		pkg=$${p%%:*}; hdr=$${p#*:}; \
		if [ -n "$$hdr" ]; then echo "#include <$$hdr>" | $(CC) -E - >/dev/null 2>&1 || missing="$$missing $$pkg"; \
		else command -v $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; fi; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else echo "missing packages; run: sudo apt-get install$$missing"; exit 1; fi; \
	fi

# libFuzzer targets, one per parser: tests/fuzz/fuzz_<name>.c with its seed corpus
# in tests/fuzz/corpus/<name>/. New inputs found go to build/fuzz/corpus/<name>/.
FUZZ_SECS ?= 60
FUZZ_CC   ?= clang
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -iquote games -iquote db -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(GAMES_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(GAMES_SRC) -lgmp -lm

# The WebSocket decoder, with the library it frames through.
build/fuzz/fuzz_ws: tests/fuzz/fuzz_ws.c server/ws.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -iquote server -o $@ $^ -lwslay

# The HTTP request reader, with its parser.
build/fuzz/fuzz_http: tests/fuzz/fuzz_http.c server/request.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -iquote server -o $@ $^ -lhttp_parser

# The PROXY protocol header.
build/fuzz/fuzz_proxy: tests/fuzz/fuzz_proxy.c server/proxy.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -iquote server -o $@ $^

fuzz: $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t; \
		echo "== fuzz_$$t for $(FUZZ_SECS) s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECS) -max_len=2048 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/ build/fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 \
			| grep -E '^(#|==|stat::number_of_executed_units|stat::peak_rss|INFO: seed|.*ERROR|SUMMARY)' | tail -6; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# The store against a million players: open, leaderboard queries, a rated round and its write-back
# against a hundred players (figures in README's performance section).
$(BUILD)/bench_rank: $(call obj,db/bench_rank.c) $(call obj,$(DB_SRC) games/elo.c server/log.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-rank: $(BUILD)/bench_rank
	$(BUILD)/bench_rank

# The PostgreSQL engine against a million players, in a database it creates through
# ARCADE_TEST_PG and drops (not part of make test).
$(BUILD)/bench_pg: $(call obj,db/bench_pg.c) $(call obj,$(DB_SRC) games/elo.c server/log.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-pg
bench-pg: $(BUILD)/bench_pg
	$(BUILD)/bench_pg

# SQLite with one process, PostgreSQL + Redis with 1, 2 and 4 workers: bot and rated rounds a second
# and the CPU a round of arcaded, PostgreSQL and Redis; then connections held past one process's
# open-file limit (BENCH_SECS, HOLD_CONNS; see bench/scale.sh). Needs root: it starts Redis and a
# network namespace of its own, and PostgreSQL through tests/pg.sh.
.PHONY: bench-scale
bench-scale: all
	bash bench/scale.sh

# The binaries to PREFIX/bin, the man pages to PREFIX/share/man, the unit to
# PREFIX/lib/systemd/system (with PREFIX=/usr: /usr/lib/systemd/system), its
# @PREFIX@ replaced so that it runs PREFIX/bin/arcaded. DESTDIR stages it all
# elsewhere, for a package: the installed files still name PREFIX.
install: all
	install -D -m 0755 $(BIN)/arcaded $(DESTDIR)$(PREFIX)/bin/arcaded
	install -D -m 0755 $(BIN)/arcade $(DESTDIR)$(PREFIX)/bin/arcade
	install -D -m 0644 docs/man/arcade.1 $(DESTDIR)$(PREFIX)/share/man/man1/arcade.1
	install -D -m 0644 docs/man/arcaded.8 $(DESTDIR)$(PREFIX)/share/man/man8/arcaded.8
	install -D -m 0644 docs/arcaded.service $(DESTDIR)$(PREFIX)/lib/systemd/system/arcaded.service
	sed -i 's|@PREFIX@|$(PREFIX)|g' $(DESTDIR)$(PREFIX)/lib/systemd/system/arcaded.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/arcaded $(DESTDIR)$(PREFIX)/bin/arcade \
		$(DESTDIR)$(PREFIX)/share/man/man1/arcade.1 $(DESTDIR)$(PREFIX)/share/man/man8/arcaded.8 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/arcaded.service

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
