# SPDX-License-Identifier: GPL-2.0-only
# A memory error in the IOMMU table pool (pkernfs's kernel-only area): the
# pool is flagged and the error recorded; at the next kexec the unit's
# preserved devices are stopped (bus mastering off) instead of handing
# over tables that cannot be trusted, so no device DMAs through them. The
# next kernel adopts nothing, refuses the restore, and builds new tables
# around the bad page, which fsck lists. kexec-check says so and does not
# arm; armed by hand, the kernel still refuses.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 300
# pkt-console: memory error hit its table pool

F=/mnt/pk/guest-ram
TOKEN=0x5eed0b0b
INJECT=/sys/kernel/debug/hwpoison/corrupt-pfn

stage_1() {
	local pool pages bad
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	pool=$(sed -n 's/^pool \(0x[0-9a-f]*\) pages \([0-9]*\) .*/\1/p' $PKT_IOMMU_STATE)
	pages=$(sed -n 's/^pool \(0x[0-9a-f]*\) pages \([0-9]*\) .*/\2/p' $PKT_IOMMU_STATE)
	[ -n "$pool" ] && [ -n "$pages" ] || { pkt_fail "no pool in $PKT_IOMMU_STATE"; return; }
	bad=$(( (pool >> 12) + pages - 1 ))
	pkt_info "pool $pool, $pages pages; poisoning pfn $(printf %#x $bad)"
	pkt_check "hwpoison-inject into the table pool" sh -c "echo $bad > $INJECT"
	pkt_check "logged with the pool's name" sh -c \
		"dmesg | grep -q \"memory error in the kernel-only area (page [0-9]*), in 'intel-iommu.*not handed over at kexec\""
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	PKT_NO_ARM=1 pkt_kexec_load || return
	pkt_eq "kexec-check --arm: not ready, not armed" "$(pkernfsctl kexec-check --arm --kernel /boot/bzImage \
		--append "$PKT_NEXT_CMDLINE" > /tmp/kc 2>&1; echo $?)" 1
	pkt_check "it names the error in the pool" \
		grep -q '^FAIL memory .*a memory error hit the IOMMU table pool' /tmp/kc
	pkt_eq "armed stays 0" "$(cat $PKT_IOMMU_ARMED)" 0
	# An operator who arms it anyway: the kernel still refuses at kexec.
	pkt_check "arm by hand" sh -c "echo 1 > $PKT_IOMMU_ARMED"
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "nothing adopted" "$(dmesg | grep -c 'adopting the previous kernel')" 0
	pkt_pkernfs_remount || return
	pkt_check "the mount knows the bad page" sh -c "dmesg | grep -q '1 bad pages recorded'"
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_expect_error "restore of the domain whose pool was hit" "no domain was handed over under token" \
		pkt_edu "$EDU" restore $TOKEN $F
	pkt_must "a new persistent domain" sh -c \
		"e=/sys/kernel/debug/pkt_edu/$EDU; echo detach > \$e 2>/dev/null; echo domain > \$e &&
		 echo persist 0x5eed0b0c $F > \$e && echo attach > \$e" &&
	pkt_must "map the file" pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 &&
	pkt_check "DMA both ways through tables built around the bad page" \
		pkt_edu_round_trip "$EDU" $F 3 21
	pkt_check "pkernfsctl info counts it" sh -c "[ \$(pkernfsctl info -j dax0.0 | jq .bad_pages) = 1 ]"
}
