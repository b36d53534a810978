# SPDX-License-Identifier: GPL-2.0-only
# A full table pool must not cost the handover. The pool is made small
# (pkernfs_iommu.pool_pages=48) and four edu devices, A to D, are attached
# to persistent domains, each reserving the pool pages its handover takes
# at kexec: one in legacy mode (its bus's context table), three in
# scalable mode (a context table, a PASID directory and table). B's map of
# a 64 MiB file in 4 KiB pages needs more tables than are left unreserved:
# refused with ENOMEM and a message. E's attach to a persistent domain,
# once the pool is full, is refused with ENOSPC and a message. A's DMA in
# flight at the kexec lands, and A to D are all handed over. The next
# kernel restores all four in the full pool it adopts (in scalable mode
# their handed-over PASID tables hold pages until each device is adopted),
# the reserve comes back as it was, and a second kexec hands all four over
# again. (Before reservations the pool kept a fixed 8 pages back: in
# scalable mode the fourth device on a bus was stopped at kexec instead of
# handed over.)
# pkt-stages: 3
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-qemu: -device edu -device edu -device edu -device edu
# pkt-sm: test

F=/mnt/pk/guest-ram
G=/mnt/pk/big

# Pool pages four devices' handover takes.
want_reserved() { echo $((4 * $(pkt_iommu_sm && echo 3 || echo 1))); }

# pool_state FIELD: a number from the pool's line of the debugfs state.
pool_state() { sed -n "s/^pool .* $1 \([0-9]*\) .*/\1/p" $PKT_IOMMU_STATE; }

# persist DEV TOKEN [attach]: a persistent domain on G, maybe attached.
persist() {
	local e=/sys/kernel/debug/pkt_edu/$1
	pkt_must "$1: persistent domain $2${3:+, attached}" sh -c \
		"echo domain > $e && echo persist $2 $G > $e${3:+ && echo attach > $e}"
}

# fill_pool DEV: map DEV's pinned pages 2 MiB at a time, one new last-level
# table each, until the pool refuses one; FILL_LAST is the last mapped.
fill_pool() {
	local i=0 iova
	while [ $i -lt 64 ]; do
		iova=$(printf '%#x' $((0x80000000 + i * 0x200000)))
		pkt_edu "$1" remap "$iova" 4096 0x200000 >/dev/null 2>&1 || break
		FILL_LAST=$iova
		i=$((i + 1))
	done
	pkt_info "$1: $i maps of 2 MiB until the pool refused one"
}

stage_1() {
	local a b e f n
	a=$(pkt_edu_devs | sed -n 1p)
	b=$(pkt_edu_devs | sed -n 2p)
	e=$(pkt_edu_devs | sed -n 5p)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "a 64 MiB file" truncate -s 64M $G &&
	pkt_must "a pool of 48 pages" sh -c "echo 48 > /sys/module/pkernfs_iommu/parameters/pool_pages" &&
	pkt_edu_persist "$a" 0x5eed0021 $F &&
	persist "$b" 0x5eed0022 attach &&
	persist "$(pkt_edu_devs | sed -n 3p)" 0x5eed0023 attach &&
	persist "$(pkt_edu_devs | sed -n 4p)" 0x5eed0024 attach &&
	persist "$e" 0x5eed0025 || return
	n=$(pool_state reserved)
	pkt_eq "four devices reserve their handover's pages (1 each, 3 in scalable mode)" \
		"$n" "$(want_reserved)"
	f=$(pool_state free)
	pkt_expect_error "B: a map past the unreserved pages" \
		"token 0x5eed0022: the IOMMU table pool is full" \
		pkt-edu map "$b" $G 0x4000000 0x4000000 4096
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	# Its last-level tables go back; at most two upper tables stay.
	pkt_check "B's failed map, undone, gives its tables back to the pool (free $f before)" \
		test "$(pool_state free)" -ge $((f - 2))
	fill_pool "$b"
	pkt_check "B maps at least one 2 MiB piece before the pool is full" [ -n "$FILL_LAST" ]
	pkt_eq "B's 2 MiB maps fill the pool: its free pages are the reserved ones" \
		"$(pool_state free)" "$n"
	pkt_must "B: unmap a 2 MiB map" pkt_edu "$b" unmap "$FILL_LAST" 0x200000 &&
		pkt_eq "the unmap gives its last-level table back" "$(pool_state free)" $((n + 1)) &&
		pkt_must "B: map it again" pkt_edu "$b" remap "$FILL_LAST" 4096 0x200000
	pkt_expect_error "E: attach to a persistent domain the full pool cannot hand over" \
		"domain 0x5eed0025: the IOMMU table pool cannot keep the" \
		sh -c "echo attach > /sys/kernel/debug/pkt_edu/$e"
	pkt_eq "E's attach fails with ENOSPC" \
		"$(sh -c "echo attach > /sys/kernel/debug/pkt_edu/$e" 2>&1 | grep -c 'No space left')" 1
	pkt_eq "the reserve is unchanged" "$(pool_state reserved)" "$n"
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$a" 16
}

stage_2() {
	local a d i
	a=$(pkt_edu_devs | sed -n 1p)
	pkt_info "$(dmesg | grep -v 'PKT ' | grep 'pkernfs-iommu' | tr '\n' ';')"
	pkt_check "A to D were handed over and adopted" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation (generation 1): 4 preserved'"
	pkt_pkernfs_remount || return
	pkt_check "A's DMA in flight at kexec landed" pkt-edu verify $F $((16 * 4096)) 11
	pkt_eq "no DMAR fault from A" "$(pkt_dmar_faults | grep -c "\[$(echo "$a" | cut -c6-)\]")" 0
	pkt_must "load pkt_edu" pkt_edu_load || return
	for i in 1 2 3 4; do
		d=$(pkt_edu_devs | sed -n ${i}p)
		pkt_must "$d: restored by its token, attached" \
			pkt_edu "$d" restore 0x5eed002$i "$([ $i = 1 ] && echo $F || echo $G)" || return
	done
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_eq "the restored devices reserve as before" "$(pool_state reserved)" "$(want_reserved)"
	pkt_check "the reserve is covered again (free >= reserved)" \
		test "$(pool_state free)" -ge "$(want_reserved)"
	f=$(pool_state free)
	pkt_must "B, restored: unmap two of its 2 MiB maps" \
		pkt_edu "$(pkt_edu_devs | sed -n 2p)" unmap 0x80000000 0x400000 &&
		pkt_eq "a restored domain's unmap gives its last-level tables back" \
			"$(pool_state free)" $((f + 2))
	pkt_must "A: load edu's buffer from the file" pkt_edu "$a" to-dev "$(pkt_iova 0)" $PKT_EDU_LEN ||
		return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$a" 32
}

stage_3() {
	local a
	a=$(pkt_edu_devs | sed -n 1p)
	pkt_check "A to D were handed over again" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation (generation 2): 4 preserved'"
	pkt_pkernfs_remount || return
	pkt_check "A's DMA in flight at the second kexec landed" pkt-edu verify $F $((32 * 4096)) 11
	pkt_eq "no DMAR fault from A" "$(pkt_dmar_faults | grep -c "\[$(echo "$a" | cut -c6-)\]")" 0
}
