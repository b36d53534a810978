# SPDX-License-Identifier: GPL-2.0-only
# Two edu devices, one preserved and one not. Both map the same pkernfs
# file. After kexec only the preserved one's context is handed over: the
# other's DMA, with bus mastering turned back on, is blocked with a DMAR
# fault and changes nothing, while the preserved one goes on.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-qemu: -device edu
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0003

stage_1() {
	A=$(pkt_edu_devs | sed -n 1p)
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_info "preserved edu at $A, the other at $B"
	[ -n "$B" ] || { pkt_fail "two edu devices expected: $(pkt_edu_devs | tr '\n' ' ')"; return; }
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "A: persistent domain" sh -c "pkt_edu() { echo \"\$*\" > /sys/kernel/debug/pkt_edu/$A; }; \
		pkt_edu domain && pkt_edu persist $TOKEN $F && pkt_edu attach" &&
	pkt_must "A: map the file" pkt-edu map "$A" $F 0x400000 $PKT_EDU_IOVA 4096 &&
	pkt_must "B: ordinary domain" sh -c "pkt_edu() { echo \"\$*\" > /sys/kernel/debug/pkt_edu/$B; }; \
		pkt_edu domain && pkt_edu attach" &&
	pkt_must "B: map the file" pkt-edu map "$B" $F 0x400000 $PKT_EDU_IOVA 4096 || return
	pkt-edu pattern $F 0 11
	pkt_must "B: DMA into the device and back to page 2" sh -c \
		"echo to-dev $(pkt_iova 0) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$B &&
		 echo to-ram $(pkt_iova 2) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$B" &&
	pkt_must "B's DMA works before kexec" pkt-edu verify $F 8192 11 || return
	pkt_must "A: DMA into the device" pkt_edu "$A" to-dev "$(pkt_iova 0)" $PKT_EDU_LEN || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$A" 16
}

stage_2() {
	A=$(pkt_edu_devs | sed -n 1p)
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_check "the kernel adopted the handed-over translation" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation (generation 1): 1 preserved'"
	pkt_pkernfs_remount || return
	pkt_check "A's DMA in flight at kexec landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_check "only A was handed over" sh -c \
		"grep -c '^saved' $PKT_IOMMU_STATE | grep -qx 1 && grep -q 'saved dmar0 .* $(echo "$A" | cut -c6-) token $TOKEN' $PKT_IOMMU_STATE"
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_eq "B's bus mastering is on again (the driver set it)" \
		"$(( $(pkt_pci_command "$B") & 4 ))" 4
	pkt_kmsg_mark "B dma"
	pkt_must "B: DMA to the page it had mapped (page 3)" \
		pkt_edu "$B" to-ram "$(pkt_iova 3)" $PKT_EDU_LEN || return
	sleep 1
	pkt_refuse "B's DMA did not reach the file" pkt-edu verify $F $((3 * 4096)) 11
	pkt_check "B's DMA was blocked with a DMAR fault naming B" sh -c \
		"dmesg | sed -n '/PKT MARK B dma/,\$p' | grep -q 'DMAR: \[DMA Write.*Request device \[$(echo "$B" | cut -c6-)\]'"
	pkt_info "$(dmesg | grep -m2 'DMAR: \[DMA\|fault reason' | tr '\n' ';')"
	pkt_must "A: restore by token" pkt_edu "$A" restore $TOKEN $F || return
	pkt-edu pattern $F 0 22
	pkt_check "A: DMA both ways after kexec" sh -c \
		"echo to-dev $(pkt_iova 0) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$A &&
		 echo to-ram $(pkt_iova 17) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$A &&
		 pkt-edu verify $F $((17 * 4096)) 22"
	pkt_eq "no DMAR fault from A" "$(pkt_dmar_faults | grep -c "\[$(echo "$A" | cut -c6-)\]")" 0
}
