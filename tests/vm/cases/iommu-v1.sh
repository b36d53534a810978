# SPDX-License-Identifier: GPL-2.0-only
# Handover version 1, as format 1.1 kernels write it (no data area; the
# device records 16 bytes earlier), written by this kernel through the
# inject knob so both kernels of the suite read it (compat-iommu runs the
# real 1.1 kernel, on the test kernel only). The next kernel adopts it,
# the DMA in flight lands, the domain is restored and works. Then a
# version 1 handover whose table maps one page of pkernfs metadata: at
# boot only the namespace bounds it, but the mount, which knows where the
# data area is, gives the device up before it reads its metadata (bus
# mastering off, nothing held), and the filesystem is whole.
# pkt-stages: 3
# pkt-nvdimm: 512M
# pkt-timeout: 300

F=/mnt/pk/guest-ram
TOKEN=0x5eed0071
INJECT=/sys/kernel/debug/pkernfs_iommu/inject

edu() { pkt_edu "$EDU" "$@"; }

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	pkt_must "the next handover is written as version 1" sh -c "echo 6 > $INJECT" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "read as version 1" sh -c \
		"dmesg | grep -q 'dmar0: handover version 1 (from a format 1.1 kernel): read as version 2'"
	pkt_adopted
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight during kexec landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "restore the domain by its token" edu restore $TOKEN $F || return
	pkt_check "DMA both ways" pkt_edu_round_trip "$EDU" $F 3 22
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
	pkt_must "the next handover: version 1, one leaf into metadata" sh -c "echo 7 > $INJECT" ||
		return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt-edu kexec
	pkt_fail "kexec returned"
}

stage_3() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	pkt_eq "edu still bus-mastering before the mount" "$(( $(pkt_pci_command "$EDU") & 4 ))" 4
	pkt_check "its tree is held" grep -q "^tree dmar0 .* users 1 held" $PKT_IOMMU_STATE
	pkt_kmsg_mark mount3
	pkt_pkernfs_remount || return
	pkt_check "the mount gave it up: its tables map metadata" sh -c \
		"dmesg | sed -n '/PKT MARK mount3/,\$p' | grep -q 'the tables handed over map pkernfs metadata'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_check "nothing is held any more" grep -q "^tree dmar0 .* users 0 held 0 span(s)" $PKT_IOMMU_STATE
	pkt_check "the record is closed" grep -q "saved dmar0 .* token $TOKEN .* abandoned" $PKT_IOMMU_STATE
	pkt_check "the file is whole: stage 1's DMA and stage 2's" sh -c \
		"pkt-edu verify $F $((16 * 4096)) 11 && pkt-edu verify $F $((3 * 4096)) 22"
	pkt_must "umount" umount /mnt/pk || return
	pkt_check "fsck finds the filesystem clean" pkernfsctl fsck dax0.0
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
