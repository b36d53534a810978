# SPDX-License-Identifier: GPL-2.0-only
# Two pkernfs on one host, the handed-over tables in the first one's
# kernel area. A restore that names a file on the second is refused with
# EXDEV and a message (it used to make a fresh pool there and give the
# domain a NULL page table), and leaves no pool behind; the restore on the
# right filesystem then works and DMA goes on. Then a version 1 handover
# (no data area recorded, so boot bounds its leaves only by the persistent
# range) whose table maps B's superblock: the mount of B, the pkernfs
# that does not hold the pool, gives the device up before it reads its
# metadata, and B is whole. Scalable mode has no version 1: there the
# handover records a data area widened over B, the old kernel's word that
# only B's own superblock refutes.
# pkt-stages: 3
# pkt-nvdimm: 1G
# pkt-nvdimm-label: 128K
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
G=/mnt/q/other
TOKEN=0x5eed0061
INJECT=/sys/kernel/debug/pkernfs_iommu/inject

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	ndctl disable-region all > /dev/null 2>&1
	ndctl init-labels -f all > /dev/null 2>&1
	ndctl enable-region all > /dev/null 2>&1
	pkt_must "namespace A" ndctl create-namespace -r region0 -m devdax -a 2M -s 256M &&
	pkt_must "namespace B" ndctl create-namespace -r region0 -m devdax -a 2M -s 256M &&
	pkt_must "bind A" pkt_bind dax0.0 && pkt_must "bind B" pkt_bind dax0.1 &&
	mkdir -p /mnt/pk /mnt/q &&
	pkt_must "pkernfs on A and B" sh -c \
		"mount -t pkernfs -o format dax0.0 /mnt/pk && mount -t pkernfs -o format dax0.1 /mnt/q" &&
	pkt_must "guest RAM on A, a file on B" sh -c "truncate -s 4M $F && truncate -s 4M $G" || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	pkt_liveupdate_kexec
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	mkdir -p /mnt/pk /mnt/q
	pkt_must "bind B first" pkt_bind dax0.1 &&
	pkt_must "mount B" mount -t pkernfs dax0.1 /mnt/q &&
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_expect_error "restore on B refused" \
		"the tables the last kernel handed over are in another pkernfs's kernel area" \
		pkt_edu "$EDU" restore $TOKEN $G
	pkt_check "with EXDEV" grep -qx 'error -18' /sys/kernel/debug/pkt_edu/$EDU
	pkt_check "no pool was made on B" sh -c "! grep -q '^pool' $PKT_IOMMU_STATE"
	pkt_check "the record is still open" grep -q "token $TOKEN .* open" $PKT_IOMMU_STATE
	pkt_must "bind A" pkt_bind dax0.0 &&
	pkt_must "mount A" mount -t pkernfs dax0.0 /mnt/pk || return
	pkt_must "restore on A" pkt_edu "$EDU" restore $TOKEN $F || return
	pkt_check "DMA both ways through the restored domain" pkt_edu_round_trip "$EDU" $F 3 21
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
	pkt_must "a file on B" sh -c "echo kept > $G.txt" || return
	B0=$(cat /sys/bus/dax/devices/dax0.1/resource)
	pkt_info "B's data starts at $B0"
	# Scalable mode has no version 1: a recorded data area widened over B.
	if pkt_iommu_sm; then
		pkt_must "the next handover: its first leaf at B's superblock, the data area widened over it" \
			sh -c "echo $B0 > $INJECT""_pa && echo 9 > $INJECT" || return
	else
		pkt_must "the next handover: version 1, its first leaf at B's superblock" sh -c \
			"echo $B0 > $INJECT""_pa && echo 8 > $INJECT" || return
	fi
	pkt_liveupdate_kexec
}

stage_3() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_iommu_sm ||
		pkt_check "read as version 1" sh -c "dmesg | grep -q 'dmar0: handover version 1'"
	pkt_adopted
	pkt_eq "edu still bus-mastering before any mount" "$(( $(pkt_pci_command "$EDU") & 4 ))" 4
	mkdir -p /mnt/pk /mnt/q
	pkt_kmsg_mark mountB
	pkt_must "bind B" pkt_bind dax0.1 &&
	pkt_must "mount B, the pkernfs without the pool, first" mount -t pkernfs dax0.1 /mnt/q ||
		return
	pkt_check "B's mount gave the device up: its tables map B" sh -c \
		"dmesg | sed -n '/PKT MARK mountB/,\$p' | grep -q 'the tables handed over map pkernfs metadata'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
	pkt_check "the record is closed" grep -q "saved dmar0 .* token $TOKEN .* abandoned" $PKT_IOMMU_STATE
	pkt_check "nothing is held any more" grep -q "^tree dmar0 .* users 0 held 0 span(s)" $PKT_IOMMU_STATE
	pkt_eq "B's file" "$(cat $G.txt)" kept
	pkt_must "umount B" umount /mnt/q &&
	pkt_check "fsck finds B clean" pkernfsctl fsck dax0.1
	pkt_must "bind A" pkt_bind dax0.0 &&
	pkt_must "mount A" mount -t pkernfs dax0.0 /mnt/pk || return
	pkt_check "A's guest RAM is whole" pkt-edu verify $F $((3 * 4096)) 21
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 3)" ""
}
