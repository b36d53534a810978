#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A kernel without pkernfs, for the rollback cases: Debian's own
# linux-image (the distribution's current 6.1, which an upgraded fleet
# rolls back to), fetched with apt-get download and cached in
# $PKERNFS_CACHE/stock. Out: a cpio holding boot/stock-vmlinuz, put before
# the guest's initramfs (run.sh's pkt-initrd-prepend), so the guest can
# kexec into it. Building a third kernel from source would cost 12-20
# minutes on a cold cache; this costs one 70 MB download, once.
#
#   scripts/stock-kernel.sh OUT.cpio
set -euo pipefail

out=$1
cache=${PKERNFS_CACHE:-$HOME/.cache/pkernfs}/stock
mkdir -p "$cache" "$(dirname "$out")"
root=$(mktemp -d)
mkdir -p "$root/boot"

# No kernel to be had: the cpio says why, and the cases that need it SKIP.
missing() {
	echo "[stock] SKIP: $*: the rollback cases will say SKIP" >&2
	echo "$*" > "$root/boot/stock-vmlinuz.missing"
	(cd "$root" && find boot | cpio -o -H newc --quiet) > "$out"
	rm -rf "$root"
	exit 0
}

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/.*Depends: \(linux-image-[0-9][^ ]*\)/\1/p' | head -n 1 || true)
[ -n "$pkg" ] || missing "apt-cache knows no linux-image-amd64 (run apt-get update)"
img=$cache/$pkg.vmlinuz
if [ ! -s "$img" ]; then
	echo "[stock] fetching $pkg (Debian's kernel, for the rollback cases)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq "$pkg" 2> /dev/null) ||
		missing "apt-get download $pkg failed"
	dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' ||
		missing "$pkg holds no /boot/vmlinuz"
	cp "$tmp"/boot/vmlinuz-* "$img.tmp" && mv "$img.tmp" "$img"
fi
cp "$img" "$root/boot/stock-vmlinuz"
echo "$pkg" > "$root/boot/stock-vmlinuz.name"
(cd "$root" && find boot | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$root"
echo "[stock] $out: $pkg"
