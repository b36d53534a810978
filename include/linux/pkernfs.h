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
 * @memory_failure: the page at byte @offset of the region has a memory
 *	error (memory_failure(), @mf_flags its MF_* flags): record it, and
 *	unmap and signal its users. Process context, between @get and @put.
 *	Return 0 when handled, or a negative errno.
 */
struct pkernfs_holder_ops {
	bool (*get)(void *holder);
	void (*put)(void *holder);
	void (*shutdown)(void *holder);
	int (*memory_failure)(void *holder, u64 offset, int mf_flags);
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
int pkernfs_region_failures(struct pkernfs_region *region, u64 *offsets, int max);

struct super_block;
bool is_pkernfs_sb(const struct super_block *sb);

/*
 * The kernel-only area: named roots, each with a page pool that never
 * sleeps. See fs/pkernfs/karea.c. Not exported: its one user, the Intel
 * IOMMU, is built in whenever pkernfs is (INTEL_IOMMU_PKERNFS needs
 * PKERNFS_FS=y).
 */
struct pkernfs_kroot;

struct pkernfs_kroot *pkernfs_kroot_create(struct super_block *sb, const char *name,
					   u64 cookie, unsigned long npages);
struct pkernfs_kroot *pkernfs_kroot_adopt(struct super_block *sb, const char *name,
					  u64 cookie);
int pkernfs_kroot_cookie(struct super_block *sb, const char *name, u64 *cookie);
int pkernfs_kroot_recookie(struct super_block *sb, struct pkernfs_kroot *kr, u64 cookie);
void pkernfs_kroot_put(struct pkernfs_kroot *kr);
int pkernfs_kroot_release(struct pkernfs_kroot *kr);
phys_addr_t pkernfs_kroot_phys(const struct pkernfs_kroot *kr);
bool pkernfs_kroot_poisoned(const struct pkernfs_kroot *kr);
unsigned long pkernfs_kroot_npages(const struct pkernfs_kroot *kr);
bool pkernfs_kroot_on(const struct pkernfs_kroot *kr, struct super_block *sb);
void pkernfs_kroot_data_range(const struct pkernfs_kroot *kr, phys_addr_t *phys, u64 *len);
bool pkernfs_kroot_contains(const struct pkernfs_kroot *kr, phys_addr_t phys);
void *pkernfs_kroot_page_va(const struct pkernfs_kroot *kr, phys_addr_t phys);
void *pkernfs_kroot_page_alloc(struct pkernfs_kroot *kr, phys_addr_t *phys);
void *pkernfs_kroot_page_alloc_reserved(struct pkernfs_kroot *kr, phys_addr_t *phys);
int pkernfs_kroot_reserve(struct pkernfs_kroot *kr, unsigned long n, bool over);
void pkernfs_kroot_unreserve(struct pkernfs_kroot *kr, unsigned long n);
void pkernfs_kroot_page_free(struct pkernfs_kroot *kr, phys_addr_t phys);
int pkernfs_kroot_claim(struct pkernfs_kroot *kr, phys_addr_t phys);
void pkernfs_kroot_ready(struct pkernfs_kroot *kr);
unsigned long pkernfs_kroot_free_pages(struct pkernfs_kroot *kr);
unsigned long pkernfs_kroot_reserved_pages(struct pkernfs_kroot *kr);

/* A kernel DMA user (the IOMMU) maps a file's memory, across kexec too. */
struct file;
int pkernfs_dma_hold(struct file *file);
void pkernfs_dma_release(struct file *file);

/*
 * What pkernfs asks the Intel IOMMU's handover (drivers/iommu/intel/pkernfs/)
 * about its memory. Domains themselves go through linux/iommu-preserve.h.
 */
#ifdef CONFIG_INTEL_IOMMU_PKERNFS
bool pkernfs_dma_range_live(phys_addr_t start, u64 len);
bool pkernfs_dma_range_mapped(phys_addr_t start, u64 len);
unsigned int pkernfs_dma_guard(phys_addr_t region, u64 size, phys_addr_t data, u64 len);
struct kimage;
void pkernfs_iommu_kimage_free(struct kimage *image);
#else
struct kimage;
static inline void pkernfs_iommu_kimage_free(struct kimage *image)
{
}

static inline bool pkernfs_dma_range_live(phys_addr_t start, u64 len)
{
	return false;
}

static inline bool pkernfs_dma_range_mapped(phys_addr_t start, u64 len)
{
	return false;
}

static inline unsigned int pkernfs_dma_guard(phys_addr_t region, u64 size, phys_addr_t data,
					     u64 len)
{
	return 0;
}
#endif

#endif /* _LINUX_PKERNFS_H */
