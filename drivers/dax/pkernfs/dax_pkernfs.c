// SPDX-License-Identifier: GPL-2.0-only
/*
 * dax_pkernfs: bind a dev_dax and publish its memory to pkernfs.
 *
 * The driver binds only by explicit request ("new_id", as daxctl does for
 * its drivers); it never claims a dax device on its own. On probe it maps
 * the range as ZONE_DEVICE pages, as device_dax does, so the filesystem
 * can insert devmap pfns that GUP can pin long-term. It knows nothing
 * about files: it hands out a struct pkernfs_region to one holder at a
 * time.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/libnvdimm.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pkernfs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include "dax-private.h"
#include "bus.h"
#include "format.h"

/* Memory errors found while nothing was mounted, kept for the next mount. */
#define PKERNFS_DAX_PENDING	16

struct pkernfs_dax {
	struct pkernfs_region region;
	struct nd_region *nd_region;	/* when writes need its flush hints */
	struct kref kref;
	struct list_head list;
	struct dev_dax *dev_dax;
	void *holder;
	const struct pkernfs_holder_ops *ops;
	bool dead;
	unsigned int nr_pending;
	u64 pending[PKERNFS_DAX_PENDING];
};

/* Protects pkernfs_dax_list and every entry's holder, ops, dead and pending. */
static DEFINE_MUTEX(pkernfs_dax_lock);
static LIST_HEAD(pkernfs_dax_list);

static struct pkernfs_dax *to_pdax(struct pkernfs_region *region)
{
	return container_of(region, struct pkernfs_dax, region);
}

static void pkernfs_dax_free(struct kref *kref)
{
	struct pkernfs_dax *pdax = container_of(kref, struct pkernfs_dax, kref);

	kfree(pdax->region.name);
	kfree(pdax);
}

/**
 * pkernfs_region_claim() - take the region of a bound dax device
 * @name: the dax device's name, such as "dax0.0"
 * @holder: the caller's cookie, passed back to @ops
 * @ops: how to tell the holder that the device is going away
 *
 * A region has at most one holder. The region stays valid (though maybe
 * shut down) until pkernfs_region_release().
 *
 * Return: the region, ERR_PTR(-ENODEV) if no such device is bound to this
 * driver, or ERR_PTR(-EBUSY) if another holder has it.
 */
