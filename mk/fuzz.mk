# mk/fuzz.mk: libFuzzer harnesses (tests/fuzz/fuzz_*.c) for every parser of
# bytes that come from the network or an event, and for the flow itself
# (fuzz_flow: advance and the sweep against a fake AWS made of the input,
# behind http.c's transport hook).  `make fuzz` builds them into
# $(BUILD)/fuzz/ with clang (-fsanitize=fuzzer,address,undefined) against all
# of src/ and runs each for FUZZ_SECONDS over its seeds (fuzz_x: tests/fuzz/
# corpus/x/), growing $(BUILD)/fuzz/corpus/fuzz_x/; a crash, leak or timeout
# leaves its reproducer in $(BUILD)/fuzz/artifacts/.  max_len and dict of each
# harness are in tests/fuzz/fuzz_x.options (the [libfuzzer] section OSS-Fuzz reads).

FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 30
FUZZ_DIR       = $(BUILD)/fuzz
FUZZ_SRCS     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES    := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_SAN      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=all
FUZZ_OBJS      = $(patsubst src/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
FUZZ_BINS      = $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-bins fuzz-check fuzz-clean

fuzz-check:
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) missing: run make setup (clang, libclang-rt-14-dev)" >&2; exit 1; }

# src/ with coverage instrumentation but without libFuzzer's main (clang's
# -Wformat-nonliteral holds: src/'s printf-like helpers carry format attributes).
$(FUZZ_DIR)/obj/%.o: src/%.c $(wildcard src/*.h) | fuzz-check $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(STD) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(INC) $(DEV_CFLAGS) -c $< -o $@
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS) | fuzz-check
	$(FUZZ_CC) $(STD) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer $(INC) $(DEV_CFLAGS) -o $@ $< \
	    $(FUZZ_OBJS) $(DEV_LIBS)
$(FUZZ_DIR)/obj:
	mkdir -p $@

fuzz-bins: $(FUZZ_BINS)
# Objects made by a pattern rule are intermediate: keep them.
.SECONDARY: $(FUZZ_OBJS)

# Each harness in turn, FUZZ_SECONDS each; the first crash, leak or timeout
# stops the run with the reproducer's path.
fuzz: fuzz-bins
	@mkdir -p $(FUZZ_DIR)/artifacts
	@set -e; for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$n; \
	    opts=$$(sed -n 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$$/-\1=\2/p' tests/fuzz/$$n.options 2>/dev/null | tr '\n' ' '); \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s $$opts"; \
	    $(FUZZ_DIR)/$$n -max_total_time=$(FUZZ_SECONDS) -timeout=25 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$n- $$opts \
	        $(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$${n#fuzz_} 2>$(FUZZ_DIR)/$$n.log || \
	        { tail -60 $(FUZZ_DIR)/$$n.log; echo "fuzz: $$n failed; reproducer: $$(ls -t $(FUZZ_DIR)/artifacts/$$n-* 2>/dev/null | head -1)" >&2; exit 1; }; \
	    grep -E '^stat::number_of_executed_units|^Done ' $(FUZZ_DIR)/$$n.log | tr '\n' ' '; echo; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR)/obj $(FUZZ_BINS) $(FUZZ_DIR)/artifacts
clean: fuzz-clean

# `make test` builds the harnesses when clang is installed (tests/test_fuzz.py
# runs them briefly and skips outside CI when clang is absent).
test-builds: $(if $(shell command -v $(FUZZ_CC) 2>/dev/null),fuzz-bins)
