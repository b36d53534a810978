# SPDX-License-Identifier: GPL-2.0-only
# The next kernel boots with intel_iommu=off. It cannot adopt the
# handed-over translation, and it turns translation off: the preserved
# device must be stopped first, or its IOVAs become physical addresses in
# the new kernel. A DMA is in flight at the kexec.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0012

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1 intel_iommu=off"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "booted with intel_iommu=off" grep -q 'intel_iommu=off' /proc/cmdline
	pkt_eq "nothing adopted" "$(dmesg | grep -v 'PKT ' | grep -c 'adopting the previous kernel')" 0
	pkt_info "$(dmesg | grep -E 'pkernfs-iommu|DMAR' | head -n 12 | tr '\n' ';')"
	pkt_check "the handover was refused, with the reason" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: IOMMU state from the previous kernel refused: the IOMMU is disabled (intel_iommu=off)'"
	pkt_check "the preserved device was stopped before translation went off" sh -c \
		"dmesg | grep -q '$EDU: pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_pkernfs_remount || return
	# It may have landed through the handed-over tables before this kernel
	# refused them (the old kernel's shutdown and the jump take ~10 ms): the
	# file is the one place it may land. After the refusal edu is stopped.
	if pkt-edu verify $F $((16 * 4096)) 11 > /dev/null 2>&1; then
		pkt_info "the DMA in flight landed in the file, before the refusal"
	else
		pkt_info "the DMA in flight did not land"
	fi
}
