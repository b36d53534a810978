# SPDX-License-Identifier: GPL-2.0-only
# make bench: a VM's blackout across a host live update. Debian's QEMU
# (nested, TCG) runs the payload guest with its RAM a pkernfs file; the
# blackout is from the guest's pause ("stop") to its "cont" in a new QEMU:
#   kexec    stop, save the device state (x-ignore-shared: the RAM stays
#            in the file), QEMU quits, kexec -e (the image loaded before
#            the stop), boot, bind and mount pkernfs, a new QEMU with
#            -incoming defer, load the state, cont;
#   restart  the peer: the same VMM flow on the same kernel, no kexec.
# For 64 MiB, 1 GiB and 16 GiB of guest RAM (the payload is 32-bit: it
# patterns and checks the RAM below 4 GiB, 3 GiB of the 16; the rest is
# mapped and saved around like any guest RAM). Each figure is one run (a kexec); restart is the
# median of 3. The whole blackout is on the TSC, noted in a pkernfs file
# before the stop and read after the cont; its phases are /proc/uptime
# stamps, the kexec-and-boot phase being what the rest leaves.
# pkt-stages: 4
# pkt-legs: bench
# pkt-nvdimm: 18G
# pkt-maxmem: 24G
# pkt-initrd-append: @BUILD@/vmm/vmm.cpio
# pkt-timeout: 3600

M=/mnt/pk
NOTE=$M/tsc.note
PHASES=$M/phases
SIZES="64M 1G 16G"

up() { cut -d' ' -f1 /proc/uptime; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
tsc_since() { pkt-bench tsc-since $NOTE | cut -d' ' -f1; }
size_of() { echo $SIZES | cut -d' ' -f"$1"; }

# restart SIZE: the peer flow, 3 times; BENCH lines for the median.
restart() {
	local s=$1 ram=$M/vm-$1.ram i u0 u1 u2 u3 u4 t
	: > /tmp/restart
	for i in 1 2 3; do
		pkt-bench tsc-save $NOTE && u0=$(up) &&
		pkt_qemu_pause vm "$M/vm.state" && u1=$(up) &&
		pkt_qemu_quit vm && u2=$(up) &&
		pkt_qemu_start vm "$ram" "$s" -incoming defer && pkt_qmp vm "info status" > /dev/null &&
		u3=$(up) &&
		pkt_qemu_load vm "$M/vm.state" && u4=$(up) &&
		pkt_qmp vm cont > /dev/null && t=$(tsc_since) || {
			pkt_fail "restart $s, run $i"
			return 1
		}
		echo "$t $(sub "$u1" "$u0") $(sub "$u2" "$u1") $(sub "$u3" "$u2") $(sub "$u4" "$u3")" >> /tmp/restart
		pkt_check "$s: the guest goes on after restart $i" \
			pkt_qemu_wait vm $(($(pkt_qemu_tick vm | cut -d' ' -f2) + 1)) 120 || return 1
	done
	for i in 1:blackout 2:pause 3:quit 4:start 5:load; do
		pkt_emit "BENCH vmm-${i#*:}-$s restart $(cut -d' ' -f"${i%%:*}" /tmp/restart | sort -g |
			awk '{a[NR] = $1} END {print a[2], a[1], a[3]}') s"
	done
}

