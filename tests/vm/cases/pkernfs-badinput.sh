# SPDX-License-Identifier: GPL-2.0-only
# Bad input is refused with an errno and a kernel message naming the
# problem, never an oops: damaged or foreign images, newer versions,
# unknown features, bad options, a device too small, a busy or unbound
# device, and ENOSPC with nothing lost.
# pkt-nvdimm: 512M
# pkt-timeout: 300

M=/mnt/pk

# damage WHAT: a fresh image with a few files, then WHAT done to it.
damage() {
	pkt_bind dax0.0 || return 1
	mount -t pkernfs -o format,force dax0.0 $M || return 1
	mkdir $M/d && echo data > $M/d/f && umount $M || return 1
	pkt_unbind dax0.0 && [ -c /dev/dax0.0 ] || return 1
	pkt-corrupt /dev/dax0.0 "$(cat /sys/bus/dax/devices/dax0.0/size)" "$1" || return 1
	DAMAGED_SUM=$(pkt-mem sum /dev/dax0.0 0 8M)
	pkt_bind dax0.0
}

# repair_and_mount WHAT: fsck --repair on the refused image. What it can
# fix must then mount; what it cannot must be left byte for byte.
repair_and_mount() {
	local what=$1 rc
	pkernfsctl fsck --repair dax0.0 > /tmp/repair.out 2>&1
	rc=$?
	case $what in
	root-inode|dirent|extent|bitmap)
		pkt_eq "fsck --repair on the $what image exits 1 ($(grep -m1 fixed /tmp/repair.out))" "$rc" 1
		pkernfsctl fsck --repair dax0.0 > /dev/null 2>&1
		pkt_eq "a second --repair of the $what image finds nothing (0)" "$?" 0
		pkt_bind dax0.0
		if pkt_check "the repaired $what image mounts" mount -t pkernfs dax0.0 $M; then
			# dirent 0 named /d: d, with f and its data, is now in /lost+found.
			[ $what = dirent ] && pkt_check "  ... with the nameless directory in /lost+found" \
				grep -q data $M/lost+found/#2/f
			pkt_check "  ... and takes a new file" sh -c "echo n > $M/new && umount $M"
		fi
		pkt_unbind dax0.0
		;;
	*)
		case $what in magic|foreign) want=8 ;; *) want=4 ;; esac
		pkt_eq "fsck --repair cannot fix the $what image: exits $want" "$rc" "$want"
		pkt_eq "  ... and leaves it as it was" "$(pkt-mem sum /dev/dax0.0 0 8M)" "$DAMAGED_SUM"
		;;
	esac
}

stage_1() {
	mkdir -p $M
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_expect_refusal "device not bound to dax_pkernfs" "no such dax device bound" dax0.0 $M
	pkt_check "bind" pkt_bind dax0.0
	pkt_expect_refusal "foreign (never formatted) namespace" "no pkernfs format found" dax0.0 $M
	pkt_expect_refusal "unknown option" "Unknown parameter" -o bogus=1 dax0.0 $M
	pkt_expect_refusal "au= that is not a power of two" "allocation unit must be a power of two" -o format,au=3M dax0.0 $M
	pkt_expect_refusal "au= without format" "need format" -o au=2M dax0.0 $M
	# busybox mount always passes a source; "none" names no dax device. (This check
	# used to match its own "PKT MARK no source" line in the log, so it could not fail.)
	pkt_expect_refusal "a source that is no dax device" "none: no such dax device bound" -o format none $M
	pkt_expect_refusal "namespace too small for the layout" "too small" -o format,kernel_area=600M dax0.0 $M
	pkt_expect_refusal "one AU is not enough" "smaller than two allocation units" -o format,au=1G dax0.0 $M

	pkt_check "format" mount -t pkernfs -o format dax0.0 $M
	pkt_expect_refusal "format over a live filesystem needs force" "already mounted" -o format dax0.0 /tmp
	echo keep > $M/keep
	pkt_refuse "write past the free space fails (ENOSPC)" \
		dd if=/dev/zero of=$M/big bs=1M count=2000
	pkt_eq "ENOSPC: the file holds whole AUs of what fitted" \
		"$(( $(stat -c %s $M/big) % 2097152 ))" 0
	pkt_refuse "a new file's first write fails while full" sh -c "echo x > $M/after"
	pkt_check "ENOSPC lost nothing written before" grep -qx keep $M/keep
	pkt_check "removing a file frees its space" rm $M/big
	pkt_check "writing works again" sh -c "echo x > $M/after && grep -qx x $M/after"
	pkt_check "umount" umount $M
	pkt_expect_refusal "format over an existing pkernfs without force" "already holds a pkernfs" -o format dax0.0 $M

	for what in magic sb-crc major incompat root-inode dirent extent bitmap foreign; do
		if ! damage $what; then
			pkt_fail "could not prepare damage '$what'"
			continue
		fi
		case $what in
		magic|foreign) msg="no pkernfs format" ;;
		sb-crc) msg="superblock checksum mismatch" ;;
		major) msg="format 2.2, this kernel reads format 1.x: mount it with a newer kernel" ;;
		incompat) msg="incompatible feature bits 0x80000000 unknown to this kernel (format 1.2): a newer kernel turned them on" ;;
		root-inode) msg="inode 1: inode checksum mismatch" ;;
		dirent) msg="dirent .*checksum mismatch" ;;
		extent) msg="extent .*checksum mismatch" ;;
		bitmap) msg="bitmap block 0: allocation bitmap checksum mismatch" ;;
		esac
		pkt_expect_refusal "damaged image: $what" "$msg" dax0.0 $M
		pkt_unbind dax0.0
		pkt_eq "the refused mount left the $what image as it was" \
			"$(pkt-mem sum /dev/dax0.0 0 8M)" "$DAMAGED_SUM"
		pkernfsctl fsck dax0.0 > /tmp/fsck.out 2>&1
		rc=$?
		case $what in magic|foreign) want=8 ;; *) want=4 ;; esac
		pkt_eq "pkernfsctl fsck on the $what image exits $want ($(grep -m1 error /tmp/fsck.out))" "$rc" "$want"
		repair_and_mount $what
	done

	# A transaction torn before its commit is dropped; the image mounts.
	if damage journal-torn; then
		pkt_kmsg_mark torn
		pkt_check "torn journal transaction: mount succeeds" mount -t pkernfs dax0.0 $M
		pkt_check "torn journal transaction: data intact" grep -q data $M/d/f
		pkt_check "torn journal transaction: logged" sh -c "dmesg | sed -n '/PKT MARK torn/,\$p' | grep -q 'torn before its commit'"
		umount $M
	else
		pkt_fail "could not prepare a torn journal"
	fi
}
