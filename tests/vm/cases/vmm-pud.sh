# SPDX-License-Identifier: GPL-2.0-only
# Guest RAM of 1 GiB in pkernfs, the QEMU backend given align=1G: QEMU's
# mapping of the file faults in 1 GiB pages (PUD), no 2 MiB and no 4 KiB
# fault, before and after a host kexec that the guest rides through.
# pkt-stages: 2
# pkt-legs: test
# pkt-nvdimm: 3G
# pkt-initrd-append: @BUILD@/vmm/vmm.cpio
# pkt-timeout: 900

M=/mnt/pk
RAM=$M/vm1g.ram
STATE=$M/vm1g.state
T=/sys/kernel/tracing
export PKT_QEMU_ALIGN=1G

faults() { grep -c "order=$1 " $T/trace; }
trace_on() {
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	echo > $T/trace
}

stage_1() {
	local t0=$(cut -d' ' -f1 /proc/uptime)
	pkt_pkernfs_format || return
	trace_on
	pkt_must "QEMU, 1 GiB of guest RAM in pkernfs, align=1G" pkt_qemu_start vm0 $RAM 1G || return
	pkt_check "the guest patterned its RAM and runs" pkt_qemu_wait vm0 2 800 || return
	pkt_info "$(head -n 1 /run/vm0.serial) (tick 2 at $(cut -d' ' -f1 /proc/uptime) s, QEMU started at $t0 s)"
	pkt_check "the 1 GiB mapping faulted in a PUD ($(faults 18))" [ "$(faults 18)" -ge 1 ]
	pkt_eq "no 2 MiB fault" "$(faults 9)" 0
	pkt_eq "no 4 KiB fault" "$(faults 0)" 0
	pkt_must "pause, save, quit" pkt_qemu_save vm0 $STATE || return
	set -- $(pkt_qemu_tick vm0)
	PKT_EXTRA_APPEND="pkt.vm0=$1:$2"
	pkt_must "umount" umount $M || return
	pkt_kexec
}

stage_2() {
	local saved
	saved=$(pkt_arg pkt.vm0)
	pkt_pkernfs_remount || return
	trace_on
	pkt_must "a new QEMU resumes the guest over the same 1 GiB" \
		pkt_qemu_resume vm0 $RAM 1G $STATE || return
	pkt_check "the guest goes on" pkt_qemu_wait vm0 $((${saved#*:} + 2)) 300
	pkt_eq "its next tick, same boot" "$(pkt_qemu_next_tick vm0)" \
		"${saved%:*} $((${saved#*:} + 1))"
	pkt_eq "no bad chunk" "$(grep -c BAD /run/vm0.serial)" 0
	pkt_check "the resumed mapping faulted in a PUD ($(faults 18))" [ "$(faults 18)" -ge 1 ]
	pkt_eq "no 2 MiB fault" "$(faults 9)" 0
	pkt_eq "no 4 KiB fault" "$(faults 0)" 0
	pkt_must "quit" pkt_qemu_quit vm0
}
