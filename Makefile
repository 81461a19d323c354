# ewc-etl -- batch ETL of East-West cooperation indicator data into PostgreSQL.
#
#   make                 build ./ewc-etl
#   make check           unit tests (cmocka) and integration tests (real
#                        PostgreSQL + loopback HTTP server)
#   make unit            unit tests only (tests/run-unit starts a throwaway
#                        PostgreSQL cluster for them, EWC_TEST_DB)
#   make asan            the tests under AddressSanitizer + UBSan
#   make valgrind        unit tests under valgrind (leaks are errors)
#   make demo            private PostgreSQL cluster + sample files, one run
#   make bench           rows/s and peak RSS on generated files
#   make fuzz            libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan)
#                        into build/fuzz/, each run FUZZ_SECONDS (60)
#   make deps            install the Debian packages the build and tests need
#   make install         PREFIX=/usr/local SYSCONFDIR=$(PREFIX)/etc DESTDIR=
#
# User CFLAGS/LDFLAGS are appended.  V=1 shows the commands.  SANITIZER=address
# builds everything with ASan + UBSan into build-asan/.

PREFIX ?= /usr/local
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR ?=
PKG_CONFIG ?= pkg-config
CC ?= cc
VERSION = 0.1.0

PKGS = libpq libcurl yaml-0.1 zlib libcrypto yajl minizip expat freexl libmicrohttpd
WERROR ?= -Werror
OPT ?= -O2 -g

ifeq ($(SANITIZER),)
BUILD = build
else ifeq ($(SANITIZER),address)
BUILD = build-asan
OPT = -O1 -g
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
$(error unknown SANITIZER "$(SANITIZER)" (expected: address))
endif

FINAL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) $(OPT) $(SANFLAGS) \
	-DETL_VERSION='"$(VERSION)"' -DETL_SYSCONFDIR='"$(SYSCONFDIR)/ewc-etl"' \
	-DETL_DATADIR='"$(PREFIX)/share/ewc-etl"' \
	-I. $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(CFLAGS)
FINAL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm
TEST_LIBS = $(shell $(PKG_CONFIG) --libs cmocka) $(LIBS)

ifeq ($(V),1)
Q =
else
Q = @
endif

