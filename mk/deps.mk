# mk/deps.mk: the deployable ./bootstrap.  Builds the pinned third-party
# libraries once with musl (static, DNS without glibc's NSS) into
# $(DEPS_PREFIX), then links bootstrap.c + src/*.c against them, statically
# and stripped.  Sources are Debian's source packages (with Debian's security
# patches), fetched by third_party/fetch.sh and checked against
# third_party/checksums.  Stamp files keep every step from running twice.

# Pins: Debian source package versions.  Changing one means refreshing
# third_party/checksums (see third_party/README.md).
CURL_DEB    := 7.88.1-10+deb12u15
MBEDTLS_DEB := 2.28.3-1
CJSON_DEB   := 1.7.15-1+deb12u4
LIBXML2_DEB := 2.9.14+dfsg-1.3~deb12u6
DEPS_PINS   := curl=$(CURL_DEB) mbedtls=$(MBEDTLS_DEB) cjson=$(CJSON_DEB) libxml2=$(LIBXML2_DEB)

# Upstream version = Debian version without the Debian revision.
deb_upstream = $(shell echo '$(1)' | sed 's/-[^-]*$$//')

# The deps are shared by every BUILD= directory (they do not depend on it).
# mk/cross.mk reruns this with DEPS_SUFFIX=-arm64, its own MUSL_CC wrapper,
# DEPS_HOST (configure --host), DEPS_AR, STRIP and STATIC_DIR.
DEPS_DIR    ?= build/deps
DEPS_SUFFIX ?=
DEPS_HOST   ?=
DEPS_AR     ?= ar
STRIP       ?= strip
DEPS_ABS     = $(abspath $(DEPS_DIR))
DEPS_PREFIX := $(DEPS_DIR)/musl$(DEPS_SUFFIX)
DEPS_PREFIX_ABS = $(abspath $(DEPS_PREFIX))
DEPS_WORK   := $(DEPS_DIR)/work$(DEPS_SUFFIX)
DEPS_STAMP  := $(DEPS_DIR)/stamps$(DEPS_SUFFIX)
DEPS_LOGS   := $(DEPS_DIR)/logs$(DEPS_SUFFIX)
FETCH_STAMP := $(DEPS_DIR)/stamps/fetched
MUSL_CC     ?= musl-gcc
CONFIGURE_HOST = $(if $(DEPS_HOST),--host=$(DEPS_HOST))
DEPS_JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
# Size-friendly code for the libraries; sections let the final link drop
# whatever snapferry does not call.
DEPS_CFLAGS := -O2 -ffunction-sections -fdata-sections
# Not for curl: with _GNU_SOURCE musl's <sched.h> declares calloc/free after
# curl's memory macros (lib/easy_lock.h) and the build breaks.
MBEDTLS_CFLAGS := $(DEPS_CFLAGS) -D_GNU_SOURCE

STATIC_DIR  ?= $(BUILD)/static
STATIC_OBJS  = $(STATIC_DIR)/obj/bootstrap.o \
               $(patsubst src/%.c,$(STATIC_DIR)/obj/%.o,$(LIB_SRCS))
STATIC_LIBS := -L$(DEPS_PREFIX)/lib -lcurl -lmbedtls -lmbedx509 -lmbedcrypto \
               -lxml2 -lcjson -lm -lpthread

.PHONY: deps deps-clean

deps: $(DEPS_STAMP)/all

# Several builds may share build/deps at once (other BUILD= directories,
# `sam build`): the outer make only takes a lock and runs the real rules in
# a sub-make (DEPS_INNER=1).  GNU make re-reads the stamp's time afterwards,
# so the link is redone only when the deps really changed.
ifeq ($(DEPS_INNER),1)
# ---- fetch + verify ---------------------------------------------------------
$(FETCH_STAMP): third_party/checksums third_party/fetch.sh
	@mkdir -p $(dir $@)
	rm -rf $(DEPS_DIR)/src
	sh third_party/fetch.sh $(DEPS_DIR) $(DEPS_PINS)
	touch $@

# Unpack one package (Debian patches applied) into $(DEPS_WORK)/<pkg>.
# The upstream tarballs ship generated autotools files; Debian's build-system
# patches (gnutls/nss flavours, docs) touch Makefile.am/configure.ac only, so
# the generated files are marked current instead of regenerated.
define unpack
	rm -rf $(DEPS_WORK)/$(1) && mkdir -p $(DEPS_WORK) $(DEPS_LOGS) $(DEPS_STAMP)
	cd $(DEPS_WORK) && dpkg-source --no-check -x $(DEPS_ABS)/src/$(1)_$(2).dsc $(1) >/dev/null
	find $(DEPS_WORK)/$(1) \( -name aclocal.m4 -o -name configure -o -name Makefile.in \
	    -o -name '*config.h.in' \) -exec touch {} +
