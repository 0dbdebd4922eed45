# The lguest bring-up kit.
#
#   make            build bin/lguest and the sample guests
#   make demo       build, then replay stages 1-4 of the porting story
#   make check      build with AddressSanitizer + UBSan and run every test
#   make bench      print every performance number (docs/benchmarks.md)
#   make coverage   list the one- and two-byte opcode maps, implemented or not
#
# Sources are found by wildcard: a new .c file under launcher/ joins the
# launcher, a new directory under samples/ becomes a guest, a new
# tests/unit/*.c becomes a unit test program.

CC      := gcc
# capstone disassembles code in crash reports and in lgdbg.
LIBS    := $(shell pkg-config --libs capstone 2>/dev/null || echo -lcapstone) -lm
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
CSTD    := -std=gnu11 -D_GNU_SOURCE
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

LAUNCHER_SRC := $(sort $(wildcard launcher/*.c launcher/*/*.c))
LAUNCHER_HDR := $(wildcard launcher/*.h launcher/*/*.h)
CORE_SRC     := $(filter-out launcher/main.c,$(LAUNCHER_SRC))
UNIT_SRC     := $(sort $(wildcard tests/unit/*.c))

OBJ      := $(patsubst %.c,build/opt/%.o,$(LAUNCHER_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(LAUNCHER_SRC))
ASAN_CORE_OBJ := $(patsubst %.c,build/asan/%.o,$(CORE_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
# Helper programs for tests: tests/native/*.c are built as 32-bit programs
# (the differential tests run code natively there), tests/tools/*.c as
# ordinary host programs (file generators and the like).
NATIVE_BIN := $(patsubst tests/native/%.c,build/tests/native/%,$(wildcard tests/native/*.c))
TOOL_BIN   := $(patsubst tests/tools/%.c,build/tests/tools/%,$(wildcard tests/tools/*.c))

# Sample guests: every directory under samples/ (and samples/bugs/) with
# sources, built freestanding for 32-bit x86 against samples/lib.
SAMPLE_DIRS := $(sort $(filter-out samples/lib/,$(dir $(wildcard samples/*/*.c samples/*/*.S samples/bugs/*/*.c samples/bugs/*/*.S samples/tests/*/*.c samples/tests/*/*.S samples/bench/*/*.c samples/bench/*/*.S))))
SAMPLE_NAMES := $(patsubst samples/%/,%,$(SAMPLE_DIRS))
SAMPLE_ELF := $(patsubst %,build/samples/%.elf,$(SAMPLE_NAMES))
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                -fno-asynchronous-unwind-tables -nostdlib -O2 -g -Wall -Wextra -Werror -Isamples/lib
GUEST_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack

LGDBG_SRC := $(sort $(wildcard lgdbg/*.c))
LGDBG_BIN := $(if $(LGDBG_SRC),bin/lgdbg)

.PHONY: all demo check check-asan bench coverage clean deps samples

all: deps bin/lguest $(LGDBG_BIN) samples

# lgdbg, the companion CLI: lgdbg/*.c, sharing the launcher's debug code
# (event names, trace format) through launcher/debug/*.c.
LGDBG_SHARED := launcher/debug/events.c launcher/debug/trace_format.c
LGDBG_LIBS := -lreadline
bin/lgdbg: $(patsubst %.c,build/opt/%.o,$(LGDBG_SRC) $(filter $(wildcard $(LGDBG_SHARED)),$(LGDBG_SHARED))) $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(filter build/opt/lgdbg/%,$^) $(filter-out build/opt/launcher/main.o,$(OBJ)) $(LGDBG_LIBS) $(LIBS)

build/asan/bin/lgdbg: $(patsubst %.c,build/asan/%.o,$(LGDBG_SRC)) $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $(filter build/asan/lgdbg/%,$^) $(filter-out build/asan/launcher/main.o,$(ASAN_OBJ)) $(LGDBG_LIBS) $(LIBS)

build/opt/lgdbg/%.o: lgdbg/%.c $(LAUNCHER_HDR) $(wildcard lgdbg/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -Ilauncher -Ilgdbg -c -o $@ $<

build/asan/lgdbg/%.o: lgdbg/%.c $(LAUNCHER_HDR) $(wildcard lgdbg/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(SANFLAGS) $(WARN) -Ilauncher -Ilgdbg -c -o $@ $<

deps:
	@tools/ensure-deps

bin/lguest: $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/opt/%.o: %.c $(LAUNCHER_HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -Ilauncher -c -o $@ $<

build/asan/bin/lguest: $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

build/asan/%.o: %.c $(LAUNCHER_HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(SANFLAGS) $(WARN) -Ilauncher -c -o $@ $<

build/asan/tests/%: tests/unit/%.c $(ASAN_CORE_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(SANFLAGS) $(WARN) -Ilauncher -Itests/unit -o $@ $< $(ASAN_CORE_OBJ) $(LIBS)

build/tests/native/%: tests/native/%.c
	@mkdir -p $(@D)
	$(CC) -m32 -std=gnu11 -D_GNU_SOURCE -O1 -g $(WARN) -o $@ $<

build/tests/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g $(WARN) -o $@ $<

samples: $(SAMPLE_ELF)


.SECONDEXPANSION:
SAMPLE_LIB_SRC := $(wildcard samples/lib/*.c samples/lib/*.S)
build/samples/%.elf: $$(wildcard samples/$$*/*.c samples/$$*/*.S) $(SAMPLE_LIB_SRC) $(wildcard samples/lib/*.h) samples/lib/guest.ld
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -T $(or $(wildcard samples/$*/guest.ld),samples/lib/guest.ld) \
	    -o $@ $(filter %.c %.S,$^)

demo: all
	@tools/demo

check: deps bin/lguest $(LGDBG_BIN) build/asan/bin/lguest $(if $(LGDBG_SRC),build/asan/bin/lgdbg) samples $(UNIT_BIN) $(NATIVE_BIN) $(TOOL_BIN)
	@tests/run-all

check-asan: check

bench: deps bin/lguest samples
	@tools/bench

coverage: build/opt/tools/opcode-coverage
	@build/opt/tools/opcode-coverage

CORE_OBJ := $(patsubst %.c,build/opt/%.o,$(CORE_SRC))
build/opt/tools/%: tools/%.c $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -Ilauncher -o $@ $< $(CORE_OBJ) $(LIBS)

clean:
	rm -rf build bin
