# SPDX-License-Identifier: GPL-2.0-only
# The handover keeps legacy-mode VT-d only. On a scalable-mode IOMMU,
# IOMMU_HWPT_PKERNFS_PERSIST is refused with EOPNOTSUPP and a message,
# instead of marking a domain the kexec would silently drop; an ordinary
# HWPT still works. A domain marked through the in-kernel API is refused
# at attach (EINVAL, naming why); nothing is handed over, and the next
# kernel finds the device stopped.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-iommu: x-scalable-mode=on
# pkt-append: intel_iommu=sm_on
# pkt-qemu: -device edu

F=/mnt/pk/guest-ram

stage_1() {
	A=$(pkt_edu_devs | sed -n 1p)
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_eq "the IOMMU offers scalable mode (ecap SMTS)" \
		"$(( (0x$(cat /sys/class/iommu/dmar0/intel-iommu/ecap) >> 43) & 1 ))" 1
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "A to vfio-pci" pkt_vfio_bind "$A" || return
	pkt_expect_error "PERSIST on a scalable-mode IOMMU: EOPNOTSUPP" \
		"pkernfs-iommu: its DMA cannot be kept across kexec: its IOMMU runs in scalable mode" \
		sh -c "pkt-vmm persist $A $F 0x400000 $PKT_EDU_IOVA 0x7201 2>&1 | tee /tmp/vmm.out |
		       grep -q 'refused: IOMMU_HWPT_PKERNFS_PERSIST: Operation not supported'; exit 1"
	pkt_info "$(tr '\n' ';' < /tmp/vmm.out)"
	pkt_check "an ordinary HWPT works (DMA both ways)" sh -c \
		"pkt-vmm persist $A $F 0x400000 $PKT_EDU_IOVA 0x7202 --plain --seed 5 > /tmp/vmm.out 2>&1"
	pkt_info "$(tr '\n' ';' < /tmp/vmm.out)"
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "B: a domain marked through the in-kernel API" sh -c \
		"e=/sys/kernel/debug/pkt_edu/$B; echo domain > \$e && echo persist 0x7203 $F > \$e" || return
	pkt_expect_error "B: attaching it is refused" \
		"not attached to persistent domain 0x7203: its IOMMU runs in scalable mode" \
		pkt_edu "$B" attach
	pkt_check "with EINVAL" grep -qx 'error -22' /sys/kernel/debug/pkt_edu/$B
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt-edu kexec
	pkt_fail "kexec returned"
}

stage_2() {
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_eq "translation was off when it started: nothing handed over" \
		"$(dmesg | grep -v 'PKT ' | grep -c 'Translation was enabled for dmar0')" 0
	pkt_eq "nothing adopted" "$(dmesg | grep -v 'PKT ' | grep -c 'adopting the previous kernel')" 0
	pkt_eq "B's bus mastering is off" "$(( $(pkt_pci_command "$B") & 4 ))" 0
}
