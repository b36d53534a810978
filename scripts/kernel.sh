#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prepare and build the pkernfs test kernel from Debian's linux-source-6.12.
#
#   scripts/kernel.sh tree     extract, lay the repo's files on, apply hooks
#   scripts/kernel.sh config   tree + configure from configs/$PKERNFS_CONFIG.config
#   scripts/kernel.sh build    config + bzImage (incremental)
#   scripts/kernel.sh path     print KSRC and KOUT
#
# Layout of the cache (outside the repo; $PKERNFS_CACHE, default
# ~/.cache/pkernfs):
#   linux-<ver>/                 the extracted source, project files symlinked in
#   build-<ver>-<config>/        O= output; kept across runs so rebuilds are
#                                incremental. A changed config fragment is
#                                re-applied in place, so kbuild recompiles only
#                                what the changed options touch.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PKERNFS_CACHE:-$HOME/.cache/pkernfs}
TARBALL=${PKERNFS_KTAR:-/usr/src/linux-source-6.12.tar.xz}
CONFNAME=${PKERNFS_CONFIG:-qemu-x86_64}
FRAG=$REPO/configs/$CONFNAME.config
JOBS=${JOBS:-$(nproc)}

log() { printf '[kernel] %s\n' "$*" >&2; }
die() { printf '[kernel] error: %s\n' "$*" >&2; exit 1; }

