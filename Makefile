# portcullis - GNU make. `make` builds ./portcullis; see README.md for every target.
#   make DEBUG=1   -O0 build          make SAN=1   ASan+UBSan build (build/san/)
#   make CC=clang  clang build        make test    everything CI runs
#   make TSAN=1 tsan-integration      the integration suite under ThreadSanitizer (not in test)

CC	?= cc
PKGS	 = yaml-0.1 openssl libnghttp2 jansson libcurl
PYTHON	 = /usr/bin/python3

WARN	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	   -Wcast-qual -Wpointer-arith -Wvla -Wundef -Wimplicit-fallthrough -Wwrite-strings \
	   -Wno-format-nonliteral
HARDEN	 = -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	   -fstack-clash-protection -fcf-protection=full -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

ifeq ($(SAN),1)
  VARIANT = san
  OPT	  = -O1 -g $(SANFLAGS) -ftrivial-auto-var-init=pattern
  HARDEN  = -fstack-protector-strong -fPIE
  LDSAN	  = $(SANFLAGS)
else ifeq ($(TSAN),1)
  VARIANT = tsan
  OPT	  = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
  HARDEN  = -fPIE
  LDSAN	  = -fsanitize=thread
else ifeq ($(DEBUG),1)
  VARIANT = debug
  OPT	  = -O0 -g
else
  VARIANT = release
  OPT	  = -O2 -g
endif
ifneq ($(SAN),1)
  ifeq ($(findstring clang,$(CC)),clang)
    OPT += -ftrivial-auto-var-init=pattern
  else
    OPT += -ftrivial-auto-var-init=zero
  endif
endif
ifneq ($(CC),cc)
  VARIANT := $(VARIANT)-$(notdir $(CC))
endif

B	 = build/$(VARIANT)
FZ	 = build/fuzz
CPPFLAGS = -Isrc -D_GNU_SOURCE
CFLAGS	 = -std=gnu11 $(OPT) $(WARN) $(HARDEN) -pthread -MMD -MP \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS	 = $(LDHARDEN) $(LDSAN) -pthread
LDLIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# Parsers of untrusted bytes get the strictest conversions (STYLE.md 8).
PARSER_CFLAGS = -Wconversion -Wsign-conversion

LIB_SRC	 = $(sort $(wildcard src/*/*.c))
LIB_OBJ	 = $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC = $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BIN = $(UNIT_SRC:%.c=$(B)/%)
FUZZ_SRC = $(sort $(wildcard fuzz/*.c))
REPLAY_BIN = $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/replay_%)
FUZZ_TGT = $(notdir $(FUZZ_SRC:.c=))

.PHONY: all deps demo test unit integration san-integration tsan-integration fuzz fuzz-smoke \
	bench check fuzz-build fuzz-replay \
	clean lint
all: portcullis

portcullis: $(B)/portcullis
	ln -sf $(B)/portcullis $@

$(B)/portcullis: $(B)/src/main.o $(B)/libportcullis.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libportcullis.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/src/http/%.o $(B)/src/auth/%.o $(B)/src/fetch/%.o $(B)/src/limit/%.o: \
    CFLAGS += $(PARSER_CFLAGS)
# The demo configuration is embedded with .incbin: rebuild when the YAML changes.
$(B)/src/demo/demo_conf.o $(FZ)/src/demo/demo_conf.o: examples/demo.yaml
$(B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Unit tests: one binary per file; a test may #include the .c it tests to reach statics.
$(B)/tests/unit/%: tests/unit/%.c $(B)/libportcullis.a
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(B)/libportcullis.a \
	    $(LDFLAGS) $(LDLIBS) -lcmocka

deps:
	@sh scripts/deps.sh

unit: $(UNIT_BIN)
	@sh scripts/run-unit.sh $(UNIT_BIN)

integration: portcullis
	PORTCULLIS_BIN=$(CURDIR)/$(B)/portcullis $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/integration

san-integration:
	$(MAKE) SAN=1 $(MAKEFLAGS_SAN) build/san/portcullis
	PORTCULLIS_BIN=$(CURDIR)/build/san/portcullis PC_TEST_SAN=1 $(PYTHON) -m pytest -q \
	    -p no:cacheprovider tests/integration

tsan-integration:
	$(MAKE) TSAN=1 build/tsan/portcullis
	PORTCULLIS_BIN=$(CURDIR)/build/tsan/portcullis PC_TEST_SAN=1 \
	    TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(PYTHON) -m pytest -q \
	    -p no:cacheprovider tests/integration

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) CC=clang build/release-clang/portcullis
	$(MAKE) integration
	$(MAKE) san-integration
	$(MAKE) fuzz-smoke
	$(MAKE) check

demo: deps all
	./portcullis demo

# libFuzzer targets (clang). fuzz-smoke runs each for a few seconds over its corpus.
FZFLAGS	 = -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	   -Isrc -D_GNU_SOURCE -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FZ_OBJ	 = $(LIB_SRC:%.c=$(FZ)/%.o)
$(FZ)/%.o: %.c
	@mkdir -p $(@D)
	@echo "CC(fuzz) $<"
	@clang $(FZFLAGS:-fsanitize=fuzzer%=-fsanitize=fuzzer-no-link%) -MMD -MP -c -o $@ $<
$(FZ)/fuzz_%: fuzz/%.c $(FZ_OBJ)
	@echo "LD $@"
	@clang $(FZFLAGS) -o $@ $^ $(LDLIBS)
fuzz-build: $(FUZZ_TGT:%=$(FZ)/fuzz_%)
fuzz-smoke: fuzz-build
	@sh scripts/fuzz.sh smoke $(FUZZ_TGT)
fuzz: fuzz-build
	@sh scripts/fuzz.sh long $(FUZZ_TGT)

# The same targets, built with $(CC) and no libFuzzer, replaying their corpus (make check).
$(B)/fuzz/replay_%: fuzz/%.c fuzz/replay/replay.c $(B)/libportcullis.a
	@mkdir -p $(@D)
	@echo "CC $< (replay)"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< fuzz/replay/replay.c \
	    $(B)/libportcullis.a $(LDFLAGS) $(LDLIBS)
fuzz-replay: $(REPLAY_BIN)
	@for t in $(FUZZ_TGT); do $(B)/fuzz/replay_$$t fuzz/corpus/$$t/* || exit 1; done

# Benchmark helpers that call the library (bench/auth.sh runs them; the self-contained
# clients, idleconns, tlsconns and flood, are compiled by bench/run.sh and bench/auth.sh).
$(B)/bench/jwtverify: bench/jwtverify.c $(B)/libportcullis.a
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libportcullis.a $(LDFLAGS) $(LDLIBS)

bench: deps all $(B)/bench/jwtverify
	@sh bench/run.sh

# Hardening of the shipped binary (PIE, full RELRO, non-executable stack), then lint.
check: portcullis fuzz-replay
	@sh scripts/check-hardening.sh $(B)/portcullis
	@sh scripts/lint.sh

lint:
	@sh scripts/lint.sh

clean:
	rm -rf build portcullis

.SECONDARY:

-include $(LIB_OBJ:.o=.d) $(B)/src/main.d $(wildcard $(FZ)/src/*/*.d)
