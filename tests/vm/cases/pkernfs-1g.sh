# SPDX-License-Identifier: GPL-2.0-only
# 1 GiB device alignment end to end (issue 20), at a size make check can
# afford. A devdax namespace -a 1G with its memmap in RAM (-M mem), so
# that device_dax's and pkernfs's pgmaps both get 1 GiB compound pages
# and the vmemmap optimisation: 2 memmap pages per GiB, as the kernel
# counts them, and 2 PTE tables per GiB (patch 0006 points the 6 that
# would repeat the second at it), as tests/kmod/pkt_vmemmap.ko counts
# them. Then 1 GiB AUs (the metadata and the kernel area take one each,
# so 4 GiB leave 2 for data), PUD faults, unbind/bind cycles that must
# take every table down, a kexec, and the data and the mapping again.
# The next kernel boots with dax.pkernfs=ADDR (patch 0002), so dax0.0 goes
# straight to pkernfs, device_dax never probing it; a third kernel boots
# with a malformed claim, which is refused with a message, and device_dax
# takes dax0.0 as if nothing was claimed.
# pkt-stages: 3
# pkt-nvdimm: 5G
# pkt-timeout: 900

M=/mnt/pk
F=$M/ram
T=/sys/kernel/tracing
D=/sys/bus/dax/devices/dax0.0

memmap() { sed -n 's/^nr_memmap_pages //p' /proc/vmstat; }
gib() { echo $(($(cat $D/size) >> 30)); }

# tables: how dax0.0's memmap is mapped (see pkt_vmemmap.c).
tables() {
	[ -e /sys/kernel/debug/pkt_vmemmap ] || insmod /pkt/kmod/pkt_vmemmap.ko || return
	echo "$(cat $D/resource) $(printf %x "$(cat $D/size)")" > /sys/kernel/debug/pkt_vmemmap &&
		cat /sys/kernel/debug/pkt_vmemmap
}

# shape WHO: the memmap of a bound dax0.0 is 8 PMDs and 2 tables per GiB.
shape() {
	local g
	g=$(gib)
	pkt_eq "$1: memmap of $g GiB in $((2 * g)) PTE tables for $((8 * g)) PMDs" \
		"$(tables)" "pmds $((8 * g)) tables $((2 * g)) users $((8 * g)) huge 0"
}

# gone WHO: unbound, nothing maps that memmap any more.
gone() {
	pkt_eq "$1: unbound, no table maps the memmap" "$(tables)" \
		"pmds 0 tables 0 users 0 huge 0"
}

# faults MODE: fill or verify the file's two GiBs through mmap, one PUD
# fault each (pkt-mem maps just the range it touches, so a whole GiB).
faults() {
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	: > $T/trace
	pkt_check "$1 the first GiB through mmap" pkt-mem "$1" $F 0 1G 3 &&
		pkt_check "$1 the second GiB" pkt-mem "$1" $F 1G 1G 4
	echo 0 > $T/events/pkernfs/pkernfs_fault/enable
	pkt_eq "$1: two PUD faults" "$(grep -c 'order=18 ' $T/trace)" 2
	pkt_info "faults by order: $(grep -o 'order=[0-9]*' $T/trace | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
}

stage_1() {
	local p0 i n
	mkdir -p $M
	p0=$(memmap)
	pkt_must "devdax namespace, 1 GiB aligned, memmap in RAM" \
		ndctl create-namespace -f -e namespace0.0 -m devdax -M mem -a 1G || return
	pkt_eq "dax0.0 is 1 GiB aligned" "$(cat $D/align)" 1073741824
	pkt_info "dax0.0: $(gib) GiB at $(cat $D/resource)"
	pkt_must "at least 4 GiB, for 2 data AUs of 1 GiB" test "$(gib)" -ge 4 || return
	# The pgmap spans the whole namespace: the GiB before dax0.0 too.
	n=$(($(memmap) - p0))
	pkt_check "device_dax: 2 memmap pages per GiB, not 4096 (the vmemmap optimisation applies): $n for $(gib) GiB" \
		test "$n" -ge $((2 * $(gib))) -a "$n" -le $((2 * $(gib) + 2))
	shape device_dax

	pkt_must "bind to pkernfs" pkt_bind dax0.0 || return
	shape pkernfs
	pkt_must "format with 1 GiB AUs" mount -t pkernfs -o format,au=1G dax0.0 $M || return
	pkt_check "a 2 GiB file" truncate -s 2G $F
	faults fill
	pkt_check "umount" umount $M

	for i in 1 2 3; do
		pkt_check "unbind $i" sh -c "echo dax0.0 > /sys/bus/dax/drivers/dax_pkernfs/unbind"
		gone "unbind $i"
		pkt_check "bind $i" sh -c "echo dax0.0 > /sys/bus/dax/drivers/dax_pkernfs/bind"
		shape "bind $i"
	done
	pkt_eq "pkernfs's memmap pages as many as device_dax's" "$(($(memmap) - p0))" "$n"
	pkt_must "mount" mount -t pkernfs dax0.0 $M || return
	PKT_EXTRA_APPEND="dax.pkernfs=$(cat $D/resource)"
	pkt_kexec
}

stage_2() {
	mkdir -p $M
	pkt_check "claimed on the command line: dax0.0 came back with pkernfs" \
		test -e /sys/bus/dax/drivers/dax_pkernfs/dax0.0
	shape "after kexec, pkernfs"
	pkt_must "mount" mount -t pkernfs dax0.0 $M || return
	faults verify
	pkt_check "umount" umount $M
	PKT_DROP_APPEND="dax.pkernfs=$(cat $D/resource)"
	PKT_EXTRA_APPEND="dax.pkernfs=zz,$(cat $D/resource)"
	pkt_kexec
}

stage_3() {
	mkdir -p $M
	pkt_check "a malformed claim is refused with a message" \
		sh -c "dmesg | grep -q 'dax: pkernfs=: want up to 8 physical addresses in hex'"
	pkt_check "and dax0.0 goes to device_dax" test -e /sys/bus/dax/drivers/device_dax/dax0.0
	pkt_must "bind to pkernfs" pkt_bind dax0.0 || return
	pkt_must "mount" mount -t pkernfs dax0.0 $M || return
	pkt_check "the data is there" pkt-mem verify $F 0 64M 3
	pkt_check "umount" umount $M
}
