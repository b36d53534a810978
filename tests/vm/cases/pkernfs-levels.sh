# SPDX-License-Identifier: GPL-2.0-only
# Format levels and rollbacks. A filesystem formatted at level 1.0 (for a
# fleet that may roll back that far) carries no later feature: a DMA hold,
# which would make a 1.0 kernel mount it read-only, is refused with a
# message until pkernfsctl upgrade raises the level, offline and explicitly;
# a mount never does. Then what an older kernel leaves when it writes past
# the high-water marks (emulated with pkt-corrupt old-writer: the marks
# back at their floor, the journal's sequence moved on without j_hwm_seq):
# the mount reads every slot, says so, finds every file and sets the marks
# again, with no repair. Refusals name the feature bits and what to do.
# pkt-nvdimm: 512M
# pkt-timeout: 300

M=/mnt/pk
F=$M/guest-ram

info() { pkernfsctl info -j dax0.0 | jq -r "$1"; }
size() { cat /sys/bus/dax/devices/dax0.0/size; }

stage_1() {
	local EDU
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_must "devdax namespace" pkt_ns_devdax &&
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_expect_refusal "level= without format" "need format" -o level=1.0 dax0.0 $M
	pkt_expect_refusal "a level this kernel does not write" \
		"level=1.3: a format level from 1.0 to 1.2" -o format,level=1.3 dax0.0 $M
	pkt_must "format at level 1.0, 8192 inode slots" mount -t pkernfs -o format,level=1.0,inodes=8192 dax0.0 $M &&
	pkt_must "a guest RAM file" truncate -s 4M $F || return
	pkt_eq "version 1.0, no read-only-compatible feature" \
		"$(info '.version + " " + (.feature_ro_compat | tostring)')" "1.0 0"
	pkt_must "load pkt_edu" pkt_edu_load &&
	pkt_must "a persistent domain" sh -c \
		"e=/sys/kernel/debug/pkt_edu/$EDU; echo domain > \$e && echo persist 0x7301 $F > \$e && echo attach > \$e" ||
		return
	pkt_expect_error "a DMA hold at level 1.0 is refused" \
		"formatted at level 1.0, for kernels that do not know DMA holds: raise it first (pkernfsctl upgrade --level 1.1)" \
		pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096
	pkt_eq "still level 1.0, no DMA feature" \
		"$(info '.version + " " + (.feature_ro_compat | tostring)')" "1.0 0"
	pkt_must "unload pkt_edu" rmmod pkt_edu &&
	pkt_must "umount" umount $M &&
	pkt_must "give dax0.0 back to device_dax" pkt_unbind dax0.0 || return
	pkt_check "a mount did not raise the level" sh -c "[ \"\$(pkernfsctl info -j dax0.0 | jq -r .version)\" = 1.0 ]"
	pkt_check "upgrade to 1.1" pkernfsctl upgrade --level 1.1 dax0.0
	pkt_must "bind and mount" pkt_bind dax0.0 &&
	pkt_must "mount" mount -t pkernfs dax0.0 $M &&
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_check "at 1.1 the DMA hold works" sh -c \
		"e=/sys/kernel/debug/pkt_edu/$EDU; echo domain > \$e && echo persist 0x7302 $F > \$e && echo attach > \$e &&
		 pkt-edu map $EDU $F 0x400000 $PKT_EDU_IOVA 4096"
	pkt_eq "level 1.1, the DMA feature on" \
		"$(info '.version + " " + (.feature_ro_compat | tostring)')" "1.1 1"
	pkt_must "release" rmmod pkt_edu &&
	pkt_must "umount" umount $M &&
	pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkernfsctl upgrade --level 1.0 dax0.0 > /tmp/up.out 2>&1
	pkt_eq "a level is never lowered (exit 4)" "$?" 4
	pkt_check "  ... and it says why" grep -q "a level is never lowered" /tmp/up.out
	pkt_check "upgrade to 1.2" pkernfsctl upgrade --level 1.2 dax0.0
	pkt_eq "level 1.2, marks kept" \
		"$(info '.version + " " + (.feature_ro_compat | tostring)')" "1.2 3"

	# Past the marks, as a rolled-back kernel that remounted read-write leaves it.
	pkt_must "bind and mount" pkt_bind dax0.0 &&
	pkt_must "mount" mount -t pkernfs dax0.0 $M && mkdir -p $M/a || return
	pkt_check "1,500 files" pkt-bench mkfiles $M/a 1500
	pkt_must "umount" umount $M &&
	pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_info "old-writer: $(pkt-corrupt /dev/dax0.0 "$(size)" old-writer)"
	pkernfsctl fsck dax0.0 > /tmp/fsck.out 2>&1
	pkt_eq "fsck: a note, not damage (exit 0)" "$?" 0
	pkt_check "  ... naming the marks" grep -q "high-water marks: kept at transaction" /tmp/fsck.out
	pkt_must "bind" pkt_bind dax0.0 || return
	pkt_kmsg_mark oldwriter
	pkt_check "main mounts what the older kernel wrote, with no repair" mount -t pkernfs dax0.0 $M
	pkt_check "  ... reading every slot, as the log says" sh -c \
		"dmesg | sed -n '/PKT MARK oldwriter/,\$p' | grep -q 'written by a kernel that does not keep the high-water marks'"
	pkt_eq "all 1,500 files are there" "$(find $M/a -type f | wc -l)" 1500
	pkt_must "umount" umount $M &&
	pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_eq "the marks are set again (inodes read up to 2048)" "$(info .regions.inodes.scanned)" 2048
	pkt_check "fsck finds it clean, with no note" sh -c \
		"pkernfsctl fsck -j dax0.0 | jq -e '.clean and .notes == 0' > /dev/null"
}
