# SPDX-License-Identifier: GPL-2.0-only
# Rollback into a kernel without pkernfs: Debian's own 6.1 (make
# stock-kernel). It knows nothing of the handover, so the old kernel must
# not make one: kexec-check --arm refuses the image, and the unarmed
# shutdown stops the preserved device (bus mastering off) and turns
# translation off, as upstream does. The stock kernel then finds
# translation off and edu stopped; the DMA started just before the kexec
# cannot reach memory untranslated.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 240
# pkt-initrd-prepend: @BUILD@/stock/stock-kernel.cpio
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0013

# Without Debian's kernel (make stock-kernel could not fetch it) both
# stages say SKIP, and stage 1 kexecs into this kernel to keep the count.
no_stock() {
	[ -s /boot/stock-vmlinuz ] && return 1
	pkt_skip "no rollback kernel: $(cat /boot/stock-vmlinuz.missing 2>/dev/null || echo 'build/stock/stock-kernel.cpio missing')"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	if no_stock; then
		pkt_kexec
		return
	fi
	pkt_info "rollback target: $(cat /boot/stock-vmlinuz.name)"
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	# The operator keeps the live-update request on the command line; the
	# image cannot honour it.
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	PKT_NEXT_KERNEL=/boot/stock-vmlinuz
	PKT_NO_ARM=1
	pkt_kexec_load || return
	pkt_check "kexec-check --arm refuses a kernel without pkernfs" sh -c \
		"pkernfsctl kexec-check --arm --kernel /boot/stock-vmlinuz --append '$PKT_NEXT_CMDLINE' > /tmp/kc 2>&1; \
		 [ \$? = 1 ] && grep -q 'no IOMMU handover note' /tmp/kc && grep -q 'not armed' /tmp/kc"
	pkt_info "$(tr '\n' ';' < /tmp/kc)"
	pkt_eq "the handover is not armed" "$(cat $PKT_IOMMU_ARMED 2>&1)" 0
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	no_stock && return
	pkt_check "running Debian's kernel ($(uname -r))" sh -c "uname -r | grep -q '^6\.1\.'"
	pkt_info "$(dmesg | grep -E 'DMAR' | head -n 8 | tr '\n' ';')"
	pkt_eq "translation was off when it started" \
		"$(dmesg | grep -c 'Translation was enabled for dmar0 but we are not in kdump mode')" 0
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
}
