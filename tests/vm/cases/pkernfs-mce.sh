# SPDX-License-Identifier: GPL-2.0-only
# A memory error reported the way hardware reports one: QEMU's monitor
# raises a machine check (broadcast to every CPU, "mce -b") whose bank
# holds an uncorrected, action-optional memory scrub error at a page of a
# pkernfs file. The guest's own MCE handler takes it to memory_failure()
# and so to pkernfs: the early-kill mapper of the page gets SIGBUS AO, a
# mapper of another file nothing, read() of the page EIO, and the error
# is recorded. One in free space keeps its AU. (pkernfs-poison enters
# memory_failure() directly, through madvise and hwpoison-inject.)
#
# The vCPU says GenuineIntel: TCG's "max" CPU is otherwise an AMD family
# without SUCCOR, whose handler panics on any uncorrected error, while
# with Intel's MCG_SER_P an action-optional one is recovered.
# pkt-nvdimm: 512M
# pkt-monitor: on
# pkt-qemu: -cpu max,vendor=GenuineIntel
# pkt-timeout: 300

M=/mnt/pk
F=$M/ram
G=$M/other
D=/sys/bus/dax/devices/dax0.0
# MCi_STATUS: VAL, UC, EN, MISCV, ADDRV, S; not PCC, not AR; MCACOD
# 0xC0, memory scrub. MCG_STATUS: RIPV, MCIP. MISC: a physical address,
# valid from bit 12.
SRAO="0xbd000000000000c0 0x5"
MISC=0x8c

# mce ADDR: a machine check at physical ADDR, and wait for pkernfs's word.
mce() {
	local n i
	n=$(dmesg | grep -c 'pkernfs: dax0.0: memory error')
	pkt_monitor "mce -b 0 1 $SRAO $(printf '%#x' "$1") $MISC"
	for i in $(seq 60); do
		[ "$(dmesg | grep -c 'pkernfs: dax0.0: memory error')" -gt "$n" ] && return 0
		sleep 0.5
	done
	return 1
}

free_aus() { echo $(( $(stat -f -c '%a * %S' $M) / 2097152 )); }

stage_1() {
	local data free
	pkt_pkernfs_format || return
	truncate -s 4M $F && truncate -s 4M $G
	pkt-mem fill $F 0 4M 41 > /dev/null && pkt-mem fill $G 0 4M 42 > /dev/null
	data=$(( $(cat $D/resource) + $(pkernfsctl info -j dax0.0 | jq -r .regions.data.offset) ))
	pkt-poison wait $F 0x1000 20 early > /tmp/early &
	pkt-poison wait $G 0x1000 20 early > /tmp/otherfile &
	for i in $(seq 50); do
		grep -q ready /tmp/early && grep -q ready /tmp/otherfile && break
		sleep 0.1
	done
	pkt_must "machine check at the file's second page: pkernfs hears of it" mce $((data + 0x1000)) ||
		return
	wait
	pkt_check "the MCE handler logged it" sh -c "dmesg | grep -q 'mce: \[Hardware Error\]: Machine check events logged'"
	pkt_check "pkernfs names the file and offset" sh -c \
		"dmesg | grep -q 'pkernfs: dax0.0: memory error in inode [0-9]* at offset 4096'"
	pkt_check "memory_failure() recovered it" sh -c \
		"dmesg | grep -q 'Memory failure: $(printf '%#x' $(( (data + 0x1000) >> 12 ))): recovery action for dax page: Recovered'"
	pkt_eq "the early-kill mapper: SIGBUS AO" "$(tail -n 1 /tmp/early)" "sigbus AO lsb 21 at 0x1000"
	pkt_eq "a mapper of another file: nothing" "$(tail -n 1 /tmp/otherfile)" ok
	pkt_eq "read() of the page: EIO" "$(pkt-poison read $F 0x1000 4096)" "error EIO"
	pkt_check "the rest of the file and the other file read back" sh -c \
		"pkt-mem verify $F 0 4096 41 && pkt-mem verify $F 8192 4186112 41 && pkt-mem verify $G 0 4M 42"

	free=$(free_aus)
	pkt_must "machine check in free space (the last page)" \
		mce $(( $(cat $D/resource) + $(cat $D/size) - 4096 )) || return
	pkt_check "logged as free space" sh -c "dmesg | grep -q 'memory error in free space'"
	pkt_eq "its AU left the free count" "$(free_aus)" $((free - 1))
	pkt_eq "pkernfsctl info: 2 bad pages" "$(pkernfsctl info -j dax0.0 | jq .bad_pages)" 2
	pkt_check "umount" umount $M
	pkt_check "pkernfsctl fsck: clean, both listed" sh -c \
		"pkernfsctl disable dax0.0 > /dev/null; pkernfsctl fsck dax0.0 > /tmp/fsck 2>&1;
		 rc=\$?; cat /tmp/fsck; [ \$rc = 0 ] && [ \$(grep -c 'memory error at page' /tmp/fsck) = 2 ]"
}
