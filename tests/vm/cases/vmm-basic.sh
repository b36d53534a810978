# SPDX-License-Identifier: GPL-2.0-only
# A real VMM on pkernfs: Debian's QEMU (nested, TCG) runs the payload guest
# (tests/vm/payload/) with its 64 MiB of RAM a pkernfs file, shared and
# 2 MiB aligned, so QEMU's mapping faults in PMDs, never PTEs. The guest is
# paused, its device state saved with x-ignore-shared (its RAM stays in the
# file), the host kexecs, and a new QEMU resumes it: the guest goes on at
# the next tick with the same boot number, every chunk of its patterned RAM
# checking out. Then a QEMU without align=: its mapping faults in 4 KiB
# pages only.
# pkt-stages: 2
# pkt-legs: test
# pkt-nvdimm: 512M
# pkt-initrd-append: @BUILD@/vmm/vmm.cpio
# pkt-timeout: 400

M=/mnt/pk
RAM=$M/vm0.ram
STATE=$M/vm0.state
T=/sys/kernel/tracing

faults() { grep -c "order=$1 " $T/trace; }

stage_1() {
	pkt_pkernfs_format || return
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	echo > $T/trace
	pkt_must "QEMU runs the guest, its RAM in pkernfs" pkt_qemu_start vm0 $RAM 64M || return
	pkt_check "the guest runs: tick 3" pkt_qemu_wait vm0 3 180 || return
	pkt_info "$(head -n 1 /run/vm0.serial)"
	pkt_check "QEMU's mapping faulted in 2 MiB pages ($(faults 9) PMD faults)" \
		[ "$(faults 9)" -ge 16 ]
	pkt_eq "and no 4 KiB fault" "$(faults 0)" 0
	pkt_must "pause, save the device state (x-ignore-shared), quit" pkt_qemu_save vm0 $STATE ||
		return
	set -- $(pkt_qemu_tick vm0)
	pkt_info "saved at boot $1 tick $2; state $(stat -c %s $STATE) bytes"
	pkt_check "the state leaves the RAM out (under 1 MiB)" [ "$(stat -c %s $STATE)" -lt 1048576 ]
	pkt_must "umount" umount $M || return
	PKT_EXTRA_APPEND="pkt.vm0=$1:$2"
	pkt_kexec
}

stage_2() {
	local saved boot tick
	saved=$(pkt_arg pkt.vm0)
	boot=${saved%:*}
	tick=${saved#*:}
	pkt_pkernfs_remount || return
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	echo > $T/trace
	pkt_must "a new QEMU loads the state over the same RAM and continues" \
		pkt_qemu_resume vm0 $RAM 64M $STATE || return
	pkt_check "the guest goes on" pkt_qemu_wait vm0 $((tick + 3)) 180
	pkt_eq "its first tick after the kexec is the next one, same boot" \
		"$(pkt_qemu_next_tick vm0)" "$boot $((tick + 1))"
	pkt_eq "no cold boot, no bad chunk" "$(grep -c 'patterned\|BAD' /run/vm0.serial)" 0
	pkt_check "the resumed mapping faulted in 2 MiB pages too ($(faults 9))" [ "$(faults 9)" -ge 1 ]
	pkt_eq "and no 4 KiB fault" "$(faults 0)" 0
	pkt_must "quit" pkt_qemu_quit vm0

	# Without align=, QEMU maps its RAM at an address aligned only to 4 KiB
	# (MAP_FIXED over its own reservation): no PMD can map it.
	echo > $T/trace
	PKT_QEMU_ALIGN=""
	pkt_must "QEMU without align= on a new RAM file" pkt_qemu_start vm1 $M/vm1.ram 64M || return
	unset PKT_QEMU_ALIGN
	pkt_check "that guest runs too" pkt_qemu_wait vm1 1 180
	pkt_info "without align=: $(faults 9) PMD faults, $(faults 0) PTE faults"
	pkt_check "  ... in 4 KiB pages only" sh -c "[ $(faults 0) -gt 1000 ] && [ $(faults 9) = 0 ]"
	pkt_must "quit" pkt_qemu_quit vm1
}
