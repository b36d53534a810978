# SPDX-License-Identifier: GPL-2.0-only
# A fleet that may roll back formats for the oldest kernel it may run:
# main formats at level 1.1, and the 1.1 kernel, then the 1.0 kernel,
# mount it read-write and write on it; back on main nothing raised the
# level. Then the fleet has moved: pkernfsctl upgrade --level 1.2, offline
# and explicit, and now the 1.1 kernel mounts it read-only only, saying
# why, with every file still there.
# pkt-stages: 5
# pkt-pinned: 1.0 1.1
# pkt-legs: test
# pkt-timeout: 420

M=/mnt/pk

stage_1() {
	pkt_check "running main" pkt_kernel_is main
	pkt_pkernfs_format level=1.1 || return
	pkt_check "40 files" pkt_compat_write $M main1 40
	pkt_must "umount" umount $M && pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_eq "version 1.1, no feature in use yet" "$(pkt_compat_level)" "1.1 0"
	pkt_compat_kexec 1.1
}

stage_2() {
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_check "1.1 mounts it read-write" mount -t pkernfs dax0.0 $M
	pkt_compat_has $M 40 "1.1"
	pkt_check "1.1 writes" pkt_compat_write $M v11 30
	pkt_must "umount" umount $M || return
	pkt_compat_kexec 1.0
}

stage_3() {
	pkt_check "running the 1.0 kernel" pkt_kernel_is 1.0
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_check "1.0 mounts it read-write" mount -t pkernfs dax0.0 $M
	pkt_compat_has $M 70 "1.0"
	pkt_check "1.0 writes" pkt_compat_write $M v10 30
	pkt_must "umount" umount $M || return
	pkt_compat_kexec main
}

stage_4() {
	pkt_check "running main" pkt_kernel_is main
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_check "main mounts it" mount -t pkernfs dax0.0 $M
	pkt_compat_has $M 100 "main"
	pkt_must "umount" umount $M && pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_eq "no kernel raised the level" "$(pkt_compat_level)" "1.1 0"
	pkt_check "fsck finds it clean" pkernfsctl fsck dax0.0
	pkt_check "the fleet has moved: upgrade --level 1.2" pkernfsctl upgrade --level 1.2 dax0.0
	pkt_eq "level 1.2" "$(pkt_compat_level)" "1.2 2"
	pkt_compat_kexec 1.1
}

stage_5() {
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_expect_refusal "1.1 no longer mounts it read-write" \
		"unknown read-only-compatible feature" dax0.0 $M
	pkt_must "it mounts read-only" mount -t pkernfs -o ro dax0.0 $M || return
	pkt_compat_has $M 100 "1.1, read-only"
	pkt_must "umount" umount $M
}
