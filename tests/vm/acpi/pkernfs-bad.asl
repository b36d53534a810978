/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test data for the firmware-badinput VM case: one good pkernfs region
 * (PRP0001:00, 0x50000000, 256 MiB, in RAM reserved by
 * memmap=320M$0x50000000)
 * and descriptions pkernfs_pmem_region must refuse, each with a message:
 *   PKB1  System RAM in use, at 1.75 GiB: clear of the   (PRP0001:01)
 *         kernel image, which on the KASAN kernel reaches
 *         past 256 MiB and would make the claim itself fail
 *   PKB2  not 2 MiB aligned                          (PRP0001:02)
 *   PKB3  a second description of PKR0's range      (PRP0001:03)
 *   PKB4  outside RAM, nothing reserved there        (PRP0001:04)
 *   PKB5  no memory range at all (no _CRS)           (PRP0001:05)
 *   PKB6  a pkernfs,align below 2 MiB                (PRP0001:06)
 *   PKB7  a zero-length range (ACPI drops it: none)  (PRP0001:07)
 * Devices enumerate in this order, so PKR0 is probed first. The bad
 * ranges lie outside PKR0's (PKB3 is identical to it, so nests): the
 * platform core claims each device's range in /proc/iomem whether or not
 * the driver accepts it, and one straddling PKR0's range would keep
 * devdax from claiming it. (iasl has no
 * macros, hence the repetition.)
 */
DefinitionBlock ("", "SSDT", 2, "PKERNF", "PKRNBAD", 0x00000001)
{
    Scope (\_SB)
    {
        Device (PKR0)
        {
            Name (_HID, "PRP0001")
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite, 0x0, 0x50000000, 0x5FFFFFFF, 0x0, 0x10000000,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x200000 },
                }
            })
        }
        Device (PKB1)
        {
            Name (_HID, "PRP0001")
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite, 0x0, 0x70000000, 0x73FFFFFF, 0x0, 0x04000000,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x200000 },
                }
            })
        }
        Device (PKB2)
        {
            Name (_HID, "PRP0001")
            Name (_UID, 2)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite, 0x0, 0x60001000, 0x60200FFF, 0x0, 0x00200000,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x200000 },
                }
            })
        }
        Device (PKB3)
        {
            Name (_HID, "PRP0001")
            Name (_UID, 3)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite, 0x0, 0x50000000, 0x5FFFFFFF, 0x0, 0x10000000,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x200000 },
                }
            })
        }
        Device (PKB4)
        {
            Name (_HID, "PRP0001")
            Name (_UID, 4)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite, 0x0, 0x200000000, 0x2001FFFFF, 0x0, 0x00200000,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x200000 },
                }
            })
        }
        Device (PKB5)
        {
            Name (_HID, "PRP0001")
            Name (_UID, 5)
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x200000 },
                }
            })
        }
        Device (PKB6)
        {
            Name (_HID, "PRP0001")
            Name (_UID, 6)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                    Cacheable, ReadWrite, 0x0, 0x62000000, 0x621FFFFF, 0x0, 0x00200000,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                    Package () { "pkernfs,align", 0x1000 },
                }
            })
        }
        Device (PKB7)
        {
            Name (_HID, "PRP0001")
            Name (_UID, 7)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinNotFixed, MaxNotFixed,
                    Cacheable, ReadWrite, 0x0, 0x64000000, 0x64000000, 0x0, 0x0,
                    ,, , AddressRangeMemory, TypeStatic)
            })
            Name (_DSD, Package ()
            {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package ()
                {
                    Package () { "compatible", "pkernfs,pmem-region" },
                }
            })
        }
    }
}
