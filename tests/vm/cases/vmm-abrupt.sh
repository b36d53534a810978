# SPDX-License-Identifier: GPL-2.0-only
# Two VMs at once on one pkernfs, and an abrupt host kexec: both guests
# are paused and their device state saved, but neither QEMU exits and the
# filesystem stays mounted when kexec -e runs. After the kexec each guest
# resumes in a new QEMU at its next tick, its own boot number and pattern
# intact (the two RAM files are distinct memory).
# pkt-stages: 2
# pkt-legs: test
# pkt-nvdimm: 512M
# pkt-initrd-append: @BUILD@/vmm/vmm.cpio
# pkt-timeout: 400

M=/mnt/pk

stage_1() {
	local v at=""
	pkt_pkernfs_format || return
	pkt_must "vm0: QEMU, 48 MiB of RAM in pkernfs" pkt_qemu_start vm0 $M/vm0.ram 48M &&
	pkt_must "vm1: QEMU, 32 MiB of RAM in pkernfs" pkt_qemu_start vm1 $M/vm1.ram 32M || return
	for v in vm0 vm1; do
		pkt_check "$v runs: tick 3" pkt_qemu_wait $v 3 180 || return
	done
	for v in vm0 vm1; do
		pkt_must "$v: stop, save the state; QEMU left running" \
			pkt_qemu_pause $v $M/$v.state || return
		set -- $(pkt_qemu_tick $v)
		at="$at pkt.$v=$1:$2"
	done
	pkt_check "vm0's QEMU still runs" pkt_qemu_alive vm0
	pkt_check "vm1's QEMU still runs" pkt_qemu_alive vm1
	PKT_EXTRA_APPEND="$at"
	pkt_kexec
}

stage_2() {
	local v saved
	pkt_pkernfs_remount || return
	pkt_must "vm0: a new QEMU resumes it" pkt_qemu_resume vm0 $M/vm0.ram 48M $M/vm0.state &&
	pkt_must "vm1: a new QEMU resumes it" pkt_qemu_resume vm1 $M/vm1.ram 32M $M/vm1.state || return
	for v in vm0 vm1; do
		saved=$(pkt_arg pkt.$v)
		pkt_check "$v goes on" pkt_qemu_wait $v $((${saved#*:} + 2)) 180
		pkt_eq "$v: its next tick, its own boot" \
			"$(pkt_qemu_next_tick $v)" \
			"${saved%:*} $((${saved#*:} + 1))"
		pkt_eq "$v: no bad chunk" "$(grep -c BAD /run/$v.serial)" 0
		pkt_must "$v: quit" pkt_qemu_quit $v
	done
}
