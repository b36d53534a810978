# SPDX-License-Identifier: GPL-2.0-only
# A scalable-mode handover (version 3) into a kernel that runs the IOMMU
# in legacy mode: iommu-sm-switch the other way round (stage 1 boots
# intel_iommu=sm_on, stage 2 sm_off). The copy path cannot change modes,
# so the next kernel refuses before copying anything, naming both modes,
# and stops the preserved device before translation goes off. The DMA in
# flight at the kexec went through the handed-over tables (the old kernel
# armed the handover: the image reads version 3), so it is in the file;
# nothing reaches memory untranslated.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-iommu: x-scalable-mode=on
# pkt-append: intel_iommu=sm_on

F=/mnt/pk/guest-ram
TOKEN=0x5eed0042

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1 intel_iommu=sm_off"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "nothing adopted" "$(dmesg | grep -v 'PKT ' | grep -c 'adopting the previous kernel')" 0
	pkt_check "refused, naming both modes" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: IOMMU state from the previous kernel refused: this kernel runs the IOMMU in legacy mode, the previous one ran it in scalable mode'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight at the kexec landed in the file, translated by the handed-over tables" \
		pkt-edu verify $F $((16 * 4096)) 11
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
