#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A cpio the test guest unpacks after its initramfs for the vmm-* cases and
# make demo-vm: Debian's QEMU (the VMM nobody here wrote), its libraries
# and TCG accelerator module, the firmware a multiboot -kernel needs, and
# the payload guest (tests/vm/payload/). Kept out of the main initramfs:
# 50 MB that every other kexec would copy.
#
#   scripts/mkvmm-cpio.sh PAYLOAD.elf OUT.cpio
set -euo pipefail

PAYLOAD=$1
OUT=$2
ROOT=$OUT.root
QEMU=/usr/bin/qemu-system-x86_64
ACCEL=/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so

die() { printf '[vmm-cpio] error: %s\n' "$*" >&2; exit 1; }
[ -x "$QEMU" ] || die "$QEMU missing: run 'make deps' (qemu-system-x86)"
[ -f "$ACCEL" ] || die "$ACCEL missing (qemu-system-x86 without its TCG module?)"
[ -f "$PAYLOAD" ] || die "no payload $PAYLOAD"

rm -rf "$ROOT"
mkdir -p "$ROOT/usr/bin" "$ROOT/usr/share/qemu" "$ROOT/opt/vmm" "$ROOT$(dirname "$ACCEL")"
. "$(dirname "$0")/copy-libs.sh"
copy_with_libs "$QEMU" "$QEMU"
copy_with_libs "$ACCEL" "$ACCEL"
# SeaBIOS, and the option ROMs that load a multiboot -kernel.
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/multiboot_dma.bin \
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin; do
	[ -f "$f" ] || die "$f missing (seabios, qemu-system-data)"
	cp -L "$f" "$ROOT/usr/share/qemu/"
done
cp "$PAYLOAD" "$ROOT/opt/vmm/payload.elf"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -rf "$ROOT"
echo "[vmm-cpio] $OUT ($(($(stat -c %s "$OUT") >> 20)) MiB)"
