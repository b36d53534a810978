# SPDX-License-Identifier: GPL-2.0-only
# What 'make demo' shows (and 'make check' runs): a devdax namespace made
# with ndctl, bound to pkernfs, formatted and mounted; a guest-RAM-like
# file written through mmap and a small tree of files; a kexec into a new
# kernel in the same QEMU process; the files found intact.
# pkt-stages: 2
# pkt-legs: test
# pkt-nvdimm: 1G
# pkt-timeout: 300

M=/run/pkernfs

state() {
	(cd $M && find . | sort | xargs stat -c '%n %F %a %u:%g %s' && md5sum etc/* | cut -c1-32)
}

stage_1() {
	pkt_info "stage 1: first kernel up; the nvdimm region as ndctl sees it:"
	pkt_info "  $(ndctl list -R | jq -c '.[] | {dev, size, type}')"
	pkt_info "pkernfsctl create --mkfs --enable  (libndctl: devdax namespace, 2M align; mkfs; bind to dax_pkernfs)"
	out=$(pkernfsctl create --mkfs --enable 2> /tmp/create.err) ||
		{ pkt_fail "pkernfsctl create: $(cat /tmp/create.err)"; return; }
	pkt_info "  $(echo "$out" | jq -c .)"
	pkt_info "mount -t pkernfs dax0.0 $M"
	mkdir -p $M
	pkt_check "mounted" mount -t pkernfs dax0.0 $M || return
	pkt_info "writing vm0.ram (512 MiB of guest memory, through mmap) and a small tree"
	truncate -s 512M $M/vm0.ram
	pkt_check "vm0.ram written through mmap" pkt-mem fill $M/vm0.ram 0 512M 0xdec0de
	mkdir -p $M/etc
	echo "name=vm0 mem=512M" > $M/etc/vm0.conf
	ln -s ../vm0.ram $M/etc/vm0.ram
	chmod 0600 $M/etc/vm0.conf
	state > /tmp/state
	pkt_info "  $(df -m $M | tail -n 1 | awk '{print $3 " MiB used of " $2}')"
	pkt_info "umount, then ask pkernfsctl kexec-check whether a kexec now keeps everything"
	umount $M
	PKT_EXTRA_APPEND="pkt.state=$(md5sum < /tmp/state | cut -c1-32)" pkt_kexec_prepare
	pkernfsctl kexec-check --kernel /boot/bzImage --initrd $PKT_NEXT_INITRD \
		--append "$PKT_NEXT_CMDLINE" > /tmp/kc.out 2>&1
	pkt_eq "kexec-check: ready" "$?" 0
	while read -r line; do pkt_info "  $line"; done < /tmp/kc.out
	pkt_info "kexec into the new kernel with that command (the nvdimm file is not reopened)"
	cmd=$(sed -n 's/^  \(kexec -l .*\) && kexec -e$/\1/p' /tmp/kc.out)
	pkt_check "kexec -l" eval "$cmd" || return
	pkt_kexec_exec
}

stage_2() {
	pkt_info "stage 2: new kernel up after $(cut -d' ' -f1 /proc/uptime) s (boot id $(cat /proc/sys/kernel/random/boot_id | cut -c1-8))"
	pkt_info "pkernfsctl enable dax0.0, then mount it"
	mkdir -p $M
	pkt_check "bound" pkernfsctl enable dax0.0 || return
	pkt_check "mounted" mount -t pkernfs dax0.0 $M || return
	pkt_info "  $(ls -l $M $M/etc | tr -s ' ' | tr '\n' ';')"
	pkt_eq "names, modes, sizes and config contents as before" \
		"$(state | md5sum | cut -c1-32)" "$(pkt_arg pkt.state)"
	pkt_check "all 512 MiB of vm0.ram intact" pkt-mem verify $M/vm0.ram 0 512M 0xdec0de
	umount $M
	pkernfsctl disable dax0.0
	pkt_info "pkernfsctl fsck: $(pkernfsctl fsck dax0.0)"
}
