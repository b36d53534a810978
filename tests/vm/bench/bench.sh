# SPDX-License-Identifier: GPL-2.0-only
# make bench: every benchmark of pkernfs against its peers, in one QEMU run
# (one boot, then kexecs), on the bench kernel (no debug options).
#
# Each figure is the median of BENCH_REPS runs (3), with min and max. The
# guest prints "PKT BENCH GROUP SYSTEM MEDIAN MIN MAX UNIT" lines;
# scripts/bench-report.py turns them into ratios, build/bench/results.csv
# and plots. Figures, never assertions: TCG times compare only within a run.
#
# The nvdimm is backed by host memory allocated up front, so that first
# touch measures the guest's fault path, not the host's page cache.
# Namespaces on it:
#   namespace0.0  dax0.0   4 GiB devdax, 2M: raw devdax peer, then pkernfs
#   namespace0.1  pmem0.1  2.5 GiB fsdax: ext4 -o dax peer
#   namespace0.2  dax0.2   1 GiB devdax, struct pages in RAM: vmemmap cost
#                          (4K and 2M align), memcpy limit, kexec TSC note
# Stages: 1 runs the in-kernel benchmarks and fills pkernfs with 256 MiB
# and 1,000 inodes; 2 grows it to 3 GiB; 3 adds 99,000 inodes; each kexec
# into 2..4 is timed until pkernfs is mounted and a byte verified, and each
# of those stages times its mounts. 4 gives the device back, and the
# kexecs into 5..7 are the same kexec without pkernfs.
# pkt-stages: 7
# pkt-nvdimm: 8G
# pkt-nvdimm-label: 128K
# pkt-nvdimm-backing: mem
# pkt-mem: 4G
# pkt-maxmem: 16G
# pkt-tcg: multi
# pkt-timeout: 5400
# pkt-legs: bench

M=/mnt/pk
REPS=${BENCH_REPS:-3}
# Sizes; bench-quick (make check) shrinks them.
FAULT_MB=${BENCH_FAULT_MB:-1024}
FAULT_LEN=${FAULT_MB}M
BW_LEN=${BENCH_BW_LEN:-512M}
META_N=${BENCH_META_N:-10000}
STALL_LEN=${BENCH_STALL_LEN:-1G}
NS_SIZES=${BENCH_NS_SIZES:-4G 2560M 1G}
DATA_LEN=${BENCH_DATA_LEN:-256M}
SLOTS=${BENCH_SLOTS:-16384 262144}
TMPFS_SIZE=$((FAULT_MB * 2 + 150))M

# Namespace names follow label order, which a reboot may change: find the
# pkernfs one (its struct pages on the device) and the note one (in RAM).
ns_dev() {
	ndctl list -N | jq -r "[.[] | select(.mode == \"$1\" and .map == \"$2\")][0].${3:-chardev}"
}
devs() {
	PKDEV=$(ns_dev devdax dev)
	NOTE=/dev/$(ns_dev devdax mem)
}

# bench GROUP SYSTEM UNIT COLUMN CMD...: run CMD REPS times, report the
# median, min and max of its output's COLUMN. GROUP and COLUMN may be
# comma-separated lists, one figure per pair, from the same runs.
bench() {
	local g=$1 s=$2 u=$3 c=$4 i out k
	shift 4
	: > /tmp/fig
	for i in $(seq "$REPS"); do
		if ! out=$("$@" 2>&1); then
			pkt_fail "bench $g $s: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
			return 1
		fi
		echo "$out" | tail -n 1 >> /tmp/fig
	done
	k=1
	for i in $(echo "$c" | tr , ' '); do
		BENCH_LAST="$(awk -v c="$i" '{print $c}' /tmp/fig | sort -g |
			awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)], a[1], a[NR]}') $u"
		pkt_emit "BENCH $(echo "$g" | cut -d, -f$k) $s $BENCH_LAST"
		k=$((k + 1))
	done
}

