# SPDX-License-Identifier: GPL-2.0-only
# kexec-check on a legacy memmap=nn!ss region (e820 bus, no labels):
# it passes when the next command line keeps the memmap=, fails with the
# reason when it does not, when the kernel carries no format note, and
# while an unlinked file is still open. The kexec is then done with the
# very command it printed, and the new kernel finds the data and agrees.
# kexec-check advises dax.pkernfs= for the device, and fails on a
# malformed list; with it on the next command line the device comes back
# bound to pkernfs.
# Test kernel only: what it adds is the tool's kexec preparation; the kernel
# side runs on the debug kernel in memmap-kexec and iommu-dma-kexec.
# pkt-stages: 2
# pkt-nvdimm: none
# pkt-append: memmap=256M!1G
# pkt-legs: test
# pkt-timeout: 300

M=/mnt/pk

stage_1() {
	local out dev sum cmd res
	mkdir -p $M
	out=$(pkernfsctl create --mkfs --enable 2> /tmp/create.err) ||
		{ pkt_fail "pkernfsctl create on the memmap region: $(cat /tmp/create.err)"; return; }
	dev=$(echo "$out" | jq -r .chardev)
	pkt_ok "create --mkfs --enable on the e820 region: $dev, $(echo "$out" | jq -r .size) bytes"
	pkt_check "mount" mount -t pkernfs $dev $M || return
	truncate -s 64M $M/vm.ram
	sum=$(pkt-mem fill $M/vm.ram 0 64M 0x5eed) || { pkt_fail "fill: $sum"; return; }
	echo "$sum" > $M/sum

	pkernfsctl kexec-check --kernel /boot/bzImage > /tmp/kc.out 2>&1
	pkt_eq "kexec-check passes with memmap= on the next command line" "$?" 0
	pkt_check "  ... naming the memmap range" grep -q "describe.*memmap=256M!0x40000000, and the next" /tmp/kc.out
	pkt_check "  ... and the format note read out of the bzImage" grep -q "kernel.*bzImage, gzip.*format 1" /tmp/kc.out
	res=$(cat /sys/bus/dax/devices/$dev/resource)
	pkt_check "  ... advising dax.pkernfs= with the device's start ($res)" \
		grep -q "ok   claim .*add dax.pkernfs=$res to the next command line" /tmp/kc.out

	pkernfsctl kexec-check --kernel /boot/bzImage \
		--append "$(cat /proc/cmdline) dax.pkernfs=$res,zz" > /tmp/kc.out 2>&1
	pkt_eq "kexec-check fails on a malformed dax.pkernfs= list" "$?" 1
	pkt_check "  ... saying the next kernel refuses it" grep -q "FAIL claim .*malformed" /tmp/kc.out

	pkernfsctl kexec-check --kernel /boot/bzImage \
		--append "$(sed 's/memmap=[^ ]*//' /proc/cmdline)" > /tmp/kc.out 2>&1
	pkt_eq "kexec-check fails when the next command line lacks the memmap=" "$?" 1
	pkt_info "  $(grep FAIL /tmp/kc.out)"
	pkt_check "  ... saying so" grep -q "FAIL describe.*lacks" /tmp/kc.out

	pkernfsctl kexec-check --kernel /bin/busybox > /tmp/kc.out 2>&1
	pkt_eq "kexec-check fails for a kernel without the format note" "$?" 1
	pkt_check "  ... saying so" grep -q "FAIL kernel.*no pkernfs format note" /tmp/kc.out

	echo scratch > $M/scratch
	exec 3< $M/scratch
	rm $M/scratch
	pkernfsctl kexec-check --kernel /boot/bzImage > /tmp/kc.out 2>&1
	pkt_eq "kexec-check fails while an unlinked file is open" "$?" 1
	pkt_check "  ... saying so" grep -q "FAIL state.*still open" /tmp/kc.out
	exec 3<&-
	pkt_check "kexec-check passes again once it is closed" \
		pkernfsctl kexec-check --kernel /boot/bzImage
	pkt_check "umount" umount $M

	PKT_EXTRA_APPEND="dax.pkernfs=$res"
	pkt_kexec_prepare
	out=$(pkernfsctl kexec-check -j --kernel /boot/bzImage --initrd $PKT_NEXT_INITRD \
		--append "$PKT_NEXT_CMDLINE")
	pkt_eq "kexec-check -j: ready, one pkernfs" "$(echo "$out" | jq -c '[.ready, .pkernfs_devices]')" '[true,1]'
	pkt_eq "  ... which the next kernel claims at boot" \
		"$(echo "$out" | jq -r '.checks[] | select(.check == "claim") | .detail' | grep -c 'binds it to pkernfs at boot')" 1
	cmd=$(echo "$out" | jq -r .command)
	case "$cmd" in
	"kexec -l "*" && kexec -e") ;;
	*) pkt_fail "unexpected command: $cmd"; return ;;
	esac
	pkt_check "the printed 'kexec -l' loads" eval "${cmd% && kexec -e}" || return
	pkt_kexec_exec
}

stage_2() {
	local dev
	dev=$(pkernfsctl list -j | jq -r '[.[] | select(.pkernfs.version == "1.2")][0].chardev')
	pkt_eq "after kexec, list finds the pkernfs on the memmap region" \
		"$(pkernfsctl list -j | jq -r ".[] | select(.chardev == \"$dev\") | .provider")" e820
	pkt_check "claimed by dax.pkernfs=: $dev bound to pkernfs at boot" \
		test -e /sys/bus/dax/drivers/dax_pkernfs/$dev
	pkt_check "enable $dev (nothing left to do)" pkernfsctl enable $dev || return
	mkdir -p $M
	pkt_check "mount" mount -t pkernfs $dev $M || return
	pkt_check "64M of guest memory intact" pkt-mem verify $M/vm.ram 0 64M 0x5eed
	pkt_eq "checksum as written before the kexec" "$(pkt-mem sum $M/vm.ram 0 64M)" "$(cat $M/sum)"
	pkt_check "kexec-check in the new kernel agrees" pkernfsctl kexec-check --kernel /boot/bzImage
	pkt_check "umount" umount $M
	pkernfsctl fsck $dev > /dev/null
	pkt_eq "fsck clean after the live update" "$?" 0
}