struct pkernfs_region *pkernfs_region_claim(const char *name, void *holder,
					    const struct pkernfs_holder_ops *ops)
{
	struct pkernfs_region *ret = ERR_PTR(-ENODEV);
	struct pkernfs_dax *pdax;

	mutex_lock(&pkernfs_dax_lock);
	list_for_each_entry(pdax, &pkernfs_dax_list, list) {
		if (pdax->dead || strcmp(pdax->region.name, name))
			continue;
		if (pdax->holder) {
			ret = ERR_PTR(-EBUSY);
			break;
		}
		pdax->holder = holder;
		pdax->ops = ops;
		kref_get(&pdax->kref);
		ret = &pdax->region;
		break;
	}
	mutex_unlock(&pkernfs_dax_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(pkernfs_region_claim);

/**
 * pkernfs_region_release() - give back a region taken with pkernfs_region_claim()
 * @region: the region
 */
void pkernfs_region_release(struct pkernfs_region *region)
{
	struct pkernfs_dax *pdax = to_pdax(region);

	mutex_lock(&pkernfs_dax_lock);
	pdax->holder = NULL;
	pdax->ops = NULL;
	mutex_unlock(&pkernfs_dax_lock);
	/* An unbind may be waiting for a holder that could not be pinned. */
	wake_up_var(&pdax->holder);
	kref_put(&pdax->kref, pkernfs_dax_free);
}
EXPORT_SYMBOL_GPL(pkernfs_region_release);

/**
 * pkernfs_region_failures() - take the memory errors found while unmounted
 * @region: a claimed region
 * @offsets: where to store the byte offsets of the bad pages
 * @max: room in @offsets
 *
 * Return: the number stored; they are forgotten here.
 */
int pkernfs_region_failures(struct pkernfs_region *region, u64 *offsets, int max)
{
	struct pkernfs_dax *pdax = to_pdax(region);
	int n;

	mutex_lock(&pkernfs_dax_lock);
	n = min_t(int, max, pdax->nr_pending);
	memcpy(offsets, pdax->pending, n * sizeof(*offsets));
	pdax->nr_pending = 0;
	mutex_unlock(&pkernfs_dax_lock);
	return n;
}
EXPORT_SYMBOL_GPL(pkernfs_region_failures);

/*
 * memory_failure() on a page of the region (a machine check, a scrubber,
 * madvise(MADV_HWPOISON), hwpoison-inject). The filesystem knows which
 * file owns the page; with none mounted there is no mapping to tear down,
 * and the error waits here for the next mount to record it.
 */
static int pkernfs_dax_memory_failure(struct dev_pagemap *pgmap, unsigned long pfn,
				      unsigned long nr_pages, int mf_flags)
{
	const struct pkernfs_holder_ops *ops = NULL;
	struct pkernfs_dax *pdax, *found = NULL;
	void *holder = NULL;
	u64 off = 0;
	unsigned int i;
	int rc;

	mutex_lock(&pkernfs_dax_lock);
	list_for_each_entry(pdax, &pkernfs_dax_list, list) {
		if (pdax->region.pgmap != pgmap || pdax->dead ||
		    PFN_PHYS(pfn) < pdax->region.phys ||
		    PFN_PHYS(pfn) - pdax->region.phys >= pdax->region.size)
			continue;
		found = pdax;
		off = PFN_PHYS(pfn) - pdax->region.phys;
		if (pdax->holder && pdax->ops->get(pdax->holder)) {
			holder = pdax->holder;
			ops = pdax->ops;
		}
		break;
	}
	if (!found) {
		mutex_unlock(&pkernfs_dax_lock);
		return -EOPNOTSUPP;
	}
	if (!holder) {
		for (i = 0; i < found->nr_pending && found->pending[i] != off; i++)
			;
		if (i == found->nr_pending && i < PKERNFS_DAX_PENDING)
			found->pending[found->nr_pending++] = off;
		dev_err(&found->dev_dax->dev,
			"memory error at offset %#llx while not mounted: %s\n", off,
			i < PKERNFS_DAX_PENDING ? "the next mount records it" :
			"too many pending, not recorded");
		mutex_unlock(&pkernfs_dax_lock);
		return 0;
	}
	mutex_unlock(&pkernfs_dax_lock);
	/* The holder's active reference keeps it, and its claim keeps pdax. */
	rc = ops->memory_failure(holder, off, mf_flags);
	ops->put(holder);
	return rc;
}

static const struct dev_pagemap_ops pkernfs_dax_pgmap_ops = {
	.memory_failure = pkernfs_dax_memory_failure,
};

/* A static page map outlives this binding: device_dax may take it next. */
static void pkernfs_dax_clear_ops(void *pgmap)
{
	((struct dev_pagemap *)pgmap)->ops = NULL;
}

/* Pages of the region someone still holds a reference to (GUP). */
static unsigned long pkernfs_dax_busy_pages(struct pkernfs_dax *pdax)
{
	unsigned long pfn = PHYS_PFN(pdax->region.phys);
	unsigned long end = pfn + PHYS_PFN(pdax->region.size);
	unsigned long busy = 0;

	while (pfn < end) {
		struct folio *folio = page_folio(pfn_to_page(pfn));

		/* Idle ZONE_DEVICE folios of this kind sit at one reference. */
		if (folio_ref_count(folio) > 1)
			busy += folio_nr_pages(folio);
		pfn = folio_pfn(folio) + folio_nr_pages(folio);
		cond_resched();
	}
	return busy;
}

/*
 * memunmap_pages() waits for page-map references, not for GUP pins: a
 * pin (VFIO, iommufd, io_uring, RDMA) would outlive the struct pages and
 * the memory. The unbind cannot be refused, so it waits until the pins go.
 */
static void pkernfs_dax_wait_pins(struct pkernfs_dax *pdax)
{
	unsigned long busy, waited = 0;

	while ((busy = pkernfs_dax_busy_pages(pdax))) {
		if (!(waited % 10000))
			dev_warn(&pdax->dev_dax->dev,
				 "unbind waits for %lu pinned pages to be released (DMA users: VFIO, iommufd, io_uring)\n",
				 busy);
		msleep(100);
		waited += 100;
	}
	if (waited)
		dev_info(&pdax->dev_dax->dev, "pins released after %lu ms; unbinding\n", waited);
}

/*
 * Runs before devm tears the page map down: the holder must have stopped
 * touching the memory and dropped its mappings by then.
 */
static void pkernfs_dax_unpublish(void *data)
{
	struct pkernfs_dax *pdax = data;
	const struct pkernfs_holder_ops *ops;
	bool pinned = false;
	void *holder;

	mutex_lock(&pkernfs_dax_lock);
	pdax->dead = true;
	list_del_init(&pdax->list);
	holder = pdax->holder;
	ops = pdax->ops;
	if (holder)
		pinned = ops->get(holder);
	mutex_unlock(&pkernfs_dax_lock);

	if (pinned) {
		dev_warn(&pdax->dev_dax->dev,
			 "unbound while in use: shutting the filesystem on it down\n");
		ops->shutdown(holder);
		ops->put(holder);
	} else if (holder) {
		/*
		 * Being unmounted: it may still write; wait until it lets go.
		 * Lockless read of ->holder: pdax lives on, since this function
		 * holds the reference the list had; release clears ->holder
		 * under the lock and then wakes us.
		 */
		wait_var_event(&pdax->holder, !READ_ONCE(pdax->holder));
	}
	pkernfs_dax_wait_pins(pdax);
	kref_put(&pdax->kref, pkernfs_dax_free);
}

static void pkernfs_dax_kill(void *dev_dax)
{
	kill_dev_dax(dev_dax);
}

/*
 * The metadata regions, read-only to root, so pkernfsctl can list, check
 * and kexec-check a device while this driver holds it (and there is no
 * /dev/daxX.Y to map). Only the superblock if it is not a pkernfs; else up
 * to the kernel-only area the superblock names, which no userspace path
 * may read (its crc is not checked here: the bound is within the device
 * either way).
 */
static u64 pkernfs_dax_meta_len(struct pkernfs_dax *pdax)
{
	const struct pkernfs_super *sb = pdax->region.kaddr;
	u64 kernel = le64_to_cpu(READ_ONCE(sb->s_regions[PKERNFS_R_KERNEL].off));

	if (le64_to_cpu(sb->s_magic) != PKERNFS_MAGIC || kernel < PKERNFS_BLOCK_SIZE ||
	    kernel > pdax->region.size)
		return PKERNFS_BLOCK_SIZE;
	return kernel;
}

static ssize_t pkernfs_metadata_read(struct file *file, struct kobject *kobj,
				     struct bin_attribute *attr, char *buf,
				     loff_t off, size_t count)
{
	struct pkernfs_dax *pdax = dev_get_drvdata(kobj_to_dev(kobj));
	u64 end = pkernfs_dax_meta_len(pdax);

	if (off < 0 || off >= end)
		return 0;
	count = min_t(u64, count, end - off);
	/* Real NVDIMM media may hold poison: fail the read, not the machine. */
	if (copy_mc_to_kernel(buf, pdax->region.kaddr + off, count))
		return -EIO;
	return count;
}
static BIN_ATTR_ADMIN_RO(pkernfs_metadata, 0);

static struct bin_attribute *pkernfs_dax_bin_attrs[] = {
	&bin_attr_pkernfs_metadata,
	NULL,
};

static const struct attribute_group pkernfs_dax_group = {
	.bin_attrs = pkernfs_dax_bin_attrs,
};

/* Added by the driver core after probe, removed before the devm teardown. */
static const struct attribute_group *pkernfs_dax_groups[] = {
	&pkernfs_dax_group,
	NULL,
};

static int pkernfs_dax_flush(struct pkernfs_region *region)
{
	return nvdimm_flush(to_pdax(region)->nd_region, NULL);
}

/*
 * The nvdimm region behind a pmem-backed dax device: its dax region's
 * device is the namespace's nd_dax, whose parent is the region. Other dax
 * devices (hmem, kmem) have none.
 */
static struct nd_region *pkernfs_dax_nd_region(struct dev_dax *dev_dax)
{
	struct device *dev = dev_dax->region ? dev_dax->region->dev : NULL;

	if (!IS_REACHABLE(CONFIG_LIBNVDIMM) || !dev)
		return NULL;
	dev = dev->parent;
	if (!dev || !dev->bus || strcmp(dev->bus->name, "nd") ||
	    strncmp(dev_name(dev), "region", 6))
		return NULL;
	return to_nd_region(dev);
}

static int pkernfs_dax_probe(struct dev_dax *dev_dax)
{
	struct device *dev = &dev_dax->dev;
	struct dev_pagemap *pgmap;
	ktime_t start = ktime_get();
	struct pkernfs_dax *pdax;
	struct range *range;
	void *addr;
	int rc;

	if (dev_dax->nr_range != 1) {
		dev_err(dev, "pkernfs needs one contiguous range, device has %d\n",
			dev_dax->nr_range);
		return -EINVAL;
	}
	range = &dev_dax->ranges[0].range;

	if (static_dev_dax(dev_dax)) {
		pgmap = dev_dax->pgmap;
	} else {
		if (dev_dax->pgmap) {
			dev_err(dev, "dynamic dax device with a pre-populated page map\n");
			return -EINVAL;
		}
		pgmap = devm_kzalloc(dev, sizeof(*pgmap), GFP_KERNEL);
		if (!pgmap)
			return -ENOMEM;
		pgmap->nr_range = 1;
		pgmap->range = *range;
		dev_dax->pgmap = pgmap;
	}

	if (!devm_request_mem_region(dev, range->start, range_len(range),
				     dev_name(dev))) {
		dev_err(dev, "cannot reserve %#llx-%#llx\n", range->start, range->end);
		return -EBUSY;
	}

	pgmap->type = MEMORY_DEVICE_GENERIC;
	if (dev_dax->align > PAGE_SIZE)
		pgmap->vmemmap_shift = order_base_2(dev_dax->align >> PAGE_SHIFT);
	pgmap->ops = &pkernfs_dax_pgmap_ops;
	rc = devm_add_action_or_reset(dev, pkernfs_dax_clear_ops, pgmap);
	if (rc)
		return rc;
	addr = devm_memremap_pages(dev, pgmap);
	if (IS_ERR(addr))
		return PTR_ERR(addr);
	/* Clears a dynamic pgmap again, so device_dax can bind after us. */
	rc = devm_add_action_or_reset(dev, pkernfs_dax_kill, dev_dax);
	if (rc)
		return rc;

	pdax = kzalloc(sizeof(*pdax), GFP_KERNEL);
	if (!pdax)
		return -ENOMEM;
	pdax->region.name = kstrdup(dev_name(dev), GFP_KERNEL);
	if (!pdax->region.name) {
		kfree(pdax);
		return -ENOMEM;
	}
	pdax->region.phys = range->start;
	pdax->region.size = range_len(range);
	/*
	 * Not @addr: a static (nvdimm) page map starts at the namespace, before
	 * the info block and memmap that precede the device's own range.
	 */
	pdax->region.kaddr = phys_to_virt(range->start);
	pdax->region.pgmap = pgmap;
	pdax->region.align = dev_dax->align;
	pdax->region.nid = dev_dax->target_node;
	pdax->dev_dax = dev_dax;
	/* Platforms with ADR need only a fence; hinted or async regions need more. */
	pdax->nd_region = pkernfs_dax_nd_region(dev_dax);
	if (pdax->nd_region && nvdimm_has_flush(pdax->nd_region) > 0) {
		pdax->region.flush = pkernfs_dax_flush;
		dev_info(dev, "metadata ordering uses the region's flush hints\n");
	}
	kref_init(&pdax->kref);

	mutex_lock(&pkernfs_dax_lock);
	list_add_tail(&pdax->list, &pkernfs_dax_list);
	mutex_unlock(&pkernfs_dax_lock);

	/* The page map is most of a large region's bind: blackout after kexec. */
	dev_info(dev, "pkernfs region %#llx-%#llx (%llu MiB, align %u), bound in %lld ms\n",
		 range->start, range->end, range_len(range) >> 20, dev_dax->align,
		 ktime_ms_delta(ktime_get(), start));
	/* Registered after the map, so they go first: the holder stops before the unmap. */
	rc = devm_add_action_or_reset(dev, pkernfs_dax_unpublish, pdax);
	if (!rc)
		dev_set_drvdata(dev, pdax);
	return rc;
}

static struct dax_device_driver pkernfs_dax_driver = {
	.probe = pkernfs_dax_probe,
	.type = DAXDRV_PKERNFS_TYPE,
	.drv.dev_groups = pkernfs_dax_groups,
};

static int __init pkernfs_dax_init(void)
{
	return dax_driver_register(&pkernfs_dax_driver);
}

static void __exit pkernfs_dax_exit(void)
{
	dax_driver_unregister(&pkernfs_dax_driver);
}

MODULE_DESCRIPTION("pkernfs: dax device binding for the persistent live-update filesystem");
MODULE_LICENSE("GPL");
module_init(pkernfs_dax_init);
module_exit(pkernfs_dax_exit);
