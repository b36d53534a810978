# SPDX-License-Identifier: GPL-2.0-only
# vmm-basic's control: the same guest with its RAM on tmpfs. The device
# state survives (it is on pkernfs) but the RAM does not, and the guest
# must not come back: no tick after the kexec continues the saved boot.
# pkt-stages: 2
# pkt-legs: test
# pkt-nvdimm: 512M
# pkt-initrd-append: @BUILD@/vmm/vmm.cpio
# pkt-timeout: 400

M=/mnt/pk
RAM=/run/vm0.ram
STATE=$M/vm0.state

stage_1() {
	pkt_pkernfs_format || return
	pkt_must "QEMU runs the guest, its RAM on tmpfs" pkt_qemu_start vm0 $RAM 64M || return
	pkt_check "the guest runs: tick 3" pkt_qemu_wait vm0 3 180 || return
	pkt_must "pause, save, quit" pkt_qemu_save vm0 $STATE || return
	set -- $(pkt_qemu_tick vm0)
	pkt_must "umount" umount $M || return
	PKT_EXTRA_APPEND="pkt.vm0=$1:$2"
	pkt_kexec
}

stage_2() {
	local saved
	saved=$(pkt_arg pkt.vm0)
	pkt_pkernfs_remount || return
	pkt_eq "the RAM file is gone with tmpfs" "$(ls $RAM 2> /dev/null)" ""
	# QEMU makes a new, empty RAM file; the state loads, the guest cannot go on.
	pkt_qemu_resume vm0 $RAM 64M $STATE
	pkt_info "resume on empty RAM: rc $?; $(pkt_qmp vm0 'info status' 2>&1); QEMU said: $(tr '\n' ' ' < /run/vm0.qemu.log)"
	# If a QEMU still runs the guest, give it time to show it does not go on.
	pkt_qemu_alive vm0 && sleep 20
	pkt_eq "no tick continues the saved boot ${saved%:*}" \
		"$(cat /run/vm0.serial 2> /dev/null | grep -c "boot ${saved%:*} tick")" 0
	pkt_qemu_quit vm0
}
