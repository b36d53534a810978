// SPDX-License-Identifier: GPL-2.0-only
/*
 * Giving up handed-over DMA nobody restores: abandon, a removed device,
 * a copied context another domain replaced, a mount's guard.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/workqueue.h>

#include "internal.h"

/* Some saved->torn bit is set that pkvtd_reap_torn() has not seen. */
atomic_t pkvtd_torn_pending = ATOMIC_INIT(0);

/* Clear @rec's copied context entry, and flush. iommu->lock held. */
static void pk_abandon_one(struct intel_iommu *iommu, struct pkernfs_iommu_saved *s, u32 i)
{
	const struct pkvtd_dev *rec = &s->dev[i];
	/* alloc 1: with 0 a copied entry reads as absent; its table exists. */
	struct context_entry *ctx = iommu_context_addr(iommu, rec->bus, rec->devfn, 1);
	u16 did = s->tree[s->tree_of[i]].did;

	if (!ctx || !context_present(ctx) || !context_copied(iommu, rec->bus, rec->devfn))
		return;
	context_clear_entry(ctx);
	__iommu_flush_cache(iommu, ctx, sizeof(*ctx));
	iommu->flush.flush_context(iommu, did, PCI_DEVID(rec->bus, rec->devfn),
				   DMA_CCMD_MASK_NOBIT, DMA_CCMD_DEVICE_INVL);
	if (sm_supported(iommu))
		qi_flush_pasid_cache(iommu, did, QI_PC_ALL_PASIDS, 0);
	iommu->flush.flush_iotlb(iommu, did, 0, 0, DMA_TLB_DSI_FLUSH);
	/*
	 * Scalable mode: left marked copied, so that the next attach points
	 * the context at the device's own PASID table, which the stock code
	 * does only for a copied context (legacy mode's attach writes it).
	 */
	if (!sm_supported(iommu))
		clear_context_copied(iommu, rec->bus, rec->devfn);
	pr_warn("%s: %02x:%02x.%d abandoned (token %#llx): bus mastering off, its context cleared\n",
		iommu->name, rec->bus, PCI_SLOT(rec->devfn), PCI_FUNC(rec->devfn),
		le64_to_cpu(rec->token));
}

/*
 * Give up record @i of @s: stop @pdev (if it is still there), clear its
 * copied context, flush, and drop its tree user, so the memory it reached
 * is no longer held. Caller holds pkvtd_mutex; @i is not restored.
 */
static void pk_abandon_rec(struct intel_iommu *iommu, struct pkernfs_iommu_saved *s,
			   u32 i, struct pci_dev *pdev)
{
	/* Stopped first: then nothing walks the context being cleared. */
	if (pdev)
		pci_clear_master(pdev);
	spin_lock(&iommu->lock);
	pk_abandon_one(iommu, s, i);
	spin_unlock(&iommu->lock);
	/* As if restored: nothing claims or keeps it. */
	s->restored[i] = true;
	set_bit(i, s->abandoned);
	pkvtd_saved_open--;
	pkvtd_tree_put(s, i);
}

/* pk_abandon_rec() on record @i of @s, its device looked up. Under pkvtd_mutex. */
static void pk_abandon_found(struct pkernfs_iommu_saved *s, u32 i)
{
	struct pci_dev *pdev = pci_get_domain_bus_and_slot(s->iommu->segment, s->dev[i].bus,
							   s->dev[i].devfn);

	pk_abandon_rec(s->iommu, s, i, pdev);
	pci_dev_put(pdev);
}

/* Does a span of @t leave [@ds, +@dl) inside [@rs, +@rl)? Under pkvtd_mutex. */
static bool pk_tree_strays(const struct pkvtd_tree *t, u64 rs, u64 rl, u64 ds, u64 dl)
{
	const struct pkvtd_span *sp;

	for (sp = t->span; sp && sp < t->span + t->nr; sp++)
		if (sp->start < rs + rl && rs < sp->end && (sp->start < ds || sp->end > ds + dl))
			return true;
	return false;
}

