# SPDX-License-Identifier: GPL-2.0-only
# Rollback of a filesystem formatted at main's level (1.2: high-water
# marks), and what older kernels write on it. The 1.1 kernel mounts it
# read-only only, and says so. The early 1.0 kernel (6470af2) lets a
# read-only mount go read-write (its bug) and writes 1,100 files past the
# 1,024 slots the marks cover. Main mounts that with no repair: the
# journal head shows a writer that kept no marks, so it reads every slot,
# says so, and finds every file (the 1.2 kernel, 4177fc7, refused this
# mount: "Structure needs cleaning"). The 1.2 kernel then writes on it
# read-write (keeping the marks, though not the journal's record of them),
# and main mounts that too.
# pkt-stages: 6
# pkt-pinned: 1.0-early 1.1 1.2
# pkt-legs: test
# pkt-timeout: 480

M=/mnt/pk

stage_1() {
	pkt_check "running main" pkt_kernel_is main
	pkt_pkernfs_format inodes=4096 || return
	pkt_check "40 files" pkt_compat_write $M main1 40
	pkt_must "umount" umount $M && pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_eq "level 1.2: high-water marks (DMA only once held)" "$(pkt_compat_level)" "1.2 2"
	pkt_compat_kexec 1.1
}

stage_2() {
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_expect_refusal "1.1 refuses to mount it read-write" \
		"unknown read-only-compatible feature" dax0.0 $M
	pkt_must "it mounts read-only" mount -t pkernfs -o ro dax0.0 $M || return
	pkt_compat_has $M 40 "1.1, read-only"
	pkt_refuse "1.1 writes nothing" touch $M/new
	pkt_refuse "1.1 refuses remount,rw" mount -o remount,rw $M
	pkt_must "umount" umount $M || return
	pkt_compat_kexec 1.0-early
}

stage_3() {
	pkt_check "running the early 1.0 kernel" pkt_kernel_is 1.0-early
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_must "it mounts read-only" mount -t pkernfs -o ro dax0.0 $M || return
	pkt_compat_has $M 40 "early 1.0, read-only"
	# The old kernel's bug, which main must survive: remount,rw is let through.
	if mount -o remount,rw $M 2> /dev/null; then
		pkt_info "the early 1.0 kernel let remount,rw through, as issue 18 found"
	else
		pkt_fail "the early 1.0 kernel refused remount,rw: this case no longer writes past the marks"
		return
	fi
	pkt_check "it writes 1,100 files past the marks" sh -c "mkdir $M/old && pkt-bench mkfiles $M/old 1100"
	pkt_check "and 30 with data" pkt_compat_write $M old1 30
	pkt_must "umount" umount $M || return
	pkt_compat_kexec main
}

stage_4() {
	pkt_check "running main" pkt_kernel_is main
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_kmsg_mark mount4
	pkt_check "main mounts what the old kernel wrote, with no repair" mount -t pkernfs dax0.0 $M
	pkt_check "  ... reading every slot, as it says" sh -c \
		"dmesg | sed -n '/PKT MARK mount4/,\$p' | grep -q 'written by a kernel that does not keep the high-water marks'"
	pkt_eq "all 1,100 of the old kernel's files" "$(find $M/old -type f | wc -l)" 1100
	pkt_compat_has $M 70 "main"
	pkt_check "main writes" pkt_compat_write $M main4 20
	pkt_must "umount" umount $M && pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_check "fsck finds it clean" sh -c "pkernfsctl fsck -j dax0.0 | jq -e '.clean and .notes == 0' > /dev/null"
	pkt_eq "still level 1.2" "$(pkt_compat_level)" "1.2 2"
	pkt_compat_kexec 1.2
}

stage_5() {
	pkt_check "running the 1.2 kernel" pkt_kernel_is 1.2
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_check "1.2 mounts it read-write" mount -t pkernfs dax0.0 $M
	pkt_compat_has $M 90 "1.2"
	pkt_eq "and the old kernel's 1,100" "$(find $M/old -type f | wc -l)" 1100
	pkt_check "1.2 writes" pkt_compat_write $M v12 20
	pkt_must "umount" umount $M || return
	pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_check "main's fsck finds it clean" pkernfsctl fsck dax0.0
	pkt_compat_kexec main
}

stage_6() {
	pkt_check "running main" pkt_kernel_is main
	pkt_must "bind dax0.0" pkt_bind dax0.0 && mkdir -p $M || return
	pkt_kmsg_mark mount6
	pkt_check "main mounts what 1.2 wrote" mount -t pkernfs dax0.0 $M
	pkt_check "  ... reading every slot once (1.2 kept the marks, not j_hwm_seq)" sh -c \
		"dmesg | sed -n '/PKT MARK mount6/,\$p' | grep -q 'written by a kernel that does not keep the high-water marks'"
	pkt_compat_has $M 110 "main"
	pkt_must "umount" umount $M || return
	pkt_kmsg_mark mount6b
	pkt_check "the next mount trusts the marks again" sh -c \
		"mount -t pkernfs dax0.0 $M && ! dmesg | sed -n '/PKT MARK mount6b/,\$p' | grep -q 'does not keep the high-water marks'"
	pkt_must "umount" umount $M
}
