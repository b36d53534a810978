# SPDX-License-Identifier: GPL-2.0-only
# A persistent domain shared by two devices: after the kexec both records
# name one page table. Freeing the first device's restored domain must not
# free that table, its domain id or the memory it maps, while the second
# device still walks it through its copied context: a new persistent domain
# made meanwhile gets other pool pages and another domain id, and the second
# device's DMA still lands in its own file, not in the new domain's. Nor
# may the first device's unmap free a page of that table: it clears leaves
# only while the second device walks the table uncontrolled by its flush.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-qemu: -device edu
# pkt-timeout: 300
# pkt-sm: test

F=/mnt/pk/guest-ram
F2=/mnt/pk/other
TOKEN=0x5eed0051
TOKEN2=0x5eed0052

round_trip() { pkt_edu_round_trip "$1" $F "$2" "$3"; }
pool_free() { sed -n 's/^pool .* free \([0-9]*\) .*/\1/p' $PKT_IOMMU_STATE; }

stage_1() {
	A=$(pkt_edu_devs | sed -n 1p)
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_must "two edu devices" [ -n "$B" ] || return
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$A" $TOKEN $F || return
	pkt_must "$B shares $A's persistent domain" pkt_edu "$B" share "$A" || return
	pkt_check "DMA through $A" round_trip "$A" 1 11
	pkt_check "DMA through $B" round_trip "$B" 2 12
	pkt_liveupdate_kexec
}

stage_2() {
	A=$(pkt_edu_devs | sed -n 1p)
	B=$(pkt_edu_devs | sed -n 2p)
	pkt_adopted
	pkt_pkernfs_remount || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_eq "two records, one tree with two users" \
		"$(grep -c "^saved dmar0 .* token $TOKEN .* open" $PKT_IOMMU_STATE) $(grep -c '^tree dmar0 .* users 2 ' $PKT_IOMMU_STATE)" "2 1"
	did=$(sed -n 's/^tree dmar0 did \([0-9]*\) .*/\1/p' $PKT_IOMMU_STATE)
	pkt_must "restore $A's domain" pkt_edu "$A" restore $TOKEN $F || return
	pkt_check "DMA through $A's restored domain" round_trip "$A" 3 21
	free=$(pool_free)
	pkt_must "$A: unmap the file's second 2 MiB" \
		pkt_edu "$A" unmap "$(printf '%#x' $((PKT_EDU_IOVA + 0x200000)))" 0x200000 &&
		pkt_eq "while $B walks the tree through its copied context, the unmap clears leaves only: no table page freed" \
			"$(pool_free)" "$free"
	pkt_must "free $A's restored domain" pkt_edu "$A" release || return
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "the tree stays, held, for $B" \
		grep -q "^tree dmar0 did $did .* users 1 held 1 span(s) 4194304 bytes" $PKT_IOMMU_STATE
	pkt_expect_error "the file stays held for $B" \
		"backs DMA a kernel user keeps across kexec (IOMMU): truncate refused" truncate -s 0 $F

	pkt_must "another file" truncate -s 4M $F2 &&
	pkt_edu_persist "$A" $TOKEN2 $F2 || return
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "the new domain got another domain id than $did" sh -c \
		"grep '^domain token $TOKEN2 ' $PKT_IOMMU_STATE | grep -q 'did ' &&
		 ! grep -q '^domain token $TOKEN2 .* did $did\$' $PKT_IOMMU_STATE"
	pkt-edu pattern $F2 $((5 * 4096)) 99
	pkt_check "DMA through $B's copied context lands in its own file" round_trip "$B" 5 31
	pkt_check "and not in the new domain's file" sh -c "! pkt-edu verify $F2 $((5 * 4096)) 31"
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""

	pkt_must "restore $B's domain" pkt_edu "$B" restore $TOKEN $F || return
	pkt_check "DMA through $B's restored domain" round_trip "$B" 6 41
	pkt_must "free it" pkt_edu "$B" release || return
	pkt_check "the tree's last user is gone: nothing held" \
		grep -q "^tree dmar0 did $did .* users 0 held 0 span(s)" $PKT_IOMMU_STATE
	pkt_check "the file is free" truncate -s 0 $F
	pkt_check "A's new domain still works" pkt_edu_round_trip "$A" $F2 7 51
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
