# SPDX-License-Identifier: GPL-2.0-only
# Damaged IOMMU handovers are refused with a message naming the damage,
# the preserved device's bus mastering is turned off, translation starts
# clean, and the boot goes on: pkernfs mounts and a new persistent domain
# works. The damage is injected at kexec through debugfs
# (/sys/kernel/debug/pkernfs_iommu/inject): a changed byte after the
# checksum, an unknown format version, another unit's register base, a
# context entry with domain id 0, a data area that leaves out pages the
# domain maps. Each is checksummed as the old kernel wrote it but for the
# first, so only the next kernel's own checks can catch it.
# pkt-stages: 6
# pkt-nvdimm: 512M
# pkt-timeout: 400
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0005

# setup: a persistent domain mapping the file, whatever the pool holds.
setup() {
	local e=/sys/kernel/debug/pkt_edu/$EDU
	pkt_must "load pkt_edu" pkt_edu_load &&
	pkt_must "persistent domain" sh -c "echo domain > $e && echo persist $TOKEN $F > $e && echo attach > $e" &&
	pkt_must "map the file" pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 &&
	pkt-edu pattern $F 0 "$1" &&
	pkt_must "DMA both ways" sh -c "echo to-dev $(pkt_iova 0) $PKT_EDU_LEN > $e &&
		echo to-ram $(pkt_iova "$2") $PKT_EDU_LEN > $e && pkt-edu verify $F $(($2 * 4096)) $1"
}

# damage_and_kexec KIND NUMBER
damage_and_kexec() {
	pkt_must "inject: $1" sh -c "echo $2 > /sys/kernel/debug/pkernfs_iommu/inject" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt-edu kexec
}

# refused WHY ERRNO: the boot after a damaged handover.
refused() {
	pkt_check "refused: $1" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: IOMMU state from the previous kernel refused: $1'"
	pkt_check "its devices stopped before translation went off" sh -c \
		"dmesg | grep -Eq 'pkernfs-iommu: dmar0: [1-9][0-9]* device\(s\) stopped before translation goes off'"
	pkt_eq "nothing adopted" "$(dmesg | grep -c 'adopting the previous kernel')" 0
	pkt_check "the preserved device's bus mastering was turned off" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off'"
	pkt_pkernfs_remount || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_expect_error "restore of the refused domain" "handover was not adopted at boot ($1)" \
		pkt_edu "$EDU" restore $TOKEN $F
	pkt_check "restore gives errno $2" sh -c "grep -qx 'error -$2' /sys/kernel/debug/pkt_edu/$EDU"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	setup 11 1 || return
	damage_and_kexec "a byte changed after the checksum" 1
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	refused "checksum mismatch" 74 || return	# EBADMSG
	setup 22 2 || return
	damage_and_kexec "format version 4" 2
}

stage_3() {
	EDU=$(pkt_edu_devs | head -n 1)
	refused "handover format version 4, this kernel reads versions 1 to 3" 93 || return	# EPROTONOSUPPORT
	setup 33 3 || return
	damage_and_kexec "another unit's register base" 3
}

stage_4() {
	EDU=$(pkt_edu_devs | head -n 1)
	refused "saved for another IOMMU unit (register base differs)" 74 || return
	setup 44 4 || return
	damage_and_kexec "a context entry with domain id 0" 4
}

stage_5() {
	EDU=$(pkt_edu_devs | head -n 1)
	refused "domain id 0 or out of range" 74 || return
	setup 55 5 || return
	damage_and_kexec "a data area of one page" 5
}

stage_6() {
	EDU=$(pkt_edu_devs | head -n 1)
	refused "a mapping outside the pkernfs data area" 74 || return
	setup 66 6
	pkt_check "every earlier DMA is still in the file" sh -c \
		"pkt-edu verify $F 4096 11 && pkt-edu verify $F 8192 22 && pkt-edu verify $F 12288 33 &&
		 pkt-edu verify $F 16384 44 && pkt-edu verify $F 20480 55"
}
