# SPDX-License-Identifier: GPL-2.0-only
# The control for iommufd-kexec: the same VMM with an ordinary HWPT
# (IOMMU_HWPT_ALLOC). The DMA in flight at kexec is lost, and there is
# nothing to restore.
# Test kernel only: the control runs stock code; the debug kernel checks the
# persistent path in iommufd-kexec.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-legs: test
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA 0x7001 --plain --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "nothing was handed over" "$(dmesg | grep -c 'adopting the previous kernel')" 0
	pkt_pkernfs_remount || return
	pkt_check "the DMA round trip of stage 1 is in the file" pkt-edu verify $F 4096 11
	pkt_refuse "without a persistent HWPT the DMA in flight at kexec is lost" \
		pkt-edu verify $F $((16 * 4096)) 11
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_expect_error "restore: nothing under the token" "no domain was handed over under token 0x7001" \
		pkt-vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA 0x7001 0x7002
}
