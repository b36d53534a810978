#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The story of pkernfs in one run: boot a QEMU guest, make a devdax
# namespace with ndctl, write into it, kexec into a new kernel in the same
# QEMU process, and show that the data survived. 'make demo' has built the
# kernel and initramfs before this runs.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

echo "== booting QEMU (q35, VT-d, 1 GiB nvdimm; TCG, so each boot takes a while)"
echo "   guest progress, as the guest reports it:"
PKT_INITRD=${PKT_INITRD:-$REPO/build/initramfs.cpio} "$REPO/tests/vm/run.sh" -v demo
rc=$?
log=${PKT_LOGDIR:-$REPO/build/vm}/demo
echo "== kernel banners in one QEMU process (one per boot):"
grep -a 'Linux version' "$log/console.log" | sed 's/^/   /' | cut -c1-100
[ $rc = 0 ] && echo "== demo: pkernfs files survived kexec" || echo "== demo FAILED: see $log/"
exit $rc
