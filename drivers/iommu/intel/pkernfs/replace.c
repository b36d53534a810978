// SPDX-License-Identifier: GPL-2.0-only
/*
 * Switching a device between persistent domains without a window in
 * which its DMA faults.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include "internal.h"

/* The leaf entry translating @iova in @domain, and its level, or NULL. */
static struct dma_pte *pk_leaf(struct dmar_domain *domain, u64 iova, int *level)
{
	struct dma_pte *table = domain->pgd, *pte;
	int l = agaw_to_level(domain->agaw);

	for (;; l--) {
		pte = &table[pfn_level_offset(iova >> VTD_PAGE_SHIFT, l)];
		if (!dma_pte_present(pte))
			return NULL;
		if (l == 1 || dma_pte_superpage(pte)) {
			*level = l;
			return pte;
		}
		table = phys_to_virt(dma_pte_addr(pte));
	}
}

struct pk_same {
	struct pkvtd_pgwalk pw;
	struct dmar_domain *new;
};

static void *pk_same_table(struct pkvtd_pgwalk *pw, u64 pa)
{
	cond_resched();
	return phys_to_virt(pa);
}

/* Does the new domain translate the IOVAs of this leaf of the old one alike? */
static int pk_same_leaf(struct pkvtd_pgwalk *pw, struct dma_pte *pte, u64 iova, int level)
{
	struct dmar_domain *new = container_of(pw, struct pk_same, pw)->new;
	u64 span = level_size(level) << VTD_PAGE_SHIFT, off, step;
	struct dma_pte *npte;
	int nlevel;

	/* The new leaves may be smaller or larger: step by theirs. */
	for (off = 0; off < span; off += step) {
		npte = pk_leaf(new, iova + off, &nlevel);
		if (!npte || (npte->val & (DMA_PTE_READ | DMA_PTE_WRITE)) !=
		    (pte->val & (DMA_PTE_READ | DMA_PTE_WRITE)))
			return -EINVAL;
		step = level_size(nlevel) << VTD_PAGE_SHIFT;
		if (dma_pte_addr(npte) + ((iova + off) & (step - 1)) != dma_pte_addr(pte) + off)
			return -EINVAL;
		step -= (iova + off) & (step - 1);
	}
	return 0;
}

/*
 * Does @new translate every IOVA the tables at @old_pgd translate, to the
 * same page with the same permissions? Walks the old leaves; @new may map
 * more. No lock: an unmap racing the walk may unlink @new's tables, so
 * their return to the pool, which may hand them out again at once, waits
 * for the walk; the caller does the same for @old_pgd's domain, if any.
 */
bool pkvtd_same_translation(u64 old_pgd, int old_level, struct dmar_domain *new)
{
	struct pk_same same = {
		.pw = { .table = pk_same_table, .leaf = pk_same_leaf },
		.new = new,
	};
	int ret;

	pkernfs_iommu_defer_frees(new, true);
	ret = pkvtd_pgtable_walk(&same.pw, old_pgd, old_level, 0);
	pkernfs_iommu_defer_frees(new, false);
	return !ret;
}

static bool pk_same_translation(struct dmar_domain *old, struct dmar_domain *new)
{
	bool same;

	pkernfs_iommu_defer_frees(old, true);
	same = pkvtd_same_translation(virt_to_phys(old->pgd), agaw_to_level(old->agaw), new);
	pkernfs_iommu_defer_frees(old, false);
	return same;
}

/*
 * First attach of a domain that inherits a handed-over record: restore the
 * record's domain, attach it the stock way (which keeps the copied context
 * as it is), replace it in place by @new, free it. pkernfs_iommu_inherit()
 * checked the tables; they are checked again, before anything is touched,
 * as the IOAS may have changed since.
 */
static int pk_inherit_attach(struct dmar_domain *new, struct device *dev)
{
	struct iommu_domain *old;
	int ret;

	ret = pkernfs_iommu_inherit(&new->domain, dev, new->pk->inherit);
	if (ret)
		return ret;
	old = pkvtd_restore(dev, NULL, new->pk->inherit);
	if (IS_ERR(old))
		return PTR_ERR(old);
	ret = old->ops->attach_dev(old, dev);
	if (ret) {
		/* Not attached: the record stays open, the context as it was. */
		iommu_domain_free(old);
		return ret;
	}
	ret = pkernfs_iommu_replace(&new->domain, dev);
	if (ret) {
		/* Only resources fail here: block rather than keep a half state. */
		dev_err(dev, "pkernfs-iommu: taking over the handed-over domain failed (%d): DMA blocked\n",
			ret);
		device_block_translation(dev);
	}
	iommu_domain_free(old);
	if (!ret)
		new->pk->inherit = 0;
	return ret;
}

/* Legacy mode: the context entry, in one 16-byte store. */
static int pk_switch_legacy(struct device_domain_info *info, struct dmar_domain *new,
			    u16 did_old, u16 did_new)
{
	struct intel_iommu *iommu = info->iommu;
	struct context_entry *ctx, want;
	u128 cur, val;

	spin_lock(&iommu->lock);
	ctx = iommu_context_addr(iommu, info->bus, info->devfn, 0);
	if (!ctx || !context_present(ctx)) {
		spin_unlock(&iommu->lock);
		return -EOPNOTSUPP;
	}
	want = *ctx;
	context_set_address_root(&want, virt_to_phys(new->pgd));
	/* The setter only ORs the id in. */
	want.hi &= ~PKVTD_CTX_HI_DID;
	context_set_domain_id(&want, did_new);
	memcpy(&cur, ctx, sizeof(cur));
	memcpy(&val, &want, sizeof(val));
	/* Under iommu->lock nothing else writes the entry: this cannot fail. */
	WARN_ON_ONCE(!try_cmpxchg128((u128 *)ctx, &cur, val));
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(ctx, sizeof(*ctx));
	spin_unlock(&iommu->lock);
	intel_context_flush_no_pasid(info, ctx, did_old, PCI_DEVID(info->bus, info->devfn));
	iommu->flush.flush_iotlb(iommu, did_new, 0, 0, DMA_TLB_DSI_FLUSH);
	return 0;
}

