# SPDX-License-Identifier: GPL-2.0-only
# A full table pool must not cost the handover. The pool is made small
# (pkernfs_iommu.pool_pages=32); edu A's persistent domain maps a 4 MiB
# file, then edu B's, mapping a 24 MiB file in 4 KiB pages, needs more
# tables than are left. Its map is refused with ENOMEM and a message,
# because the last pages are kept for the context tables the handover
# writes at kexec. A's DMA in flight at the kexec lands, and both
# domains are handed over.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-qemu: -device edu
# pkt-sm: test

F=/mnt/pk/guest-ram
G=/mnt/pk/big
TA=0x5eed0021
TB=0x5eed0022

stage_1() {
	A=$(pkt_edu_devs | sed -n 1p)
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "a 24 MiB file" truncate -s 24M $G &&
	pkt_must "a pool of 32 pages" sh -c "echo 32 > /sys/module/pkernfs_iommu/parameters/pool_pages" &&
	pkt_edu_persist "$A" $TA $F || return
	pkt_must "B: persistent domain, attached" sh -c "e=/sys/kernel/debug/pkt_edu/$B; \
		echo domain > \$e && echo persist $TB $G > \$e && echo attach > \$e" || return
	pkt_expect_error "B: a map past what the pool can give" \
		"token $TB: the IOMMU table pool is full (its last 8 pages are kept for the kexec handover)" \
		pkt-edu map "$B" $G 0x1800000 0x4000000 4096
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "the pool still has its 8 kept pages" grep -q '^pool .* free 8 ' $PKT_IOMMU_STATE
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$A" 16
}

stage_2() {
	A=$(pkt_edu_devs | sed -n 1p)
	pkt_info "$(dmesg | grep -v 'PKT ' | grep 'pkernfs-iommu' | tr '\n' ';')"
	pkt_check "both devices were handed over and adopted" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation (generation 1): 2 preserved'"
	pkt_pkernfs_remount || return
	pkt_check "A's DMA in flight at kexec landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_eq "no DMAR fault from A" "$(pkt_dmar_faults | grep -c "\[$(echo "$A" | cut -c6-)\]")" 0
}
