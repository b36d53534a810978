// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the rest of the kernel asks: is a device's DMA kept across this
 * kexec, was it handed over, is a range of memory held by it.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include "internal.h"

/* @dev's IOMMU data if it is behind one of the first 8 Intel units, or NULL. */
static struct device_domain_info *pk_unit_dev(struct device *dev)
{
	struct device_domain_info *info;

	if (!dev->iommu || !dev->iommu->iommu_dev ||
	    dev->iommu->iommu_dev->ops != &intel_iommu_ops)
		return NULL;
	info = dev_iommu_priv_get(dev);
	if (!info || !info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return NULL;
	return info;
}

/**
 * pkernfs_iommu_dma_preserved() - is @dev's DMA to go on through this kexec?
 * @dev: a device behind an Intel IOMMU (the @dma_preserved op)
 *
 * Return: true if the handover is armed for the loaded kexec image and
 * @dev is attached to a marked persistent domain.
 */
bool pkernfs_iommu_dma_preserved(struct device *dev)
{
	struct device_domain_info *info;
	struct pkernfs_iommu_dom *pk;
	bool ret = false;

	if (!pkvtd_handover_armed())
		return false;
	/* Only where the handover can keep it: else its DMA must stop. */
	info = pk_unit_dev(dev);
	if (!info)
		return false;
	/*
	 * Not info->domain: the domain may be going away. A domain on
	 * pkvtd_domains is alive, and its device list is stable under its lock.
	 */
	spin_lock(&pkvtd_list_lock);
	list_for_each_entry(pk, &pkvtd_domains, list) {
		struct device_domain_info *d;
		unsigned long flags;

		if (!pk->token)
			continue;
		spin_lock_irqsave(&pk->domain->lock, flags);
		list_for_each_entry(d, &pk->domain->devices, link)
			if (d == info)
				ret = true;
		spin_unlock_irqrestore(&pk->domain->lock, flags);
	}
	spin_unlock(&pkvtd_list_lock);
	return ret;
}

/**
 * pkernfs_dma_range_live() - does a range hold IOMMU tables in use?
 * @start: physical start
 * @len: bytes
 *
 * May sleep. The dax bus lets only the pkernfs driver take such memory.
 *
 * Return: true if it overlaps the table pool of persistent domains, or one
 * a previous kernel handed over and this one adopted.
 */
bool pkernfs_dma_range_live(phys_addr_t start, u64 len)
{
	bool live = false;
	u64 p, n;
	int u;

	mutex_lock(&pkvtd_mutex);
	if (pkvtd_pool) {
		p = pkernfs_kroot_phys(pkvtd_pool);
		n = (u64)pkernfs_kroot_npages(pkvtd_pool) << PAGE_SHIFT;
		live = start < p + n && p < start + len;
	}
	for (u = 0; u < PKVTD_MAX_UNITS && !live; u++) {
		if (!pkvtd_saved[u])
			continue;
		p = le64_to_cpu(pkvtd_saved[u]->hdr.pool_phys);
		n = le64_to_cpu(pkvtd_saved[u]->hdr.pool_pages) << PAGE_SHIFT;
		live = start < p + n && p < start + len;
	}
	mutex_unlock(&pkvtd_mutex);
	return live;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_range_live);

/* Does a span of @t overlap [start, end)? Caller holds pkvtd_held_lock. */
static bool pk_tree_maps(const struct pkvtd_tree *t, u64 start, u64 end)
{
	u32 lo = 0, hi = t->nr;

	/* The first span ending past @start; spans are sorted and disjoint. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->span[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nr && t->span[lo].start < end;
}

/**
 * pkernfs_dma_range_mapped() - may a handed-over domain still DMA here?
 * @start: physical start
 * @len: bytes
 *
 * Never sleeps. pkernfs refuses to free such memory: its files' AUs stay
 * theirs until every device that can reach them through the last
 * kernel's page tables is restored and released, or abandoned.
 *
 * Return: true if a leaf of a handed-over page table that a device may
 * still walk maps into [@start, @start + @len).
 */
bool pkernfs_dma_range_mapped(phys_addr_t start, u64 len)
{
	bool mapped = false;
	int u;
	u32 i;

	/*
	 * Lockless: trees are only added at DMAR init, before any file is
	 * freed, so a zero means none is live and none will be.
	 */
	if (!READ_ONCE(pkvtd_trees_live))
		return false;
	spin_lock(&pkvtd_held_lock);
	for (u = 0; u < PKVTD_MAX_UNITS && !mapped; u++) {
		struct pkernfs_iommu_saved *s = pkvtd_saved[u];

		for (i = 0; s && i < s->nr_tree && !mapped; i++)
			mapped = s->tree[i].users && pk_tree_maps(&s->tree[i], start, start + len);
	}
	spin_unlock(&pkvtd_held_lock);
	return mapped;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_range_mapped);

/**
 * pkernfs_iommu_dma_inherited() - was @dev's DMA handed over by the last kernel?
 * @dev: a device behind an Intel IOMMU (the @dma_inherited op)
 *
 * True from boot until the handed-over domain is restored.
 *
 * Return: true if this kernel adopted a context entry for @dev that no
 * restore has taken yet.
 */
bool pkernfs_iommu_dma_inherited(struct device *dev)
{
	struct device_domain_info *info;
	struct pkernfs_iommu_saved *s;
	bool ret = false;
	int i;

	info = pk_unit_dev(dev);
	if (!info)
		return false;
	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	s = pkvtd_saved[info->iommu->seq_id];
	for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++)
		if (s->dev[i].bus == info->bus && s->dev[i].devfn == info->devfn &&
		    !s->restored[i])
			ret = true;
	mutex_unlock(&pkvtd_mutex);
	return ret;
}
