// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit test of pkernfs_pmem_region through the device-tree path, without
 * DT hardware: a platform device with a software node carrying the
 * binding's properties (compatible, pkernfs,align, numa-node-id), as
 * of_platform would build from a "pkernfs,pmem-region" node.
 *
 * The region-coming-up case needs a reserved range: boot with
 * memmap=64M$0x50000000 (the kunit VM case does). Without one it skips.
 * The other cases assume a guest whose RAM ends below 8 GiB.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/libnvdimm.h>
#include <linux/mod_devicetable.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "pmem_region.h"

/*
 * Strictly inside the reserved 64 MiB: a platform resource identical to
 * the e820 "Reserved" entry would become its parent, and unregistering the
 * device would take the entry out of the resource tree with it.
 */
#define TEST_BASE	0x50200000ULL
#define TEST_SIZE	SZ_32M

static const struct property_entry pkernfs_pmem_test_props[] = {
	PROPERTY_ENTRY_STRING("compatible", "pkernfs,pmem-region"),
	PROPERTY_ENTRY_U64("pkernfs,align", SZ_2M),
	PROPERTY_ENTRY_U32("numa-node-id", 0),
	{ }
};

/* As a DT would write it: one cell, and a node that is not possible. */
static const struct property_entry pkernfs_pmem_test_u32_align[] = {
	PROPERTY_ENTRY_STRING("compatible", "pkernfs,pmem-region"),
	PROPERTY_ENTRY_U32("pkernfs,align", SZ_4K),
	{ }
};

static const struct property_entry pkernfs_pmem_test_bad_node[] = {
	PROPERTY_ENTRY_STRING("compatible", "pkernfs,pmem-region"),
	PROPERTY_ENTRY_U32("numa-node-id", 4096),
	{ }
};

/*
 * A 64-bit alignment whose low half alone is no alignment at all: a
 * reader that tries 32 bits first sees only one half (on OF, the high
 * cell; on a little-endian software node, the low one) and gets it wrong.
 */
static const struct property_entry pkernfs_pmem_test_wide_align[] = {
	PROPERTY_ENTRY_U64("pkernfs,align", SZ_4G),
	{ }
};

static const struct property_entry pkernfs_pmem_test_bad_align[] = {
	PROPERTY_ENTRY_STRING("compatible", "pkernfs,pmem-region"),
	PROPERTY_ENTRY_U64("pkernfs,align", SZ_4K),
	{ }
};

static struct platform_device *pkernfs_pmem_test_add(struct kunit *test, int id,
						     u64 start, u64 size,
						     const struct property_entry *props)
{
	struct resource res = DEFINE_RES_MEM(start, size);
	struct platform_device_info info = {
		.name = PKERNFS_PMEM_DRV_NAME,
		.id = id,
		.res = &res,
		.num_res = size ? 1 : 0,
		.properties = props,
	};
	struct platform_device *pdev = platform_device_register_full(&info);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(pdev), "register: %ld", PTR_ERR(pdev));
	return pdev;
}

/* A software node cannot match by compatible: check the table ties to the binding. */
static bool pkernfs_pmem_test_compatible(struct device *dev)
{
	const struct of_device_id *id = dev->driver ? dev->driver->of_match_table : NULL;

	for (; id && id->compatible[0]; id++)
		if (device_property_match_string(dev, "compatible", id->compatible) >= 0)
			return true;
	return false;
}

static bool pkernfs_pmem_test_reserved(void)
{
	return region_intersects(TEST_BASE, TEST_SIZE, IORESOURCE_MEM, IORES_DESC_RESERVED) ==
		REGION_INTERSECTS &&
	       region_intersects(TEST_BASE, TEST_SIZE, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) ==
		REGION_DISJOINT;
}

static void pkernfs_pmem_test_region_comes_up(struct kunit *test)
{
	struct platform_device *a, *b;
	struct nd_region *region;

	if (!pkernfs_pmem_test_reserved())
		kunit_skip(test, "no reserved RAM at %#llx (boot with memmap=64M$0x50000000)",
			   TEST_BASE);
	a = pkernfs_pmem_test_add(test, 100, TEST_BASE, TEST_SIZE, pkernfs_pmem_test_props);
	region = pkernfs_pmem_region_of(&a->dev, 0);
	KUNIT_EXPECT_NOT_NULL(test, region);
	KUNIT_EXPECT_TRUE(test, pkernfs_pmem_test_compatible(&a->dev));
	if (region) {
		struct device *rdev = nd_region_dev(region);
		int i;

		/* libnvdimm adds region devices from its own async domain. */
		for (i = 0; i < 250 && !device_is_registered(rdev); i++)
			msleep(20);
		KUNIT_EXPECT_TRUE(test, device_is_registered(rdev));
		KUNIT_EXPECT_TRUE(test, !strncmp(dev_name(nd_region_dev(region)), "region", 6));
		KUNIT_EXPECT_PTR_EQ(test, nd_region_dev(region)->parent->parent, &a->dev);
	}
	/* The same memory described a second time (nested inside): refused. */
	b = pkernfs_pmem_test_add(test, 101, TEST_BASE + SZ_16M, SZ_8M, pkernfs_pmem_test_props);
	KUNIT_EXPECT_NULL(test, b->dev.driver);
	KUNIT_EXPECT_NULL(test, pkernfs_pmem_region_of(&b->dev, 0));
	platform_device_unregister(b);
	platform_device_unregister(a);

	/* Once the first is gone, the range may be described again. */
	a = pkernfs_pmem_test_add(test, 102, TEST_BASE, TEST_SIZE, pkernfs_pmem_test_props);
	KUNIT_EXPECT_NOT_NULL(test, pkernfs_pmem_region_of(&a->dev, 0));
	platform_device_unregister(a);
}

