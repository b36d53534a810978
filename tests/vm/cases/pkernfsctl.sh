# SPDX-License-Identifier: GPL-2.0-only
# pkernfsctl on real ndctl objects: create (libndctl) on a label-backed
# region, mkfs, enable, mount, list -j (with the pkernfs state, read while
# mounted), fsck of a mounted device's snapshot, --repair refused while
# mounted, disable refused while mounted, fsck clean, info, kexec-check on
# an NFIT region; exit codes as documented.
# Test kernel only: what it tests is the tool; the kernel paths it reaches run on
# the debug kernel in the pkernfs-* cases.
# pkt-nvdimm: 1G
# pkt-nvdimm-label: 128K
# pkt-legs: test
# pkt-timeout: 240

M=/mnt/pk

stage_1() {
	mkdir -p $M
	ndctl disable-region all > /dev/null 2>&1
	ndctl init-labels -f all > /dev/null 2>&1
	ndctl enable-region all > /dev/null 2>&1
	out=$(pkernfsctl create --size 256M --mkfs --enable)
	pkt_eq "create --size 256M --mkfs --enable: a devdax namespace" \
		"$(echo "$out" | jq -c '[.mode, .size, .align, .pkernfs, .enabled]')" \
		'["devdax",268435456,2097152,true,true]'
	dev=$(echo "$out" | jq -r .chardev)
	pkt_eq "ndctl agrees" "$(ndctl list -N | jq -r ".[] | select(.chardev == \"$dev\") | .mode")" devdax
	pkt_check "mounts without -o format" mount -t pkernfs $dev $M
	echo hi > $M/f
	pkt_eq "list -j shows it mounted" \
		"$(pkernfsctl list -j | jq -r ".[] | select(.chardev == \"$dev\") | .mountpoint")" $M
	truncate -s 8M $M/f2 && pkt-mem fill $M/f2 0 8M 7 > /dev/null
	sel=".[] | select(.chardev == \"$dev\")"
	pkt_eq "list -j: namespace, provider, pkernfs version, inodes, bytes used, kernel area idle" \
		"$(pkernfsctl list -j | jq -c "$sel | [.namespace != null, .provider, .pkernfs.version, .pkernfs.inodes_used, .pkernfs.used_bytes, .pkernfs.kernel_area_in_use]")" \
		'[true,"ACPI.NFIT","1.2",3,10485760,false]'
	pkt_eq "list -R nests the device under its region" \
		"$(pkernfsctl list -R | jq -r "[.[] | .devices[] | select(.chardev == \"$dev\")] | length")" 1
	pkernfsctl fsck $dev > /tmp/fsck.out 2> /tmp/fsck.err
	pkt_eq "fsck of the mounted device (metadata snapshot) exits 0" "$?" 0
	pkt_check "  ... and says it is a snapshot taken while mounted" grep -q "snapshot.*while mounted" /tmp/fsck.err
	pkernfsctl fsck --repair $dev > /dev/null 2>&1
	pkt_eq "fsck --repair while mounted exits 8" "$?" 8
	pkernfsctl kexec-check --kernel /boot/bzImage > /tmp/kc.out 2>&1
	rc=$?
	pkt_eq "kexec-check on an NFIT region passes ($(grep describe /tmp/kc.out | cut -c1-90))" "$rc" 0
	pkt_check "  ... and prints the kexec command" grep -q "^  kexec -l /boot/bzImage" /tmp/kc.out
	pkernfsctl kexec-check --kernel /boot/bzImage --append "$(cat /proc/cmdline) pkt.pad=$(head -c 2048 /dev/zero | tr '\0' x)" > /tmp/kc.out 2>&1
	rc=$?
	pkt_eq "kexec-check with a command line over what the kernel takes: not ready" "$rc" 1
	pkt_check "  ... and says why (2046 characters and the NUL)" grep -q "^FAIL cmdline .*takes at most 2046" /tmp/kc.out
	pkernfsctl disable $dev 2> /dev/null
	pkt_eq "disable while mounted exits 1" "$?" 1
	pkt_check "umount" umount $M
	pkt_check "disable" pkernfsctl disable $dev
	pkernfsctl fsck $dev > /dev/null
	pkt_eq "fsck of the used image exits 0" "$?" 0
	pkt_eq "info -j: version and inodes" "$(pkernfsctl info -j $dev | jq -c '[.version, .inodes_used]')" '["1.2",3]'
	pkernfsctl mkfs $dev 2> /dev/null
	pkt_eq "mkfs over a pkernfs without -f exits 1" "$?" 1
	out=$(pkernfsctl create --size 128M --align 1G 2>&1)
	pkt_eq "create with size not a multiple of align exits 1" "$?" 1
	out=$(pkernfsctl create --size 64G 2>&1)
	pkt_eq "create larger than the free space exits 1" "$?" 1
	pkt_info "$out"
	pkernfsctl bogus > /dev/null 2>&1
	pkt_eq "unknown command exits 1" "$?" 1
	pkernfsctl fsck --image /nonexistent > /dev/null 2>&1
	pkt_eq "fsck of a missing image exits 8" "$?" 8
	out=$(pkernfsctl create --size 256M)
	pkt_eq "a second namespace in the same region" "$(echo "$out" | jq -r .chardev | grep -c dax)" 1
	pkt_eq "two dax devices listed" "$(pkernfsctl list -j | jq length)" 2
}