endef

# ---- mbedTLS: static libraries only, upstream default configuration ---------
$(DEPS_STAMP)/mbedtls: $(FETCH_STAMP) mk/deps.mk
	$(call unpack,mbedtls,$(MBEDTLS_DEB))
	$(MAKE) -C $(DEPS_WORK)/mbedtls/library -j$(DEPS_JOBS) CC=$(MUSL_CC) AR=$(DEPS_AR) \
	    CFLAGS="$(MBEDTLS_CFLAGS)" static >$(DEPS_LOGS)/mbedtls.log 2>&1 || \
	    { tail -40 $(DEPS_LOGS)/mbedtls.log; exit 1; }
	mkdir -p $(DEPS_PREFIX)/lib $(DEPS_PREFIX)/include
	cp -R $(DEPS_WORK)/mbedtls/include/mbedtls $(DEPS_WORK)/mbedtls/include/psa $(DEPS_PREFIX)/include/
	cp $(DEPS_WORK)/mbedtls/library/libmbedcrypto.a $(DEPS_WORK)/mbedtls/library/libmbedx509.a \
	    $(DEPS_WORK)/mbedtls/library/libmbedtls.a $(DEPS_PREFIX)/lib/
	touch $@

# ---- libcurl: HTTP(S) only, TLS through mbedTLS, no compression/IDN/PSL -------
CURL_CONFIGURE := --disable-shared --enable-static --with-pic=no \
    --with-mbedtls=$(DEPS_PREFIX_ABS) \
    --enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps \
    --disable-rtsp --disable-proxy --disable-dict --disable-telnet --disable-tftp \
    --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
    --disable-mqtt --disable-manual --disable-libcurl-option --disable-ntlm \
    --disable-ntlm-wb --disable-tls-srp --disable-unix-sockets --disable-cookies \
    --disable-doh --disable-mime --disable-netrc --disable-progress-meter \
    --disable-alt-svc --disable-hsts --disable-websockets --disable-crypto-auth \
    --disable-dnsshuffle \
    --enable-threaded-resolver --enable-ipv6 --enable-symbol-hiding \
    --without-zlib --without-brotli --without-zstd --without-libidn2 \
    --without-libpsl --without-libgsasl --without-librtmp --without-libssh2 \
    --without-libssh --without-wolfssh --without-nghttp2 --without-ngtcp2 \
    --without-nghttp3 --without-quiche --without-msh3 --without-hyper \
    --without-gssapi --without-ca-bundle --without-ca-path --without-ca-fallback \
    --disable-dependency-tracking

$(DEPS_STAMP)/curl: $(FETCH_STAMP) $(DEPS_STAMP)/mbedtls mk/deps.mk
	$(call unpack,curl,$(CURL_DEB))
	cd $(DEPS_WORK)/curl && CC=$(MUSL_CC) CFLAGS="$(DEPS_CFLAGS)" \
	    CPPFLAGS="-I$(DEPS_PREFIX_ABS)/include" LDFLAGS="-L$(DEPS_PREFIX_ABS)/lib" \
	    ./configure --prefix=$(DEPS_PREFIX_ABS) $(CONFIGURE_HOST) $(CURL_CONFIGURE) \
	    >$(abspath $(DEPS_LOGS))/curl.log 2>&1 || { tail -40 $(abspath $(DEPS_LOGS))/curl.log; exit 1; }
	$(MAKE) -C $(DEPS_WORK)/curl/lib -j$(DEPS_JOBS) >>$(DEPS_LOGS)/curl.log 2>&1 && \
	    $(MAKE) -C $(DEPS_WORK)/curl/lib install >>$(DEPS_LOGS)/curl.log 2>&1 && \
	    $(MAKE) -C $(DEPS_WORK)/curl/include install >>$(DEPS_LOGS)/curl.log 2>&1 || \
	    { tail -40 $(DEPS_LOGS)/curl.log; exit 1; }
	touch $@

