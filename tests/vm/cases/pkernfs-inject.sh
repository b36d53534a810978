# SPDX-License-Identifier: GPL-2.0-only
# Fault injection (issue 21): a metadata and mmap workload, then the IOMMU
# persist and restore paths, under random failures of kmalloc (failslab),
# alloc_pages (fail_page_alloc) and pkernfs's own error points
# (fail_pkernfs: pkernfs_txn_add, pkernfs_take_slot, pkernfs_alloc_aus,
# pkernfs_kroot_page_alloc). Only the workload's processes fail
# (task-filter). Every failure must reach the caller as an errno: no oops
# or WARN (the console is checked), fsck clean after umount, every file
# that was completed intact, and no leak (kmemleak).
# Debug kernel only: it has the injection framework.
# pkt-stages: 2
# pkt-legs: debug
# pkt-nvdimm: 512M
# pkt-append: kmemleak=on
# pkt-timeout: 400

M=/mnt/pk
F=$M/guest-ram
TOKEN=0x5eed1e1e
DBG=/sys/kernel/debug
K=$DBG/kmemleak

# inject on|off: pkernfs's points at 10%, kmalloc and alloc_pages at 2%
# (they are hit far more often, exec included), for tasks with
# make-it-fail set.
inject() {
	local a f
	for a in failslab fail_page_alloc fail_pkernfs; do
		[ -d $DBG/$a ] || continue
		if [ "$1" = on ]; then
			if [ $a = fail_pkernfs ]; then
				echo 10 > $DBG/$a/probability
			else
				echo 2 > $DBG/$a/probability
			fi
			echo -1 > $DBG/$a/times
			# One line per failure, no stack: counted below.
			echo 1 > $DBG/$a/verbose
			echo Y > $DBG/$a/task-filter
		else
			echo 0 > $DBG/$a/probability
		fi
	done
	[ -d $DBG/fail_page_alloc ] && echo N > $DBG/fail_page_alloc/ignore-gfp-wait 2> /dev/null
	[ -d $DBG/failslab ] && echo N > $DBG/failslab/ignore-gfp-wait 2> /dev/null
	return 0
}

# failing CMD...: run CMD as a task that injection may hit.
failing() { sh -c 'echo 1 > /proc/self/make-it-fail && exec "$@"' sh "$@"; }

# One round of the workload. The operations fail at random; the
# bookkeeping of what completed runs outside injection.
round() {
	local i=$1 n=s${PKT_STAGE}w$1 d=$M/s${PKT_STAGE}w$1
	failing mkdir $d 2> /dev/null || return 0
	failing sh -c "head -c $((4096 * (1 + i % 5))) /tmp/seed > $d/a" 2> /dev/null &&
		(cd $M && md5sum $n/a >> /tmp/done.md5)
	failing truncate -s 4M $d/m 2> /dev/null &&
		failing pkt-mem fill $d/m 0 4M $i > /dev/null 2>&1 && echo "$n/m $i" >> /tmp/done.mem
	if [ -e $d/a ] && failing mv $d/a $d/b 2> /dev/null; then
		sed -i "s#$n/a\$#$n/b#" /tmp/done.md5
	fi
	failing ln -s b $d/s 2> /dev/null
	failing pkt-fsops falloc $d/m punch 0 4096 > /dev/null 2>&1
	failing truncate -s 1M $d/m 2> /dev/null
	failing rm -f $d/s 2> /dev/null
	return 0
}

workload() {
	local i
	: > /tmp/done.md5
	: > /tmp/done.mem
	for i in $(seq 1 20); do
		round "$i"
	done
}

# Nothing was lost that had completed; fsck clean; no leak.
settle() {
	pkt_check "$1: umount" umount $M
	pkt_check "$1: fsck clean" sh -c "pkernfsctl fsck dax0.0 > /tmp/fsck 2>&1 || { cat /tmp/fsck; false; }"
	pkt_info "$1: $(tail -n 1 /tmp/fsck)"
	pkt_must "$1: mount again" mount -t pkernfs dax0.0 $M || return
	pkt_check "$1: every completed file intact ($(wc -l < /tmp/done.md5) written)" sh -c \
		"[ -s /tmp/done.md5 ] && cd $M && md5sum -c /tmp/done.md5 > /dev/null"
	pkt_check "$1: every tree readable" sh -c "find $M -type f | xargs cat > /dev/null"
}

