# ddbstream_fdw: a DynamoDB Stream as a PostgreSQL foreign table.
#
#   make && make install         build and install into the pg_config found
#   make installcheck            regression tests (needs PostgreSQL and the
#                                emulator running: use test/harness check;
#                                one file: test/harness run make installcheck
#                                REGRESS=scan)
#   make unit                    unit tests that need no server (SigV4)
#   make fuzz                    libFuzzer targets (run them with test/fuzz)
#   make fuzz-run                run each for FUZZ_SECONDS (default 60)
#   make compile-check PG_INCLUDE_SERVER=DIR
#                                compile every source against the server
#                                headers in DIR (another PostgreSQL), writing
#                                nothing
#
# PG_CONFIG=/path/to/pg_config builds against another server (15 to 18 are
# tested, 19 compile-checked: see test/harness); the objects of a build for
# another server are rebuilt.
#   make dist                    ddbstream_fdw-VERSION.zip for PGXN (of HEAD)

MODULE_big = ddbstream_fdw
OBJS = \
	src/attribute.o \
	src/aws_client.o \
	src/cjson_memory.o \
	src/consumer.o \
	src/consumer_lag.o \
	src/convert.o \
	src/credentials.o \
	src/ddbstream_fdw.o \
	src/http.o \
	src/import_schema.o \
	src/items_api.o \
	src/items_exec.o \
	src/items_plan.o \
	src/items_request.o \
	src/items_scan.o \
	src/json_check.o \
	src/nul_chars.o \
	src/option.o \
	src/page_peek.o \
	src/printable.o \
	src/pushdown.o \
	src/row.o \
	src/scan.o \
	src/shard_reader.o \
	src/shard_plan.o \
	src/sigv4.o \
	src/streams_api.o
PGFILEDESC = "ddbstream_fdw - foreign data wrapper for DynamoDB Streams"

EXTENSION = ddbstream_fdw
# 0.2.0 is installed as 0.1.0 followed by the update script, so a new
# install and an updated one are the same.
DATA = src/ddbstream_fdw--0.1.0.sql src/ddbstream_fdw--0.1.0--0.2.0.sql

REGRESS = options scan images view_types iterators lineage pushdown errors faults credentials materialize import attributes nul_chars consumers consumer_sessions consumer_lineage consumer_plans consumer_roles mirror cookbook concurrency tls hostile_endpoint seq_gaps consumer_upgrade items items_pushdown items_hostile transport

PKG_CONFIG ?= pkg-config
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl libcjson libcrypto)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libcurl libcjson libcrypto)

# The control file's version, also compiled into the module (named by
# PG_MODULE_MAGIC_EXT from PostgreSQL 18).
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'$$/\1/p" $(EXTENSION).control)
VERSION_CPPFLAGS = -DDDBSTREAM_FDW_VERSION='"$(EXTVERSION)"'

PG_CPPFLAGS = -Isrc $(VERSION_CPPFLAGS) $(DEPS_CFLAGS)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers $(EXTRA_CFLAGS)
SHLIB_LINK = $(DEPS_LIBS)

EXTRA_CLEAN = test/sigv4_test results regression.diffs regression.out fuzz/ddbstream_fdw_fuzz.so \
	src/.pg_version

# No LLVM bitcode for JIT inlining: a scan waits on the network, not on
# expression evaluation, and building bitcode would need clang.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Objects built against another server are built again: src/.pg_version
# names the server of the last build (its version and library directory)
# and is rewritten when pg_config names another.
PG_VERSION_STAMP = src/.pg_version
$(shell test "`cat $(PG_VERSION_STAMP) 2>/dev/null`" = "$(VERSION) $(pkglibdir)" || \
	echo "$(VERSION) $(pkglibdir)" >$(PG_VERSION_STAMP))
$(OBJS) fuzz/ddbstream_fdw_fuzz.so: $(PG_VERSION_STAMP)

