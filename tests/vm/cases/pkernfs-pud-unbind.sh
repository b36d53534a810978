# SPDX-License-Identifier: GPL-2.0-only
# A 1 GiB file on a 1 GiB-aligned run maps with PUD faults; unbinding the
# dax device under a mounted pkernfs shuts it down safely (EIO, SIGBUS, no
# oops), and after a rebind the data is all there.
# pkt-nvdimm: 3G
# pkt-timeout: 300

T=/sys/kernel/tracing
M=/mnt/pk

stage_1() {
	mkdir -p $M
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_check "bind" pkt_bind dax0.0
	pkt_check "mount -o format" mount -t pkernfs -o format dax0.0 $M
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	: > $T/trace
	truncate -s 1G $M/pud
	pkt_check "fill 1 GiB through mmap" pkt-mem fill $M/pud 0 1G 5
	n=$(grep -c 'order=18 ' $T/trace)
	pkt_eq "1 GiB written through one PUD fault" "$n" 1
	pkt_info "faults by order: $(grep -o 'order=[0-9]*' $T/trace | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
	echo 0 > $T/events/pkernfs/pkernfs_fault/enable
	echo keep > $M/small

	pkt_kmsg_mark unbind
	out=$(pkt-fsops map $M/small 4K "echo dax0.0 > /sys/bus/dax/drivers/dax_pkernfs/unbind" | tr '\n' ' ')
	pkt_eq "unbind while mounted and mapped: the mapping is revoked" "$out" \
		"mapped-cmd-status 0 last-byte sigbus "
	pkt_check "the kernel says why" sh -c "dmesg | sed -n '/PKT MARK unbind/,\$p' | grep -q 'unbound while mounted'"
	pkt_refuse "read after unbind fails (EIO)" cat $M/pud
	pkt_refuse "create after unbind fails (EIO)" touch $M/new
	pkt_check "umount of the dead filesystem" umount $M
	pkt_check "bind again" pkt_bind dax0.0
	pkt_check "mount again" mount -t pkernfs dax0.0 $M
	pkt_check "the 1 GiB file is intact" pkt-mem verify $M/pud 0 1G 5
	pkt_eq "the small file is intact (its write before the mapping)" "$(head -c 4 $M/small)" "$(printf 'kkkk')"
	pkt_check "umount" umount $M
}
