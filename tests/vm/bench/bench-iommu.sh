# SPDX-License-Identifier: GPL-2.0-only
# make bench: IOMMU map and unmap throughput on a persistent domain (tables
# in pkernfs's kernel area) against a stock domain, 4 KiB and 2 MiB pages,
# in the same VM: two edu devices, one domain each, both mapping the same
# pinned 64 MiB pkernfs file. Each figure is the median of 9 runs of
# map+unmap rounds, runs of the two domains interleaved: 32 rounds of 4 KiB
# pages, 1024 of 2 MiB ones (32 rounds of 32 pages took under a
# millisecond, and one run's 2 MiB unmap ratio swung from 0.67 to 1.09),
# in tenths of a ns per page (a 4 KiB unmap takes about 8 ns a page: whole
# ns made its ratio jump between 0.75 and 1.33). Figures, not
# assertions (the issue's target: persistent >= 0.9x stock). bench-iommu+sm
# is the same in scalable mode, its groups named iommu-sm-*.
# The nvdimm is host memory (pkt-nvdimm-backing: mem), as the stock
# domain's tables are: a file-backed one cost the persistent domain's 4 KiB
# maps about 5 % more under TCG, QEMU's writes to its page tables going to
# a host file.
# pkt-nvdimm: 512M
# pkt-nvdimm-backing: mem
# pkt-qemu: -device edu
# pkt-timeout: 900
# pkt-legs: bench
# pkt-sm: bench

F=/mnt/pk/guest-ram
LEN=0x4000000
BIOVA=0x40000000

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# rounds PGSIZE: map+unmap rounds of one run.
rounds() { [ "$1" = 4096 ] && echo 32 || echo 1024; }

# run DEV PGSIZE: ns per page for map and for unmap, one run.
run() {
	pkt_edu "$1" bench "$(rounds "$2")" "$2" $BIOVA $LEN || return 1
	awk -v pages=$((LEN / $2 * $(rounds "$2"))) '{printf "%.1f %.1f\n", $2 / pages, $3 / pages}' \
		"/sys/kernel/debug/pkt_edu/$1"
}

stage_1() {
	local pk stock pg i r
	local mode=
	pkt_iommu_sm && mode=sm-
	pk=$(pkt_edu_devs | sed -n 1p)
	stock=$(pkt_edu_devs | sed -n 2p)
	pkt_pkernfs_stage1 $F 64M || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "persistent domain on $pk" sh -c "echo domain > /sys/kernel/debug/pkt_edu/$pk &&
		echo persist 0xbe1c $F > /sys/kernel/debug/pkt_edu/$pk &&
		echo attach > /sys/kernel/debug/pkt_edu/$pk" &&
	pkt_must "stock domain on $stock" sh -c "echo domain > /sys/kernel/debug/pkt_edu/$stock &&
		echo attach > /sys/kernel/debug/pkt_edu/$stock" &&
	pkt_must "pin and map the file (persistent)" pkt-edu map "$pk" $F $LEN $PKT_EDU_IOVA 4096 &&
	pkt_must "pin and map the file (stock)" pkt-edu map "$stock" $F $LEN $PKT_EDU_IOVA 4096 || return
	for pg in 4096 2097152; do
		: > /tmp/pk; : > /tmp/st
		for i in $(seq 9); do
			run "$stock" $pg >> /tmp/st && run "$pk" $pg >> /tmp/pk || {
				pkt_fail "bench $pg"; return; }
		done
		for r in map unmap; do
			col=1; [ $r = unmap ] && col=2
			for f in st:stock pk:persistent; do
				pkt_emit "BENCH iommu-$mode$r-$((pg / 1024))K ${f#*:} $(cut -d' ' -f$col /tmp/${f%%:*} |
					sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)], a[1], a[NR]}') ns/page"
			done
		done
	done
	pkt_ok "bench done"
}
