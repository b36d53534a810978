# SPDX-License-Identifier: GPL-2.0-only
# The IOMMU handover between the 1.2 kernel (4177fc7, handover version 2)
# and main, both ways, with a DMA in flight at each kexec. 1.2 -> main is
# the upgrade (N+1 adopts N); main -> 1.2 the rollback, which kexec-check
# arms because the 1.2 image's note says it reads version 2, and which
# the 1.2 kernel adopts. After each kexec the VMM restores by token and
# DMA goes both ways; no DMAR fault anywhere.
# pkt-stages: 3
# pkt-pinned: 1.2
# pkt-kernel: 1.2
# pkt-legs: test
# pkt-nvdimm: 512M
# pkt-timeout: 360

F=/mnt/pk/guest-ram

after_kexec() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "running the $1 kernel" pkt_kernel_is "$1"
	pkt_adopted
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight during the kexec landed" pkt-edu verify $F $(($2 * 4096)) "$3"
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "running the 1.2 kernel" pkt_kernel_is 1.2
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_next_kernel main && pkt_kexec_load || return
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	after_kexec main 16 11 || return
	pkt_check "stage 1's round trip is in the file" pkt-edu verify $F 4096 11
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	# pkt_kexec_load arms it: kexec-check reads the 1.2 image's note.
	pkt_next_kernel 1.2 && pkt_kexec_load || return
	pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 $F.t2 --seed 22 --expect-master --kexec 18
	pkt_fail "pkt-vmm did not kexec"
}

stage_3() {
	after_kexec 1.2 18 22 || return
	pkt_check "main's round trip is in the file" pkt-edu verify $F 8192 22
	pkt_must "the 1.2 kernel restores; DMA both ways" \
		pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t2 $F.t3 --seed 33 --expect-master ||
		return
	pkt_check "page 2 holds the last pattern" pkt-edu verify $F 8192 33
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
