# SPDX-License-Identifier: GPL-2.0-only
# A handed-over device that its new owner gives another domain instead of
# restoring the old one: the stock attach tears the copied context down,
# and from then on no device walks the handed-over tables. The record is
# finished ("replaced"): its tree has no user, the guest RAM file is no
# longer held (truncate works), a restore by the old token is refused,
# and the old IOVA no longer reaches the file.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 150
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0041

edu() { pkt_edu "$EDU" "$@"; }

stage_1() {
	pkt_edu_stage1_kexec $TOKEN $F
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	pkt_check "its record is open" grep -q "saved dmar0 .* token $TOKEN .* open" $PKT_IOMMU_STATE
	pkt_pkernfs_remount || return
	pkt_refuse "the file is held while the copied context maps it" truncate -s 2M $F
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_kmsg_mark "replace"
	pkt_must "a fresh domain, attached instead of a restore" sh -c \
		"echo domain > /sys/kernel/debug/pkt_edu/$EDU && echo attach > /sys/kernel/debug/pkt_edu/$EDU" || return
	pkt_check "the log names the device and token" sh -c \
		"dmesg | sed -n '/PKT MARK replace/,\$p' | grep -q 'dmar0: 00:0[0-9a-f].0: its handed-over context was replaced by another domain (token $TOKEN)'"
	pkt_check "the record is finished" grep -q "saved dmar0 .* token $TOKEN .* replaced" $PKT_IOMMU_STATE
	pkt_check "its tree has no user" grep -q "tree dmar0 .* users 0 held 0 span" $PKT_IOMMU_STATE
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_edu_dma_faults "$EDU" $F "the new domain maps nothing there"
	pkt_check "the file is no longer held" truncate -s 2M $F
	pkt_must "release the fresh domain" edu release || return
	pkt_expect_error "restore after the replace" "the device's handed-over context was replaced by another domain" \
		edu restore $TOKEN $F
	pkt_check "restore gives ENOENT" sh -c "grep -qx 'error -2' /sys/kernel/debug/pkt_edu/$EDU"
	pkt_eq "no persistent domain is left" "$(grep -c '^domain token' $PKT_IOMMU_STATE)" 0
}
