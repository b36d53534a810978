# SPDX-License-Identifier: GPL-2.0-only
# After kexec, the memory a handed-over domain still maps is held, whoever
# mapped it and however: the page tables are the truth, not a mark taken at
# PERSIST. A VMM PERSISTs a HWPT over file F1, then IOAS_MAPs F2 into it
# (F2 is pinned, never marked). After the kexec nothing is restored: F2
# cannot be truncated, punched or unlinked; F3, written by another uid, gets
# other memory; a DMA to F2's IOVA lands in F2 and never in F3. Once the
# handed-over DMA is abandoned, F2 and F1 are free to go.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 300
# pkt-sm: test

F1=/mnt/pk/f1
F2=/mnt/pk/f2
F3=/mnt/pk/f3
TOKEN=/mnt/pk/vmm.token
IOVA2=0x3000000
ABANDON=/sys/module/pkernfs_iommu/parameters/abandon

edu() { pkt_edu "$EDU" "$@"; }

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F1 4M || return
	pkt_must "F2 of 4M" truncate -s 4M $F2 || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_vmm persist "$EDU" $F1 0x400000 $PKT_EDU_IOVA $TOKEN --seed 11 \
		--map-after "$F2@$IOVA2" --kexec 16
	pkt_fail "pkt-vmm did not kexec"
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	pkt_pkernfs_remount || return
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "the handed-over tree holds what it maps (F1 and F2: 8 MiB)" \
		grep -q "^tree dmar0 .* users 1 held .* 8388608 bytes" $PKT_IOMMU_STATE
	pkt_check "F2's page 1 holds the DMA of stage 1" pkt-edu verify $F2 4096 11
	pkt_expect_error "truncate of F2 (IOAS_MAPped after PERSIST) refused" \
		"backs DMA a kernel user keeps across kexec (IOMMU): truncate refused" \
		truncate -s 0 $F2
	pkt_expect_error "hole punch in F2 refused" "hole punch refused" \
		pkt-fsops falloc $F2 punch 0 2M
	pkt_expect_error "unlink of F2 refused" "unlink of its last name refused" rm $F2
	pkt_eq "F2 is whole" "$(stat -c %s $F2)" 4194304
	pkt_must "the mount is open to all" chmod 1777 /mnt/pk &&
	pkt_must "F3 written by uid 65534" su -s /bin/sh nobody -c \
		"dd if=/dev/zero of=$F3 bs=1M count=4 2>/dev/null" || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt-edu pattern $F1 0 77
	pkt_must "a DMA through the handed-over tables to F2's IOVA" \
		edu to-dev "$(pkt_iova 0)" $PKT_EDU_LEN &&
	pkt_must "... and back" edu to-ram "$(printf '%#x' $((IOVA2 + 2 * 4096)))" $PKT_EDU_LEN ||
		return
	pkt_check "it landed in F2" pkt-edu verify $F2 8192 77
	pkt_check "F3 is untouched" cmp -s -n 4194304 $F3 /dev/zero
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""

	pkt_must "abandon the handed-over DMA" sh -c "echo 1 > $ABANDON" || return
	pkt_check "the tree has no users, nothing is held" \
		grep -q "^tree dmar0 .* users 0 held 0 span(s) 0 bytes" $PKT_IOMMU_STATE
	pkt_check "now F2 may be truncated" truncate -s 0 $F2
	pkt_check "and F1 unlinked (its mark on media holds nothing)" rm $F1
	pkt_check "F3 is still zeros" cmp -s -n 4194304 $F3 /dev/zero
}
