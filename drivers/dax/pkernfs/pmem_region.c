// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_pmem_region: RAM that firmware sets aside, as an nvdimm region.
 *
 * A live-update host has no NVDIMMs: the memory that must survive kexec
 * is ordinary RAM kept out of the page allocator (memmap=nn$ss, or a
 * reserved range in the firmware's memory map). Firmware describes it with
 * a device: ACPI PRP0001 with a _DSD "compatible" of "pkernfs,pmem-region"
 * (see acpi/), or a device-tree node of that compatible. This driver turns
 * each memory resource of such a device into a label-less pmem region on
 * an nvdimm bus of its own, as of_pmem does, so that ndctl, devdax and
 * pkernfs work on it unchanged.
 *
 * The ranges come from the platform resources (_CRS or reg), the options
 * from device properties, so one path serves ACPI, DT and software nodes.
 * A range is refused, with the device, unless all of it is reserved
 * memory that nothing else describes: never System RAM in use. Reserved
 * MMIO looks the same in the resource tree: the firmware is trusted that
 * what it describes is memory.
 */
#include <linux/device.h>
#include <linux/ioport.h>
#include <linux/libnvdimm.h>
#include <linux/list.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include "pmem_region.h"

#define PKERNFS_PMEM_MAX_RANGES	8

struct pkernfs_pmem_range {
	struct list_head node;
	struct device *dev;
	u64 start, end;
};

struct pkernfs_pmem {
	struct nvdimm_bus_descriptor desc;
	struct nvdimm_bus *bus;
	struct pkernfs_pmem_range ranges[PKERNFS_PMEM_MAX_RANGES];
	unsigned int nr_ranges;
	struct nd_region *regions[PKERNFS_PMEM_MAX_RANGES];
};

/* Every accepted range of every device: a range may be described once. */
static DEFINE_MUTEX(pkernfs_pmem_lock);
static LIST_HEAD(pkernfs_pmem_ranges);

struct pkernfs_cover {
	u64 next;
	u64 covered;
};

static int pkernfs_pmem_cover(struct resource *res, void *arg)
{
	struct pkernfs_cover *c = arg;
	u64 s = max_t(u64, res->start, c->next);

	/* Nested reserved entries lie inside their parent: count bytes once. */
	if (res->end + 1 > s)
		c->covered += res->end + 1 - s;
	c->next = max_t(u64, c->next, res->end + 1);
	return 0;
}

/* Is all of [start, end] reserved memory (memmap=nn$ss, or firmware)? */
static bool pkernfs_pmem_reserved(u64 start, u64 end)
{
	struct pkernfs_cover c = { .next = start };

	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM, start, end, &c,
			    pkernfs_pmem_cover);
	return c.covered == end - start + 1;
}

