# SPDX-License-Identifier: GPL-2.0-only
# Mount reads each table only up to its high-water mark (format 1.2), so
# mount time follows the inodes in use, not the slots formatted: the mark
# rises as files are made, comes down at a clean unmount, and a damaged
# free slot past it stops neither the mount nor later creates: that slot
# is checked when first taken and, being free by the mark, cleared with a
# log line. fsck, which reads every slot, reports it until then. A
# replayed transaction that raised a mark over the slot it filled is read
# up to the new mark.
# pkt-nvdimm: 3G
# pkt-timeout: 300

M=/mnt/pk

scanned() { pkernfsctl info -j dax0.0 | jq -r ".regions.$1.scanned"; }

stage_1() {
	local i fails=0
	pkt_must "devdax namespace" pkt_ns_devdax &&
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M &&
	pkt_must "format with 8192 inode slots" mount -t pkernfs -o format,inodes=8192 dax0.0 $M ||
		return
	pkt_eq "a new image: mount reads 1024 of 8192 inode slots" "$(scanned inodes)" 1024
	mkdir $M/a
	pkt_check "1,500 files" pkt-bench mkfiles $M/a 1500
	pkt_eq "the inode mark rose to 2048" "$(scanned inodes)" 2048
	pkt_eq "so did the dirent mark" "$(scanned dirents)" 2048
	pkt_check "remount" sh -c "umount $M && mount -t pkernfs dax0.0 $M"
	pkt_eq "all 1,500 files are back" "$(find $M/a -type f | wc -l)" 1500
	rm -rf $M/a/m1
	pkt_check "umount" umount $M
	pkt_must "unbind dax0.0" pkt_unbind dax0.0 || return
	pkt_eq "after a clean unmount the inode mark is down to 1024" "$(scanned inodes)" 1024

	pkt_eq "damage the free inode slot at the mark" \
		"$(pkt-corrupt /dev/dax0.0 "$(cat /sys/bus/dax/devices/dax0.0/size)" past-hwm)" 1024
	pkernfsctl fsck dax0.0 > /tmp/fsck.out 2>&1
	pkt_eq "fsck reads every slot and finds it (exit 4)" "$?" 4
	pkt_check "  ... as inode 1024" grep -q "inode 1024" /tmp/fsck.out
	pkt_must "bind dax0.0 again" pkt_bind dax0.0 || return
	pkt_kmsg_mark hwm
	pkt_check "the mount does not read it" mount -t pkernfs dax0.0 $M
	mkdir $M/b
	for i in $(seq 1 30); do
		touch $M/b/f$i 2> /dev/null || fails=$((fails + 1))
	done
	pkt_eq "30 creates past the free slots below the mark all work" "$fails" 0
	pkt_check "  ... and slot 1024 was found damaged and cleared, as the log says" sh -c \
		"dmesg | sed -n '/PKT MARK hwm/,\$p' | grep -q 'inode slot 1024, past the high-water mark, was damaged (inode checksum mismatch): free, so cleared'"
	pkt_check "remount" sh -c "umount $M && mount -t pkernfs dax0.0 $M"
	pkt_eq "  ... and all 30 are there" "$(ls $M/b | wc -l)" 30
	umount $M
	pkt_must "unbind dax0.0" pkt_unbind dax0.0 || return
	pkt_check "fsck finds the image clean now" pkernfsctl fsck dax0.0

	# A crash after a commit that raised the extent mark over the slot it
	# filled: mount must read up to the replayed mark, not the old one.
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mount -t pkernfs dax0.0 $M &&
		head -c 4096 /dev/urandom > $M/tail && umount $M &&
		pkt_must "unbind dax0.0" pkt_unbind dax0.0 || return
	pkt_check "a committed append into the first extent slot past the mark, not applied" \
		pkt-corrupt /dev/dax0.0 "$(cat /sys/bus/dax/devices/dax0.0/size)" pending-tail
	pkt_must "bind dax0.0" pkt_bind dax0.0 || return
	pkt_kmsg_mark tail
	pkt_check "the mount replays it and takes the new extent" mount -t pkernfs dax0.0 $M
	pkt_check "  ... the log says it replayed (4 records)" sh -c \
		"dmesg | sed -n '/PKT MARK tail/,\$p' | grep -q 'replayed journal transaction [0-9]* (4 records)'"
	pkt_eq "the file has the appended AU" "$(stat -c %s $M/tail)" 4194304
	umount $M
	pkt_must "unbind dax0.0" pkt_unbind dax0.0 || return
	pkt_check "fsck: clean" pkernfsctl fsck dax0.0
}
