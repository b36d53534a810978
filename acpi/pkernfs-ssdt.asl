/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SSDT describing one pkernfs region: RAM the firmware (or memmap=nn$ss)
 * keeps out of the page allocator, for the pkernfs_pmem_region driver to
 * register as an nvdimm pmem region. The device is PRP0001 (match by
 * _DSD "compatible"), so one driver also serves the device-tree binding
 * Documentation/devicetree/bindings/pmem/pkernfs,pmem-region.yaml.
 *
 * Parameterised through iasl's preprocessor; the Makefile passes
 *   iasl -we -D PKERNFS_BASE=0x50000000 -D PKERNFS_END=0x5fffffff \
 *        -D PKERNFS_SIZE=0x10000000 -p OUT pkernfs-ssdt.asl
 * BASE and SIZE must be multiples of PKERNFS_ALIGN (2 MiB by default).
 *
 * Install it either way (see Documentation/filesystems/pkernfs.rst):
 *   - QEMU: -acpitable file=pkernfs-ssdt.aml
 *   - initrd override (CONFIG_ACPI_TABLE_UPGRADE): an uncompressed cpio
 *     holding kernel/firmware/acpi/pkernfs-ssdt.aml, put before the initrd.
 * The range must also be reserved: boot with memmap=SIZE$BASE unless the
 * firmware's memory map already marks it reserved.
 */
#ifndef PKERNFS_BASE
#define PKERNFS_BASE 0x50000000
#endif
#ifndef PKERNFS_SIZE
#define PKERNFS_SIZE 0x10000000
#endif
#ifndef PKERNFS_END
#define PKERNFS_END 0x5fffffff
#endif
#ifndef PKERNFS_ALIGN
#define PKERNFS_ALIGN 0x200000
#endif

DefinitionBlock ("", "SSDT", 2, "PKERNF", "PKRNFS", 0x00000001)
{
    Scope (\_SB)
    {
        Device (PKR0)
        {
            Name (_HID, "PRP0001")
            Name (_UID, Zero)
            Name (_STR, Unicode ("pkernfs persistent region"))
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite,
                    0x0000000000000000,     // Granularity
                    PKERNFS_BASE,           // Range Minimum
                    PKERNFS_END,            // Range Maximum
                    0x0000000000000000,     // Translation Offset
                    PKERNFS_SIZE,           // Length
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", PKERNFS_ALIGN },
                }
            })
        }
    }
}
