# mk/cross.mk: `make bootstrap-arm64` cross-builds the static bootstrap for
# Lambda's arm64 (Graviton) architecture: musl for aarch64 is built from
# Debian's musl source package (pinned, checksummed like the other deps) with
# Debian's gcc-aarch64-linux-gnu, then mk/deps.mk runs again with that
# toolchain into build/deps/musl-arm64 and $(BUILD)/static-arm64.

MUSL_DEB      := 1.2.3-1
CROSS         ?= aarch64-linux-gnu
CROSS_DIR     := $(DEPS_DIR)/cross
MUSL_ARM64    := $(DEPS_DIR)/musl-toolchain-arm64
ARM64_DIR     := $(BUILD)/static-arm64
ARM64_CC       = $(abspath $(MUSL_ARM64))/bin/musl-gcc

.PHONY: bootstrap-arm64 cross-check

cross-check:
	@command -v $(CROSS)-gcc >/dev/null || { echo "$(CROSS)-gcc missing: run make setup (gcc-aarch64-linux-gnu)" >&2; exit 1; }

$(CROSS_DIR)/stamps/fetched: third_party/checksums third_party/fetch.sh mk/cross.mk
	@mkdir -p $(dir $@)
	rm -rf $(CROSS_DIR)/src
	sh third_party/fetch.sh $(CROSS_DIR) musl=$(MUSL_DEB)
	touch $@

# musl's own wrapper (musl-gcc + specs) around $(CROSS)-gcc; static libc only.
$(MUSL_ARM64)/.built: $(CROSS_DIR)/stamps/fetched | cross-check
	rm -rf $(CROSS_DIR)/musl $(MUSL_ARM64) && mkdir -p $(CROSS_DIR)/logs
	cd $(CROSS_DIR) && dpkg-source --no-check -x src/musl_$(MUSL_DEB).dsc musl >/dev/null
	(cd $(CROSS_DIR)/musl && ./configure --prefix=$(abspath $(MUSL_ARM64)) --target=$(CROSS) \
	    CROSS_COMPILE=$(CROSS)- --disable-shared --enable-wrapper=gcc) \
	    >$(CROSS_DIR)/logs/musl.log 2>&1 && \
	    $(MAKE) -C $(CROSS_DIR)/musl -j$(DEPS_JOBS) >>$(CROSS_DIR)/logs/musl.log 2>&1 && \
	    $(MAKE) -C $(CROSS_DIR)/musl install >>$(CROSS_DIR)/logs/musl.log 2>&1 || \
	    { tail -40 $(CROSS_DIR)/logs/musl.log; exit 1; }
	touch $@

# The same recipes as the native build, with the arm64 toolchain.  The
# sub-make decides itself whether anything is out of date.
bootstrap-arm64: cross-check
	@mkdir -p $(DEPS_DIR)
	@flock $(DEPS_DIR)/.lock-cross $(MAKE) --no-print-directory $(MUSL_ARM64)/.built
	$(MAKE) --no-print-directory $(ARM64_DIR)/bootstrap DEPS_SUFFIX=-arm64 \
	    DEPS_HOST=$(CROSS) MUSL_CC=$(ARM64_CC) DEPS_AR=$(CROSS)-ar STRIP=$(CROSS)-strip \
	    STATIC_DIR=$(ARM64_DIR)

# Built by `make test` when the cross compiler is installed (its smoke test
# in tests/test_static_build.py skips otherwise).
CROSS_TEST_TARGETS := $(if $(shell command -v $(CROSS)-gcc 2>/dev/null),bootstrap-arm64)