[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps' (package linux-source-6.12)"
[ -f "$FRAG" ] || die "no config fragment $FRAG"
# A fragment may build on another: "# pkt-base: NAME" applies NAME first.
BASE=$(sed -n 's/^# pkt-base: *//p' "$FRAG" | head -n 1)
FRAGS=("$FRAG")
if [ -n "$BASE" ]; then
	[ -f "$REPO/configs/$BASE.config" ] || die "$FRAG names a missing base $BASE"
	FRAGS=("$REPO/configs/$BASE.config" "$FRAG")
fi

# The package version names the source; it changes when Debian ships a new
# stable update, and then a new tree and build directory are made.
KVER=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
KVER=${KVER:-$(stat -c %Y "$TARBALL")}
KVER=${KVER//[^A-Za-z0-9.+-]/_}
KSRC=$CACHE/linux-$KVER
KOUT=$CACHE/build-$KVER-$CONFNAME

extract() {
	[ -f "$KSRC/.pkernfs-extracted" ] && return 0
	log "extracting $TARBALL into $KSRC (once per source version)"
	mkdir -p "$CACHE"
	rm -rf "$KSRC" "$KSRC.tmp"
	mkdir -p "$KSRC.tmp"
	tar -xJf "$TARBALL" -C "$KSRC.tmp" --strip-components=1
	touch "$KSRC.tmp/.pkernfs-extracted"
	mv "$KSRC.tmp" "$KSRC"
}

# Symlinks, not copies: an edit in the repo is what kbuild sees, and only
# the touched objects rebuild. Re-laid every run because the repo may have
# moved (CI uses a fresh clone).
lay() {
	local d f
	for d in fs/pkernfs drivers/dax/pkernfs; do
		if [ -d "$REPO/$d" ]; then
			ln -sfn "$REPO/$d" "$KSRC/$d"
		else
			rm -f "$KSRC/$d"
		fi
	done
	# New files beside upstream ones; the hook patches wire them in. A
	# link to a file the repo no longer has goes. drivers/iommu/intel/pkernfs
	# is a real directory of links: its "../iommu.h" must mean the tree's.
	[ -L "$KSRC/drivers/iommu/intel/pkernfs" ] && rm -f "$KSRC/drivers/iommu/intel/pkernfs"
	mkdir -p "$KSRC/drivers/iommu/intel/pkernfs"
	for d in drivers/iommu drivers/iommu/intel drivers/iommu/intel/pkernfs drivers/iommu/iommufd \
		 include/linux include/uapi/linux; do
		find "$KSRC/$d" -maxdepth 1 -xtype l -delete
		for f in "$REPO/$d"/*; do
			[ -f "$f" ] && ln -sfn "$f" "$KSRC/$d/$(basename "$f")"
		done
	done
	ln -sfn "$REPO/Kconfig" "$KSRC/Kconfig.pkernfs"
}

# Hook patches are applied once; when the set changes the previous set is
# reversed first, from the copy kept in the tree.
patch_tree() {
	local want have p state=$KSRC/.pkernfs-patches
	want=$( (cat "$REPO"/patches/*.patch 2>/dev/null || true) | sha256sum | cut -d' ' -f1)
	have=$(cat "$state/sum" 2>/dev/null || true)
	[ "$want" = "$have" ] && return 0
	if [ -d "$state" ]; then
		for p in $(ls -r "$state"/*.patch 2>/dev/null); do
			log "reverting hook $(basename "$p")"
			patch -s -R -p1 -d "$KSRC" < "$p" || die "cannot revert $p"
		done
	fi
	rm -rf "$state"
	mkdir -p "$state"
	for p in "$REPO"/patches/*.patch; do
		[ -f "$p" ] || continue
		log "applying hook $(basename "$p")"
		patch -s -p1 -N -d "$KSRC" < "$p" || die "cannot apply $p"
		cp "$p" "$state/"
	done
	echo "$want" > "$state/sum"
}

# Every option the fragments name must come out as asked (the last
# fragment's word wins): Kconfig silently drops an option whose
# dependencies are missing.
verify_config() {
	local k v bad=0
	declare -A want=()
	while IFS='=' read -r k v; do
		want[$k]=$v
	done < <(grep -hE '^CONFIG_' "${FRAGS[@]}")
	for k in "${!want[@]}"; do
		v=${want[$k]}
		case "$k" in CONFIG_*) ;; *) continue ;; esac
		if [ "$v" = n ]; then
			if grep -q "^$k=" "$KOUT/.config"; then
				log "config: $k should be off but is $(grep "^$k=" "$KOUT/.config")"
				bad=1
			fi
		elif ! grep -qx "$k=$v" "$KOUT/.config"; then
			log "config: $k=$v asked, got '$(grep "^$k=" "$KOUT/.config" || echo unset)'"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "config fragments ${FRAGS[*]} did not stick"
}

configure() {
	local sum
	mkdir -p "$KOUT"
	sum=$( (cat "${FRAGS[@]}" "$REPO"/Kconfig "$REPO"/fs/pkernfs/Kconfig \
		"$REPO"/drivers/dax/pkernfs/Kconfig "$REPO"/drivers/iommu/intel/Kconfig.pkernfs 2>/dev/null || true) |
		sha256sum | cut -d' ' -f1)
	if [ ! -f "$KOUT/.config" ] || [ "$(cat "$KOUT/.pkernfs-config" 2>/dev/null)" != "$sum" ]; then
		log "configuring $KOUT from x86_64_defconfig + ${FRAGS[*]##*/}"
		make -s -C "$KSRC" O="$KOUT" x86_64_defconfig >/dev/null
		"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KOUT" "$KOUT/.config" "${FRAGS[@]}" >/dev/null
		make -s -C "$KSRC" O="$KOUT" olddefconfig >/dev/null
		verify_config
		echo "$sum" > "$KOUT/.pkernfs-config"
	fi
}

# The tree's project files are symlinks into whichever checkout built
# last; another checkout's older sources would look up to date against
# objects built from a newer one, so a change of checkout rebuilds ours.
forget_other_checkout() {
	if [ "$(cat "$KOUT/.pkernfs-repo" 2>/dev/null)" != "$REPO" ]; then
		rm -rf "$KOUT/fs/pkernfs" "$KOUT/drivers/dax/pkernfs" "$KOUT/drivers/iommu/intel/pkernfs"
		find "$KOUT/drivers/iommu/intel" "$KOUT/drivers/iommu/iommufd" -name '*.o' \
			-newer "$KOUT/.config" -delete 2>/dev/null || true
		echo "$REPO" > "$KOUT/.pkernfs-repo"
	fi
}

build() {
	local t0=$SECONDS
	forget_other_checkout
	log "building bzImage in $KOUT with -j$JOBS (first build ~20 min, then incremental)"
	# ccache (by content, in preprocessor mode) turns a config change that
	# touches a widely included header into mostly hits; kbuild still
	# decides what to rebuild, so its command lines stay "gcc".
	if [ -d /usr/lib/ccache ]; then
		PATH=/usr/lib/ccache:$PATH CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$CACHE \
			make -s -C "$KSRC" O="$KOUT" -j"$JOBS" bzImage
	else
		make -s -C "$KSRC" O="$KOUT" -j"$JOBS" bzImage
	fi
	[ -f "$KOUT/arch/x86/boot/bzImage" ] || die "no bzImage"
	log "kernel ready: $KOUT/arch/x86/boot/bzImage ($((SECONDS - t0)) s)"
}

case "${1:-build}" in
tree) extract; lay; patch_tree ;;
config) extract; lay; patch_tree; configure ;;
build) extract; lay; patch_tree; configure; build ;;
path) echo "KSRC=$KSRC"; echo "KOUT=$KOUT" ;;
headers)
	# The uAPI headers of this tree, ours included, for guest tools.
	extract; lay; patch_tree; configure
	make -s -C "$KSRC" O="$KOUT" headers
	echo "$KOUT/usr/include" ;;
*) die "usage: $0 tree|config|build|path|headers" ;;
esac