static int pkernfs_pmem_check(struct device *dev, struct resource *res, u64 align)
{
	struct pkernfs_pmem_range *r;
	u64 size = resource_size(res);

	/* ACPI drops a zero-length _CRS entry itself; DT and swnodes may not. */
	if (!size || res->end < res->start) {
		dev_err(dev, "refusing a zero-sized range at %#llx\n", (u64)res->start);
		return -EINVAL;
	}
	if (!IS_ALIGNED(res->start, align) || !IS_ALIGNED(size, align)) {
		dev_err(dev, "refusing %pR: start and size must be multiples of %#llx\n",
			res, align);
		return -EINVAL;
	}
	if (region_intersects(res->start, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT) {
		dev_err(dev, "refusing %pR: it is System RAM in use; reserve it first (memmap=%lluM$%#llx)\n",
			res, size >> 20, (u64)res->start);
		return -EBUSY;
	}
	if (!pkernfs_pmem_reserved(res->start, res->end)) {
		dev_err(dev, "refusing %pR: not (all) reserved memory; reserve it with memmap=%lluM$%#llx, or it lies outside RAM\n",
			res, size >> 20, (u64)res->start);
		return -EINVAL;
	}
	list_for_each_entry(r, &pkernfs_pmem_ranges, node) {
		if (res->start <= r->end && r->start <= res->end) {
			dev_err(dev, "refusing %pR: overlaps [mem %#llx-%#llx] already described by %s\n",
				res, r->start, r->end, dev_name(r->dev));
			return -EBUSY;
		}
	}
	return 0;
}

static void pkernfs_pmem_unclaim(void *data)
{
	struct pkernfs_pmem *pp = data;
	unsigned int i;

	mutex_lock(&pkernfs_pmem_lock);
	for (i = 0; i < pp->nr_ranges; i++)
		list_del(&pp->ranges[i].node);
	mutex_unlock(&pkernfs_pmem_lock);
}

static void pkernfs_pmem_unregister(void *bus)
{
	nvdimm_bus_unregister(bus);
}

/* Check every range, then claim them all at once: a device is whole or refused. */
static int pkernfs_pmem_claim(struct platform_device *pdev, struct pkernfs_pmem *pp,
			      u64 align)
{
	struct device *dev = &pdev->dev;
	struct resource *res;
	unsigned int i, n = 0;
	int rc = 0;

	mutex_lock(&pkernfs_pmem_lock);
	for (i = 0; (res = platform_get_resource(pdev, IORESOURCE_MEM, i)); i++) {
		if (n == PKERNFS_PMEM_MAX_RANGES) {
			dev_err(dev, "more than %d memory ranges\n", PKERNFS_PMEM_MAX_RANGES);
			rc = -E2BIG;
			break;
		}
		rc = pkernfs_pmem_check(dev, res, align);
		if (rc)
			break;
		pp->ranges[n].dev = dev;
		pp->ranges[n].start = res->start;
		pp->ranges[n].end = res->end;
		/* Later ranges of this device must not overlap earlier ones either. */
		list_add_tail(&pp->ranges[n].node, &pkernfs_pmem_ranges);
		n++;
	}
	if (!rc && !n) {
		dev_err(dev, "no memory range described\n");
		rc = -EINVAL;
	}
	if (rc) {
		while (n--)
			list_del(&pp->ranges[n].node);
		n = 0;
	}
	pp->nr_ranges = n;
	mutex_unlock(&pkernfs_pmem_lock);
	if (rc)
		return rc;
	return devm_add_action_or_reset(dev, pkernfs_pmem_unclaim, pp);
}

/**
 * pkernfs_pmem_read_align() - read the "pkernfs,align" property
 * @dev: the region's device
 * @align: set to the value
 *
 * The binding's form is 64-bit (/bits/ 64 in DT); one cell is accepted
 * too. The 64-bit read must come first: on OF a 32-bit read of a
 * two-cell property returns the first, high, cell (0 for any size below
 * 4 GiB), and only fails on a property shorter than asked.
 *
 * Return: 0, or -EINVAL if the property is absent or of neither width.
 */
VISIBLE_IF_KUNIT int pkernfs_pmem_read_align(struct device *dev, u64 *align)
{
	u32 v32;

	if (!device_property_read_u64(dev, "pkernfs,align", align))
		return 0;
	if (!device_property_read_u32(dev, "pkernfs,align", &v32)) {
		*align = v32;
		return 0;
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(pkernfs_pmem_read_align);

/* Optional properties; present but unusable is an error, not a default. */
static int pkernfs_pmem_props(struct device *dev, u64 *align, int *nid)
{
	u32 v32;

	*align = SZ_2M;
	*nid = NUMA_NO_NODE;
	if (device_property_present(dev, "pkernfs,align")) {
		if (pkernfs_pmem_read_align(dev, align))
			*align = 0;
		/* Below 2 MiB (a subsection) ZONE_DEVICE cannot map the range. */
		if (!is_power_of_2(*align) || *align < SZ_2M) {
			dev_err(dev, "pkernfs,align %#llx: must be a power of two of at least 2 MiB\n",
				*align);
			return -EINVAL;
		}
	}
	if (device_property_present(dev, "numa-node-id")) {
		if (device_property_read_u32(dev, "numa-node-id", &v32) ||
		    v32 >= nr_node_ids || !node_possible(v32)) {
			dev_err(dev, "numa-node-id: not a possible node\n");
			return -EINVAL;
		}
		*nid = v32;
	} else if (dev_to_node(dev) != NUMA_NO_NODE) {
		*nid = dev_to_node(dev);
	}
	return 0;
}

static int pkernfs_pmem_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct pkernfs_pmem *pp;
	unsigned int i;
	int rc, nid;
	u64 align;

	rc = pkernfs_pmem_props(dev, &align, &nid);
	if (rc)
		return rc;
	pp = devm_kzalloc(dev, sizeof(*pp), GFP_KERNEL);
	if (!pp)
		return -ENOMEM;
	rc = pkernfs_pmem_claim(pdev, pp, align);
	if (rc)
		return rc;

	pp->desc.provider_name = PKERNFS_PMEM_PROVIDER;
	pp->desc.module = THIS_MODULE;
	pp->bus = nvdimm_bus_register(dev, &pp->desc);
	if (!pp->bus)
		return -ENOMEM;
	rc = devm_add_action_or_reset(dev, pkernfs_pmem_unregister, pp->bus);
	if (rc)
		return rc;

	for (i = 0; i < pp->nr_ranges; i++) {
		struct resource *res = platform_get_resource(pdev, IORESOURCE_MEM, i);
		struct nd_region_desc ndr = { .res = res };

		ndr.target_node = nid != NUMA_NO_NODE ? nid : phys_to_target_node(res->start);
		ndr.numa_node = numa_map_to_online_node(ndr.target_node);
		set_bit(ND_REGION_PAGEMAP, &ndr.flags);
		pp->regions[i] = nvdimm_pmem_region_create(pp->bus, &ndr);
		if (!pp->regions[i]) {
			dev_err(dev, "cannot create an nvdimm region for %pR\n", res);
			return -ENXIO;
		}
		dev_info(dev, "%pR is %s (node %d)\n", res,
			 dev_name(nd_region_dev(pp->regions[i])), ndr.target_node);
	}
	platform_set_drvdata(pdev, pp);
	return 0;
}

/**
 * pkernfs_pmem_region_of() - a probed device's nvdimm region
 * @dev: a device bound to this driver
 * @i: index of its memory range
 *
 * For the KUnit test.
 *
 * Return: the region, or NULL if @dev is not bound or has no range @i.
 */
struct nd_region *pkernfs_pmem_region_of(struct device *dev, unsigned int i)
{
	struct nd_region *region = NULL;
	struct pkernfs_pmem *pp;

	device_lock(dev);
	pp = dev_get_drvdata(dev);
	if (dev->driver && pp && i < pp->nr_ranges)
		region = pp->regions[i];
	device_unlock(dev);
	return region;
}
EXPORT_SYMBOL_GPL(pkernfs_pmem_region_of);

static const struct of_device_id pkernfs_pmem_of_match[] = {
	{ .compatible = "pkernfs,pmem-region" },
	{ }
};
MODULE_DEVICE_TABLE(of, pkernfs_pmem_of_match);

static struct platform_driver pkernfs_pmem_driver = {
	.probe = pkernfs_pmem_probe,
	.driver = {
		.name = PKERNFS_PMEM_DRV_NAME,
		/* ACPI PRP0001 devices match through their _DSD compatible. */
		.of_match_table = pkernfs_pmem_of_match,
	},
};
module_platform_driver(pkernfs_pmem_driver);

MODULE_DESCRIPTION("pkernfs: firmware-described reserved RAM as an nvdimm pmem region");
MODULE_LICENSE("GPL");
MODULE_ALIAS("platform:" PKERNFS_PMEM_DRV_NAME);
