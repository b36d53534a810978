# SPDX-License-Identifier: GPL-2.0-only
# Scalable mode, and what QEMU 7.2's intel-iommu emulates with
# x-scalable-mode=on: scalable-mode root and context tables, PASID
# directories and tables, second-stage translation (ecap SMTS, SLTS), no
# first stage (FLTS) and no PASIDs for devices (x-pasid-mode is off). A
# persistent HWPT's device is handed over as version 3: a context entry,
# a one-page PASID directory and a PASID table of the pool that hold the
# RID_PASID entry only. The next kernel checks them and keeps translation
# on; the restore moves the device to this kernel's own PASID table in
# one store, with a DMA in flight through the kexec landed and no fault.
# The rest of the suite runs in scalable mode as CASE+sm (# pkt-sm:).
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-iommu: x-scalable-mode=on
# pkt-append: intel_iommu=sm_on

F=/mnt/pk/guest-ram

ecap_bit() {
	echo $(( (0x$(cat /sys/class/iommu/dmar0/intel-iommu/ecap) >> $1) & 1 ))
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "the vIOMMU offers scalable mode (ecap SMTS)" "$(ecap_bit 43)" 1
	pkt_eq "and second-stage translation (ecap SLTS)" "$(ecap_bit 46)" 1
	pkt_eq "but no first stage (ecap FLTS): paging domains are second-stage" "$(ecap_bit 47)" 0
	pkt_eq "and no PASIDs for devices (ecap PASID)" "$(ecap_bit 40)" 0
	pkt_eq "this kernel writes handover version 3" \
		"$(cat /sys/module/pkernfs_iommu/parameters/handover_version)" 3
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "the kernel adopted the handed-over translation" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation'"
	pkt_check "a version 3 (scalable-mode) handover" \
		grep -q '^handover dmar0 version 3 scalable$' $PKT_IOMMU_STATE
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight during the kexec landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_kmsg_mark "restore"
	pkt_must "restore, map again, replace, DMA both ways" \
		pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 $F.t2 --seed 22 --expect-master ||
		return
	pkt_check "the copied context moved to this kernel's PASID table" sh -c \
		"dmesg | sed -n '/PKT MARK restore/,\$p' | grep -q 'the handed-over PASID table replaced by this kernel.s, translation kept'"
	pkt_check "the restored domain was replaced in place (the RID_PASID entry)" sh -c \
		"dmesg | sed -n '/PKT MARK restore/,\$p' | grep -q 'pkernfs-iommu: domain replaced in place'"
	pkt_eq "no DMAR fault in the kernel log" "$(pkt_dmar_faults | head -n 3)" ""
}
