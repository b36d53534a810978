/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs: the interface between the dax binding (drivers/dax/pkernfs),
 * the filesystem (fs/pkernfs) and its kernel-only users (the Intel IOMMU).
 *
 * The dax driver publishes one struct pkernfs_region per bound dax device.
 * A filesystem claims a region by name for as long as it is mounted; the
 * driver tells the holder before the region goes away, so the holder can
 * stop using the memory first.
 */
#ifndef _LINUX_PKERNFS_H
#define _LINUX_PKERNFS_H

#include <linux/types.h>

struct dev_pagemap;
struct pkernfs_region;

/**
 * struct pkernfs_holder_ops - what a region's holder is told
 * @get: pin the holder so that @shutdown can run on it; return false if it
 *	is already going away (it then releases the region, and the unbind
 *	waits for that). Called under the driver's lock, while the holder is
 *	registered: the holder must not be freed before it releases.
 * @put: drop the pin taken by @get; may release the region.
 * @shutdown: the region is being unbound; stop every access to its memory
 *	and drop all mappings of it before returning. Called once, in process
 *	context, with no driver locks held, between @get and @put.
 */
struct pkernfs_holder_ops {
	bool (*get)(void *holder);
	void (*put)(void *holder);
	void (*shutdown)(void *holder);
};

/**
 * struct pkernfs_region - a dax device's memory, as the filesystem sees it
 * @name: the dax device's name, such as "dax0.0"
 * @phys: physical address of the first byte
 * @size: bytes
 * @kaddr: kernel mapping of the whole range (the direct map)
 * @pgmap: the ZONE_DEVICE page map of the range
 * @align: the dax device's mapping alignment
 * @nid: NUMA node of the memory
 * @flush: make every line written back so far durable, where a store
 *	fence (pmem_wmb()) is not enough: an NVDIMM region with
 *	write-pending-queue flush hints, or an asynchronous one. NULL
 *	otherwise. May sleep.
 */
struct pkernfs_region {
	const char *name;
	phys_addr_t phys;
	u64 size;
	void *kaddr;
	struct dev_pagemap *pgmap;
	unsigned long align;
	int nid;
	int (*flush)(struct pkernfs_region *region);
};

struct pkernfs_region *pkernfs_region_claim(const char *name, void *holder,
					    const struct pkernfs_holder_ops *ops);
void pkernfs_region_release(struct pkernfs_region *region);

#endif /* _LINUX_PKERNFS_H */