# boot_guest SIZE: a QEMU for a fresh guest of SIZE, running; its restart
# figures; then, with this kernel loaded for kexec, stop, save, quit, and
# kexec -e. The phases so far, and the guest's tick, go to $PHASES.
boot_guest() {
	local s=$1 ram=$M/vm-$1.ram u0 u1 u2 t0
	t0=$(up)
	pkt_must "$s: QEMU, the guest's RAM in pkernfs" pkt_qemu_start vm "$ram" "$s" &&
	pkt_check "$s: the guest patterned its RAM and runs" pkt_qemu_wait vm 2 1500 || return 1
	pkt_info "$s: $(head -n 1 /run/vm.serial), tick 2 after $(sub "$(up)" "$t0") s"
	restart "$s" || return 1
	pkt_kexec_prepare
	kexec -l /boot/bzImage --initrd=$PKT_NEXT_INITRD --append="$PKT_NEXT_CMDLINE" > /tmp/kexec.log 2>&1 ||
		{ pkt_fail "kexec -l: $(tail -n 2 /tmp/kexec.log)"; return 1; }
	pkt-bench tsc-save $NOTE && u0=$(up) &&
	pkt_qemu_pause vm "$M/vm.state" && u1=$(up) &&
	pkt_qemu_quit vm && u2=$(up) || { pkt_fail "$s: pause and quit"; return 1; }
	echo "$s $(sub "$u1" "$u0") $(sub "$u2" "$u1") $(pkt_qemu_tick vm)" > $PHASES
	pkt_kexec_exec
}

# fig GROUP SYSTEM SECONDS: one figure, measured once.
fig() { pkt_emit "BENCH $1 $2 $3 $3 $3 s"; }

# resume: the guest of the last stage in a new QEMU, timed, on the new kernel.
resume() {
	local u0 u1 u2 u3 u4 t s pause quit boot tick kexec
	u0=$(up)
	mkdir -p $M
	pkt_bind dax0.0 && mount -t pkernfs dax0.0 $M && u1=$(up) || {
		pkt_fail "bind and mount after kexec"
		return 1
	}
	read -r s pause quit boot tick < $PHASES
	pkt_qemu_start vm "$M/vm-$s.ram" "$s" -incoming defer && pkt_qmp vm "info status" > /dev/null &&
	u2=$(up) &&
	pkt_qemu_load vm "$M/vm.state" && u3=$(up) &&
	pkt_qmp vm cont > /dev/null && u4=$(up) && t=$(tsc_since) || {
		pkt_fail "$s: resume after kexec"
		return 1
	}
	# From kexec -e to this stage's first stamp: what the TSC total leaves;
	# of it, the new kernel's uptime then was its boot and this init's.
	kexec=$(sub "$(sub "$(sub "$t" "$pause")" "$quit")" "$(sub "$u4" "$u0")")
	pkt_info "$s: blackout $t s: pause $pause, quit $quit, old kernel down and purgatory $(sub "$kexec" "$u0"), boot to init's stage $u0, bind+mount $(sub "$u1" "$u0"), QEMU start $(sub "$u2" "$u1"), load $(sub "$u3" "$u2"), cont $(sub "$u4" "$u3")"
	fig "vmm-blackout-$s" kexec "$t"
	fig "vmm-pause-$s" kexec "$pause"
	fig "vmm-quit-$s" kexec "$quit"
	fig "vmm-kexec-down-$s" kexec "$(sub "$kexec" "$u0")"
	fig "vmm-boot-$s" kexec "$u0"
	fig "vmm-mount-$s" kexec "$(sub "$u1" "$u0")"
	fig "vmm-start-$s" kexec "$(sub "$u2" "$u1")"
	fig "vmm-load-$s" kexec "$(sub "$u3" "$u2")"
	pkt_check "$s: the guest goes on after the kexec" pkt_qemu_wait vm $((tick + 2)) 300
	pkt_eq "$s: its next tick, same boot" \
		"$(grep -m1 tick /run/vm.serial | awk '{ print $3, $5 }')" "$boot $((tick + 1))"
	pkt_eq "$s: no bad chunk" "$(grep -c BAD /run/vm.serial)" 0
	pkt_must "$s: quit" pkt_qemu_quit vm
	rm -f "$M/vm-$s.ram"
}

stage_1() {
	pkt_pkernfs_format || return
	pkt_must "the TSC note" truncate -s 2M $NOTE || return
	boot_guest "$(size_of 1)"
}

# Stages 2..4 resume the guest of the stage before; 2 and 3 then kexec
# with the next size.
stage_n() {
	resume || return
	[ "$PKT_STAGE" -le 3 ] && boot_guest "$(size_of "$PKT_STAGE")"
}

stage_2() { stage_n; }
stage_3() { stage_n; }
stage_4() { stage_n; }
