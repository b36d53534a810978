#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A real VMM on pkernfs in one run: inside the test VM, Debian's QEMU runs a
# small guest whose RAM is a pkernfs file; the host kexecs and a new QEMU
# resumes the guest where it stopped. 'make demo-vm' has built the kernel,
# the initramfs and the QEMU cpio before this runs.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

echo "== booting the host VM (QEMU, TCG); inside it, QEMU again runs the guest"
echo "   progress, as the host VM reports it:"
PKT_INITRD=${PKT_INITRD:-$REPO/build/initramfs.cpio} "$REPO/tests/vm/run.sh" -v demo-vm
rc=$?
log=${PKT_LOGDIR:-$REPO/build/vm}/demo-vm
echo "== host kernel banners in the one outer QEMU process (one per boot):"
grep -a 'Linux version' "$log/console.log" | sed 's/^/   /' | cut -c1-100
[ $rc = 0 ] && echo "== demo-vm: the guest kept running across its host's kexec" ||
	echo "== demo-vm FAILED: see $log/"
exit $rc
