# SPDX-License-Identifier: GPL-2.0-only
# make bench: a terabyte region (issue 20). A 1026 GiB nvdimm on a sparse
# host file (the guest's physical address space raised to 46 bits: with
# the region QEMU 7.2 puts device memory at 1 TiB, past -cpu max's
# default 40 bits), one devdax namespace of 1025 GiB with 1 GiB
# alignment and its memmap in RAM (-M mem: no altmap, so compound pages
# get the vmemmap optimisation). Timed, once each: device_dax's probe
# and unbind, pkernfs's bind, format (1 GiB AUs) and mount; 1,000 empty
# files (the same at every size); then a 1000 GiB file written at 0 (1 GiB through mmap, one PUD fault) and 64 MiB
# at 100, 400, 700 and 999 GiB. A kexec with dax.pkernfs= naming dax0.0,
# so that it comes back bound to pkernfs (the bind timed by the driver's
# log); the mount, and every byte written read back. A second kexec
# without it: device_dax's unbind and pkernfs's bind timed again. For
# both, the uptime at which the first byte of the file is read back.
# The struct-page RAM per GiB is reported two ways:
# nr_memmap_pages (the vmemmap pages only) and MemFree (with the page
# tables that map them). Figures, not assertions; the data must survive.
# vm_debug=-: a DEBUG_VM kernel would poison 16 GiB of virtual memmap per
# TiB at each bind (page_init_poison), minutes under TCG.
# pkt-stages: 3
# pkt-nvdimm: 1026G
# pkt-maxmem: 1100G
# pkt-qemu: -cpu max,phys-bits=46
# pkt-append: vm_debug=-
# pkt-timeout: 900
# pkt-legs: bench

M=/mnt/pk
F=$M/ram
# bench-scale-8g.sh runs the same steps on 8 GiB with these smaller.
SCALE_FILE=${SCALE_FILE:-1000G}
SCALE_AT=${SCALE_AT:-100 400 700 999}
T=/sys/kernel/tracing
memmap() { sed -n 's/^nr_memmap_pages //p' /proc/vmstat; }
memfree() { sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
now() { cut -d' ' -f1 /proc/uptime; }
gib() { echo $(($(cat /sys/bus/dax/devices/dax0.0/size) >> 30)); }

# timed GROUP SYSTEM CMD...: run CMD, emit its time in seconds.
timed() {
	local g=$1 sys=$2 t0 t
	shift 2
	t0=$(now)
	pkt_check "$g: $*" "$@" || return
	t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
	pkt_emit "BENCH $g-$(gib)G $sys $t $t $t s"
}

# spread MODE: fill or verify what stage 1 wrote.
spread() {
	local g
	pkt_check "$1 1 GiB at 0" pkt-mem "$1" $F 0 1G 7
	for g in $SCALE_AT; do
		pkt_check "$1 64 MiB at $g GiB" pkt-mem "$1" $F $((g << 30)) 64M $g
	done
}

unbind_device_dax() { echo dax0.0 > /sys/bus/dax/drivers/device_dax/unbind; }

stage_1() {
	local p0 f0 n
	mkdir -p $M
	p0=$(memmap)
	f0=$(memfree)
	pkt_info "$(grep -i 'persistent' /proc/iomem | tr '\n' ';')"
	timed scale-probe device_dax \
		ndctl create-namespace -f -e namespace0.0 -m devdax -M mem -a 1G || return
	pkt_eq "1 GiB alignment" "$(cat /sys/bus/dax/devices/dax0.0/align)" 1073741824
	pkt_emit "BENCH scale-memmap-$(gib)G nr_memmap_pages $(( ($(memmap) - p0) * 4 / $(gib) )) \
$(( ($(memmap) - p0) * 4 / $(gib) )) $(( ($(memmap) - p0) * 4 / $(gib) )) KiB/GiB"
	n=$(( (f0 - $(memfree)) / $(gib) ))
	pkt_emit "BENCH scale-memmap-$(gib)G memfree $n $n $n KiB/GiB"
	timed scale-unbind device_dax unbind_device_dax
	timed scale-bind pkernfs pkt_bind dax0.0 || return
	timed scale-format pkernfs mount -t pkernfs -o format,au=1G,inodes=4096 dax0.0 $M || return
	# The same 1,000 files at every size, so only the region grows.
	pkt_check "1,000 files" sh -c 'i=0; while [ $i -lt 1000 ]; do : > '$M'/f$i; i=$((i + 1)); done'
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	: > $T/trace
	pkt_check "a $SCALE_FILE file" truncate -s $SCALE_FILE $F
	spread fill
	echo 0 > $T/events/pkernfs/pkernfs_fault/enable
	pkt_eq "the 1 GiB at 0 mapped with one PUD fault" "$(grep -c 'order=18 ' $T/trace)" 1
	pkt_info "faults by order: $(grep -o 'order=[0-9]*' $T/trace | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
	pkt_check "umount" umount $M
	timed scale-mount pkernfs mount -t pkernfs dax0.0 $M || return
	PKT_EXTRA_APPEND="dax.pkernfs=$(cat /sys/bus/dax/devices/dax0.0/resource)"
	pkt_kexec
}

# ready NAME: the first byte read back, in seconds since this kernel began.
ready() {
	local t
	pkt_check "a byte of the file" head -c 1 $F || return
	t=$(now)
	pkt_emit "BENCH scale-$1-$(gib)G pkernfs $t $t $t s"
}

# bound NAME: the bind time dax_pkernfs logged (its page map, mostly).
bound() {
	local ms
	ms=$(dmesg | sed -n 's/.*dax0.0: pkernfs region.*bound in \([0-9]*\) ms/\1/p' | tail -n 1)
	pkt_emit "BENCH scale-$1-$(gib)G pkernfs $ms $ms $ms ms"
}

# After kexec, dax.pkernfs= on the command line: no device_dax.
stage_2() {
	mkdir -p $M
	pkt_check "claimed: dax0.0 came back with pkernfs" \
		test -e /sys/bus/dax/drivers/dax_pkernfs/dax0.0
	bound kexec-bind-claimed
	timed scale-kexec-mount pkernfs mount -t pkernfs dax0.0 $M || return
	ready kexec-ready-claimed
	spread verify
	pkt_check "umount" umount $M
	PKT_DROP_APPEND="dax.pkernfs=$(cat /sys/bus/dax/devices/dax0.0/resource)"
	pkt_kexec
}

# And without it, as before: device_dax probes at boot and is unbound.
stage_3() {
	local g
	mkdir -p $M
	pkt_check "dax0.0 came back with device_dax" test -e /sys/bus/dax/drivers/device_dax/dax0.0
	timed scale-kexec-unbind device_dax unbind_device_dax
	timed scale-kexec-bind pkernfs pkt_bind dax0.0 || return
	bound kexec-bind-logged
	timed scale-kexec-mount-unclaimed pkernfs mount -t pkernfs dax0.0 $M || return
	ready kexec-ready-unclaimed
	g=${SCALE_AT##* }
	pkt_check "64 MiB at $g GiB" pkt-mem verify $F $((g << 30)) 64M $g
	pkt_eq "the 1,000 files" "$(ls $M | grep -c '^f')" 1000
}
