# SPDX-License-Identifier: GPL-2.0-only
# A boot that did not ask for a live update ignores handed-over IOMMU
# state, says so, and starts clean: nothing to restore, and the same
# pkernfs takes a new persistent domain (the pool is adopted, the stale
# tables in it are free again).
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0004

edu() { pkt_edu "$EDU" "$@"; }

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "persistent domain" sh -c "edu() { echo \"\$*\" > /sys/kernel/debug/pkt_edu/$EDU; }; \
		edu domain && edu persist $TOKEN $F && edu attach" &&
	pkt_must "map the file" pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 || return
	# No pkernfs_iommu.liveupdate=1 on the next command line: kexec-check
	# will not arm; armed by hand regardless, the next kernel must still
	# refuse on its own.
	pkt_kexec_load || return
	pkt_check "kexec-check --arm refuses a command line without the request" sh -c \
		"pkernfsctl kexec-check --arm > /tmp/kc 2>&1; [ \$? = 1 ] && grep -q 'lacks pkernfs_iommu.liveupdate=1' /tmp/kc &&
		 grep -qx 0 $PKT_IOMMU_ARMED"
	pkt_must "arm by hand" sh -c "echo 1 > $PKT_IOMMU_ARMED" || return
	pkt-edu kexec
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "the old kernel handed the state over" \
		sh -c "! grep -q pkernfs_iommu.liveupdate /proc/cmdline"
	pkt_check "the new kernel ignored it, with a log line" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: the previous kernel handed over IOMMU state (generation 1), but no live update was requested (pkernfs_iommu.liveupdate=1): ignored, starting clean'"
	pkt_eq "nothing adopted" "$(dmesg | grep -c 'adopting the previous kernel')" 0
	pkt_check "the preserved device's bus mastering was turned off before translation" sh -c \
		"dmesg | grep -q '$EDU: pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off'"
	pkt_pkernfs_remount || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_eq "no saved state" "$(grep -c '^saved' $PKT_IOMMU_STATE)" 0
	pkt_expect_error "restore after a cold boot" "no domain was handed over under token $TOKEN" \
		edu restore $TOKEN $F
	pkt_must "a new persistent domain on the same pkernfs" sh -c \
		"edu() { echo \"\$*\" > /sys/kernel/debug/pkt_edu/$EDU; }; edu domain && edu persist $TOKEN $F && edu attach" &&
	pkt_must "map the file" pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 || return
	pkt-edu pattern $F 0 44
	pkt_check "DMA both ways through it" sh -c \
		"echo to-dev $(pkt_iova 0) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$EDU &&
		 echo to-ram $(pkt_iova 5) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$EDU &&
		 pkt-edu verify $F $((5 * 4096)) 44"
	pkt_check "the pool was adopted, not created anew" sh -c "dmesg | grep -q \"kernel area: adopted 'intel-iommu'\""
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 2)" ""
}
