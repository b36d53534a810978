# SPDX-License-Identifier: GPL-2.0-only
#
# pkernfs: persistent memory filesystem for kexec-based live update.
#
#   make demo      install what is missing, build, boot QEMU, show data surviving kexec
#   make demo-vm   the same with a real VMM: a QEMU guest on pkernfs RAM resumes after kexec
#   make check     every test: host unit, KUnit and VM suites; ends "N passed, N failed"
#   make lint      checkpatch --strict, sparse (C=2), W=1 and kernel-doc on our kernel code
#
#   make fuzz      libFuzzer over the image parser and fsck (FUZZ_SECONDS, default 600)
#   make soak      100 kexecs with DMA in flight and 100 power cuts, every byte checked (soak.csv)
#   make bench     every benchmark against its peers on the bench kernel (no debug
#                  options): ratios, build/bench/results.csv and plots
#   make acpi      the SSDT (acpi/), its initrd-override cpio, and the DT fragment check
#   make deps | kernel | initramfs | unit | vm-test CASE=name | vm-shell | clean
#   make kernel-debug | initramfs-debug | vm-test-debug CASE=name   the KASAN leg
#
# Kernel sources and build output live in $(PKERNFS_CACHE), outside the repo.

PKERNFS_CACHE ?= $(HOME)/.cache/pkernfs
export PKERNFS_CACHE

BUILD   := $(CURDIR)/build
CC      ?= gcc
CFLAGS_HOST := -O2 -g -Wall -Wextra -Werror -std=gnu11
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

