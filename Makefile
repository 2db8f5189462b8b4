# snapferry — see README.md.  `make` builds the deployable static ./bootstrap,
# `make test` runs every test suite, `make demo` runs the whole flow locally.

VERSION   := 0.1.0
CC        ?= cc
PYTHON    ?= python3
VENV      := .venv
BUILD     := build

WARN      := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wformat-security \
             -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
             -Wpointer-arith -Wcast-qual -Wvla -Wnull-dereference -Wundef \
             -Wimplicit-fallthrough -Werror=implicit-function-declaration
STD       := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
             -DSNAPFERRY_VERSION='"$(VERSION)"'
OPT       := -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
INC       := -Isrc

LIB_SRCS  := $(sort $(wildcard src/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_NAMES:= $(patsubst tests/unit/%.c,%,$(UNIT_SRCS))
# Small C programs the Python suites drive (signing oracle, one AWS call, ...).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_NAMES:= $(patsubst tests/tools/%.c,%,$(TOOL_SRCS))

# Development builds use Debian's -dev packages (dynamic); the deployable
# build links the pinned, checksum-verified sources of mk/deps.mk statically.
PKGS      := libcurl libxml-2.0 libcjson
DEV_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEV_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmbedcrypto -lm

.PHONY: all dev asan unit-bins package test test-builds test-unit check clean distclean \
        setup deps demo bench help fuzz

all: bootstrap

help:
	@echo "make            build the static, stripped ./bootstrap (builds pinned deps once)"
	@echo "make package    build/snapferry.zip for the provided.al2023 runtime"
	@echo "make test       install what the tests need, then run every test suite"
	@echo "make demo       run the whole flow end to end on local emulators"
	@echo "make dev        dynamic development build in build/dev/bootstrap"
	@echo "make asan       ASan+UBSan build in build/asan/bootstrap"
	@echo "make setup      install Debian packages, the Python venv and the Runtime Interface Emulator"
	@echo "make bench      run the benchmarks (signing, round trips, start-up, ferry API calls, sweep)"
	@echo "make fuzz       libFuzzer harnesses of every parser and of the flow, FUZZ_SECONDS each (default 30)"
	@echo "make bootstrap-arm64  cross-built static arm64 bootstrap (build/static-arm64/)"
	@echo "make validate   cfn-lint and sam validate --lint on both templates"
	@echo "make sam-build  sam build (LAMBDA_ARCH=x86_64|arm64)"
	@echo "make deploy-backup / make deploy   sam deploy --guided of the backup / production stack"
	@echo "make deploy-org  the production stack in every account of ORG_UNITS by a StackSet (DRY=1 prints)"
	@echo "make package-stackset / upload-stackset-artifact  the StackSet template / its code per Region"

# ---- development and sanitizer builds ------------------------------------
define variant
$(BUILD)/$(1)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/$(1)/obj
	$$(CC) $$(STD) $$(WARN) $(2) $$(INC) $$(DEV_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/bootstrap.o: bootstrap.c $(wildcard src/*.h) | $(BUILD)/$(1)/obj
	$$(CC) $$(STD) $$(WARN) $(2) $$(INC) $$(DEV_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/bootstrap: $(BUILD)/$(1)/obj/bootstrap.o $(patsubst src/%.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS))
	$$(CC) $(2) -o $$@ $$^ $$(DEV_LIBS)
$(BUILD)/$(1)/tests/%: tests/unit/%.c tests/unit/unit.h $(patsubst src/%.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS)) | $(BUILD)/$(1)/tests
	$$(CC) $$(STD) $$(WARN) $(2) $$(INC) -Itests/unit $$(DEV_CFLAGS) -o $$@ $$< $(patsubst src/%.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS)) $$(DEV_LIBS)
$(BUILD)/$(1)/tools/%: tests/tools/%.c $(patsubst src/%.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS)) | $(BUILD)/$(1)/tools
	$$(CC) $$(STD) $$(WARN) $(2) $$(INC) $$(DEV_CFLAGS) -o $$@ $$< $(patsubst src/%.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS)) $$(DEV_LIBS)
$(BUILD)/$(1)/obj $(BUILD)/$(1)/tests $(BUILD)/$(1)/tools:
	mkdir -p $$@
endef

DEV_FLAGS  := $(OPT)
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
$(eval $(call variant,dev,$(DEV_FLAGS)))
$(eval $(call variant,asan,$(ASAN_FLAGS)))

dev: $(BUILD)/dev/bootstrap $(addprefix $(BUILD)/dev/tests/,$(UNIT_NAMES)) $(addprefix $(BUILD)/dev/tools/,$(TOOL_NAMES))
asan: $(BUILD)/asan/bootstrap $(addprefix $(BUILD)/asan/tests/,$(UNIT_NAMES)) $(addprefix $(BUILD)/asan/tools/,$(TOOL_NAMES))
unit-bins: dev asan

# ---- the deployable static binary -----------------------------------------
include mk/deps.mk
-include mk/sam.mk mk/cross.mk mk/org.mk
-include mk/fuzz.mk

package: $(BUILD)/snapferry.zip
$(BUILD)/snapferry.zip: bootstrap
	rm -f $@ && mkdir -p $(BUILD) && zip -X -j $@ bootstrap

# ---- set-up, tests, demo ----------------------------------------------------
# scripts/setup.sh skips whatever is already done (a re-run takes about a
# second), so it always runs: a deleted venv or tool comes back.
setup:
	bash scripts/setup.sh

# Set-up first (it installs the compilers), then every build in parallel.
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
test: setup
	$(MAKE) -j$(JOBS) test-builds
	SNAPFERRY_BUILD=$(BUILD) bash tests/run.sh
# In a sub-make, so that what setup just installed (the cross compiler) is seen.
test-builds: unit-bins package $(CROSS_TEST_TARGETS)

demo: setup bootstrap
	$(VENV)/bin/python scripts/demo.py

bench: setup dev
	bash bench/run.sh

clean:
	rm -rf $(BUILD)/dev $(BUILD)/asan $(BUILD)/static $(BUILD)/static-arm64 $(BUILD)/snapferry.zip bootstrap

distclean:
	rm -rf $(BUILD) build/deps $(VENV) .venv-sam bootstrap