/**
 * pkernfs_dma_guard() - give up handed-over DMA into a pkernfs's metadata
 * @region: the physical start of a pkernfs being mounted
 * @size: its size
 * @data: the start of its file data area
 * @len: the data area's length
 *
 * Called by every mount once its superblock checks out, before its journal
 * is replayed. The tables a device still walks must map file data of the
 * pkernfs that holds them only. A version 1 handover recorded no data
 * area (its leaves were bounded by the namespace at boot), and a recorded
 * one is the old kernel's word: here the filesystem's own superblock
 * decides. If the pool is on this pkernfs, a record whose table maps
 * anything outside the data area is abandoned; if it is on another one,
 * a record whose table maps any of @region. Abandoned: device stopped,
 * context cleared, nothing held.
 *
 * Return: the number of records given up.
 */
unsigned int pkernfs_dma_guard(phys_addr_t region, u64 size, phys_addr_t data, u64 len)
{
	unsigned int n = 0;
	int u;
	u32 i;

	/* Trees are only added at DMAR init, before any mount: see pkernfs_dma_range_mapped(). */
	if (!READ_ONCE(pkvtd_trees_live))
		return 0;
	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pkvtd_saved[u];
		u64 pool, rs = region, rl = size, dl = 0;

		if (!s)
			continue;
		/* Its own pkernfs: all memory but the data area; another's: all of it. */
		pool = le64_to_cpu(s->hdr.pool_phys);
		if (pool >= region && pool - region < size) {
			rs = 0;
			rl = U64_MAX;
			dl = len;
		}
		for (i = 0; i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (s->restored[i] ||
			    !pk_tree_strays(&s->tree[s->tree_of[i]], rs, rl, data, dl))
				continue;
			pk_abandon_found(s, i);
			pr_err("%s: %02x:%02x.%d: the tables handed over map pkernfs metadata or memory outside its data area (%pa+%#llx): given up\n",
			       s->iommu->name, s->dev[i].bus, PCI_SLOT(s->dev[i].devfn),
			       PCI_FUNC(s->dev[i].devfn), &data, len);
			n++;
		}
	}
	mutex_unlock(&pkvtd_mutex);
	return n;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_guard);

/**
 * pkernfs_iommu_release_device() - a handed-over device is going away
 * @info: its IOMMU data, from intel_iommu_release_device()
 *
 * A record whose device is removed before anyone restores it would keep
 * its tables, its domain id and the memory it maps held for ever: give it
 * up as abandon does.
 */
void pkernfs_iommu_release_device(struct device_domain_info *info)
{
	struct pkernfs_iommu_saved *s;
	u32 i;

	if (!info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS ||
	    !dev_is_pci(info->dev))
		return;
	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	s = pkvtd_saved[info->iommu->seq_id];
	for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
		if (s->dev[i].bus != info->bus || s->dev[i].devfn != info->devfn ||
		    s->restored[i])
			continue;
		pk_abandon_rec(info->iommu, s, i, to_pci_dev(info->dev));
		pr_warn("%s: %02x:%02x.%d removed before its domain was restored (token %#llx): given up\n",
			info->iommu->name, info->bus, PCI_SLOT(info->devfn),
			PCI_FUNC(info->devfn), le64_to_cpu(s->dev[i].token));
	}
	mutex_unlock(&pkvtd_mutex);
}

/*
 * Handed-over DMA that no VMM will restore (it is not coming back, or
 * pkernfs will not be mounted): stop each such device and block its
 * context, so nothing walks the handed-over tables any more. Their pool
 * pages are freed when the pool is next adopted and released.
 */
static unsigned int pk_abandon_all(void)
{
	struct dmar_drhd_unit *drhd;
	struct intel_iommu *iommu;
	unsigned int n = 0;
	int i;

	down_read(&dmar_global_lock);
	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	for_each_active_iommu(iommu, drhd) {
		struct pkernfs_iommu_saved *s;

		if (iommu->seq_id >= PKVTD_MAX_UNITS || !pkvtd_saved[iommu->seq_id])
			continue;
		s = pkvtd_saved[iommu->seq_id];
		for (i = 0; i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (s->restored[i])
				continue;
			pk_abandon_found(s, i);
			n++;
		}
	}
	mutex_unlock(&pkvtd_mutex);
	up_read(&dmar_global_lock);
	return n;
}

static int pk_abandon_set(const char *val, const struct kernel_param *kp)
{
	bool yes;
	int err = kstrtobool(val, &yes);

	if (err || !yes)
		return err ?: -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	pr_info("abandoned %u handed-over device(s) nobody restored\n", pk_abandon_all());
	return 0;
}

