# SPDX-License-Identifier: GPL-2.0-only
# Images whose every record passes its crc but which break the format's
# rules (pkt-corrupt writes them with the shared format code, crcs
# recomputed, so only the kernel's semantic checks can catch them): an
# extent longer than a bitmap block, a journaled superblock that resizes
# the device, a repeated name, a size past the largest file. Each mount is
# refused with a message and no oops, and leaves the image as it was. An
# empty journal head with a stale crc is no damage; an unknown ro_compat
# feature keeps the mount read-only, remount included; a format keeps off
# live kernel-area entries; the metadata attribute stops before them.
# pkt-nvdimm: 512M
# pkt-timeout: 300

M=/mnt/pk

# In the order run: huge-extent last, since on a kernel without the
# extent length check it corrupts the stack and ends the boot.
KINDS="rocompat journal-empty-torn kdir-live dup-name isize-big metadata journal-geometry huge-extent"

devsize() { cat /sys/bus/dax/devices/dax0.0/size; }

# meta_sum: checksum of everything before the data area, as damage() found
# it (a bad mount may rewrite the superblock), with the device unbound.
meta_sum() { pkt-mem sum /dev/dax0.0 0 "$META_LEN"; }

# fresh [OPTS]: a new image holding d/f and d/g, left unbound.
fresh() {
	pkt_bind dax0.0 || return 1
	mount -t pkernfs -o "format,force${1:+,$1}" dax0.0 $M || return 1
	mkdir $M/d && echo data > $M/d/f && echo more > $M/d/g && umount $M || return 1
	pkt_unbind dax0.0 && [ -c /dev/dax0.0 ] || return 1
	META_LEN=$(pkt-corrupt /dev/dax0.0 "$(devsize)" print-data-off)
}

# damage KIND [OPTS]: a fresh image with KIND done to it, left unbound;
# the sum of its metadata in DAMAGED_SUM.
damage() {
	fresh "${2:-}" || return 1
	if ! pkt-corrupt /dev/dax0.0 "$(devsize)" "$1" > /tmp/corrupt.out 2>&1; then
		pkt_info "pkt-corrupt $1: $(cat /tmp/corrupt.out)"
		return 1
	fi
	[ -s /tmp/corrupt.out ] && pkt_info "$1: $(cat /tmp/corrupt.out)"
	DAMAGED_SUM=$(meta_sum)
}

# fsck_is KIND WANT: pkernfsctl fsck of the unbound device exits WANT.
fsck_is() {
	local rc
	pkernfsctl fsck dax0.0 > /tmp/fsck.out 2>&1
	rc=$?
	pkt_eq "$1: pkernfsctl fsck exits $2 ($(grep -m1 'error\|note' /tmp/fsck.out))" "$rc" "$2"
}

# refused KIND MSG: a damaged image, bound, must not mount, and stay as it was.
refused() {
	pkt_expect_refusal "$1: mount" "$2" dax0.0 $M
	pkt_unbind dax0.0
	pkt_eq "$1: the refused mount left the image as it was" "$(meta_sum)" "$DAMAGED_SUM"
	fsck_is "$1" 4
}

check_rocompat() {
	local out rc
	damage rocompat || return 1
	pkt_bind dax0.0
	pkt_expect_refusal "rocompat: read-write mount names the bit and what to do" \
		"read-only-compatible feature bits 0x80000000 unknown to this kernel (format 1.2, knows 0x3): a newer kernel turned them on; mount with -o ro" \
		dax0.0 $M
	if pkt_must "rocompat: mount -o ro" mount -t pkernfs -o ro dax0.0 $M; then
		pkt_check "rocompat: files readable" grep -qx data $M/d/f
		# A write would use a feature this kernel does not know.
		pkt_kmsg_mark rocompat-remount
		if out=$(mount -o remount,rw $M 2>&1); then
			pkt_fail "rocompat: remount,rw of the read-only mount succeeded"
		elif pkt_kmsg_since rocompat-remount | grep -v 'PKT ' |
			grep -q 'feature bits 0x80000000 unknown to this kernel (knows 0x3): read-only until'; then
			pkt_ok "rocompat: remount,rw refused ($(echo "$out" | sed 's/.*failed: //')), naming the bit"
		else
			pkt_fail "rocompat: remount,rw refused, but the log does not name the bit: $(pkt_kmsg_since rocompat-remount | grep -v 'PKT ' | tail -n 2)"
		fi
		pkt_refuse "rocompat: the mount still takes no write" touch $M/new
		umount $M
	fi
	pkt_unbind dax0.0
	pkt_eq "rocompat: the read-only mount left the image as it was" "$(meta_sum)" "$DAMAGED_SUM"
	pkernfsctl fsck dax0.0 > /tmp/fsck.out 2>&1
	pkt_info "rocompat: pkernfsctl fsck exits $? ($(grep -m1 'error\|note' /tmp/fsck.out))"

	# Control: a good image mounted read-only may go read-write.
	fresh || return 1
	pkt_bind dax0.0
	if pkt_must "good image: mount -o ro" mount -t pkernfs -o ro dax0.0 $M; then
		pkt_refuse "good image: no write while read-only" touch $M/new
		pkt_check "good image: remount,rw" mount -o remount,rw $M
		pkt_check "good image: writes after remount,rw" sh -c "echo new > $M/new"
		out=$(mount -o remount,format $M 2>&1)
		rc=$?
		pkt_info "good image: mount -o remount,format exits $rc ($out)"
		pkt_check "  ... and formats nothing" grep -qx data $M/d/f
		pkt_check "umount" umount $M
		if pkt_must "mount again after remount,format" mount -t pkernfs dax0.0 $M; then
			pkt_check "  ... every file there" sh -c "grep -qx data $M/d/f && grep -qx new $M/new"
			umount $M
		fi
	fi
	pkt_unbind dax0.0
	return 0
}

