# SPDX-License-Identifier: GPL-2.0-only
# A legacy-mode handover into a kernel that runs the IOMMU in scalable
# mode (the vIOMMU offers both; stage 1 boots intel_iommu=sm_off, stage 2
# sm_on). The copy path cannot change modes, so the next kernel refuses
# before copying anything, and stops the preserved device first.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-iommu: x-scalable-mode=on
# pkt-append: intel_iommu=sm_off

F=/mnt/pk/guest-ram
TOKEN=0x5eed0041

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1 intel_iommu=sm_on"
	pkt_kexec_load || return
	pkt-edu kexec
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "nothing adopted" "$(dmesg | grep -v 'PKT ' | grep -c 'adopting the previous kernel')" 0
	pkt_check "refused, naming the mode" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: IOMMU state from the previous kernel refused: this kernel runs the IOMMU in scalable mode'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
}
