# SPDX-License-Identifier: GPL-2.0-only
# What IOMMU_HWPT_ALLOC_PRESERVE refuses, each with an errno: a HWPT over
# anonymous memory; a restore before pkernfs is mounted (the fd is on
# tmpfs); a restore under a token never handed over (the IOMMU driver
# logs that one, for the operator); a restoring HWPT whose IOAS lacks a
# page the handed-over tables map (EADDRNOTAVAIL); the restoring HWPT
# attached to another device than the one handed over under its token
# (ENODEV, the device's DMA untouched). Each refused VMM exits
# without a restore: the record stays open (the default domain stays
# deferred rather than replace the copied context). Then the right restore
# works, and its HWPT is unmarked: the next kexec hands nothing over.
# pkt-stages: 3
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-qemu: -device edu
# pkt-sm: test

F=/mnt/pk/guest-ram

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_check "PERSIST over anonymous memory: EINVAL" \
		sh -c "pkt-vmm persist $EDU $F 0x400000 $PKT_EDU_IOVA $F.t1 --anon | grep 'refused: IOMMU_HWPT_ALLOC(PRESERVE): Invalid argument'"
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	echo x > /tmp/not-pkernfs
	pkt_check "RESTORE before pkernfs is mounted: EINVAL" sh -c \
		"pkt-vmm restore $EDU /tmp/not-pkernfs 0x400000 $PKT_EDU_IOVA 0x1 /tmp/t2 |
		 grep 'refused: IOMMU_HWPT_ALLOC(RESTORE): Invalid argument'"
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_expect_error "RESTORE with the wrong token: ENOENT" "no domain was handed over under token 0xbad" \
		sh -c "pkt-vmm restore $EDU $F 0x400000 $PKT_EDU_IOVA 0xbad /tmp/t2 |
		       grep 'refused: IOMMU_HWPT_ALLOC(RESTORE): No such file or directory'; exit 1"
	pkt_check "RESTORE from an IOAS that lacks a mapped page: EADDRNOTAVAIL" sh -c \
		"pkt-vmm restore $EDU $F 0x200000 $PKT_EDU_IOVA $F.t1 /tmp/t2 |
		 grep 'refused: IOMMU_HWPT_ALLOC(RESTORE): Cannot assign requested address'"
	# Each refused VMM exited, releasing DMA ownership: the default domain
	# must stay deferred, not replace the copied context.
	pkt_check "the record is still open" grep -q "token $(cat $F.t1) .* open" $PKT_IOMMU_STATE
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 2)" ""
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	# A restoring HWPT destroyed before it is attached must leave the
	# device's tables alone and the token restorable; attached to the
	# other device it must be refused with ENODEV (pkt-vmm fails, and
	# does not kexec, otherwise).
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_must "a second edu, to vfio-pci" pkt_vfio_bind "$B" || return
	pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 $F.t2 --seed 22 --restore-twice \
		--attach-other "$B" --unmark --kexec 18
	pkt_fail "pkt-vmm did not kexec"
}

stage_3() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "an unmarked HWPT is not handed over" "$(dmesg | grep -c 'adopting the previous kernel')" 0
	pkt_pkernfs_remount || return
	pkt_check "stage 2 restored, replaced and DMA'd both ways" pkt-edu verify $F 8192 22
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_expect_error "RESTORE of the unmarked token: ENOENT" "no domain was handed over under token $(cat $F.t2)" \
		pkt-vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t2 $F.t3
	pkt_check "the file is released" truncate -s 0 $F
}
