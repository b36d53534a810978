# SPDX-License-Identifier: GPL-2.0-only
# A VMM keeps a passthrough device's DMA going through two live updates
# with iommufd and the VFIO cdev (tests/vm/tools/pkt-vmm.c): guest RAM is
# a pkernfs file mapped shared, IOMMU_HWPT_ALLOC with
# IOMMU_HWPT_ALLOC_PRESERVE makes its HWPT persistent under a token the
# kernel makes and the VMM saves, and an edu DMA started just before
# kexec -e lands during it. After each kexec the VFIO cdev opens without a
# reset, the same file is mapped again into a new IOAS, a HWPT allocated
# with IOMMU_HWPT_DATA_RESTORE of the saved token takes the handed-over
# tables over in place when attached (a DMA started just before lands
# after it), and DMA works both ways. Stage 1 starts on an ordinary HWPT
# and makes it persistent the same way. No DMAR fault anywhere. Until it
# is restored, only a caller that may restore it may open the device.
# pkt-stages: 3
# pkt-nvdimm: 512M
# pkt-timeout: 300
# pkt-sm: test debug

F=/mnt/pk/guest-ram

no_dmar_faults() {
	pkt_eq "no DMAR fault in the kernel log" "$(pkt_dmar_faults | head -n 3)" ""
}

# after_kexec N: what every later stage checks first.
after_kexec() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "the kernel adopted the handed-over translation" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation'"
	no_dmar_faults
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight during kexec $(($1 - 1)) landed" \
		pkt-edu verify $F $(((12 + 2 * $1) * 4096)) $((11 * ($1 - 1)))
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_eq "BAR0 is where it was before kexec" \
		"$(head -n 1 /sys/bus/pci/devices/$EDU/resource | cut -d' ' -f1)" "$(pkt_arg pkt.bar0)"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_check "IOMMU_GET_HW_INFO reports IOMMU_HW_CAP_DMA_PRESERVE" sh -c \
		"pkt-vmm info $EDU | grep -q 'DMA preserve yes'"
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1 pkt.bar0=$(head -n 1 /sys/bus/pci/devices/$EDU/resource | cut -d' ' -f1)"
	pkt_kexec_load || return
	pkt_kmsg_mark "upgrade"
	# An ordinary HWPT first, as for a VM already running, then made persistent.
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 --upgrade --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	after_kexec 2 || return
	pkt_check "the VMM saved the kernel's token, and it was handed over" \
		grep -q "saved dmar0 .* token $(cat $F.t1) .* open" $PKT_IOMMU_STATE
	pkt_check "the DMA round trips of stage 1 are in the file, before and after the upgrade" \
		sh -c "pkt-edu verify $F 4096 11 && pkt-edu verify $F 12288 11"
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_kmsg_mark "restore 2"
	pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 $F.t2 --seed 22 --expect-master --kexec 18
	pkt_fail "pkt-vmm did not kexec"
}

stage_3() {
	after_kexec 3 || return
	pkt_check "stage 2: restored, then replaced in place" pkt-edu verify $F 8192 22
	pkt_check "stage 2: a DMA started just before the take-over landed" pkt-edu verify $F 16384 122
	pkt_check "the handed-over device cannot be opened without CAP_SYS_ADMIN: EPERM" sh -c \
		"pkt-vmm restore $EDU $F 0x400000 $PKT_EDU_IOVA $F.t2 $F.t3 --drop-cap --drop-early |
		 grep -q 'refused: VFIO_DEVICE_BIND_IOMMUFD: Operation not permitted'"
	pkt_kmsg_mark "restore 3"
	pkt_must "restore (bus mastering still on), map again, replace, DMA both ways" \
		pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t2 $F.t3 --seed 33 --expect-master || return
	pkt_check "the cdev opened without a reset" sh -c \
		"dmesg | sed -n '/PKT MARK restore 3/,\$p' | grep -q 'DMA handed over by the last kernel: not reset, bus mastering kept'"
	pkt_check "the handed-over domain was taken over in place" sh -c \
		"dmesg | sed -n '/PKT MARK restore 3/,\$p' | grep -q 'pkernfs-iommu: domain replaced in place'"
	pkt_check "the new token is handed over no more: the VMM is gone" sh -c \
		"[ -s $F.t3 ] && ! grep -q 'token $(cat $F.t3)' $PKT_IOMMU_STATE"
	pkt_check "page 2 holds the last pattern" pkt-edu verify $F 8192 33
	pkt_check "a DMA started just before the take-over landed" pkt-edu verify $F 16384 133
	no_dmar_faults
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "the VMM is gone: the file is released" truncate -s 0 $F
}