check_journal_empty_torn() {
	damage journal-empty-torn || return 1
	# Emptying was cut before the crc: nothing to apply, no damage.
	fsck_is journal-empty-torn 0
	pkt_bind dax0.0
	pkt_kmsg_mark empty-torn
	if pkt_must "journal-empty-torn: mount succeeds" mount -t pkernfs dax0.0 $M; then
		pkt_check "journal-empty-torn: files intact" \
			sh -c "grep -qx data $M/d/f && grep -qx more $M/d/g"
		pkt_check "journal-empty-torn: takes a new file" sh -c "echo n > $M/n"
		umount $M
		pkt_must "journal-empty-torn: mounts again" mount -t pkernfs dax0.0 $M && umount $M
	else
		pkt_info "journal-empty-torn: log: $(pkt_kmsg_since empty-torn | grep -v 'PKT ' | tail -n 2 | tr '\n' ' ')"
	fi
	pkt_unbind dax0.0
	return 0
}

check_kdir_live() {
	local sum
	damage kdir-live || return 1
	pkt_bind dax0.0
	# Kernel entries are not files: the image is a good one.
	if pkt_must "kdir-live: the image mounts" mount -t pkernfs dax0.0 $M; then
		pkt_check "kdir-live: files intact" grep -qx data $M/d/f
		umount $M
	fi
	pkt_unbind dax0.0
	fsck_is kdir-live 0
	sum=$(meta_sum)
	pkt_bind dax0.0
	pkt_expect_refusal "kdir-live: format,force over a live kernel-area entry" \
		"kernel.*live\|live.*kernel" -o format,force dax0.0 $M
	pkt_unbind dax0.0
	pkt_eq "kdir-live: the entry and the image survived" "$(meta_sum)" "$sum"
	# Later kinds format again.
	pkt-corrupt /dev/dax0.0 "$(devsize)" kdir-clear
	return 0
}

check_dup_name() {
	damage dup-name || return 1
	pkt_bind dax0.0
	refused dup-name 'dirent .*name\|duplicate'
	return 0
}

check_isize_big() {
	damage isize-big || return 1
	pkt_bind dax0.0
	refused isize-big 'inode .*size'
	return 0
}

# The kernel-only area holds IOMMU tables: no userspace path reads it.
check_metadata() {
	local koff n
	fresh || return 1
	koff=$(pkt-corrupt /dev/dax0.0 "$(devsize)" print-kernel-off) || return 1
	pkt_bind dax0.0
	n=$(wc -c < /sys/bus/dax/devices/dax0.0/pkernfs_metadata)
	if [ "$n" -le "$koff" ]; then
		pkt_ok "pkernfs_metadata stops before the kernel area ($n <= $koff bytes)"
	else
		pkt_fail "pkernfs_metadata returns $n bytes, past the kernel area at $koff"
	fi
	pkt_unbind dax0.0
	return 0
}

check_journal_geometry() {
	damage journal-geometry || return 1
	pkt_bind dax0.0
	refused journal-geometry 'journal.*geometry\|geometry.*journal\|journal: .*malformed'
	return 0
}

check_huge_extent() {
	# Over 32704 AUs (one bitmap block) needs 4 KiB AUs, so a 4K namespace.
	pkt_must "devdax namespace, 4K aligned" \
		ndctl create-namespace -f -e namespace0.0 -m devdax -a 4K || return 1
	damage huge-extent au=4K || return 1
	pkt_bind dax0.0
	refused huge-extent 'extent .*longer\|extent .*bitmap'
	return 0
}

stage_1() {
	local k
	mkdir -p $M
	pkt_check "devdax namespace" pkt_ns_devdax
	for k in $KINDS; do
		"check_$(echo $k | tr - _)" || pkt_fail "could not prepare the $k image"
	done
}