# ---- cJSON: one file -----------------------------------------------------------
$(DEPS_STAMP)/cjson: $(FETCH_STAMP) mk/deps.mk
	$(call unpack,cjson,$(CJSON_DEB))
	mkdir -p $(DEPS_PREFIX)/lib $(DEPS_PREFIX)/include/cjson
	$(MUSL_CC) $(DEPS_CFLAGS) -std=c89 -c $(DEPS_WORK)/cjson/cJSON.c -o $(DEPS_WORK)/cjson/cJSON.o
	rm -f $(DEPS_PREFIX)/lib/libcjson.a
	$(DEPS_AR) rcs $(DEPS_PREFIX)/lib/libcjson.a $(DEPS_WORK)/cjson/cJSON.o
	cp $(DEPS_WORK)/cjson/cJSON.h $(DEPS_PREFIX)/include/cjson/
	touch $@

# ---- libxml2: the parser and tree only; no ICU/iconv/zlib/lzma/python/network --
LIBXML2_CONFIGURE := --disable-shared --enable-static --with-pic=no \
    --without-python --without-icu --without-iconv --without-zlib --without-lzma \
    --without-http --without-ftp --without-modules --without-threads \
    --without-readline --without-history --without-debug --without-catalog \
    --without-docbook --without-legacy --without-xinclude --without-xptr \
    --without-schematron --without-c14n \
    --disable-dependency-tracking

$(DEPS_STAMP)/libxml2: $(FETCH_STAMP) mk/deps.mk
	$(call unpack,libxml2,$(LIBXML2_DEB))
	cd $(DEPS_WORK)/libxml2 && CC=$(MUSL_CC) CFLAGS="$(DEPS_CFLAGS)" \
	    ./configure --prefix=$(DEPS_PREFIX_ABS) $(CONFIGURE_HOST) $(LIBXML2_CONFIGURE) \
	    >$(abspath $(DEPS_LOGS))/libxml2.log 2>&1 || { tail -40 $(abspath $(DEPS_LOGS))/libxml2.log; exit 1; }
	$(MAKE) -C $(DEPS_WORK)/libxml2 -j$(DEPS_JOBS) libxml2.la >>$(DEPS_LOGS)/libxml2.log 2>&1 && \
	    $(MAKE) -C $(DEPS_WORK)/libxml2 install-libLTLIBRARIES \
	    >>$(DEPS_LOGS)/libxml2.log 2>&1 && \
	    $(MAKE) -C $(DEPS_WORK)/libxml2/include/libxml install >>$(DEPS_LOGS)/libxml2.log 2>&1 || \
	    { tail -40 $(DEPS_LOGS)/libxml2.log; exit 1; }
	# <libxml/tree.h> without the libxml2/ directory level.
	rm -rf $(DEPS_PREFIX)/include/libxml && mv $(DEPS_PREFIX)/include/libxml2/libxml $(DEPS_PREFIX)/include/ \
	    && rmdir $(DEPS_PREFIX)/include/libxml2
	touch $@

$(DEPS_STAMP)/all: $(DEPS_STAMP)/mbedtls $(DEPS_STAMP)/curl $(DEPS_STAMP)/cjson $(DEPS_STAMP)/libxml2
	touch $@

else
$(DEPS_STAMP)/all: _deps_force
	@mkdir -p $(DEPS_DIR)
	@flock $(DEPS_DIR)/.lock $(MAKE) --no-print-directory DEPS_INNER=1 $@
_deps_force:
.PHONY: _deps_force
endif

deps-clean:
	rm -rf $(DEPS_DIR)

# ---- snapferry, static --------------------------------------------------------
STATIC_CFLAGS := $(STD) $(WARN) -O2 -fstack-protector-strong \
                 -ffunction-sections -fdata-sections $(INC) -I$(DEPS_PREFIX)/include

$(STATIC_DIR)/obj/%.o: src/%.c $(wildcard src/*.h) | $(DEPS_STAMP)/all $(STATIC_DIR)/obj
	$(MUSL_CC) $(STATIC_CFLAGS) -c $< -o $@
$(STATIC_DIR)/obj/bootstrap.o: bootstrap.c $(wildcard src/*.h) | $(DEPS_STAMP)/all $(STATIC_DIR)/obj
	$(MUSL_CC) $(STATIC_CFLAGS) -c $< -o $@
$(STATIC_DIR)/obj:
	mkdir -p $@

$(STATIC_DIR)/bootstrap: $(STATIC_OBJS) $(DEPS_STAMP)/all
	$(MUSL_CC) -static -Wl,--gc-sections -o $@.$$$$.tmp $(STATIC_OBJS) $(STATIC_LIBS) && \
	    $(STRIP) --strip-all $@.$$$$.tmp && mv $@.$$$$.tmp $@

bootstrap: $(STATIC_DIR)/bootstrap
	cp $< $@.$$$$.tmp && mv $@.$$$$.tmp $@