/*
 * Scalable mode: the RID_PASID entry's table and domain id, in two 8-byte
 * stores. An IOMMU that reads between them sees the new table under the
 * old id, or the reverse: both translate the same pages.
 */
static int pk_switch_sm(struct device_domain_info *info, struct dmar_domain *new,
			u16 did_old, u16 did_new)
{
	struct intel_iommu *iommu = info->iommu;
	struct pasid_entry *pe;

	spin_lock(&iommu->lock);
	pe = intel_pasid_get_entry(info->dev, IOMMU_NO_PASID);
	if (!pe || !pasid_pte_is_present(pe) ||
	    pasid_pte_get_pgtt(pe) != PASID_ENTRY_PGTT_SL_ONLY) {
		spin_unlock(&iommu->lock);
		return -EOPNOTSUPP;
	}
	pasid_set_slptr(pe, virt_to_phys(new->pgd));
	pasid_set_domain_id(pe, did_new);
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(pe, sizeof(*pe));
	spin_unlock(&iommu->lock);
	qi_flush_pasid_cache(iommu, did_old, QI_PC_PASID_SEL, IOMMU_NO_PASID);
	iommu->flush.flush_iotlb(iommu, did_old, 0, 0, DMA_TLB_DSI_FLUSH);
	iommu->flush.flush_iotlb(iommu, did_new, 0, 0, DMA_TLB_DSI_FLUSH);
	return 0;
}

/*
 * intel_iommu_attach_device(), before the stock path, which blocks the
 * device (clears its context entry) and then writes a new one: DMA in
 * between faults. When a persistent domain is involved and @new
 * translates everything the attached domain does identically, switch the
 * context entry in one 16-byte store instead: every state the hardware
 * may see, cached or not, translates the same pages. -EOPNOTSUPP: take
 * the stock path.
 */
int pkernfs_iommu_replace(struct iommu_domain *domain, struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct dmar_domain *new = to_dmar_domain(domain), *old = info->domain;
	struct intel_iommu *iommu = info->iommu;
	int aliases = 0, ret;
	u16 did_old, did_new;
	const char *why;

	/* Whoever made it persistent: never a device the handover cannot keep. */
	why = new->pk ? pkvtd_dev_why(dev) : NULL;
	if (why) {
		dev_err(dev, "pkernfs-iommu: not attached to persistent domain %#llx: %s, so its DMA could not be kept across kexec\n",
			new->pk->token, why);
		return -EINVAL;
	}
	if (new->pk && new->pk->inherit && !info->domain_attached)
		return pk_inherit_attach(new, dev);
	/*
	 * info->domain is stable under the caller's group mutex. Both must be
	 * persistent: pk_same_translation() holds their freed table pages
	 * back while it walks, so it never meets a reused one.
	 */
	if (!info->domain_attached || !old || !old->pk || !new->pk)
		return -EOPNOTSUPP;
	if (old == new)
		return 0;	/* the core reverting a replace that failed */
	if (old->use_first_level || new->use_first_level ||
	    old->agaw != new->agaw || new->agaw != iommu->agaw || info->ats_enabled ||
	    !dev_is_pci(dev) || pci_real_dma_dev(to_pci_dev(dev)) != to_pci_dev(dev) ||
	    (!sm_supported(iommu) && !system_has_cmpxchg128()))
		return -EOPNOTSUPP;
	pci_for_each_dma_alias(to_pci_dev(dev), pkvtd_count_alias, &aliases);
	if (aliases != 1)
		return -EOPNOTSUPP;
	if (!pk_same_translation(old, new)) {
		dev_err(dev, "pkernfs-iommu: the new domain does not map what the attached one does: not replaced\n");
		return -EINVAL;
	}
	ret = prepare_domain_attach_device(domain, dev);
	if (ret)
		return ret;
	ret = domain_attach_iommu(new, iommu);
	if (ret)
		return ret;
	/* Before the switch: from it on, invalidations must reach @new's tags. */
	ret = cache_tag_assign_domain(new, dev, IOMMU_NO_PASID);
	if (ret) {
		domain_detach_iommu(new, iommu);
		return ret;
	}
	did_old = domain_id_iommu(old, iommu);
	did_new = domain_id_iommu(new, iommu);

	ret = sm_supported(iommu) ? pk_switch_sm(info, new, did_old, did_new) :
				    pk_switch_legacy(info, new, did_old, did_new);
	if (ret) {
		cache_tag_unassign_domain(new, dev, IOMMU_NO_PASID);
		domain_detach_iommu(new, iommu);
		return ret;
	}
	/* The stock attach's bookkeeping; only the table switch above is ours. */
	cache_tag_unassign_domain(old, dev, IOMMU_NO_PASID);
	pkvtd_link_moved(info);
	device_domain_unlink(info);
	device_domain_link(new, info);
	new->iotlb_sync_map |= domain_need_iotlb_sync_map(new, iommu);
	if (iommu->copied_tables)
		clear_context_copied(iommu, info->bus, info->devfn);
	dev_info(dev, "pkernfs-iommu: domain replaced in place (did %u -> %u)\n", did_old, did_new);
	return 0;
}
