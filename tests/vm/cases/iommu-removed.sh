# SPDX-License-Identifier: GPL-2.0-only
# A handed-over device removed before anyone restores its domain: its
# record is given up as abandon would (bus mastering off, copied context
# cleared, tables and file no longer held), not kept for ever. Rescanned,
# it comes back stopped, and a restore says it was abandoned.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0071

stage_1() {
	pkt_edu_stage1_kexec $TOKEN $F
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "adopted, the record open" grep -q "saved dmar0 .* token $TOKEN .* open" $PKT_IOMMU_STATE
	pkt_pkernfs_remount || return
	pkt_expect_error "the file is held" "truncate refused" truncate -s 0 $F
	pkt_kmsg_mark "remove"
	pkt_must "remove edu" sh -c "echo 1 > /sys/bus/pci/devices/$EDU/remove" || return
	pkt_check "the log says it was given up" sh -c \
		"dmesg | sed -n '/PKT MARK remove/,\$p' | grep -q 'removed before its domain was restored (token $TOKEN): given up'"
	pkt_check "the record is closed" grep -q "saved dmar0 .* token $TOKEN .* abandoned" $PKT_IOMMU_STATE
	pkt_check "its tree holds nothing" grep -q "^tree dmar0 .* users 0 held 0 span(s)" $PKT_IOMMU_STATE
	pkt_check "the file is free" truncate -s 0 $F
	pkt_must "rescan" sh -c "echo 1 > /sys/bus/pci/rescan" &&
	pkt_must "edu is back" [ -e "/sys/bus/pci/devices/$EDU" ] || return
	pkt_eq "stopped" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_expect_error "restore says abandoned" "domain $TOKEN was abandoned" \
		pkt_edu "$EDU" restore $TOKEN $F
}
