# floorgate: one Makefile, a pattern rule per kind of file.
#
#   make            build build/floorgate
#   make demo       install what is missing, build, run the embedded demo
#   make test       every test: unit (cmocka), cases, file mode, mock Kafka, real broker
#   make bench      benchmarks (Google Benchmark through a C shim)
#   make deps       install the Debian packages floorgate needs
#
# Switches: SANITIZER=address|undefined|thread (own build dir), MALLOC=libc|jemalloc.

CC       ?= gcc
CXX      ?= g++
SANITIZER ?=
MALLOC   ?= jemalloc
BUILD    ?= build$(if $(SANITIZER),-$(SANITIZER))
OPT      ?= -O3

CFLAGS_BASE := -std=gnu11 -g $(OPT) -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wno-missing-field-initializers -D_GNU_SOURCE -pthread -MMD -MP
LDLIBS   := -lrdkafka -lavro -ljansson -lxxhash -lurcu-qsbr -lz -lpthread -lm

ifeq ($(SANITIZER),address)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  MALLOC := libc
else ifeq ($(SANITIZER),undefined)
  SANFLAGS := -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZER),thread)
  SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
  MALLOC := libc
  TSAN_SHIM := $(BUILD)/tests/tsan/thrd_shim.o
endif
ifeq ($(MALLOC),jemalloc)
  LDLIBS += -ljemalloc
  CFLAGS_BASE += -DFG_MALLOC_JEMALLOC
endif

CFLAGS  += $(CFLAGS_BASE) $(SANFLAGS)
LDFLAGS += $(SANFLAGS) -pthread

# Link-time optimisation of the release build: a message crosses decode,
# rules, pricing and encode, each its own file, and LTO inlines across them
# (in-process pipeline about 5% faster: docs/PERFORMANCE-HISTORY.md, fourth
# session). Objects are fat (regular code as well), so the unit tests link
# them without the LTO step; floorgate and the benchmarks link with it.
# LTO= turns it off.
ifeq ($(SANITIZER),)
  LTO ?= -flto=auto -ffat-lto-objects
endif

MODULES := core ingest rules pricing sinks src
LIB_SRC := $(filter-out src/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
GEN_SRC := $(BUILD)/gen/fg_schema_text.c
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(BUILD)/gen/fg_schema_text.o
LIB     := $(BUILD)/libfloorgate.a
BIN     := $(BUILD)/floorgate

TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all docs deps depcheck demo test test-e2e test-tsan bench clean fuzz
all: $(BIN)
docs: docs/CONFIGURATION.md

# Before compiling: are the libraries' headers there? Says what to run if not.
depcheck:
	@CC="$(CC)" sh scripts/deps.sh --check

$(BUILD)/%.o: %.c | depcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LTO) -c $< -o $@

# Schemas are compiled in as C strings, made from schemas/*.avsc at build time.
$(GEN_SRC): schemas/declaration.avsc schemas/assessment.avsc schemas/deadletter.avsc scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh schemas/declaration.avsc fg_schema_text_declaration >  $@.tmp
	sh scripts/embed.sh schemas/assessment.avsc  fg_schema_text_assessment  >> $@.tmp
	sh scripts/embed.sh schemas/deadletter.avsc  fg_schema_text_deadletter  >> $@.tmp
	mv $@.tmp $@

$(BUILD)/gen/fg_schema_text.o: $(GEN_SRC)
	$(CC) $(CFLAGS) $(LTO) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	gcc-ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB) $(TSAN_SHIM)
	$(CC) $(LDFLAGS) $(LTO) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(TSAN_SHIM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(TSAN_SHIM) $(LDFLAGS) $(LDLIBS) -lcmocka

deps:
	@sh scripts/deps.sh

demo: deps
	$(MAKE) --no-print-directory $(BIN)
	$(BIN) demo

# Every test. Unit tests first (fast), then the file-mode cases, the mock
# cluster integration, and the real broker end to end.
test: deps
	$(MAKE) --no-print-directory $(BIN) $(TEST_BIN)
	bash tests/run.sh $(BUILD)

# The multi-threaded engine and replay's threads under ThreadSanitizer (its own build dir).
TSAN_RUN := TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp"
test-tsan: deps
	$(MAKE) --no-print-directory SANITIZER=thread build-thread/floorgate build-thread/tests/test_engine_mock \
		build-thread/tests/test_engine_faults
	$(TSAN_RUN) build-thread/tests/test_engine_mock
	$(TSAN_RUN) build-thread/tests/test_engine_faults
	$(TSAN_RUN) build-thread/floorgate demo --count 20000 --seed 3
	build-thread/floorgate gen --count 20000 --seed 3 --out build-thread/replay-tsan.avro
	$(TSAN_RUN) build-thread/floorgate replay --quiet --data data --in build-thread/replay-tsan.avro \
		--out build-thread/replay-tsan-a.avro --dlq build-thread/replay-tsan-d.avro --workers 4 --batch-size 64

# Fuzz every libFuzzer target (or only FUZZ_TARGETS, e.g. "csv refdata") for
# FUZZ_SECONDS (default 60) each, FUZZ_JOBS processes each; docs/FUZZING.md.
fuzz: all
	FUZZ_JOBS=$(or $(FUZZ_JOBS),1) bash tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60) $(FUZZ_TARGETS)

# The real-broker end-to-end test alone.
test-e2e: $(BIN)
	FLOORGATE=$(BIN) bash tests/e2e/run.sh

bench: deps
	$(MAKE) --no-print-directory -C bench BUILD=../$(BUILD) LTO="$(LTO)"

clean:
	rm -rf build build-address build-undefined build-thread

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d

# The configuration reference is made from the key table in src/fg_config.c.
docs/CONFIGURATION.md: $(BIN) docs/CONFIGURATION.head.md
	{ cat docs/CONFIGURATION.head.md; $(BIN) run --help-config; } > $@
