# SPDX-License-Identifier: GPL-2.0-only
# Shared by the firmware-* cases: a region described by the acpi/ SSDT at
# 0x50000000, 256 MiB, taken from device to mounted pkernfs and across a
# kexec. Sourced by the case; uses tests/vm/lib.sh.

M=/mnt/pk
FW_DEV=/sys/bus/platform/devices/PRP0001:00

# fw_kc ARGS: kexec-check of /boot/bzImage; with FW_INITRD set (the table
# came from the initrd), the next initrd is this rootfs packed again.
fw_kc() {
	if [ -n "${FW_INITRD:-}" ]; then
		(cd / && find . -xdev | cpio -o -H newc > "$FW_INITRD" 2> /dev/null)
		set -- --initrd "$FW_INITRD" "$@"
	fi
	pkernfsctl kexec-check --kernel /boot/bzImage "$@"
}

# fw_region_up HOW: the SSDT device bound, its region in ndctl, the range reserved.
fw_region_up() {
	pkt_eq "$1: PRP0001:00 bound to pkernfs_pmem_region" \
		"$(basename "$(readlink $FW_DEV/driver)")" pkernfs_pmem_region || return 1
	pkt_eq "ndctl list -B: a bus from pkernfs-pmem-region" \
		"$(ndctl list -B | jq -r '.[] | select(.provider == "pkernfs-pmem-region") | .provider')" \
		pkernfs-pmem-region
	pkt_eq "ndctl list -R: a 256 MiB pmem region at 0x50000000" \
		"$(ndctl list -R | jq -c '[.[] | select(.size == 268435456) | .type]')" '["pmem"]'
	pkt_check "/proc/iomem: 0x50000000 starts a Reserved range, not System RAM" \
		grep -qE '^ *50000000-[0-9a-f]+ : Reserved' /proc/iomem
}

# fw_fill_and_check: a devdax namespace (pkernfsctl create, or with
# FW_CREATE=ndctl plain ndctl create-namespace), pkernfs on it, data.
fw_fill_and_check() {
	local out dev region
	mkdir -p $M
	if [ "${FW_CREATE:-}" = ndctl ]; then
		region=$(ndctl list -R | jq -r '.[] | select(.size == 268435456) | .dev')
		out=$(ndctl create-namespace -f -e namespace${region#region}.0 -m devdax -a 2M 2>&1) ||
			{ pkt_fail "ndctl create-namespace on $region: $out"; return 1; }
		dev=$(echo "$out" | jq -r .daxregion.devices[0].chardev)
		pkt_ok "ndctl create-namespace -m devdax on $region: $dev"
		pkt_check "pkernfsctl mkfs $dev" pkernfsctl mkfs $dev || return 1
		pkt_check "pkernfsctl enable $dev" pkernfsctl enable $dev || return 1
	else
		out=$(pkernfsctl create --mkfs --enable 2> /tmp/create.err) ||
			{ pkt_fail "pkernfsctl create on the SSDT region: $(cat /tmp/create.err)"; return 1; }
		dev=$(echo "$out" | jq -r .chardev)
		pkt_ok "pkernfsctl create --mkfs --enable: $dev ($(echo "$out" | jq -r .size) bytes)"
	fi
	pkt_check "mount" mount -t pkernfs $dev $M || return 1
	truncate -s 96M $M/vm.ram
	pkt-mem fill $M/vm.ram 0 96M 0xf1ae > $M/sum
	mkdir $M/etc && echo "fw=ssdt" > $M/etc/conf
	fw_kc > /tmp/kc.out 2>&1
	pkt_eq "kexec-check passes ($(grep 'ok   describe' /tmp/kc.out | cut -c 17-100))" "$?" 0
	pkt_check "umount" umount $M
}

# fw_kexec: kexec with exactly the command kexec-check prints.
fw_kexec() {
	local out cmd
	pkt_kexec_prepare
	out=$(pkernfsctl kexec-check -j --kernel /boot/bzImage --initrd $PKT_NEXT_INITRD \
		--append "$PKT_NEXT_CMDLINE")
	pkt_eq "kexec-check -j for the kexec: ready" "$(echo "$out" | jq .ready)" true
	cmd=$(echo "$out" | jq -r .command)
	pkt_info "  $cmd"
	pkt_check "the printed kexec -l loads (memmap=...\$... quoted through)" eval "${cmd% && kexec -e}" || return
	pkt_kexec_exec
}

fw_verify() {
	local dev
	fw_region_up "after kexec" || return
	dev=$(pkernfsctl list -j | jq -r '[.[] | select(.pkernfs.version == "1.2")][0].chardev')
	pkt_check "enable $dev" pkernfsctl enable $dev || return
	mkdir -p $M
	pkt_check "mount" mount -t pkernfs $dev $M || return
	pkt_check "96 MiB of guest memory intact" pkt-mem verify $M/vm.ram 0 96M 0xf1ae
	pkt_eq "checksum as before the kexec" "$(pkt-mem sum $M/vm.ram 0 96M)" "$(cat $M/sum)"
	pkt_eq "small file intact" "$(cat $M/etc/conf)" fw=ssdt
	pkt_check "kexec-check agrees in the new kernel" fw_kc
	pkt_check "umount" umount $M
}