/*
 * RAM the page allocator owns: the driver must never take it. A whole
 * free 2 MiB block, so the device's resource nests under System RAM
 * without wrapping a kernel resource (the kernel image's, say).
 */
static void pkernfs_pmem_test_refuses_system_ram(struct kunit *test)
{
	struct page *block = alloc_pages(GFP_KERNEL | __GFP_NOWARN, get_order(SZ_2M));
	struct platform_device *pdev;

	if (!block)
		kunit_skip(test, "no free 2 MiB block");
	pdev = pkernfs_pmem_test_add(test, 110, page_to_phys(block), SZ_2M,
				     pkernfs_pmem_test_props);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	KUNIT_EXPECT_NULL(test, pkernfs_pmem_region_of(&pdev->dev, 0));
	platform_device_unregister(pdev);
	__free_pages(block, get_order(SZ_2M));
}

static void pkernfs_pmem_test_refuses_bad_input(struct kunit *test)
{
	struct platform_device *pdev;

	/* No memory resource at all. */
	pdev = pkernfs_pmem_test_add(test, 120, 0, 0, pkernfs_pmem_test_props);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	platform_device_unregister(pdev);

	/* Not 2 MiB aligned. */
	pdev = pkernfs_pmem_test_add(test, 121, TEST_BASE + SZ_4K, SZ_2M,
				     pkernfs_pmem_test_props);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	platform_device_unregister(pdev);

	/* An alignment property below what ZONE_DEVICE can map. */
	pdev = pkernfs_pmem_test_add(test, 122, TEST_BASE, SZ_2M, pkernfs_pmem_test_bad_align);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	platform_device_unregister(pdev);

	/* The same in a single cell: still read, still refused. */
	pdev = pkernfs_pmem_test_add(test, 124, TEST_BASE, SZ_2M, pkernfs_pmem_test_u32_align);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	platform_device_unregister(pdev);

	/* A NUMA node that cannot exist. */
	pdev = pkernfs_pmem_test_add(test, 125, TEST_BASE, SZ_2M, pkernfs_pmem_test_bad_node);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	platform_device_unregister(pdev);

	/* Outside RAM (the VM has 2 GiB): nothing reserved there. */
	pdev = pkernfs_pmem_test_add(test, 123, 0x200000000ULL, SZ_2M,
				     pkernfs_pmem_test_props);
	KUNIT_EXPECT_NULL(test, pdev->dev.driver);
	platform_device_unregister(pdev);
}

/* pkernfs,align is read at the width it was written, both widths. */
static void pkernfs_pmem_test_align_width(struct kunit *test)
{
	struct platform_device *pdev;
	u64 align = 0;

	pdev = pkernfs_pmem_test_add(test, 126, 0, 0, pkernfs_pmem_test_wide_align);
	KUNIT_EXPECT_EQ(test, pkernfs_pmem_read_align(&pdev->dev, &align), 0);
	KUNIT_EXPECT_EQ(test, align, (u64)SZ_4G);
	platform_device_unregister(pdev);

	pdev = pkernfs_pmem_test_add(test, 127, 0, 0, pkernfs_pmem_test_u32_align);
	KUNIT_EXPECT_EQ(test, pkernfs_pmem_read_align(&pdev->dev, &align), 0);
	KUNIT_EXPECT_EQ(test, align, (u64)SZ_4K);
	platform_device_unregister(pdev);

	pdev = pkernfs_pmem_test_add(test, 128, 0, 0, pkernfs_pmem_test_bad_node);
	KUNIT_EXPECT_EQ(test, pkernfs_pmem_read_align(&pdev->dev, &align), -EINVAL);
	platform_device_unregister(pdev);
}

static struct kunit_case pkernfs_pmem_test_cases[] = {
	KUNIT_CASE(pkernfs_pmem_test_align_width),
	KUNIT_CASE(pkernfs_pmem_test_region_comes_up),
	KUNIT_CASE(pkernfs_pmem_test_refuses_system_ram),
	KUNIT_CASE(pkernfs_pmem_test_refuses_bad_input),
	{}
};

static struct kunit_suite pkernfs_pmem_test_suite = {
	.name = "pkernfs_pmem_region",
	.test_cases = pkernfs_pmem_test_cases,
};

kunit_test_suite(pkernfs_pmem_test_suite);

MODULE_DESCRIPTION("KUnit test of the pkernfs firmware-described region driver");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