leaks() {
	local n
	echo scan > $K && sleep 1 && echo scan > $K
	n=$(grep -c 'pkernfs\|pkvtd\|pkt_edu' $K)
	pkt_eq "$1: kmemleak finds nothing of pkernfs" "$n" 0
	[ "$n" = 0 ] || pkt_info "$(grep -B3 -A12 -m2 'pkernfs\|pkvtd' $K | tr '\n' '|' | cut -c1-1500)"
}

stage_1() {
	local i e
	[ -d $DBG/fail_pkernfs ] || { pkt_skip "no fail_pkernfs: not the debug kernel"; return; }
	[ -e $K ] || { pkt_skip "kmemleak not available"; return; }
	head -c 65536 /dev/urandom > /tmp/seed
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "arm injection" inject on || return
	workload
	# One round with nothing injected: the fs still works, and a check
	# below never passes on nothing (a round may complete nothing).
	inject off
	round 0
	pkt_info "workload: $(dmesg | grep -c 'FAULT_INJECTION: forcing a failure') injected failures ($(dmesg | grep -c 'name fail_pkernfs') in pkernfs), $(wc -l < /tmp/done.md5) files and $(wc -l < /tmp/done.mem) mappings completed"
	settle "after the workload"
	# Past the punched first page and within the 1 MiB truncate.
	pkt_check "the mappings that completed hold their data" sh -c \
		"while read f s; do pkt-mem verify $M/\$f 4096 1044480 \$s > /dev/null || exit 1; done < /tmp/done.mem"

	# The IOMMU persist path: a failed try must leave nothing behind.
	pkt_must "load pkt_edu" pkt_edu_load || return
	e=/sys/kernel/debug/pkt_edu/$EDU
	inject on
	for i in $(seq 1 20); do
		failing sh -c "echo domain > $e && echo persist $TOKEN $F > $e && echo attach > $e" \
			2> /dev/null && break
		echo release > $e 2> /dev/null
	done
	inject off
	pkt_info "persist took $i tries under injection"
	if ! grep -q "token $TOKEN" $PKT_IOMMU_STATE; then
		pkt_must "persist without injection" sh -c \
			"echo domain > $e; echo persist $TOKEN $F > $e && echo attach > $e" || return
	fi
	pkt_must "map the file" pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 &&
	pkt_check "DMA both ways" pkt_edu_round_trip "$EDU" $F 2 31
	leaks "stage 1"
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	local i e
	head -c 65536 /dev/urandom > /tmp/seed
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_adopted
	pkt_pkernfs_remount || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	e=/sys/kernel/debug/pkt_edu/$EDU
	inject on
	for i in $(seq 1 20); do
		failing sh -c "echo restore $TOKEN $F > $e" 2> /dev/null && break
	done
	inject off
	pkt_info "restore took $i tries under injection"
	grep -q "token $TOKEN .* restored" $PKT_IOMMU_STATE ||
		pkt_must "restore without injection" sh -c "echo restore $TOKEN $F > $e" || return
	pkt_check "restored" grep -q "token $TOKEN .* restored" $PKT_IOMMU_STATE
	pkt_check "DMA both ways after the restore" pkt_edu_round_trip "$EDU" $F 3 41
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 1)" ""
	pkt_must "release the domain: the file is free to unmount" sh -c "echo release > $e" || return
	inject on
	workload
	inject off
	round 0
	pkt_info "workload: $(dmesg | grep -c 'FAULT_INJECTION: forcing a failure') injected failures in all, $(wc -l < /tmp/done.md5) files and $(wc -l < /tmp/done.mem) mappings completed"
	settle "after kexec"
	leaks "stage 2"
}