# One figure, measured once (a kexec, a first mount).
bench1() { pkt_emit "BENCH $1 $2 $3 $3 $3 $4"; }

# --- page faults ---

# prep SYSTEM-DIR KIND N: N files of FAULT_LEN, fresh (holes) or fallocated.
prep() {
	local i
	for i in $(seq 0 $(($3 - 1))); do
		rm -f "$1/f$i"
		truncate -s "$FAULT_LEN" "$1/f$i" || return 1
		if [ "$2" = fallocated ]; then
			pkt-fsops falloc "$1/f$i" alloc 0 "$FAULT_LEN" > /dev/null || return 1
		fi
	done
}

files() {
	local i
	for i in $(seq 0 $(($2 - 1))); do
		printf '%s/f%s ' "$1" "$i"
	done
}

# fault_new DIR KIND THREADS NFILES: new files, then first touch.
fault_new() {
	prep "$1" "$2" "$4" || return 1
	# shellcheck disable=SC2046
	pkt-bench fault "$3" "$FAULT_LEN" $(files "$1" "$4")
}

# fault_again DIR THREADS NFILES: the same files, mapped again.
fault_again() {
	# shellcheck disable=SC2046
	pkt-bench fault "$2" "$FAULT_LEN" $(files "$1" "$3")
}

# faults SYSTEM DIR: every fault figure of one file system at DIR.
faults() {
	local sys=$1 dir=$2 t n
	for t in "1 1" "2 1" "2 2"; do
		set -- $t
		n=$2
		t=$1
		bench "fault-fresh-${t}t${n}f" "$sys" MiB/s 2 fault_new "$dir" fresh "$t" "$n" &&
		bench "fault-remapped-${t}t${n}f" "$sys" MiB/s 2 fault_again "$dir" "$t" "$n" &&
		bench "fault-fallocated-${t}t${n}f" "$sys" MiB/s 2 fault_new "$dir" fallocated "$t" "$n" ||
			return 1
		rm -f "$dir"/f*
	done
}

# Device dax allocates nothing: its one figure is the peer of every kind.
faults_devdax() {
	local t
	for t in "1 1" "2 1" "2 2"; do
		set -- $t
		if [ "$2" = 1 ]; then
			bench "fault-fresh-${1}t${2}f" devdax MiB/s 2 pkt-bench fault "$1" "$FAULT_LEN" /dev/$PKDEV
		else
			bench "fault-fresh-${1}t${2}f" devdax MiB/s 2 pkt-bench fault "$1" "$FAULT_LEN" \
				"/dev/$PKDEV" "/dev/$PKDEV@$FAULT_LEN"
		fi || return 1
		pkt_emit "BENCH fault-fallocated-${1}t${2}f devdax $BENCH_LAST"
		pkt_emit "BENCH fault-remapped-${1}t${2}f devdax $BENCH_LAST"
	done
}

with_tmpfs() {
	mkdir -p /mnt/t
	mount -t tmpfs -o "size=$TMPFS_SIZE,huge=$1" tmpfs /mnt/t
}

bench_faults() {
	faults pkernfs $M || return 1
	with_tmpfs never && { faults tmpfs-4k /mnt/t; umount /mnt/t; } || return 1
	with_tmpfs always && { faults tmpfs-thp /mnt/t; umount /mnt/t; } || return 1
	mkdir -p /mnt/h
	echo $((FAULT_MB + 76)) > /proc/sys/vm/nr_hugepages
	if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt "$FAULT_MB" ]; then
		pkt_skip "hugetlbfs peer NOT RUN: only $(cat /proc/sys/vm/nr_hugepages) huge pages"
	else
		mount -t hugetlbfs -o pagesize=2M none /mnt/h && faults hugetlbfs /mnt/h || return 1
		umount /mnt/h
	fi
	echo 0 > /proc/sys/vm/nr_hugepages
	if [ -n "$EXT4" ]; then
		faults ext4-dax /mnt/x || return 1
	fi
}

# --- bandwidth, metadata, stalls, fsync ---

