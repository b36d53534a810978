# SPDX-License-Identifier: GPL-2.0-only
# A persistent domain's 4 KiB mappings replaced by 2 MiB ones over the same
# IOVAs: the IOMMU driver unlinks the last-level tables (switch_to_super_page)
# and gives them back to the pool only after its IOTLB flush; none is lost.
# The 2 MiB leaves are handed over at kexec, held after it as one span, and
# DMA through them lands.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0081

edu() { pkt_edu "$EDU" "$@"; }
free_pages() { sed -n 's/^pool .* free \([0-9]*\) .*/\1/p' $PKT_IOMMU_STATE; }

stage_1() {
	local f4k f2m
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	f4k=$(free_pages)
	pkt_must "unmap the 4 KiB pages" edu unmap $PKT_EDU_IOVA 0x400000 &&
	pkt_must "map the same memory again in 2 MiB pages" edu remap $PKT_EDU_IOVA 0x200000 || return
	f2m=$(free_pages)
	pkt_info "pool free pages: $f4k with 4 KiB leaves, $f2m with 2 MiB ones"
	pkt_eq "the two last-level tables went back to the pool" "$((f2m - f4k))" 2
	pkt_check "DMA through the 2 MiB leaves" pkt_edu_round_trip "$EDU" $F 600 13
	pkt_liveupdate_kexec
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	pkt_check "the 2 MiB leaves are held, 4 MiB" \
		grep -q "^tree dmar0 .* users 1 held 1 span(s) 4194304 bytes" $PKT_IOMMU_STATE
	pkt_pkernfs_remount || return
	pkt_must "load pkt_edu" pkt_edu_load &&
	pkt_must "restore" edu restore $TOKEN $F || return
	pkt_check "DMA through the handed-over 2 MiB leaves" pkt_edu_round_trip "$EDU" $F 900 23
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
