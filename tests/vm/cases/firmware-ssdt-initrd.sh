# SPDX-License-Identifier: GPL-2.0-only
# The acpi/ SSDT installed by the initrd table override instead
# (CONFIG_ACPI_TABLE_UPGRADE: kernel/firmware/acpi/*.aml in an uncompressed
# cpio before the initramfs). The kexec'd kernel gets the same table only
# if the next initrd carries it: kexec-check checks that, and the next
# kernel shows the upgrade again and finds the data.
# Test kernel only: the kernel path is firmware-ssdt's, which runs on both; only
# the table's delivery differs.
# pkt-stages: 2
# pkt-nvdimm: none
# pkt-append: memmap=256M$0x50000000
# pkt-initrd-prepend: @BUILD@/acpi/pkernfs-ssdt.cpio
# pkt-legs: test
# pkt-timeout: 300

. /pkt/firmware-lib.sh
FW_INITRD=/tmp/self.cpio
FW_CREATE=ndctl		# the namespace made by ndctl itself this time

stage_1() {
	pkt_check "the kernel installed the SSDT from the initrd" \
		sh -c "dmesg | grep -q 'Table Upgrade: install \[SSDT-PKERNF- *PKRNFS'"
	fw_region_up "SSDT from the initrd" || return
	fw_fill_and_check || return
	echo | cpio -o -H newc > /tmp/empty.cpio 2> /dev/null
	pkernfsctl kexec-check --kernel /boot/bzImage --initrd /tmp/empty.cpio > /tmp/kc.out 2>&1
	pkt_eq "kexec-check fails when the next initrd lacks the SSDT" "$?" 1
	pkt_check "  ... naming the table" grep -q "FAIL describe.*lacks ACPI table SSDT-PKERNF-PKRNFS" /tmp/kc.out
	fw_kexec
}

stage_2() {
	pkt_check "the kexec'd kernel installed the SSDT from the carried initrd" \
		sh -c "dmesg | grep -q 'Table Upgrade: install \[SSDT-PKERNF- *PKRNFS'"
	fw_verify
}