bench_bw() {
	local sys dir io op
	for io in 4K 1M; do
		for op in write read; do
			bench "bw-$op-$io" memcpy-devdax MiB/s 1 pkt-bench memcpy $op $NOTE "$BW_LEN" $io
		done
	done
	for sys in pkernfs:$M tmpfs:/mnt/t ${EXT4:+ext4-dax:/mnt/x}; do
		dir=${sys#*:}
		truncate -s "$BW_LEN" "$dir/bw" && pkt-fsops falloc "$dir/bw" alloc 0 "$BW_LEN" > /dev/null ||
			return 1
		for io in 4K 1M; do
			for op in write read; do
				bench "bw-$op-$io" "${sys%%:*}" MiB/s 1 pkt-bench rw $op "$dir/bw" "$BW_LEN" $io ||
					return 1
			done
		done
		rm -f "$dir/bw"
	done
}

bench_meta() {
	local sys dir shape
	for sys in pkernfs:$M tmpfs:/mnt/t; do
		dir=${sys#*:}/meta
		mkdir -p "$dir"
		for shape in flat tree; do
			bench "meta-create-$shape,meta-stat-$shape,meta-rename-$shape,meta-unlink-$shape" \
				"${sys%%:*}" ops/s 1,2,3,4 pkt-bench meta "$dir" "$META_N" $shape || return 1
		done
		rmdir "$dir"
	done
}

# The longest a create waits while another task allocates STALL_LEN,
# against the time one AU takes to allocate and zero.
stall_once() {
	rm -f $M/stall
	pkt-bench stall $M $M/stall "$STALL_LEN"
}

# The control: the same probe while tmpfs allocates as much; it shares
# the CPUs and memory with the probe, but no lock.
stall_control() {
	rm -f /mnt/t/stall
	pkt-bench stall $M /mnt/t/stall "$STALL_LEN"
}

bench_stall() {
	bench stall-create-median,stall-create-worst,stall-au-alloc pkernfs us 3,4,5 stall_once &&
	bench stall-create-median,stall-create-worst control-tmpfs us 3,4 stall_control
	rm -f $M/stall /mnt/t/stall
}

fsync_once() {
	pkt-bench fsync $M/fs "$FAULT_LEN" 4K
}

bench_fsync() {
	truncate -s "$FAULT_LEN" $M/fs &&
	bench fsync-4k-range,fsync-whole pkernfs s 1,2 fsync_once
	rm -f $M/fs
}

# --- mount against slots formatted ---

mount_once() { pkt-bench mount "$1" /mnt/s pkernfs && umount /mnt/s; }

# mount_slots N NAME [no-hwm]: the note device as a pkernfs of N inode
# slots with 1,000 in use, mounted three times. no-hwm drops the
# high-water marks from the image, so the mount reads every slot (the
# format 1.1 mount, for comparison).
mount_slots() {
	local dev=${NOTE#/dev/} size
	size=$(cat /sys/bus/dax/devices/$dev/size)
	mkdir -p /mnt/s
	pkt_bind "$dev" && mount -t pkernfs -o "format,force,inodes=$1" "$dev" /mnt/s &&
		pkt-bench mkfiles /mnt/s 999 && umount /mnt/s ||
		{ pkt_fail "pkernfs with $1 inode slots on $dev"; return 1; }
	if [ "${3:-}" = no-hwm ]; then
		pkt_unbind "$dev" > /dev/null && pkt-corrupt "$NOTE" "$size" no-hwm &&
			pkt_bind "$dev" || { pkt_fail "drop the marks"; return 1; }
	fi
	bench "$2" pkernfs s 1 mount_once "$dev"
	pkt_unbind "$dev" > /dev/null
}

bench_mount_slots() {
	set -- $SLOTS
	pkt_info "mount-slots-small: $1 inode slots, mount-slots-large: $2; 1,000 in use"
	mount_slots "$1" mount-slots-small && mount_slots "$2" mount-slots-large &&
		mount_slots "$2" mount-slots-large-fullscan no-hwm
}

# --- struct pages ---

# MiB of RAM that binding DEV to dax_pkernfs takes for struct pages, per
# GiB of DEV: /proc/vmstat's count of memmap pages, unbound and bound.
memmap_pages() { awk '/^nr_memmap_pages / {print $2}' /proc/vmstat; }

vmemmap_cost() {
	local dev=$1 before after size
	[ -e /sys/bus/dax/drivers/device_dax/$dev ] && echo "$dev" > /sys/bus/dax/drivers/device_dax/unbind
	before=$(memmap_pages)
	pkt_bind "$dev" || return 1
	after=$(memmap_pages)
	size=$(cat /sys/bus/dax/devices/$dev/size)
	pkt_unbind "$dev" > /dev/null
	awk -v b="$before" -v a="$after" -v s="$size" \
		'BEGIN {printf "%.3f\n", (a - b) * 4096 / 1048576 / (s / 1073741824)}'
}

bench_vmemmap() {
	local a
	for a in 4K 2M; do
		ndctl create-namespace -f -e namespace0.2 -m devdax -M mem -a $a > /dev/null 2>&1 ||
			{ pkt_fail "namespace0.2 with align $a"; return 1; }
		devs
		bench "vmemmap-align-$a" pkernfs MiB/GiB 1 vmemmap_cost "${NOTE#/dev/}" || return 1
	done
}

# --- kexec and mount ---

# kexec_timed: kexec into the next stage, the TSC noted just before.
kexec_timed() {
	pkt_kexec_prepare
	kexec -l /boot/bzImage --initrd=$PKT_NEXT_INITRD --append="$PKT_NEXT_CMDLINE" > /tmp/kexec.log 2>&1 ||
		{ pkt_fail "kexec -l: $(tail -n 2 /tmp/kexec.log)"; return 1; }
	pkt-bench tsc-save $NOTE || { pkt_fail "tsc-save"; return 1; }
	pkt_kexec_exec
}

# kernel_phase PATTERN: the kernel log timestamp of the first line matching.
kernel_phase() { dmesg | grep -m1 "$1" | sed 's/^\[ *\([0-9.]*\)\].*/\1/'; }

# after_kexec SYSTEM: the downtime of the kexec that started this stage,
# for SYSTEM (pkernfs: bind, mount, verify the first byte of the file).
after_kexec() {
	local sys=$1 since total wall init up mnt=0
	devs
	MNT_FIRST=
	if [ "$sys" = pkernfs ]; then
		mkdir -p $M
		pkt_bind "$PKDEV" || { pkt_fail "bind $PKDEV"; return 1; }
		mnt=$(pkt-bench mount "$PKDEV" $M pkernfs) || { pkt_fail "mount after kexec"; return 1; }
		[ "$(head -c 1 $M/data)" = B ] || { pkt_fail "first byte of $M/data after kexec"; return 1; }
		MNT_FIRST=$mnt
	fi
	since=$(pkt-bench tsc-since $NOTE) || { pkt_fail "tsc-since"; return 1; }
	up=$(cut -d' ' -f1 /proc/uptime)
	total=${since% *}
	wall=${since#* }
	init=$(kernel_phase 'Run /init as init process')
	pkt_info "kexec downtime ($sys): $total s on the TSC ($wall s on the wall clock), uptime $up s, init at $init s, mount $mnt s"
	bench1 kexec-downtime "$sys" "$total" s
	bench1 kexec-phase-old-kernel-and-purgatory "$sys" \
		"$(awk -v t="$total" -v u="$up" 'BEGIN {printf "%.3f", t - u}')" s
	bench1 kexec-phase-kernel-boot "$sys" "$init" s
	bench1 kexec-phase-userspace "$sys" "$(awk -v u="$up" -v i="$init" -v m="$mnt" \
		'BEGIN {printf "%.3f", u - i - m}')" s
	bench1 kexec-phase-mount "$sys" "$mnt" s
}

remount() {
	umount $M && pkt-bench mount "$PKDEV" $M pkernfs
}

# mount_figure NAME: the first mount after kexec, then two remounts.
mount_figure() {
	local first=$1 name=$2
	echo "$first" > /tmp/fig
	remount >> /tmp/fig && remount >> /tmp/fig || { pkt_fail "remount"; return 1; }
	pkt_emit "BENCH $name pkernfs $(sort -g /tmp/fig |
		awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)], a[1], a[NR]}') s"
}

# --- stages ---

# bench_stage1: everything but the kexec-and-mount figures, then the
# first image (DATA_LEN, 1,000 inodes). Shared with bench-quick.
bench_stage1() {
	set -- $NS_SIZES
	ndctl disable-region all > /dev/null 2>&1
	ndctl init-labels -f all > /dev/null 2>&1
	ndctl enable-region all > /dev/null 2>&1
	pkt_must "namespace0.0: $1 devdax" ndctl create-namespace -r region0 -m devdax -a 2M -s "$1" &&
	pkt_must "namespace0.1: $2 fsdax" ndctl create-namespace -r region0 -m fsdax -s "$2" &&
	pkt_must "namespace0.2: $3 devdax" ndctl create-namespace -r region0 -m devdax -M mem -a 2M -s "$3" ||
		return 1
	devs
	pkt_info "kernel: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
	bench_vmemmap || return 1
	ndctl create-namespace -f -e namespace0.2 -m devdax -M mem -a 2M > /dev/null 2>&1 && devs &&
		[ -c "$NOTE" ] || { pkt_fail "namespace0.2 back as devdax"; return 1; }
	bench_mount_slots || return 1
	EXT4=
	mkdir -p /mnt/x
	pmem=/dev/$(ns_dev fsdax dev blockdev)
	if command -v mkfs.ext4 > /dev/null && [ -b "$pmem" ] &&
		mkfs.ext4 -q -F -b 4096 "$pmem" && mount -o dax "$pmem" /mnt/x; then
		EXT4=1
	else
		pkt_skip "ext4 -o dax peer NOT RUN: no mkfs.ext4 or no fsdax namespace ($pmem)"
	fi
	faults_devdax || return 1
	pkt_must "bind $PKDEV to dax_pkernfs" pkt_bind "$PKDEV" && mkdir -p $M &&
	pkt_must "format pkernfs (131072 inodes)" mount -t pkernfs -o format,inodes=131072 "$PKDEV" $M ||
		return 1
	bench_faults || return 1
	with_tmpfs never || return 1
	bench_bw && bench_meta && bench_stall || return 1
	umount /mnt/t
	bench_fsync || return 1
	[ -n "$EXT4" ] && umount /mnt/x
	pkt_ok "in-kernel benchmarks ran"

	# The image whose mounts the next stages time.
	printf B > $M/data &&
	pkt-fsops falloc $M/data alloc 0 "$DATA_LEN" > /dev/null && pkt-bench mkfiles $M 999 ||
		{ pkt_fail "the $DATA_LEN image"; return 1; }
}

stage_1() { bench_stage1 && kexec_timed; }

stage_2() {
	after_kexec pkernfs || return
	mount_figure "$MNT_FIRST" mount-256M-1k || return
	pkt_check "grow to 3 GiB" pkt-fsops falloc $M/data alloc 0 3G
	kexec_timed
}

stage_3() {
	after_kexec pkernfs || return
	mount_figure "$MNT_FIRST" mount-3G-1k || return
	mkdir -p $M/many && pkt_check "100,000 inodes" pkt-bench mkfiles $M/many 99000
	kexec_timed
}

stage_4() {
	after_kexec pkernfs || return
	mount_figure "$MNT_FIRST" mount-3G-100k || return
	umount $M && pkt_unbind "$PKDEV" > /dev/null
	pkt_ok "pkernfs figures done"
	kexec_timed
}

stage_5() { after_kexec none && kexec_timed; }
stage_6() { after_kexec none && kexec_timed; }
stage_7() { after_kexec none && pkt_ok "bench done"; }
