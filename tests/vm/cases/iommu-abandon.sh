# SPDX-License-Identifier: GPL-2.0-only
# Handed-over DMA that nobody restores (the VMM is not coming back) must
# not run on forever through tables nobody owns. After the kexec,
# pkernfs_iommu.abandon=1 stops the device and clears its copied context:
# its bus mastering is off, a later DMA faults and does not reach the
# file, the record is closed, and a restore says it was abandoned. Then
# the same without anyone writing the knob: the next kernel boots with
# pkernfs_iommu.abandon_after=5 and gives the new domain up by itself.
# pkt-stages: 3
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0031
ABANDON=/sys/module/pkernfs_iommu/parameters/abandon

edu() { pkt_edu "$EDU" "$@"; }

stage_1() {
	pkt_edu_stage1_kexec $TOKEN $F
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	pkt_eq "edu still bus-mastering (handed over)" "$(( $(pkt_pci_command "$EDU") & 4 ))" 4
	pkt_check "its record is open" grep -q "saved dmar0 .* token $TOKEN .* open" $PKT_IOMMU_STATE
	pkt_refuse "abandon needs 1" sh -c "echo 0 > $ABANDON"
	pkt_must "abandon what nobody restored" sh -c "echo 1 > $ABANDON" || return
	pkt_check "the log names the device and token" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: 00:0[0-9a-f].0 abandoned (token $TOKEN): bus mastering off, its context cleared'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_check "the record is closed" grep -q "saved dmar0 .* token $TOKEN .* abandoned" $PKT_IOMMU_STATE
	pkt_pkernfs_remount || return
	pkt_must "load pkt_edu (it turns bus mastering on again)" pkt_edu_load || return
	pkt_expect_error "restore after abandon" "domain $TOKEN was abandoned" edu restore $TOKEN $F
	pkt_check "restore gives ENOENT" sh -c "grep -qx 'error -2' /sys/kernel/debug/pkt_edu/$EDU"
	pkt_edu_dma_faults "$EDU" $F "the context is gone"
	pkt_check "the file is no longer held" truncate -s 2M $F
	pkt_must "release" pkt_edu "$EDU" release &&
	pkt_must "a new persistent domain" truncate -s 4M $F &&
	pkt_edu_persist "$EDU" 0x5eed0032 $F || return
	pkt_liveupdate_kexec pkernfs_iommu.abandon_after=5
}

stage_3() {
	local i
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	# The timer runs from boot; wait for its event, however slow the host.
	for i in $(seq 1 60); do
		grep -q "token 0x5eed0032 .* abandoned" $PKT_IOMMU_STATE && break
		sleep 1
	done
	pkt_check "nobody restored it: abandoned by the timer" \
		grep -q "saved dmar0 .* token 0x5eed0032 .* abandoned" $PKT_IOMMU_STATE
	pkt_check "the log says why" sh -c \
		"dmesg | grep -q 'abandoned 1 handed-over device(s) not restored within 5 s (pkernfs_iommu.abandon_after)'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
}
