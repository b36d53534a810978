# SPDX-License-Identifier: GPL-2.0-only
# The acpi/ SSDT, installed by QEMU (-acpitable), over RAM reserved with
# memmap=256M$0x50000000: pkernfs_pmem_region makes it an nvdimm region
# that ndctl and pkernfsctl manage; pkernfs on it survives a kexec done
# with the command kexec-check prints, and the next kernel (same SSDT from
# firmware, same memmap=) finds the region and the data again.
# pkt-stages: 2
# pkt-nvdimm: none
# pkt-append: memmap=256M$0x50000000
# pkt-qemu: -acpitable file=@BUILD@/acpi/pkernfs-ssdt.aml
# pkt-timeout: 300

. /pkt/firmware-lib.sh

stage_1() {
	fw_region_up "SSDT from QEMU -acpitable" || return
	fw_fill_and_check || return
	pkernfsctl kexec-check --kernel /boot/bzImage \
		--append "$(sed 's/memmap=[^ ]*//' /proc/cmdline)" > /tmp/kc.out 2>&1
	pkt_eq "kexec-check fails when the next command line drops memmap=256M\$0x50000000" "$?" 1
	pkt_check "  ... saying the next kernel would use it as RAM" grep -q "FAIL reserve.*lacks" /tmp/kc.out
	fw_kexec
}

stage_2() { fw_verify; }
