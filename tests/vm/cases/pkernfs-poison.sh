# SPDX-License-Identifier: GPL-2.0-only
# Memory errors (issue 21): a poisoned page of a file kills exactly the
# processes that map it (SIGBUS AR to the one touching it, AO to an
# early-kill mapper, AR on the next touch to a late one), reads of it
# fail with EIO, and the rest of the file and other files stay readable.
# The bad page is recorded in the superblock: after kexec it still reads
# as EIO and faults as SIGBUS, and its AU is never allocated. An error in
# free space keeps that AU, one found while unmounted is recorded by the
# next mount, and one in the inode table stops metadata changes and
# makes the next mount refuse, with fsck naming it. fsck --repair
# --drop-bad turns a bad AU of a file into a hole.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 300

M=/mnt/pk
F=$M/ram
G=$M/other
D=/sys/bus/dax/devices/dax0.0
INJECT=/sys/kernel/debug/hwpoison/corrupt-pfn

# pfn OFFSET: the page frame of byte OFFSET of dax0.0.
pfn() { printf '%d' $(( ($(cat $D/resource) + $1) >> 12 )); }

# region NAME: the byte offset of one of the filesystem's regions.
region() { pkernfsctl info -j dax0.0 | jq -r ".regions.$1.offset"; }

# free_aus: 2 MiB AUs statfs counts free.
free_aus() { echo $(( $(stat -f -c '%a * %S' $M) / 2097152 )); }

# wait_ready FILE...: each background mapper printed "ready".
wait_ready() {
	local f i
	for f in "$@"; do
		for i in $(seq 50); do
			grep -q ready "$f" 2>/dev/null && break
			sleep 0.1
		done
	done
}

stage_1() {
	local free_page free
	pkt_pkernfs_format || return
	truncate -s 8M $F && truncate -s 4M $G
	pkt-mem fill $F 0 8M 31 > /dev/null && pkt-mem fill $G 0 4M 32 > /dev/null

	# Four mappers: two of the page that goes bad, two of other pages.
	pkt-poison wait $F 0x1000 8 early > /tmp/early &
	pkt-poison wait $F 0x1000 8 > /tmp/late &
	pkt-poison wait $F 0x200000 8 early > /tmp/otherau &
	pkt-poison wait $G 0x1000 8 early > /tmp/otherfile &
	wait_ready /tmp/early /tmp/late /tmp/otherau /tmp/otherfile
	pkt_kmsg_mark inject
	pkt_eq "madvise(MADV_HWPOISON): the injector gets SIGBUS AR for the 2M mapping" \
		"$(pkt-poison inject $F 0x1000)" "sigbus AR lsb 21 at 0x1000"
	wait
	pkt_eq "an early-kill mapper of the page: SIGBUS AO" "$(tail -n 1 /tmp/early)" \
		"sigbus AO lsb 21 at 0x1000"
	pkt_eq "a late-kill mapper: SIGBUS AR when it touches the page again" \
		"$(tail -n 1 /tmp/late)" "sigbus AR lsb 12 at 0x1000"
	pkt_eq "an early-kill mapper of another AU of the file: nothing" "$(tail -n 1 /tmp/otherau)" ok
	pkt_eq "an early-kill mapper of another file: nothing" "$(tail -n 1 /tmp/otherfile)" ok
	pkt_check "the kernel log names the file and offset" sh -c \
		"dmesg | grep -q 'pkernfs: dax0.0: memory error in inode [0-9]* at offset 4096'"
	pkt_eq "read() of the bad page: EIO" "$(pkt-poison read $F 0x1000 4096)" "error EIO"
	pkt_eq "read() up to it: short, stops before it" "$(pkt-poison read $F 0 8192)" "read 4096"
	pkt_check "the rest of the file reads back (mmap, around the page)" sh -c \
		"pkt-mem verify $F 0 4096 31 && pkt-mem verify $F 8192 8380416 31"
	pkt_eq "write() to it: EIO" "$(dd if=/dev/zero of=$F bs=4096 seek=1 count=1 conv=notrunc 2>&1 |
		grep -o 'Input/output error' | head -n 1)" "Input/output error"
	pkt_check "the other file reads back" pkt-mem verify $G 0 4M 32

	# An error in free space: the last AU; it leaves the free count.
	[ -w $INJECT ] || { pkt_fail "no $INJECT (CONFIG_HWPOISON_INJECT)"; return; }
	free=$(free_aus)
	free_page=$(( $(cat $D/size) - 4096 ))
	pkt_check "hwpoison-inject into free space" sh -c "echo $(pfn $free_page) > $INJECT"
	pkt_check "logged as free space" sh -c "dmesg | grep -q 'memory error in free space'"
	pkt_eq "pkernfsctl info: 2 bad pages" "$(pkernfsctl info -j dax0.0 | jq .bad_pages)" 2
	pkt_eq "its AU left the free count" "$(free_aus)" $((free - 1))

	# While unmounted: the dax driver keeps it for the next mount.
	pkt_check "umount" umount $M
	pkt_check "hwpoison-inject into the other file, unmounted" sh -c \
		"echo $(pfn $(( $(region data) + 8 * 1048576 + 0x3000 ))) > $INJECT"
	pkt_check "the driver keeps it" sh -c "dmesg | grep -q 'while not mounted: the next mount records it'"
	pkt_check "mount" mount -t pkernfs dax0.0 $M
	pkt_eq "the next mount recorded it: read() EIO" "$(pkt-poison read $G 0x3000 4096)" "error EIO"
	pkt_check "umount" umount $M
	pkt_check "pkernfsctl fsck: clean, with the three errors listed" sh -c \
		"pkernfsctl disable dax0.0 > /dev/null; pkernfsctl fsck dax0.0 > /tmp/fsck 2>&1;
		 rc=\$?; pkernfsctl enable dax0.0 > /dev/null; cat /tmp/fsck; [ \$rc = 0 ] &&
		 grep -q 'bytes 4096-8191 read as EIO' /tmp/fsck && grep -q 'in no file' /tmp/fsck &&
		 [ \$(grep -c 'memory error at page' /tmp/fsck) = 3 ]"
	pkt_info "$(grep 'memory error' /tmp/fsck | tr '\n' ';')"
	pkt_check "kexec-check lists them and does not object" sh -c \
		"pkernfsctl kexec-check | grep -q '^ok   memory .*3 pages with memory errors are recorded'"
	pkt_kexec
}

