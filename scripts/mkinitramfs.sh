#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the test guest's initramfs: busybox, ndctl, daxctl, kexec, jq, the
# project's guest helpers and test cases, and the kernel itself (the guest
# kexecs into /boot/bzImage). Shared libraries come from ldd.
#
#   scripts/mkinitramfs.sh BZIMAGE GUEST_BIN_DIR OUT.cpio
#
# The archive is left uncompressed: under TCG the kernel unpacks it faster
# than it would inflate a gzip, and the guest re-packs it for kexec as is.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BZIMAGE=$1
GUESTBIN=$2
OUT=$3
ROOT=$OUT.root

die() { printf '[initramfs] error: %s\n' "$*" >&2; exit 1; }
[ -f "$BZIMAGE" ] || die "no kernel image $BZIMAGE"
[ -x /bin/busybox ] || die "busybox-static missing: run 'make deps'"

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,mnt,boot,pkt/bin,pkt/cases}

# busybox must be the static build: the guest has no loader for it otherwise.
case "$(ldd /bin/busybox 2>&1)" in
*"not a dynamic"*) ;;
*) die "/bin/busybox is not static (install busybox-static)" ;;
esac
cp /bin/busybox "$ROOT/bin/busybox"
for app in $(/bin/busybox --list-full); do
	[ -e "$ROOT/$app" ] || ln -s /bin/busybox "$ROOT/$app"
done

. "$REPO/scripts/copy-libs.sh"

for b in ndctl daxctl kexec jq; do
	p=$(command -v "$b" || true)
	[ -n "$p" ] || die "$b missing: run 'make deps'"
	# Our copies win over the busybox applets of the same name.
	rm -f "$ROOT/usr/bin/$b" "$ROOT/sbin/$b" "$ROOT/bin/$b"
	copy_with_libs "$p" "/usr/bin/$b"
done
# Optional: ext4 for the fs-dax comparisons; tests SKIP without it.
for b in mkfs.ext4; do
	p=$(command -v "$b" || ls /sbin/$b /usr/sbin/$b 2>/dev/null | head -n 1 || true)
	[ -n "$p" ] && copy_with_libs "$p" "/usr/sbin/$b"
done
# perf for the bench leg's profiles (PKT_WITH_PERF=1); 30 MB the tests skip.
if [ "${PKT_WITH_PERF:-0}" = 1 ]; then
	if [ -x /usr/bin/perf ]; then
		copy_with_libs /usr/bin/perf /usr/bin/perf
	else
		echo "[initramfs] perf missing (linux-perf): the guest gets no profiler" >&2
	fi
fi
for b in "$GUESTBIN"/*; do
	[ -x "$b" ] && copy_with_libs "$b" "/pkt/bin/$(basename "$b")"
done

cp "$BZIMAGE" "$ROOT/boot/bzImage"

# Test modules, built against this very kernel (the legs differ in struct
# layouts: a module of one must never load into the other). Sources are
# copied out of the repo, since this kernel's kbuild writes next to them.
KOUT=$(cd "$(dirname "$BZIMAGE")/../../.." && pwd)
KSRC=$(readlink -f "$KOUT/source")
if [ -d "$REPO/tests/kmod" ]; then
	[ -f "$KOUT/vmlinux.symvers" ] || die "no $KOUT/vmlinux.symvers: build the kernel first"
	rm -rf "$KOUT/pkt-kmod"
	cp -r "$REPO/tests/kmod" "$KOUT/pkt-kmod"
	{ make -s -C "$KSRC" O="$KOUT" modules_prepare &&
	  make -s -C "$KSRC" O="$KOUT" M="$KOUT/pkt-kmod" \
		KBUILD_EXTRA_SYMBOLS="$KOUT/vmlinux.symvers" modules; } > "$KOUT/pkt-kmod/build.log" 2>&1 ||
		{ cat "$KOUT/pkt-kmod/build.log" >&2; die "test modules did not build"; }
	mkdir -p "$ROOT/pkt/kmod"
	cp "$KOUT"/pkt-kmod/*.ko "$ROOT/pkt/kmod/"
fi
cp "$REPO/tests/vm/init" "$ROOT/init"
chmod +x "$ROOT/init"
cp "$REPO/tests/vm/lib.sh" "$REPO/tests/vm/firmware-lib.sh" "$ROOT/pkt/"
cp "$REPO"/tests/vm/cases/*.sh "$REPO"/tests/vm/bench/*.sh "$REPO"/tests/vm/soak/*.sh "$ROOT/pkt/cases/"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$ROOT/etc/group"

(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -rf "$ROOT"
echo "[initramfs] $OUT ($(($(stat -c %s "$OUT") / 1048576)) MiB)"
