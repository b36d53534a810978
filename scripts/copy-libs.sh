# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the initramfs and cpio builders.
#
# copy_with_libs FILE DEST: FILE at $ROOT/DEST, with every shared library
# ldd names for it at its own path under $ROOT.
copy_with_libs() {
	local lib
	mkdir -p "$ROOT$(dirname "$2")"
	cp -L "$1" "$ROOT$2"
	for lib in $(ldd "$1" 2> /dev/null | grep -o '/[^ ]*'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}
