# SPDX-License-Identifier: GPL-2.0-only
# What make demo-vm shows: a QEMU guest whose RAM is a pkernfs file keeps
# running across a kexec of its host. The guest (tests/vm/payload/)
# patterns its RAM at boot and then counts ticks, checking one chunk of
# the pattern at each; the demo prints its last ticks before the host's
# kexec and its first ones after, from a new QEMU process.
# pkt-stages: 2
# pkt-legs: test
# pkt-nvdimm: 512M
# pkt-initrd-append: @BUILD@/vmm/vmm.cpio
# pkt-timeout: 400

M=/mnt/pk
RAM=$M/guest.ram
STATE=$M/guest.state

# show NAME head|tail N: the guest's first or last N lines on its COM1.
show() { "$2" -n "$3" "/run/$1.serial" | while read -r l; do pkt_info "  guest: $l"; done; }

stage_1() {
	pkt_must "ndctl: a devdax namespace" pkt_ns_devdax &&
	pkt_must "bind it to dax_pkernfs" pkt_bind dax0.0 && mkdir -p $M &&
	pkt_must "mount -t pkernfs -o format dax0.0 $M" mount -t pkernfs -o format dax0.0 $M ||
		return
	pkt_must "QEMU: -object memory-backend-file,mem-path=$RAM,size=64M,share=on,align=2M" \
		pkt_qemu_start guest $RAM 64M || return
	pkt_check "the guest is running" pkt_qemu_wait guest 5 180 || return
	pkt_must "QMP: stop; migrate_set_capability x-ignore-shared on; migrate to $STATE; quit" \
		pkt_qemu_save guest $STATE || return
	show guest tail 3
	set -- $(pkt_qemu_tick guest)
	pkt_info "the guest stopped at tick $2; its device state is $(stat -c %s $STATE) bytes, its RAM stays in $RAM"
	pkt_must "umount" umount $M || return
	pkt_info "kexec: the host kernel restarts, the guest's RAM stays in the namespace"
	PKT_EXTRA_APPEND="pkt.guest=$1:$2"
	pkt_kexec
}

stage_2() {
	local saved
	saved=$(pkt_arg pkt.guest)
	pkt_info "a new kernel: $(uname -v)"
	pkt_pkernfs_remount || return
	pkt_must "a new QEMU: -incoming defer, x-ignore-shared, migrate_incoming from $STATE, cont" \
		pkt_qemu_resume guest $RAM 64M $STATE || return
	pkt_check "the guest goes on" pkt_qemu_wait guest $((${saved#*:} + 3)) 180
	show guest head 3
	pkt_eq "it went on from tick ${saved#*:} with its memory intact" \
		"$(pkt_qemu_next_tick guest)" "${saved%:*} $((${saved#*:} + 1))"
	pkt_must "quit" pkt_qemu_quit guest
}
