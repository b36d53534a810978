# SPDX-License-Identifier: GPL-2.0-only
# make bench: first touch of a 1 GiB mapping (one byte per 4 KiB page) on
# pkernfs (fresh file: allocation and zeroing included; then fallocated
# beforehand), on the raw devdax device, on tmpfs and on hugetlbfs, all in
# the same VM. Figures, not assertions: TCG timing is only comparable
# within one run.
# pkt-nvdimm: 4G
# pkt-mem: 3G
# pkt-timeout: 900

M=/mnt/pk

stage_1() {
	mkdir -p $M /mnt/t /mnt/h
	pkt_ns_devdax || { pkt_fail "namespace"; return; }
	pkt_info "devdax     1G first touch: $(pkt-mem touch /dev/dax0.0 0 1G)"
	pkt_info "devdax     1G second run:  $(pkt-mem touch /dev/dax0.0 0 1G)"
	pkt_bind dax0.0 && mount -t pkernfs -o format dax0.0 $M || { pkt_fail "mount"; return; }
	truncate -s 1G $M/fresh
	pkt_info "pkernfs    1G first touch (allocate + zero): $(pkt-mem touch $M/fresh 0 1G)"
	pkt_info "pkernfs    1G second run (mapped again): $(pkt-mem touch $M/fresh 0 1G)"
	truncate -s 1G $M/pre && pkt-fsops falloc $M/pre alloc 0 1G
	pkt_info "pkernfs    1G after fallocate: $(pkt-mem touch $M/pre 0 1G)"
	mount -t tmpfs -o size=1100M tmpfs /mnt/t && truncate -s 1G /mnt/t/f
	pkt_info "tmpfs      1G first touch: $(pkt-mem touch /mnt/t/f 0 1G)"
	umount /mnt/t
	echo 512 > /proc/sys/vm/nr_hugepages
	mount -t hugetlbfs none /mnt/h && truncate -s 1G /mnt/h/f
	pkt_info "hugetlbfs  1G first touch ($(cat /proc/sys/vm/nr_hugepages) x 2M pages): $(pkt-mem touch /mnt/h/f 0 1G)"
	umount /mnt/h
	pkt_ok "bench done"
}