# etl/*/ are the domain wings (etl/ewc/): a new wing needs no line here.
LIB_SRC = $(filter-out etl/main.c,$(wildcard etl/*.c)) $(wildcard etl/*/*.c) $(wildcard stages/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o
MIGRATIONS = $(sort $(wildcard sql/[0-9]*.sql))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC = $(wildcard tests/bench/*.c)

BIN = $(if $(SANITIZER),$(BUILD)/ewc-etl,ewc-etl)

.PHONY: all check unit integration asan valgrind demo bench deps install clean fuzz

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/migrations.c: $(MIGRATIONS) sql/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh sql/embed.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(Q)$(CC) $(FINAL_CFLAGS) -c $< -o $@

$(BUILD)/libetl.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/etl/main.o $(BUILD)/libetl.a
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/support.o: tests/unit/support.c tests/unit/support.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/support.o $(BUILD)/libetl.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  TEST    $@")
	$(Q)$(CC) $(FINAL_CFLAGS) $(shell $(PKG_CONFIG) --cflags cmocka) -o $@ $< \
		$(FINAL_LDFLAGS) $(BUILD)/tests/support.o $(BUILD)/libetl.a $(TEST_LIBS)

unit: $(UNIT_BIN)
	$(Q)tests/run-unit $(UNIT_BIN)

integration: $(BIN)
	$(Q)EWC_ETL=$(abspath $(BIN)) tests/run-integration

# check, asan and demo first install what is missing, then build in a new
# make, so that pkg-config is asked after the -dev packages are there.
check: deps
	$(Q)$(MAKE) --no-print-directory unit integration

asan: deps
	$(Q)$(MAKE) --no-print-directory SANITIZER=address unit integration

valgrind: $(UNIT_BIN)
	$(Q)VALGRIND=1 tests/run-unit $(UNIT_BIN)

demo: deps
	$(Q)$(MAKE) --no-print-directory ewc-etl
	$(Q)tests/demo

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libetl.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -o $@ $< $(FINAL_LDFLAGS) $(BUILD)/libetl.a $(LIBS)

bench: $(BIN) $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
	$(Q)EWC_ETL=$(abspath $(BIN)) BUILD=$(BUILD) tests/bench/run

deps:
	$(Q)tests/install-deps

# Fuzzing: the library again, built by clang with the fuzzer's coverage
# hooks and ASan + UBSan into build/fuzz/, one binary per tests/fuzz/fuzz_*.c.
# tests/fuzz/run replays tests/fuzz/regress/<target>/ first, then fuzzes
# each target FUZZ_SECONDS with inputs of at most the FUZZ_TARGETS length.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD = build/fuzz
FUZZ_SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = $(FINAL_CFLAGS) $(FUZZ_SANFLAGS) -fsanitize=fuzzer-no-link
FUZZ_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/migrations.o
FUZZ_TARGETS = num:256 period:256 unit_word:64 yaml:4096 json:8192 csv:8192 \
	decode:65536 parse_csv:8192 copybin:1100
FUZZ_BIN = $(foreach t,$(FUZZ_TARGETS),$(FUZZ_BUILD)/fuzz_$(firstword $(subst :, ,$(t))))

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/gen/migrations.c: $(MIGRATIONS) sql/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh sql/embed.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(FUZZ_BUILD)/gen/migrations.o: $(FUZZ_BUILD)/gen/migrations.c
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libetl.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libetl.a
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libetl.a \
		$(LIBS) $(LDFLAGS)

fuzz: $(FUZZ_BIN)
	$(Q)tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

# Units get the installed paths; SYSTEMDDIR is where the distribution wants
# them (PREFIX=/usr puts them in /usr/lib/systemd/system, which Debian reads).
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

# The installed binary is built for the installed paths: main.c and usage.c
# are compiled again, always, with this make's SYSCONFDIR (the default
# config is $(SYSCONFDIR)/ewc-etl/pipeline.yaml), so "make install
# SYSCONFDIR=/etc" after a plain "make" never installs a binary looking in
# /usr/local/etc; ./ewc-etl stays the build's.
INSTALL_BIN = $(BUILD)/install/ewc-etl

$(BUILD)/install/%.o: etl/%.c FORCE
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FINAL_CFLAGS) -c $< -o $@

$(INSTALL_BIN): $(BUILD)/install/main.o $(BUILD)/install/usage.o $(BUILD)/libetl.a
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(LIBS)

FORCE:
.PHONY: FORCE

# The operator's files are kept: pipeline.yaml and the catalog are installed
# only where absent (the shipped ones go next to them as *.dist), and the
# database credential file, $(SYSCONFDIR)/ewc-etl/pgpass (mode 0600, handed
# to the services by LoadCredential=), is created empty if missing.
install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/ewc-etl
	install -D -m 0644 etl/ewc-etl.1 $(DESTDIR)$(PREFIX)/share/man/man1/ewc-etl.1
	install -D -m 0644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/ewc-etl/LICENSE
	install -d $(DESTDIR)$(SYSCONFDIR)/ewc-etl/catalog $(DESTDIR)$(SYSTEMDDIR)
	for f in config/pipeline.yaml config/catalog/*.yaml; do \
		t=$(DESTDIR)$(SYSCONFDIR)/ewc-etl/$${f#config/}; \
		if [ -e "$$t" ]; then install -m 0644 "$$f" "$$t.dist" || exit 1; \
		else install -m 0644 "$$f" "$$t" || exit 1; fi; \
	done
	[ -e $(DESTDIR)$(SYSCONFDIR)/ewc-etl/pgpass ] || \
		install -m 0600 /dev/null $(DESTDIR)$(SYSCONFDIR)/ewc-etl/pgpass
	for u in systemd/*.service systemd/*.timer; do \
		sed -e 's#/usr/local/bin/ewc-etl#$(PREFIX)/bin/ewc-etl#' \
		    -e 's#/usr/local/etc/ewc-etl#$(SYSCONFDIR)/ewc-etl#' "$$u" \
		    > $(DESTDIR)$(SYSTEMDDIR)/$$(basename "$$u") || exit 1; \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$(basename "$$u"); \
	done
	install -D -m 0644 systemd/ewc-etl.sysusers $(DESTDIR)$(SYSUSERSDIR)/ewc-etl.conf

clean:
	rm -rf build build-asan ewc-etl

-include $(LIB_OBJ:.o=.d) $(BUILD)/etl/main.d $(BUILD)/tests/support.d
-include $(wildcard $(FUZZ_BUILD)/*/*.d $(FUZZ_BUILD)/*/*/*.d)
