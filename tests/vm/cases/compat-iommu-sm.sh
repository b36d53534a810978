# SPDX-License-Identifier: GPL-2.0-only
# Scalable mode and an older next kernel. The 1.2 kernel (4177fc7) adopts
# handover version 2 at most, legacy mode only; main in scalable mode writes
# version 3. kexec-check --arm refuses to arm for the 1.2 image, naming
# both versions. Kexec'd unarmed anyway, main stops the preserved device at
# shutdown before translation goes off, so the DMA in flight is lost, not
# let through untranslated, and the 1.2 kernel starts clean.
# pkt-stages: 2
# pkt-pinned: 1.2
# pkt-legs: test
# pkt-iommu: x-scalable-mode=on
# pkt-append: intel_iommu=sm_on
# pkt-nvdimm: 512M
# pkt-timeout: 300

F=/mnt/pk/guest-ram

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "this kernel writes handover version 3" \
		"$(cat /sys/module/pkernfs_iommu/parameters/handover_version)" 3
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	PKT_NO_ARM=1
	pkt_next_kernel 1.2 && pkt_kexec_load || return
	pkt_check "kexec-check --arm refuses the 1.2 image, naming the versions" sh -c \
		"! pkernfsctl kexec-check --arm --kernel $PKT_NEXT_KERNEL --append '$PKT_NEXT_CMDLINE' \
		   > /tmp/kc 2>&1 && grep -q 'adopts IOMMU handover versions [0-9] to 2; this kernel writes version 3' /tmp/kc"
	pkt_info "$(tr '\n' ';' < /tmp/kc)"
	pkt_eq "not armed" "$(cat /sys/module/pkernfs_iommu/parameters/armed)" 0
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "running the 1.2 kernel" pkt_kernel_is 1.2
	pkt_eq "nothing adopted" "$(dmesg | grep -v 'PKT ' | grep -c 'adopting the previous kernel')" 0
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_pkernfs_remount || return
	pkt_check "the round trip before the kexec is in the file" pkt-edu verify $F 4096 11
	pkt_refuse "the DMA in flight at the unarmed kexec is lost" \
		pkt-edu verify $F $((16 * 4096)) 11
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