test/sigv4_test: test/sigv4_test.c src/sigv4.c src/sigv4.h
	$(CC) -Wall -Wextra -Werror -O2 -Isrc -o $@ test/sigv4_test.c src/sigv4.c $(DEPS_CFLAGS) $(DEPS_LIBS)

.PHONY: unit
unit: test/sigv4_test
	test/sigv4_test

# Every object depends on the shared headers (PGXS tracks no header changes).
$(OBJS): src/ddbstream_fdw.h src/aws_client.h src/pg_compat.h src/sigv4.h

# The benchmark's floor client (bench/run.py builds it).
bench/floor: bench/floor.c src/sigv4.c src/sigv4.h
	$(CC) -Wall -Wextra -O2 -Isrc -o $@ bench/floor.c src/sigv4.c $(DEPS_CFLAGS) $(DEPS_LIBS)

# libFuzzer targets (fuzz/fuzz_targets.c), run inside a single-user backend
# by test/fuzz.  clang and Debian's libclang-rt-14-dev provide libFuzzer.
FUZZ_CC ?= clang
FUZZ_RT := $(shell $(FUZZ_CC) --print-runtime-dir 2>/dev/null)
FUZZ_SRCS = $(OBJS:.o=.c) fuzz/fuzz_targets.c
fuzz/ddbstream_fdw_fuzz.so: $(FUZZ_SRCS) $(wildcard src/*.h)
	$(FUZZ_CC) -g -O1 -fPIC -shared -fno-omit-frame-pointer \
		-fsanitize=fuzzer-no-link,undefined -fsanitize-trap=undefined -Wno-ignored-attributes \
		$(shell $(PG_CONFIG) --cppflags) -I$(shell $(PG_CONFIG) --includedir-server) -Isrc \
		$(VERSION_CPPFLAGS) $(DEPS_CFLAGS) \
		-o $@ $(FUZZ_SRCS) $(DEPS_LIBS) \
		$(FUZZ_RT)/libclang_rt.fuzzer_no_main-x86_64.a -lstdc++ -lm -lpthread

.PHONY: fuzz
fuzz: fuzz/ddbstream_fdw_fuzz.so

# Run each fuzz target for FUZZ_SECONDS (as root, or as a user who can run
# initdb): make fuzz-run FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
.PHONY: fuzz-run
fuzz-run: fuzz
	test/fuzz get_records $(FUZZ_SECONDS)
	test/fuzz describe_stream $(FUZZ_SECONDS)

# Compile each source file (and the fuzz targets) with this build's flags
# against the server headers in PG_INCLUDE_SERVER instead of pg_config's,
# writing nothing: the check for a PostgreSQL whose server cannot run here
# (19, headers only: test/harness).  Warnings count as errors with
# EXTRA_CFLAGS=-Werror.
CHECK_SRCS = $(OBJS:.o=.c) fuzz/fuzz_targets.c
.PHONY: compile-check
compile-check:
	@test -f "$(PG_INCLUDE_SERVER)/pg_config.h" || \
		{ echo "usage: make compile-check PG_INCLUDE_SERVER=DIR (a server include directory)" >&2; exit 2; }
	@failed=0; for f in $(CHECK_SRCS); do \
		$(CC) $(CFLAGS) $(CFLAGS_SL) -I$(PG_INCLUDE_SERVER) \
			$(filter-out -I$(includedir_server) -I$(includedir_internal),$(CPPFLAGS)) \
			-c -o /dev/null $$f || { echo "compile check: $$f FAILED"; failed=$$((failed + 1)); }; \
	done; \
	echo "compile check: $(words $(CHECK_SRCS)) files against PostgreSQL \
	$$(sed -n 's/^#define PG_VERSION "\(.*\)"$$/\1/p' $(PG_INCLUDE_SERVER)/pg_config.h)'s headers, $$failed failed"; \
	test $$failed -eq 0

# A PGXN distribution of the committed tree, named after the control file's
# default_version (META.json's version must be the same: test/package_test).
.PHONY: dist
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ -o $(EXTENSION)-$(EXTVERSION).zip HEAD
