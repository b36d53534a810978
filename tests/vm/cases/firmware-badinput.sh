# SPDX-License-Identifier: GPL-2.0-only
# Bad firmware descriptions (tests/vm/acpi/pkernfs-bad.asl) are refused by
# pkernfs_pmem_region with a message naming the problem, and nothing else
# is touched: System RAM in use, a misaligned range, a second description
# of described memory, a range outside RAM, none at all, a bad alignment
# property, a zero-length range. The good region beside them works, and unbinding the driver
# under a mounted pkernfs shuts the filesystem down cleanly (EIO, umount,
# no oops); rebinding brings the region and the data back.
# pkt-nvdimm: none
# nokaslr: the System-RAM-in-use range (0x70000000, 64 MiB) must be plain
# RAM; a randomized kernel image landed in it once (make check, 2026-12-06:
# "PRP0001:01: failed to claim resource 0", so the driver never probed).
# pkt-append: memmap=320M$0x50000000 nokaslr
# pkt-qemu: -acpitable file=@BUILD@/acpi/pkernfs-bad.aml
# pkt-timeout: 240

. /pkt/firmware-lib.sh
DRV=/sys/bus/platform/drivers/pkernfs_pmem_region

# refused N MSG: PRP0001:0N is not bound and the log says MSG about it.
refused() {
	local dev=PRP0001:0$1 msg=$2
	if [ -e $DRV/$dev ]; then
		pkt_fail "$dev is bound; it should have been refused ($msg)"
	elif dmesg | grep "pkernfs_pmem_region $dev" | grep -q "$msg"; then
		pkt_ok "$dev refused: $(dmesg | grep "pkernfs_pmem_region $dev" | grep "$msg" | sed 's/.*\] //' | head -n 1)"
	else
		pkt_fail "$dev: no '$msg' in the log: $(dmesg | grep "$dev" | tail -n 2 | tr '\n' ' ')"
	fi
}

stage_1() {
	local dev
	refused 1 "System RAM in use"
	refused 2 "must be multiples of 0x200000"
	refused 3 "overlaps \[mem 0x50000000-0x5fffffff\] already described by PRP0001:00"
	refused 4 "not (all) reserved memory"
	refused 5 "no memory range described"
	refused 6 "pkernfs,align 0x1000: must be a power of two of at least 2 MiB"
	refused 7 "no memory range described"	# ACPI drops the zero-length entry
	pkt_eq "exactly one pkernfs-pmem-region bus" \
		"$(ndctl list -B | jq -s '[.[][] | select(.provider == "pkernfs-pmem-region")] | length')" 1
	fw_region_up "the good description beside them" || return

	# Unbind the platform driver under a mounted pkernfs.
	mkdir -p $M
	dev=$(pkernfsctl create --mkfs --enable | jq -r .chardev)
	pkt_check "mount on the good region" mount -t pkernfs $dev $M || return
	echo kept > $M/f
	pkt_kmsg_mark unbind
	pkt_check "unbind PRP0001:00 from pkernfs_pmem_region while mounted" \
		sh -c "echo PRP0001:00 > $DRV/unbind"
	if pkt_kmsg_since unbind | grep -q 'unbound while in use'; then
		pkt_ok "  ... the filesystem was told and shut down"
	else
		pkt_fail "  ... no shutdown message: $(dmesg | tail -n 5 | tr '\n' ' ')"
	fi
	pkt_refuse "  ... reads fail instead of touching the memory" cat $M/f
	pkt_check "  ... umount works" umount $M
	pkt_eq "  ... and the region is gone" \
		"$(ndctl list -B | jq -s '[.[][] | select(.provider == "pkernfs-pmem-region")] | length')" 0
	pkt_check "rebind PRP0001:00" sh -c "echo PRP0001:00 > $DRV/bind"
	fw_region_up "after rebind" || return
	dev=$(pkernfsctl list -j | jq -r '[.[] | select(.pkernfs.version == "1.2")][0].chardev')
	pkt_check "enable $dev again" pkernfsctl enable $dev || return
	pkt_check "mount again" mount -t pkernfs $dev $M || return
	pkt_eq "the file written before the unbind is intact" "$(cat $M/f)" kept
	umount $M
}