GUEST_TOOLS := $(patsubst tests/vm/tools/%.c,$(BUILD)/guest-bin/%,$(wildcard tests/vm/tools/*.c)) \
	       $(BUILD)/guest-bin/pkernfsctl
INITRD  := $(BUILD)/initramfs.cpio
KOUT     = $(shell scripts/kernel.sh path | sed -n 's/^KOUT=//p')
BZIMAGE  = $(KOUT)/arch/x86/boot/bzImage
# The debug leg: the same guest on a KASAN/KFENCE/UBSAN kernel.
DEBUG_CONFIG := qemu-x86_64-debug
INITRD_DEBUG := $(BUILD)/initramfs-debug.cpio
KOUT_DEBUG    = $(shell PKERNFS_CONFIG=$(DEBUG_CONFIG) scripts/kernel.sh path | sed -n 's/^KOUT=//p')
BZIMAGE_DEBUG = $(KOUT_DEBUG)/arch/x86/boot/bzImage
# The bench leg: the same code on a kernel without debug options.
BENCH_CONFIG := qemu-x86_64-bench
INITRD_BENCH := $(BUILD)/initramfs-bench.cpio
KOUT_BENCH    = $(shell PKERNFS_CONFIG=$(BENCH_CONFIG) scripts/kernel.sh path | sed -n 's/^KOUT=//p')
BZIMAGE_BENCH = $(KOUT_BENCH)/arch/x86/boot/bzImage

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
UNIT_LIB   := ndctl-plugin/lib/crc32c.c fs/pkernfs/format.c ndctl-plugin/fsck.c ndctl-plugin/repair.c \
	      ndctl-plugin/kimage.c ndctl-plugin/lib/size.c ndctl-plugin/lib/mounts.c
UNIT_LIBS  := -lz -llzma -lzstd
MAN_SRC := $(wildcard ndctl-plugin/Documentation/*.txt)
MAN     := $(patsubst ndctl-plugin/Documentation/%.txt,$(BUILD)/man/%.1,$(MAN_SRC))

.PHONY: soak demo-vm vmm-cpio pinned stock-kernel all deps kernel kernel-debug kernel-bench initramfs-bench initramfs initramfs-debug vm-test-debug unit man acpi check demo lint bench pkernfsctl fuzz vm-test vm-shell clean

all: kernel initramfs

deps:
	@scripts/deps.sh

kernel: deps
	@scripts/kernel.sh build

kernel-debug: deps
	@PKERNFS_CONFIG=$(DEBUG_CONFIG) scripts/kernel.sh build

kernel-bench: deps
	@PKERNFS_CONFIG=$(BENCH_CONFIG) scripts/kernel.sh build

# pkernfsctl: the ndctl-style tool; also carried into the guest for the VM tests.
PKERNFSCTL_SRC := ndctl-plugin/pkernfsctl.c ndctl-plugin/fsck.c ndctl-plugin/repair.c \
		  ndctl-plugin/kexec.c ndctl-plugin/kimage.c ndctl-plugin/lib/crc32c.c \
		  ndctl-plugin/lib/size.c ndctl-plugin/lib/mounts.c fs/pkernfs/format.c
PKERNFSCTL_HDR := $(wildcard ndctl-plugin/*.h ndctl-plugin/lib/*.h) fs/pkernfs/format.h
PKERNFSCTL_LIBS := -ldaxctl -lndctl -ljson-c -luuid $(UNIT_LIBS)
$(BUILD)/guest-bin/pkernfsctl: $(PKERNFSCTL_SRC) $(PKERNFSCTL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) -Indctl-plugin -Indctl-plugin/lib -Ifs/pkernfs -o $@ $(PKERNFSCTL_SRC) \
		$(PKERNFSCTL_LIBS)
# The same, sanitized, for the host CLI tests (tests/unit/test_cli.sh).
$(BUILD)/unit/pkernfsctl: $(PKERNFSCTL_SRC) $(PKERNFSCTL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) $(SAN) -Indctl-plugin -Indctl-plugin/lib -Ifs/pkernfs -o $@ \
		$(PKERNFSCTL_SRC) $(PKERNFSCTL_LIBS)

pkernfsctl: $(BUILD)/guest-bin/pkernfsctl $(MAN)

$(BUILD)/guest-bin/pkt-fsops: LDLIBS := -luring -lpthread
$(BUILD)/guest-bin/pkt-race: LDLIBS := -lpthread
$(BUILD)/guest-bin/pkt-bench: LDLIBS := -lpthread
# Built with the shared format code, so it damages exactly what it means to.
$(BUILD)/guest-bin/pkt-corrupt: tests/vm/tools/pkt-corrupt.c $(UNIT_LIB) $(PKERNFSCTL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) -Indctl-plugin -Indctl-plugin/lib -Ifs/pkernfs -o $@ $< $(UNIT_LIB) $(UNIT_LIBS)
$(BUILD)/guest-bin/pkt-mkfuzz: tests/vm/tools/pkt-mkfuzz.c $(UNIT_LIB) $(PKERNFSCTL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) -Indctl-plugin -Indctl-plugin/lib -Ifs/pkernfs -o $@ $< $(UNIT_LIB) $(UNIT_LIBS)
# The VMM test needs this kernel's uAPI (iommufd, VFIO cdev) and ours.
$(BUILD)/guest-bin/pkt-vmm: tests/vm/tools/pkt-vmm.c tests/vm/tools/pkt-pattern.h \
		patches/0005-iommu-core-dma-preserve.patch \
		patches/0004-iommufd-vfio-pkernfs-hooks.patch
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) -I$$(scripts/kernel.sh headers | tail -n 1) -o $@ $<

$(BUILD)/guest-bin/pkt-edu: tests/vm/tools/pkt-pattern.h
$(BUILD)/guest-bin/%: tests/vm/tools/%.c ndctl-plugin/lib/size.c ndctl-plugin/lib/size.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) -Indctl-plugin/lib -o $@ $< ndctl-plugin/lib/size.c $(LDLIBS)

# Always re-packed after a kernel build: the guest kexecs into the copy of
# bzImage it carries, so it must be the one just built.
initramfs: kernel $(GUEST_TOOLS)
	@scripts/mkinitramfs.sh $(BZIMAGE) $(BUILD)/guest-bin $(INITRD)

initramfs-debug: kernel-debug $(GUEST_TOOLS)
	@scripts/mkinitramfs.sh $(BZIMAGE_DEBUG) $(BUILD)/guest-bin $(INITRD_DEBUG)

# With perf, for profiles of a missed target (make bench-shell).
initramfs-bench: kernel-bench $(GUEST_TOOLS)
	@PKT_WITH_PERF=1 scripts/mkinitramfs.sh $(BZIMAGE_BENCH) $(BUILD)/guest-bin $(INITRD_BENCH)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h tests/unit/img.h $(UNIT_LIB) $(PKERNFSCTL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) $(SAN) -Itests/unit -Indctl-plugin -Indctl-plugin/lib -Ifs/pkernfs -o $@ $< \
		$(UNIT_LIB) $(UNIT_LIBS)

$(BUILD)/unit/test_cli: tests/unit/test_cli.sh $(BUILD)/unit/pkernfsctl
	install -m 755 $< $@

# Man pages, from ndctl-style asciidoc; a warning fails the build.
$(BUILD)/man/%.1: ndctl-plugin/Documentation/%.txt
	@mkdir -p $(dir $@)
	asciidoctor -b manpage -d manpage --failure-level WARN -o $@ $<
man: $(MAN)

unit: $(UNIT_TESTS) $(BUILD)/unit/test_cli $(MAN)

# The SSDT that describes a pkernfs region (acpi/), for QEMU -acpitable or
# an initrd table override (the .cpio); iasl must report no warning.
#   make acpi PKERNFS_SSDT_BASE=0x50000000 PKERNFS_SSDT_SIZE=0x10000000
PKERNFS_SSDT_BASE ?= 0x50000000
PKERNFS_SSDT_SIZE ?= 0x10000000
SSDT_DEFS := -D PKERNFS_BASE=$(PKERNFS_SSDT_BASE) -D PKERNFS_SIZE=$(PKERNFS_SSDT_SIZE) \
	     -D PKERNFS_END=$(shell printf '%#x' $$(($(PKERNFS_SSDT_BASE) + $(PKERNFS_SSDT_SIZE) - 1)))
$(BUILD)/acpi/params: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SSDT_DEFS)' | cmp -s - $@ || echo '$(SSDT_DEFS)' > $@
$(BUILD)/acpi/pkernfs-ssdt.aml: acpi/pkernfs-ssdt.asl $(BUILD)/acpi/params
	@scripts/iasl.sh $@ $< $(SSDT_DEFS)
$(BUILD)/acpi/pkernfs-bad.aml: tests/vm/acpi/pkernfs-bad.asl
	@scripts/iasl.sh $@ $<
$(BUILD)/acpi/pkernfs-ssdt.cpio: $(BUILD)/acpi/pkernfs-ssdt.aml
	@rm -rf $(BUILD)/acpi/root && mkdir -p $(BUILD)/acpi/root/kernel/firmware/acpi
	@cp $< $(BUILD)/acpi/root/kernel/firmware/acpi/
	@(cd $(BUILD)/acpi/root && find kernel | cpio -o -H newc --quiet) > $@
acpi: $(BUILD)/acpi/pkernfs-ssdt.aml $(BUILD)/acpi/pkernfs-ssdt.cpio $(BUILD)/acpi/pkernfs-bad.aml \
	$(BUILD)/dt/test-board.dtb

# The device-tree fragment, checked by dtc inside a minimal board; any
# dtc warning fails.
$(BUILD)/dt/test-board.dtb: dt/test-board.dts dt/pkernfs-region.dtsi
	@mkdir -p $(dir $@)
	@dtc -I dts -O dtb -o $@ $< 2> $@.log; if [ -s $@.log ]; then cat $@.log; rm -f $@; exit 1; fi
	@echo "[dt] $@: dt/pkernfs-region.dtsi compiles cleanly"
FORCE:

# libFuzzer over the image parser and the checker (clang's runtime from
# libclang-rt-14-dev). make check runs it for FUZZ_SECONDS; make fuzz longer.
FUZZ_SECONDS ?= 30
$(BUILD)/fuzz/fuzz_fsck: tests/fuzz/fuzz_fsck.c tests/unit/img.h $(UNIT_LIB) $(PKERNFSCTL_HDR)
	@mkdir -p $(dir $@)
	clang -g -O1 -Wno-c2x-extensions -fsanitize=fuzzer,address,undefined -Itests/unit -Indctl-plugin -Indctl-plugin/lib \
		-Ifs/pkernfs -o $@ $< $(UNIT_LIB) $(UNIT_LIBS)

fuzz: $(BUILD)/fuzz/fuzz_fsck
	@mkdir -p $(BUILD)/fuzz/corpus
	$< -max_total_time=$${FUZZ_SECONDS:-600} $(BUILD)/fuzz/corpus

# Debian's kernel, without pkernfs: the rollback target of iommu-rollback.
$(BUILD)/stock/stock-kernel.cpio: scripts/stock-kernel.sh FORCE
	@scripts/stock-kernel.sh $@
stock-kernel: deps $(BUILD)/stock/stock-kernel.cpio

# The vmm-* cases' guest: a multiboot payload for QEMU's -kernel, built
# freestanding 32-bit; and the cpio with QEMU that run.sh appends for them.
PAYLOAD := $(BUILD)/vmm/payload.elf
$(PAYLOAD): tests/vm/payload/vmm-payload.c tests/vm/payload/entry.S tests/vm/payload/payload.lds
	@mkdir -p $(dir $@)
	$(CC) -m32 -ffreestanding -fno-pic -fno-stack-protector -fno-builtin -nostdlib -O2 \
		-Wall -Wextra -Werror -c tests/vm/payload/vmm-payload.c -o $(BUILD)/vmm/payload.o
	$(CC) -m32 -Wa,--noexecstack -c tests/vm/payload/entry.S -o $(BUILD)/vmm/entry.o
	$(LD) -m elf_i386 --no-warn-rwx-segments -T tests/vm/payload/payload.lds -o $@ \
		$(BUILD)/vmm/entry.o $(BUILD)/vmm/payload.o
$(BUILD)/vmm/vmm.cpio: $(PAYLOAD) scripts/mkvmm-cpio.sh scripts/copy-libs.sh
	@scripts/mkvmm-cpio.sh $(PAYLOAD) $@
vmm-cpio: $(BUILD)/vmm/vmm.cpio

# Earlier releases' kernels for the compat-* cases (configs/pinned-kernels),
# each from its own tree and cache; ccache makes the second one cheap.
pinned: deps
	@scripts/pinned.sh build

check: deps unit pkernfsctl acpi stock-kernel $(BUILD)/fuzz/fuzz_fsck initramfs initramfs-debug pinned vmm-cpio
	@tests/check.sh

demo: initramfs
	@scripts/demo.sh

demo-vm: initramfs vmm-cpio
	@scripts/demo-vm.sh

lint: deps
	@scripts/lint.sh

# Figures, not pass/fail: see tests/vm/bench/. make check runs only
# bench-quick, to show the tooling works.
bench: initramfs-bench vmm-cpio
	@rm -rf $(BUILD)/bench && mkdir -p $(BUILD)/bench
	@for b in tests/vm/bench/*.sh; do \
		n=$$(basename $$b .sh); \
		grep -q '^# pkt-sm:.*bench' $$b && n="$$n $$n+sm"; \
		for c in $$n; do \
			PKT_LEG=bench PKT_INITRD=$(INITRD_BENCH) tests/vm/run.sh -v $$c || exit 1; \
			cat $(BUILD)/vm-bench/$$c/result.log >> $(BUILD)/bench/result.log; \
		done; \
	done
	@scripts/bench-report.py $(BUILD)/bench/result.log $(BUILD)/bench

# Not in make check (which runs 10 kexecs and 10 cuts): the long loops.
SOAK_KEXECS ?= 100
SOAK_CUTS ?= 100
soak: initramfs
	@PKT_INITRD=$(INITRD) scripts/soak.sh kexec $(SOAK_KEXECS) powercut $(SOAK_CUTS)

bench-shell: initramfs-bench
	@PKT_LEG=bench PKT_INITRD=$(INITRD_BENCH) tests/vm/run.sh --shell

vm-test: initramfs
	@PKT_INITRD=$(INITRD) tests/vm/run.sh -v $(CASE)

vm-test-debug: initramfs-debug
	@PKT_LEG=debug PKT_INITRD=$(INITRD_DEBUG) tests/vm/run.sh -v $(CASE)

vm-shell: initramfs
	@PKT_INITRD=$(INITRD) tests/vm/run.sh --shell

clean:
	rm -rf $(BUILD)
