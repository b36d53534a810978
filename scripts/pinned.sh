#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Kernels of earlier releases (configs/pinned-kernels) for the compat-*
# VM cases.
#
#   scripts/pinned.sh build [LABEL...]   build (all by default), then verify
#   scripts/pinned.sh verify [LABEL...]  check a built one, build nothing
#   scripts/pinned.sh image LABEL        print the path of its bzImage
#   scripts/pinned.sh labels             the labels, oldest first
#
# Each commit is built by its own scripts/kernel.sh, from a `git archive`
# of that commit, with a cache directory of its own: its own extracted
# source, its own hook patches, its own O= directory. No build sees
# another commit's objects (kernel.sh symlinks the project files into the
# tree, and a shared tree once linked a newer format.o into an older
# kernel). ccache, keyed by content, is what makes the second and later
# commits cheap, never mtimes.
#
# Cache: $PKERNFS_CACHE/pinned/<commit>/{repo,cache}, $PKERNFS_CACHE/ccache.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PKERNFS_CACHE:-$HOME/.cache/pkernfs}
LIST=${PKT_PINNED_LIST:-$REPO/configs/pinned-kernels}
CONFNAME=qemu-x86_64

log() { printf '[pinned] %s\n' "$*" >&2; }
die() { printf '[pinned] error: %s\n' "$*" >&2; exit 1; }

entries() { grep -vE '^[[:space:]]*(#|$)' "$LIST"; }
labels() { entries | awk '{ print $1 }'; }

# lookup LABEL: sets COMMIT FORMAT HANDOVER DIR
lookup() {
	local l
	l=$(entries | awk -v l="$1" '$1 == l') || true
	[ -n "$l" ] || die "no pinned kernel '$1' in $LIST (have: $(labels | tr '\n' ' '))"
	read -r _ COMMIT FORMAT HANDOVER <<< "$l"
	DIR=$CACHE/pinned/$COMMIT
}

# The old kernel.sh prints its O= directory; its source directory is next
# to it. Both live under $DIR/cache, which only this commit uses.
kout() { PKERNFS_CACHE=$DIR/cache PKERNFS_CONFIG=$CONFNAME "$DIR/repo/scripts/kernel.sh" path |
	sed -n 's/^KOUT=//p'; }
ksrc() { PKERNFS_CACHE=$DIR/cache PKERNFS_CONFIG=$CONFNAME "$DIR/repo/scripts/kernel.sh" path |
	sed -n 's/^KSRC=//p'; }

checkout() {
	[ -f "$DIR/repo/.pkernfs-archive" ] && return 0
	if ! git -C "$REPO" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
		# The compat-* cases then SKIP, saying so; the rest of make check runs.
		log "SKIP $LABEL: commit $COMMIT is not in this clone (a shallow clone? fetch its history)"
		return 1
	fi
	rm -rf "$DIR/repo" "$DIR/repo.tmp"
	mkdir -p "$DIR/repo.tmp"
	git -C "$REPO" archive "$COMMIT" | tar -x -C "$DIR/repo.tmp"
	echo "$COMMIT" > "$DIR/repo.tmp/.pkernfs-archive"
	mv "$DIR/repo.tmp" "$DIR/repo"
}

build_one() {
	local t0=$SECONDS
	lookup "$1"
	LABEL=$1
	checkout || return 0
	log "$1: building commit ${COMMIT:0:12} with its own scripts/kernel.sh in $DIR"
	# Same relative layout under every commit's directory, so the base dir
	# and no hashed cwd let ccache share what the commits have in common.
	PATH=/usr/lib/ccache:$PATH CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$CACHE/pinned \
		CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=8G PKERNFS_CACHE=$DIR/cache \
		PKERNFS_CONFIG=$CONFNAME "$DIR/repo/scripts/kernel.sh" build
	verify_one "$1"
	log "$1: ready in $((SECONDS - t0)) s"
}

# note IMAGE TAG: the value list of the first string starting with TAG
note() { grep -aom1 "$2 [a-z=0-9x ]*" "$1" || true; }

verify_one() {
	local ko ks want have p sum
	lookup "$1"
	ko=$(kout)
	ks=$(ksrc)
	[ -f "$ko/vmlinux" ] || die "$1: not built (scripts/pinned.sh build $1)"
	# What the image carries is what the commit's headers say.
	want="major=${FORMAT%.*} minor=${FORMAT#*.}"
	have=$(note "$ko/vmlinux" PKERNFS_FORMAT_NOTE)
	case "$have" in
	"PKERNFS_FORMAT_NOTE $want "*) ;;
	*) die "$1: the image says '$have', the list wants format $FORMAT" ;;
	esac
	have=$(git -C "$REPO" show "$COMMIT:fs/pkernfs/format.h" |
		awk '/define PKERNFS_MAJOR\t/ { M = $3 } /define PKERNFS_MINOR\t/ { m = $3 }
		     END { print M "." m }')
	[ "$have" = "$FORMAT" ] || die "$1: commit ${COMMIT:0:12} is format $have, the list says $FORMAT"
	have=$( (git -C "$REPO" show "$COMMIT:drivers/iommu/intel/pkernfs_iommu.h" 2> /dev/null ||
		true) | awk '/define PKVTD_VERSION\t/ { print $3 }')
	[ "${have:--}" = "$HANDOVER" ] ||
		die "$1: commit ${COMMIT:0:12} hands over version '$have', the list says $HANDOVER"
	# The tree carries exactly this commit's hook patches, all applied.
	sum=$( (cat "$DIR"/repo/patches/*.patch 2>/dev/null || true) | sha256sum | cut -d' ' -f1)
	[ "$(cat "$ks/.pkernfs-patches/sum" 2>/dev/null)" = "$sum" ] ||
		die "$1: the tree in $ks does not record this commit's hook patches"
	for p in "$DIR"/repo/patches/*.patch; do
		patch -s -R -p1 --dry-run -d "$ks" < "$p" > /dev/null ||
			die "$1: $(basename "$p") is not applied in $ks"
	done
	# Its project files are this commit's, nobody else's.
	for p in fs/pkernfs drivers/dax/pkernfs; do
		[ "$(readlink "$ks/$p")" = "$DIR/repo/$p" ] ||
			die "$1: $ks/$p points at '$(readlink "$ks/$p")', not this commit"
	done
	[ "$ko/arch/x86/boot/bzImage" -nt "$ko/vmlinux" ] ||
		[ ! "$ko/vmlinux" -nt "$ko/arch/x86/boot/bzImage" ] ||
		die "$1: bzImage older than vmlinux"
	log "$1: commit ${COMMIT:0:12}, format $FORMAT, handover $HANDOVER, hooks $(ls "$DIR"/repo/patches/*.patch | wc -l) applied: verified"
}

cmd=${1:-build}
shift || true
[ $# -gt 0 ] || set -- $(labels)
case "$cmd" in
build) for l in "$@"; do build_one "$l"; done ;;
verify) for l in "$@"; do verify_one "$l"; done ;;
image)
	lookup "$1"
	[ -x "$DIR/repo/scripts/kernel.sh" ] || die "$1: not built (scripts/pinned.sh build $1)"
	echo "$(kout)/arch/x86/boot/bzImage" ;;
labels) labels ;;
*) die "usage: $0 build|verify|image|labels [LABEL...]" ;;
esac
