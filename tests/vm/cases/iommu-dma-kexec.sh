# SPDX-License-Identifier: GPL-2.0-only
# DMA continuity through live update, three kexecs in a row. The edu
# device's domain is persistent (tables in pkernfs's kernel area) and maps
# a pkernfs file. Before every kexec -e a DMA is started that lands about
# 100 ms later, during the kexec, on a page the device never touched
# before (QEMU caches translations). After each kexec: the pattern is in
# the file, no DMAR fault, the domain is restored by its token and a new
# DMA in each direction works. iommu-control is the same without marking
# the domain, and shows the in-flight DMA lost.
# pkt-stages: 4
# pkt-nvdimm: 512M
# pkt-timeout: 300
# pkt-sm: test debug
# pkt-console: iommu: kexec: 1 IOMMU groups keep their DMA, [1-9][0-9]* blocked

F=/mnt/pk/guest-ram
TOKEN=0x5eed0001

edu() { pkt_edu "$EDU" "$@"; }

# check_landed PAGE SEED WHAT
check_landed() {
	pkt_check "$3: page $1 holds pattern $2" pkt-edu verify $F $(($1 * 4096)) "$2"
}

# A DMA each way through the (restored) domain: file page 0 -> edu -> PAGE.
dma_round_trip() {
	pkt-edu pattern $F 0 "$2" &&
	edu to-dev "$(pkt_iova 0)" $PKT_EDU_LEN &&
	edu to-ram "$(pkt_iova "$1")" $PKT_EDU_LEN &&
	pkt-edu verify $F $(($1 * 4096)) "$2"
}

# The file's memory is held for the domain: nothing may free it.
file_held() {
	pkt_expect_error "$1: truncate refused" "backs DMA a kernel user keeps across kexec (IOMMU): truncate refused" \
		truncate -s 0 $F
	pkt_expect_error "$1: hole punch refused" "hole punch refused" pkt-fsops falloc $F punch 0 2M
	pkt_expect_error "$1: unlink refused" "unlink of its last name refused" rm $F
	pkt_eq "$1: the file is whole" "$(stat -c %s $F)" 4194304
}

no_dmar_faults() {
	pkt_eq "no DMAR fault in the kernel log" "$(pkt_dmar_faults | head -n 3)" ""
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_info "edu at $EDU"
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "allocate a paging domain" edu domain &&
	pkt_must "mark it persistent (token $TOKEN)" edu persist $TOKEN $F &&
	pkt_must "attach edu" edu attach &&
	pkt_must "map the 4 MiB file at $(pkt_iova 0), 4 KiB pages" \
		pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 || return
	pkt_check "DMA both ways before kexec" dma_round_trip 1 11
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_check "the pool is in pkernfs's kernel area" grep -q '^pool ' $PKT_IOMMU_STATE
	file_held "mapped by the persistent domain"
	pkt_check "kexec-check: not ready without the live-update request" sh -c \
		"pkernfsctl kexec-check > /tmp/kc 2>&1; [ \$? = 1 ] && grep -q 'lacks pkernfs_iommu.liveupdate=1' /tmp/kc"
	pkt_check "kexec-check: ready with it" \
		pkernfsctl kexec-check --append "$(cat /proc/cmdline) pkernfs_iommu.liveupdate=1"
	pkt_check "a second name may go" sh -c "ln $F $F.2 && rm $F.2"
	no_dmar_faults
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" 16
}

# stage_n N: check what stage N-1 left, restore, and go on (or stop).
stage_n() {
	local n=$1 inflight=$((12 + 2 * $1)) seed=$((11 * ($1 - 1)))
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "the kernel adopted the handed-over translation" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation'"
	pkt_info "$(dmesg | grep -E 'pkernfs-iommu|DMAR: (Translation|Copied)' | tr '\n' ';')"
	no_dmar_faults
	pkt_check "device_dax did not take the memory holding the adopted tables" sh -c \
		"[ ! -e /sys/bus/dax/devices/dax0.0/driver ] &&
		 ! echo dax0.0 > /sys/bus/dax/drivers/device_dax/bind 2>/dev/null &&
		 [ ! -e /sys/bus/dax/devices/dax0.0/driver ]"
	pkt_pkernfs_remount || return
	check_landed $inflight $seed "the DMA in flight during kexec $((n - 1)) landed"
	check_landed 1 11 "the DMA of stage 1"
	file_held "after kexec $((n - 1)), before the restore (the mark is on media)"
	if [ "$n" = 2 ]; then
		pkt_must "umount" umount /mnt/pk &&
		pkt_expect_refusal "format over the live IOMMU pool" \
			"kernel-only area holds 1 live entries" -o format,force dax0.0 /mnt/pk
		pkt_must "mount again" mount -t pkernfs dax0.0 /mnt/pk || return
	fi
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_check "the handover lists edu under the token" \
		grep -q "saved dmar0 .* $(echo "$EDU" | cut -c6-) token $TOKEN .* open" $PKT_IOMMU_STATE
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	pkt_must "restore the domain by its token, attach without a fault" \
		edu restore $TOKEN $F || return
	pkt_check "restored" grep -q "token $TOKEN .* restored" $PKT_IOMMU_STATE
	pkt_check "DMA both ways after kexec $((n - 1))" dma_round_trip $((inflight + 1)) $((11 * n))
	no_dmar_faults
	if [ "$n" = 4 ]; then
		file_held "restored"
		pkt_must "unload pkt_edu: the domain is freed, the file released" rmmod pkt_edu &&
		pkt_check "the pool went back to the kernel area" sh -c "! grep -q '^pool' $PKT_IOMMU_STATE" &&
		pkt_check "released: truncate works" truncate -s 0 $F
		pkt_must "umount" umount /mnt/pk &&
		pkt_check "no live kernel-area entry is left: format is allowed again" \
			mount -t pkernfs -o format,force dax0.0 /mnt/pk
		return
	fi
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	if [ "$n" = 3 ]; then
		# As iommu-control's: started by the driver's shutdown callback.
		pkt_must "a DMA to page $((inflight + 2)), started by the driver at shutdown" \
			edu to-ram "$(pkt_iova $((inflight + 2)))" $PKT_EDU_LEN atshutdown || return
		pkt-edu kexec
		pkt_fail "kexec returned"
		return
	fi
	pkt_dma_kexec "$EDU" $((inflight + 2))
}

stage_2() { stage_n 2; }
stage_3() { stage_n 3; }
stage_4() { stage_n 4; }
