# SPDX-License-Identifier: GPL-2.0-only
# The IOMMU handover across releases, the 1.1 kernel (the first with
# persistent domains, handover version 1) and main (version 2). A VMM on
# the 1.1 kernel persists an HWPT over a pkernfs file and starts a DMA
# just before kexec -e: main adopts version 1 (its leaves bounded by the
# namespace, then by the filesystem's data area at mount), the DMA in
# flight lands, the VMM restores and DMA goes both ways. The rollback to
# 1.1: its image carries no note that it reads version 2, so kexec-check
# refuses to arm; kexec'd anyway, main stops the device, and the 1.1
# kernel finds it with bus mastering off and the file whole.
# pkt-stages: 3
# pkt-pinned: 1.1
# pkt-kernel: 1.1
# pkt-legs: test
# pkt-nvdimm: 512M
# pkt-timeout: 360

F=/mnt/pk/guest-ram

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	PKT_NO_ARM=1
	pkt_next_kernel main && pkt_kexec_load || return
	pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 --seed 11 --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

V1_COOKIE=0x314f484454564b51	# "PKVTDHO1" ^ 1
V2_COOKIE=0x314f484454564b52

pool_cookie() {
	pkernfsctl info -j dax0.0 | jq -r '.kernel_roots[] | select(.name == "intel-iommu") | .cookie'
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "running main" pkt_kernel_is main
	pkt_check "main read version 1" sh -c \
		"dmesg | grep -q 'dmar0: handover version 1 (from a format 1.1 kernel): read as version 2'"
	pkt_adopted
	pkt_must "bind dax0.0" pkt_bind dax0.0 || return
	pkt_eq "the 1.1 kernel's pool carries version 1's cookie" "$(pool_cookie)" $V1_COOKIE
	pkt_must "mount" mount -t pkernfs dax0.0 /mnt/pk || return
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "its tree is held" grep -q "^tree dmar0 .* users 1 held" $PKT_IOMMU_STATE
	pkt_check "stage 1's round trip is in the file" pkt-edu verify $F 4096 11
	pkt_check "the DMA in flight during kexec landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return

	# Rollback with the device running: the 1.1 image reads only version 1.
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	PKT_NO_ARM=1
	pkt_next_kernel 1.1 && pkt_kexec_load || return
	pkernfsctl kexec-check --arm --kernel "$PKT_NEXT_KERNEL" --append "$PKT_NEXT_CMDLINE" \
		> /tmp/kc.out 2>&1
	pkt_eq "kexec-check refuses to arm the rollback (exit 1)" "$?" 1
	pkt_check "  ... saying the image cannot adopt the handover" \
		grep -q "no IOMMU handover note: it cannot adopt the IOMMU state" /tmp/kc.out
	pkt_eq "not armed" "$(cat /sys/module/pkernfs_iommu/parameters/armed)" 0
	# Restore (the pool adopted, its cookie made version 2's), DMA both
	# ways, then a DMA in flight and the kexec, unarmed.
	pkt_vmm restore "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t1 $F.t2 --seed 22 --expect-master --kexec 18
	pkt_fail "pkt-vmm did not kexec"
}

stage_3() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_eq "main stopped the device: bus mastering off" \
		$(( $(pkt_pci_command "$EDU") & 4 )) 0
	pkt_check "the 1.1 kernel adopted nothing" sh -c \
		"! dmesg | grep -q 'adopting the previous kernel.s translation'"
	pkt_must "bind dax0.0" pkt_bind dax0.0 || return
	pkt_eq "main gave the adopted pool version 2's cookie" "$(pool_cookie)" $V2_COOKIE
	pkt_must "mount" mount -t pkernfs dax0.0 /mnt/pk || return
	pkt_check "main's round trip before the kexec is in the file" pkt-edu verify $F 8192 22
	pkt_check "stage 1's too" pkt-edu verify $F 4096 11
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