stage_2() {
	local free
	pkt_pkernfs_remount || return
	pkt_check "the mount knows the 3 bad pages" sh -c "dmesg | grep -q '3 bad pages recorded'"
	pkt_eq "after kexec, read() of the bad page: EIO" "$(pkt-poison read $F 0x1000 4096)" "error EIO"
	pkt_eq "after kexec, a touch: SIGBUS AR for the page alone" \
		"$(pkt-poison touch $F 0x1000)" "sigbus AR lsb 12 at 0x1000"
	pkt_check "after kexec, the rest of both files" sh -c \
		"pkt-mem verify $F 0 4096 31 && pkt-mem verify $F 8192 8380416 31 &&
		 pkt-mem verify $G 0 0x3000 32"
	pkt_eq "INCOMPAT_BADPAGES is set: a kernel without it refuses the mount" \
		"$(( $(pkernfsctl info -j dax0.0 | jq -r .feature_incompat) & 1 ))" 1
	# Truncating the file frees its AUs but the bad ones.
	free=$(free_aus)
	pkt_check "truncate the file with the bad page" truncate -s 0 $F
	pkt_eq "its 4 AUs but the bad one are freed" "$(free_aus)" $((free + 3))
	pkt_check "fill the filesystem: no write reaches a bad AU" sh -c \
		"dd if=/dev/zero of=$M/fill bs=1M 2>/dev/null; cat $M/fill > /dev/null"
	rm -f $M/fill

	# fsck --repair --drop-bad: the other file's bad AU becomes a hole.
	pkt_check "umount" umount $M
	pkernfsctl disable dax0.0 > /dev/null
	pkt_eq "--drop-bad alone is refused: exit 8" \
		"$(pkernfsctl fsck --drop-bad dax0.0 > /tmp/fsck 2>&1; echo $?)" 8
	pkt_check "saying it is a repair" grep -q 'give it with --repair' /tmp/fsck
	pkt_eq "fsck --repair without --drop-bad leaves it: exit 0" \
		"$(pkernfsctl fsck --repair dax0.0 > /tmp/fsck 2>&1; echo $?)" 0
	pkt_eq "fsck --repair --drop-bad: exit 1, repaired" \
		"$(pkernfsctl fsck --repair --drop-bad dax0.0 > /tmp/fsck 2>&1; echo $?)" 1
	pkt_check "it names the range it dropped" \
		grep -q 'bytes 0-2097151 (AU [0-9]*, with a memory error) dropped' /tmp/fsck
	pkt_info "$(grep 'dropped' /tmp/fsck)"
	pkt_eq "a second run finds nothing to do" \
		"$(pkernfsctl fsck --repair --drop-bad dax0.0 > /dev/null 2>&1; echo $?)" 0
	pkernfsctl enable dax0.0 > /dev/null
	pkt_check "mount" mount -t pkernfs dax0.0 $M
	pkt_eq "the dropped range reads as zeros, no EIO" \
		"$(head -c 2097152 $G | tr -d '\000' | wc -c)" 0
	pkt_check "the rest of the file is intact" pkt-mem verify $G 2097152 2097152 32
	pkt_eq "its size is kept" "$(stat -c %s $G)" 4194304
	free=$(free_aus)
	pkt_check "the hole takes a write again" sh -c \
		"pkt-mem fill $G 0 2097152 33 > /dev/null && pkt-mem verify $G 0 2097152 33"
	pkt_eq "onto a new AU: the bad one stays out" "$(free_aus)" $((free - 1))

	# Metadata: the inode table.
	pkt_check "hwpoison-inject into the inode table" sh -c \
		"echo $(pfn $(( $(region inodes) + 4096 ))) > $INJECT"
	pkt_check "logged: metadata changes stop" sh -c \
		"dmesg | grep -q 'memory error in the inode table (page [0-9]*): metadata changes now fail with EROFS'"
	pkt_refuse "creating a file fails" touch $M/new
	pkt_check "creating a file fails with EROFS" sh -c "touch $M/new 2>&1 | grep -q 'Read-only file system'"
	pkt_check "existing files still read" pkt-mem verify $G 2097152 2097152 32
	pkt_check "umount" umount $M
	pkt_expect_error "mount after an error in the inode table" \
		"memory error recorded in the inode table" mount -t pkernfs dax0.0 $M
	pkt_check "pkernfsctl fsck names it and fails" sh -c \
		"pkernfsctl disable dax0.0 > /dev/null; pkernfsctl fsck dax0.0 > /tmp/fsck 2>&1;
		 rc=\$?; cat /tmp/fsck; [ \$rc = 4 ] && grep -q 'in the inode table: the filesystem cannot be mounted' /tmp/fsck"
}
