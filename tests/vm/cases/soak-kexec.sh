# SPDX-License-Identifier: GPL-2.0-only
# Soak: kexec after kexec in one QEMU process (10 here; make soak runs
# 100 with PKT_STAGES). Every stage finds every file the earlier stages
# wrote, byte for byte, and every page the persistent DMA domain wrote;
# a DMA is in flight at each kexec and lands in the next kernel. Every
# tenth stage fscks; then each restores the domain and writes a file of
# its own.
# pkt-stages: 10
# pkt-nvdimm: 512M
# pkt-legs: test
# pkt-timeout: 600

M=/mnt/pk
F=$M/guest-ram
TOKEN=0x5eed50a1
LAST=$(pkt_arg pkt.stages)

edu() { pkt_edu "$EDU" "$@"; }

# Page of the guest RAM file the DMA in flight at kexec N lands on, and
# its pattern.
landing() { echo $((16 + $1)); }
seed() { echo $((1000 + $1)); }

# The stages' own files: 64 KiB .. 448 KiB, seeded by the stage.
fsize() { echo $(( (64 << 10) * (1 + $1 % 7) )); }

# Stage N's work, then the kexec with a DMA in flight (or the end).
work() {
	local n=$1
	truncate -s "$(fsize "$n")" $M/f$n && pkt-mem fill $M/f$n 0 "$(fsize "$n")" "$n" > /dev/null ||
		{ pkt_fail "stage $n: write f$n"; return 1; }
	# What the DMAs wrote so far, for the next stage to find.
	dd if=$F bs=4096 skip=17 count=$((n - 1)) 2> /dev/null | md5sum | cut -c1-32 > $M/dma.sum
	sync $M/dma.sum
	[ "$n" = "$LAST" ] && return 0
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" "$(landing "$n")"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	# The pages the in-flight DMAs land on start as something else.
	dd if=/dev/zero of=$F bs=4096 seek=17 count=$((LAST + 1)) conv=notrunc 2> /dev/null
	pkt-edu pattern $F 0 "$(seed 1)"
	edu to-dev "$(pkt_iova 0)" $PKT_EDU_LEN || { pkt_fail "load edu's buffer"; return; }
	pkt_info "soak: $LAST stages"
	work 1
}

stage_n() {
	local n=$1 i files=0 bytes=0 bad=""
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_remount || return
	pkt_check "stage $n: the DMA in flight at kexec $((n - 1)) landed" \
		pkt-edu verify $F $(($(landing $((n - 1))) * 4096)) "$(seed $((n - 1)))"
	pkt_eq "stage $n: every earlier DMA's page as it was" \
		"$(dd if=$F bs=4096 skip=17 count=$((n - 2)) 2> /dev/null | md5sum | cut -c1-32)" \
		"$(cat $M/dma.sum)"
	for i in $(seq 1 $((n - 1))); do
		if pkt-mem verify $M/f$i 0 "$(fsize "$i")" "$i" > /dev/null 2>&1; then
			files=$((files + 1))
			bytes=$((bytes + $(fsize "$i")))
		else
			bad="$bad f$i"
		fi
	done
	pkt_eq "stage $n: every earlier file (${files} files, $bytes bytes)" "${bad:-none}" none
	# Before the restore holds the file: umount is allowed then.
	if [ $((n % 10)) = 0 ] || [ "$n" = "$LAST" ]; then
		pkt_check "stage $n: fsck clean" sh -c "umount $M && pkernfsctl fsck dax0.0 &&
			mount -t pkernfs dax0.0 $M"
	fi
	pkt_must "stage $n: load pkt_edu" pkt_edu_load &&
	pkt_must "stage $n: restore the domain" edu restore $TOKEN $F || return
	pkt-edu pattern $F 0 "$(seed "$n")"
	edu to-dev "$(pkt_iova 0)" $PKT_EDU_LEN || { pkt_fail "stage $n: load edu's buffer"; return; }
	pkt_eq "stage $n: no DMAR fault" "$(pkt_dmar_faults | head -n 1)" ""
	# A word added at every kexec would outgrow the kernel's 2048 bytes.
	pkt_eq "stage $n: no word twice on the command line" \
		"$(tr ' ' '\n' < /proc/cmdline | grep . | sort | uniq -d | tr '\n' ' ')" ""
	pkt_info "SOAK stage=$n files=$files bytes=$((bytes + 4096 * (n - 1)))"
	work "$n"
}

for _n in $(seq 2 "${LAST:-10}"); do
	eval "stage_$_n() { stage_n $_n; }"
done