/*
 * A host whose VMM never comes back should not keep devices DMA-ing
 * through tables nobody owns until someone notices: with
 * pkernfs_iommu.abandon_after=SECONDS, whatever is not restored by then
 * is abandoned. 0 (the default) waits for ever.
 */
static unsigned int pkernfs_iommu_abandon_after;
module_param_named(abandon_after, pkernfs_iommu_abandon_after, uint, 0444);
MODULE_PARM_DESC(abandon_after, "Seconds after boot to abandon handed-over devices nobody restored (0: never)");

static void pk_abandon_late(struct work_struct *work)
{
	unsigned int n = pk_abandon_all();

	if (n)
		pr_warn("abandoned %u handed-over device(s) not restored within %u s (pkernfs_iommu.abandon_after)\n",
			n, pkernfs_iommu_abandon_after);
}

static DECLARE_DELAYED_WORK(pk_abandon_work, pk_abandon_late);

static int __init pk_abandon_timer(void)
{
	/* pkvtd_saved_open is set at DMAR init, before this initcall. */
	if (pkernfs_iommu_abandon_after && READ_ONCE(pkvtd_saved_open))
		schedule_delayed_work(&pk_abandon_work,
				      (unsigned long)pkernfs_iommu_abandon_after * HZ);
	return 0;
}
late_initcall(pk_abandon_timer);

static const struct kernel_param_ops pk_abandon_ops = {
	.set = pk_abandon_set,
};
module_param_cb(abandon, &pk_abandon_ops, NULL, 0200);
MODULE_PARM_DESC(abandon, "Write 1: stop every handed-over device not yet restored, and block it");

/*
 * Finish each open record whose copied context another domain's attach
 * cleared: no device walks its tables any more, so they, their domain id
 * and the memory they map are no longer held, and a restore is refused.
 * A restored domain's own record is left to pkernfs_iommu_domain_exit().
 * Caller holds pkvtd_mutex.
 */
void pkvtd_reap_torn(void)
{
	struct pkernfs_iommu_saved *s;
	int u;
	u32 i;

	lockdep_assert_held(&pkvtd_mutex);
	/* Fully ordered: the torn bits set before the flag are seen below. */
	if (!atomic_xchg(&pkvtd_torn_pending, 0))
		return;
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		s = pkvtd_saved[u];
		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (!test_bit(i, s->torn) || s->restored[i])
				continue;
			s->restored[i] = true;
			set_bit(i, s->replaced);
			pkvtd_saved_open--;
			pkvtd_tree_put(s, i);
			pr_info("%s: %02x:%02x.%d: its handed-over context was replaced by another domain (token %#llx): its tables and memory are no longer held\n",
				s->iommu->name, s->dev[i].bus, PCI_SLOT(s->dev[i].devfn),
				PCI_FUNC(s->dev[i].devfn), le64_to_cpu(s->dev[i].token));
		}
	}
}

static void pk_torn_work_fn(struct work_struct *work)
{
	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	mutex_unlock(&pkvtd_mutex);
}

static DECLARE_WORK(pk_torn_work, pk_torn_work_fn);

/**
 * pkernfs_iommu_context_torn() - a copied context entry was torn down
 * @iommu: its unit; iommu->lock held
 * @bus: the bus of the entry
 * @devfn: its device and function
 *
 * Called by copied_context_tear_down() once the entry is cleared and
 * flushed, when a domain other than the restored one is attached (the
 * stock attach, an identity domain): the record the entry came from is
 * finished by pkvtd_reap_torn(), which needs pkvtd_mutex.
 */
void pkernfs_iommu_context_torn(struct intel_iommu *iommu, u8 bus, u8 devfn)
{
	struct pkernfs_iommu_saved *s;
	bool any = false;
	u32 i;

	lockdep_assert_held(&iommu->lock);
	if (iommu->seq_id >= PKVTD_MAX_UNITS)
		return;
	/* Set once at DMAR init and never freed: no lock to read it. */
	s = pkvtd_saved[iommu->seq_id];
	for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
		if (s->dev[i].bus == bus && s->dev[i].devfn == devfn) {
			set_bit(i, s->torn);
			any = true;
		}
	}
	if (!any)
		return;
	atomic_set_release(&pkvtd_torn_pending, 1);
	schedule_work(&pk_torn_work);
}
