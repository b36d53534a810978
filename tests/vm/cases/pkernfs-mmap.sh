# SPDX-License-Identifier: GPL-2.0-only
# mmap of pkernfs files: PTE and PMD faults counted by the pkernfs_fault
# tracepoint; pages pinnable with FOLL_LONGTERM (io_uring) where fs-dax
# refuses; truncate and unlink while mapped and while pinned never free
# referenced memory; two instances at once; parallel faulting threads.
# pkt-nvdimm: 1G
# pkt-nvdimm-label: 128K
# pkt-timeout: 300

T=/sys/kernel/tracing
A=/mnt/a
B=/mnt/b

faults() {
	# faults ORDER: pkernfs_fault events of that order since the last reset
	grep -c "order=$1 " $T/trace
}

free_aus() { set -- $(pkt-fsops statfs "$1"); echo "$4"; }

stage_1() {
	mkdir -p $A $B /mnt/x
	ndctl disable-region all > /dev/null 2>&1
	ndctl init-labels -f all > /dev/null 2>&1
	ndctl enable-region all > /dev/null 2>&1
	pkt_check "namespace A (devdax)" ndctl create-namespace -r region0 -m devdax -a 2M -s 256M
	pkt_check "namespace B (devdax)" ndctl create-namespace -r region0 -m devdax -a 2M -s 256M
	pkt_check "namespace C (fsdax)" ndctl create-namespace -r region0 -m fsdax -s 256M
	pkt_check "bind A" pkt_bind dax0.0
	pkt_check "bind B" pkt_bind dax0.1
	pkt_check "mount A" mount -t pkernfs -o format dax0.0 $A
	pkt_check "mount B at the same time" mount -t pkernfs -o format dax0.1 $B
	pkt_eq "two pkernfs instances mounted" "$(grep -c ' pkernfs ' /proc/mounts)" 2

	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	truncate -s 64M $A/pmd
	: > $T/trace
	pkt_check "fill 64M through mmap" pkt-mem fill $A/pmd 0 64M 1
	pkt_eq "64M written through 32 PMD faults" "$(faults 9)" 32
	pkt_eq "and no PTE fault" "$(faults 0)" 0
	: > $T/trace
	pkt_check "verify through a 64K mapping" pkt-mem verify $A/pmd 4K 64K 1
	pkt_eq "a 64K mapping takes 16 PTE faults" "$(faults 0)" 16
	pkt_check "read() sees what mmap wrote" sh -c "pkt-mem sum $A/pmd 0 64M >/dev/null && cmp -n 4096 $A/pmd $A/pmd"
	echo 0 > $T/events/pkernfs/pkernfs_fault/enable

	# Truncate while mapped: the mapping loses the pages (SIGBUS past EOF), the
	# AUs are freed, and nothing faults in memory that another file now owns.
	truncate -s 8M $A/t1
	before=$(free_aus $A)
	out=$(pkt-fsops map $A/t1 8M "truncate -s 2M $A/t1" | tr '\n' ' ')
	pkt_eq "truncate 8M to 2M while mapped; the mapping past EOF is gone" \
		"$out" "mapped-cmd-status 0 last-byte sigbus "
	pkt_eq "the 3 AUs past the new EOF were freed" "$(free_aus $A)" "$((before - 1))"
	pkt_eq "the first 2M kept its data" "$(od -An -tx1 -N2 $A/t1)" " 6b 6b"
	truncate -s 8M $A/t2
	pkt-mem fill $A/t2 0 8M 9 > /dev/null
	out=$(pkt-fsops pin $A/t2 8M "truncate -s 0 $A/t2")
	pkt_eq "truncate of pinned pages is refused (EBUSY)" "$(echo "$out" | tail -n 1)" "pinned-cmd-status 1"
	pkt_eq "the pinned file kept its size" "$(stat -c %s $A/t2)" 8388608
	pkt_eq "and its data (the pinner wrote 0x5a)" "$(od -An -tx1 -N4 $A/t2)" " 5a 5a 5a 5a"
	pkt_check "truncate works once unpinned" truncate -s 0 $A/t2
	truncate -s 8M $A/t2
	out=$(pkt-fsops pin $A/t2 8M "pkt-fsops falloc $A/t2 punch 0 4M")
	pkt_eq "hole punch of pinned pages is refused (EBUSY)" "$(echo "$out" | tail -n 1)" "pinned-cmd-status 1"
	rm -f $A/t1 $A/t2
	pkt_eq "freed AUs are back" "$(free_aus $A)" "$before"

	# Unlink while pinned and no longer mapped or open: the inode is kept as
	# an orphan until the pin is gone, and the next mount frees it.
	truncate -s 16M $A/orphan
	before=$(free_aus $A)
	pkt_kmsg_mark orphan
	out=$(pkt-fsops pin $A/orphan 16M "rm $A/orphan" unmap)
	pkt_eq "unlink of a pinned file succeeds" "$(echo "$out" | tail -n 1)" "pinned-cmd-status 0"
	pkt_kmsg_since orphan | grep -q 'unlinked while its memory is pinned'
	pkt_eq "its memory was not freed while pinned (kernel says so)" "$?" 0
	pkt_eq "its 8 AUs are still allocated" "$(free_aus $A)" "$((before - 8))"
	umount $A && mount -t pkernfs dax0.0 $A
	pkt_eq "the next mount freed the orphan" "$(free_aus $A)" "$before"

	# fs-dax refuses FOLL_LONGTERM pins; pkernfs must not.
	truncate -s 4M $A/pinme
	out=$(pkt-fsops pin $A/pinme 4M "true")
	pkt_eq "io_uring_register_buffers pins a pkernfs mapping" "$(echo "$out" | tail -n 1)" "pinned-cmd-status 0"
	if command -v mkfs.ext4 > /dev/null && [ -b /dev/pmem0.2 ]; then
		mkfs.ext4 -q -F -b 4096 /dev/pmem0.2 && mount -o dax /dev/pmem0.2 /mnt/x &&
			truncate -s 4M /mnt/x/f
		pkt-fsops pin /mnt/x/f 4M true > /tmp/fsdax.out 2>&1
		pkt_eq "the same pin on an fs-dax file is refused" "$?" 3
		umount /mnt/x
	else
		pkt_skip "no mkfs.ext4 or /dev/pmem0.2: fs-dax comparison not run"
	fi

	pkt_check "parallel faulting and writing threads on A" pkt-fsops threads $A/thr 4 8
	pkt_check "and on B at the same time" pkt-fsops threads $B/thr 4 8
	pkt_check "umount A" umount $A
	pkt_check "umount B" umount $B
}
