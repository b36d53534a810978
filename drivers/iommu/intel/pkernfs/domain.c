// SPDX-License-Identifier: GPL-2.0-only
/*
 * Persistent domains: marking one, restoring one after kexec, and the
 * hooks iommu.c calls while they are attached and mapped.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/slab.h>

#include "internal.h"

void pkernfs_iommu_domain_exit(struct dmar_domain *domain)
{
	struct pkernfs_iommu_dom *pk = to_pk(domain);

	spin_lock(&pkvtd_list_lock);
	list_del(&pk->list);
	spin_unlock(&pkvtd_list_lock);
	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	if (pk->restored && !pk->adopted && !test_bit(pk->rec, pk->saved->torn)) {
		/*
		 * Restored but never attached: the device still walks these
		 * tables through its copied context. Keep them claimed and
		 * the record open, as before the restore.
		 */
		*pk->restored = false;
		pkvtd_saved_open++;
	} else if (pk->restored) {
		/* Other records' devices may still walk a shared tree. */
		if (pkvtd_tree_put(pk->saved, pk->rec) && domain->pgd)
			pkvtd_free_tree(domain->pgd, agaw_to_level(domain->agaw));
	} else if (domain->pgd) {
		pkvtd_free_tree(domain->pgd, agaw_to_level(domain->agaw));
	}
	domain->pgd = NULL;
	domain->pk = NULL;
	kfree(pk->deferred);
	if (pk->spare)
		__iommu_free_pages(pk->spare, 0);
	kfree(pk);
	pkvtd_pool_put();
	mutex_unlock(&pkvtd_mutex);
}

static struct pkernfs_iommu_dom *pk_find_token(u64 token)
{
	struct pkernfs_iommu_dom *pk;

	lockdep_assert_held(&pkvtd_list_lock);
	list_for_each_entry(pk, &pkvtd_domains, list)
		if (pk->token == token)
			return pk;
	return NULL;
}

static bool pk_intel_paging(struct iommu_domain *domain)
{
	return domain && domain->owner == &intel_iommu_ops &&
	       (domain->type & __IOMMU_DOMAIN_PAGING) &&
	       domain->type != IOMMU_DOMAIN_SVA;
}

static int pk_attach_new(struct dmar_domain *dmar, u64 token)
{
	struct pkernfs_iommu_dom *pk;
	int i;

	pk = kzalloc(sizeof(*pk), GFP_KERNEL);
	if (!pk)
		return -ENOMEM;
	pk->domain = dmar;
	pk->token = token;
	spin_lock_init(&pk->defer_lock);
	for (i = 0; i < PKVTD_MAX_UNITS; i++)
		pk->did[i] = -1;
	spin_lock(&pkvtd_list_lock);
	if (pk_find_token(token)) {
		spin_unlock(&pkvtd_list_lock);
		kfree(pk);
		return -EEXIST;
	}
	list_add(&pk->list, &pkvtd_domains);
	/* Under pkvtd_mutex, with a pool user: pkvtd_pool is set. */
	pkernfs_kroot_data_range(pkvtd_pool, &dmar->pk_data, &dmar->pk_data_len);
	dmar->pk = pk;
	spin_unlock(&pkvtd_list_lock);
	return 0;
}

/**
 * pkernfs_iommu_preserve() - keep a domain's DMA going through kexec
 * @domain: an Intel paging domain (second-stage), not attached, not mapped
 * @sb: the pkernfs whose kernel area holds the tables (the memory the
 *	domain will map should live there too)
 * @token: the caller's non-zero name for the domain across kexec
 *
 * May sleep. From here on the domain's tables live in pkernfs; at kexec
 * every device attached to it keeps its translation and bus mastering.
 * Attaching a device the handover cannot keep (pkernfs_iommu_can_preserve())
 * is refused with -EINVAL. The @preserve op of Intel paging domains.
 *
 * Return: 0; -EINVAL (not an Intel second-stage paging domain, token 0,
 * or @sb not a pkernfs), -EBUSY (attached or mapped already), -EEXIST
 * (token in use), -EALREADY (already persistent), -ENOSPC, -EROFS, -EIO,
 * -ENOMEM.
 */
int pkernfs_iommu_preserve(struct iommu_domain *domain, struct super_block *sb, u64 token)
{
	struct dmar_domain *dmar;
	phys_addr_t pa;
	void *pgd;
	int err;

	if (!pk_intel_paging(domain) || !token)
		return -EINVAL;
	dmar = to_dmar_domain(domain);
	if (dmar->use_first_level || dmar->nested_parent || dmar->dirty_tracking) {
		pr_err("token %#llx: a %s domain cannot be handed over: only plain second-stage ones\n",
		       token, dmar->use_first_level ? "first-stage" :
		       dmar->nested_parent ? "nest-parent" : "dirty-tracking");
		return -EINVAL;
	}
	if (dmar->pk)
		return -EALREADY;
	if (!list_empty(&dmar->devices) || dmar->has_mappings) {
		pr_err("token %#llx: mark a domain persistent before attaching or mapping it\n",
		       token);
		return -EBUSY;
	}
	mutex_lock(&pkvtd_mutex);
	err = pkvtd_pool_get(sb);
	if (err)
		goto out;
	pgd = pkernfs_kroot_page_alloc(pkvtd_pool, &pa);
	if (!pgd) {
		err = -ENOSPC;
		goto put;
	}
	err = pk_attach_new(dmar, token);
	if (err) {
		pkernfs_kroot_page_free(pkvtd_pool, pa);
		goto put;
	}
	iommu_free_page(dmar->pgd);
	dmar->pgd = pgd;
	pr_info("domain %#llx is persistent, its tables in pkernfs at %pa\n", token, &pa);
	mutex_unlock(&pkvtd_mutex);
	return 0;
put:
	pkvtd_pool_put();
out:
	mutex_unlock(&pkvtd_mutex);
	return err;
}

/**
 * pkernfs_iommu_unpreserve() - stop handing a domain over at kexec
 * @domain: a domain made persistent by pkernfs_iommu_preserve() or
 *	pkernfs_iommu_restore_domain()
 *
 * Its tables stay in the pool until the domain is freed. The @unpreserve op.
 *
 * Return: 0, or -EINVAL if the domain was not marked.
 */
int pkernfs_iommu_unpreserve(struct iommu_domain *domain)
{
	struct pkernfs_iommu_dom *pk;
	int err = -EINVAL;

	if (!pk_intel_paging(domain))
		return -EINVAL;
	spin_lock(&pkvtd_list_lock);
	pk = to_pk(to_dmar_domain(domain));
	if (pk && pk->token) {
		pk->token = 0;
		err = 0;
	}
	spin_unlock(&pkvtd_list_lock);
	return err;
}

int pkvtd_count_alias(struct pci_dev *pdev, u16 alias, void *data)
{
	(*(int *)data)++;
	return 0;
}

/* Why the handover could not keep @dev's DMA, or NULL. */
const char *pkvtd_dev_why(struct device *dev)
{
	struct device_domain_info *info;
	int aliases = 0;

	if (!dev->iommu || !dev->iommu->iommu_dev ||
	    dev->iommu->iommu_dev->ops != &intel_iommu_ops)
		return "not behind an Intel IOMMU";
	info = dev_iommu_priv_get(dev);
	if (!info || !info->iommu)
		return "not probed by the IOMMU";
	if (info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return "its IOMMU is past the 8th unit";
	if (info->ats_supported)
		return "it has a device-TLB (ATS)";
	if (!dev_is_pci(dev))
		return "not a PCI device";
	pci_for_each_dma_alias(to_pci_dev(dev), pkvtd_count_alias, &aliases);
	return aliases != 1 ? "it has DMA aliases" : NULL;
}

/**
 * pkernfs_iommu_can_preserve() - can @dev's DMA be handed over at all?
 * @dev: the device a persistent domain is for
 *
 * IOMMU_CAP_DMA_PRESERVE: the handover keeps devices of the first 8 units
 * only, one requester id per device, without device-TLBs. Asked before
 * a preserved domain is built, it beats a device stopped at kexec.
 *
 * Return: true if it can.
 */
bool pkernfs_iommu_can_preserve(struct device *dev)
{
	return !pkvtd_dev_why(dev);
}

/* The saved record of @token for this device; its restored flag in *@done. */
static struct pkvtd_dev *pk_saved_dev(struct intel_iommu *iommu, u8 bus, u8 devfn,
				      u64 token, bool **done, int *err,
				      struct pkernfs_iommu_saved **sp, u32 *ip)
{
	struct pkernfs_iommu_saved *s;
	int u, i;

	*err = -ENOENT;
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		s = pkvtd_saved[u];
		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (le64_to_cpu(s->dev[i].token) != token)
				continue;
			if (u == iommu->seq_id && s->dev[i].bus == bus &&
			    s->dev[i].devfn == devfn) {
				*err = test_bit(i, s->abandoned) ||
				       test_bit(i, s->replaced) ? -ESTALE :
				       s->restored[i] ? -EBUSY : 0;
				*done = &s->restored[i];
				*sp = s;
				*ip = i;
				return *err ? NULL : &s->dev[i];
			}
			*err = -ENODEV;
		}
	}
	return NULL;
}

/**
 * pkernfs_iommu_restore_domain() - take back a domain after kexec
 * @dev: the preserved device, probed by the IOMMU and not yet attached
 * @sb: the mounted pkernfs whose kernel area holds the tables
 * @token: the token the domain was marked with
 *
 * May sleep. The @restore_domain op of the Intel IOMMU.
 * The result maps what it mapped before kexec and is still
 * persistent; attach it with iommu_attach_device(), which keeps the
 * device's context entry as it is, so DMA does not fault meanwhile.
 *
 * Return: the domain, or ERR_PTR: -ENOENT (no domain was handed over
 * under @token: no live update requested, or unknown token),
 * -EPROTONOSUPPORT (the handover was refused at boot: a format version
 * this kernel does not know), -EBADMSG (refused at boot: damaged, or not
 * for this hardware), -ENODEV (@token was handed over for another device), -EBUSY
 * (already restored), -EINVAL (@sb not a pkernfs, or a mismatched address
 * width), -EXDEV (the tables are in another pkernfs), -EUCLEAN (the saved
 * tables point outside the pool), -ENOMEM.
 */
struct iommu_domain *pkernfs_iommu_restore_domain(struct device *dev, struct super_block *sb,
						  u64 token)
{
	return pkvtd_restore(dev, sb, token);
}

/*
 * The open record of @token for @dev, or NULL with the reason logged and
 * its errno in *@err. Caller holds pkvtd_mutex.
 */
static struct pkvtd_dev *pk_open_record(struct device *dev, u64 token, bool **done, int *err,
					struct pkernfs_iommu_saved **sp, u32 *ip)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct pkernfs_iommu_saved *s = NULL;
	struct pkvtd_dev *rec;
	u32 i = 0;

	*err = -ENODEV;
	if (!info || !info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return NULL;
	pkvtd_reap_torn();
	rec = pk_saved_dev(info->iommu, info->bus, info->devfn, token, done, err, &s, &i);
	*sp = s;
	*ip = i;
	if (!rec && *err == -ENOENT && pkvtd_refused[info->iommu->seq_id].err) {
		dev_err(dev, "pkernfs-iommu: no domain was handed over under token %#llx: %s's handover was not adopted at boot (%s)\n",
			token, info->iommu->name, pkvtd_refused[info->iommu->seq_id].why);
		*err = pkvtd_refused[info->iommu->seq_id].err;
		return NULL;
	}
	if (!rec) {
		int err2 = *err;

		if (err2 == -ENOENT)
			dev_err(dev, "pkernfs-iommu: no domain was handed over under token %#llx\n",
				token);
		else if (err2 == -ENODEV)
			dev_err(dev, "pkernfs-iommu: token %#llx was handed over for another device\n",
				token);
		else if (err2 == -ESTALE && test_bit(i, s->replaced))
			dev_err(dev, "pkernfs-iommu: domain %#llx: the device's handed-over context was replaced by another domain: nothing to restore\n",
				token);
		else if (err2 == -ESTALE)
			dev_err(dev, "pkernfs-iommu: domain %#llx was abandoned (pkernfs_iommu.abandon): nothing to restore\n",
				token);
		else
			dev_err(dev, "pkernfs-iommu: domain %#llx is already restored\n", token);
		*err = err2 == -ESTALE ? -ENOENT : err2;
	}
	return rec;
}

/* pkernfs_iommu_restore_domain(); @sb NULL: on the pool that exists. */
struct iommu_domain *pkvtd_restore(struct device *dev, struct super_block *sb, u64 token)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct pkernfs_iommu_saved *s;
	struct iommu_domain *domain;
	struct dmar_domain *dmar;
	struct pkvtd_tree *tree;
	struct pkvtd_dev *rec;
	bool *done;
	int err;
	u32 i;

	mutex_lock(&pkvtd_mutex);
	rec = pk_open_record(dev, token, &done, &err, &s, &i);
	if (!rec) {
		mutex_unlock(&pkvtd_mutex);
		return ERR_PTR(err);
	}
	/* What the check at boot found the device's context to use. */
	tree = &s->tree[s->tree_of[i]];
	err = pkvtd_pool_get(sb);
	if (err)
		goto undo;
	/* A pool this kernel just made on another pkernfs holds nothing of it. */
	if (!pkernfs_kroot_contains(pkvtd_pool, tree->pgd)) {
		dev_err(dev, "pkernfs-iommu: domain %#llx was handed over in another pkernfs's kernel area (tables at %#llx): restore it on that one\n",
			token, tree->pgd);
		err = -EXDEV;
		goto put;
	}
	domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain)) {
		err = PTR_ERR(domain);
		goto put;
	}
	dmar = to_dmar_domain(domain);
	if (tree->aw != info->iommu->agaw) {
		dev_err(dev, "pkernfs-iommu: saved address width %u, the IOMMU's %d\n",
			tree->aw, info->iommu->agaw);
		err = -EINVAL;
		goto free;
	}
	err = pk_attach_new(dmar, token);
	if (err)
		goto free;
	dmar->pk->did[info->iommu->seq_id] = tree->did;
	iommu_free_page(dmar->pgd);
	dmar->pgd = pkernfs_kroot_page_va(pkvtd_pool, tree->pgd);
	dmar->agaw = tree->aw;
	dmar->has_mappings = true;
	*done = true;
	dmar->pk->restored = done;
	dmar->pk->saved = s;
	dmar->pk->rec = i;
	pkvtd_saved_open--;
	mutex_unlock(&pkvtd_mutex);
	dev_info(dev, "pkernfs-iommu: restored domain %#llx (did %d, tables at %#llx)\n",
		 token, tree->did, tree->pgd);
	return domain;

free:
	iommu_domain_free(domain);
put:
	pkvtd_pool_put();
undo:
	/* Not restored: the record stays for another try. */
	mutex_unlock(&pkvtd_mutex);
	return ERR_PTR(err);
}

/**
 * pkernfs_iommu_inherit() - let a new persistent domain take over a device's
 * handed-over translation
 * @domain: a persistent domain, filled with what the device must reach
 * @dev: the device whose DMA the last kernel handed over under @token
 * @token: the token the last kernel's domain was persisted under
 *
 * The @inherit op. The first attach of @domain to @dev restores the
 * handed-over domain and replaces it in place (pkernfs_iommu_replace()),
 * so DMA goes on without a fault. Checked now and again then: @domain
 * must translate every IOVA the handed-over tables do, to the same page
 * with the same rights.
 *
 * Return: 0; -EINVAL (not persistent, or attached already, or another
 * address width); -EADDRNOTAVAIL (@domain does not map all the
 * handed-over tables map, alike); -EXDEV (tables in another pkernfs);
 * the lookup errors of pkernfs_iommu_restore_domain().
 */
int pkernfs_iommu_inherit(struct iommu_domain *domain, struct device *dev, u64 token)
{
	struct pkernfs_iommu_saved *s;
	struct dmar_domain *dmar;
	struct pkvtd_tree *tree;
	bool *done;
	int err;
	u32 i;

	if (!pk_intel_paging(domain) || !to_dmar_domain(domain)->pk || !token)
		return -EINVAL;
	dmar = to_dmar_domain(domain);
	mutex_lock(&pkvtd_mutex);
	if (!pk_open_record(dev, token, &done, &err, &s, &i))
		goto out;
	tree = &s->tree[s->tree_of[i]];
	err = -EXDEV;
	if (!pkernfs_kroot_contains(pkvtd_pool, tree->pgd))
		goto out;
	err = -EINVAL;
	if (tree->aw != dmar->agaw)
		goto out;
	err = -EADDRNOTAVAIL;
	if (!pkvtd_same_translation(tree->pgd, agaw_to_level(tree->aw), dmar))
		goto out;
	err = 0;
	dmar->pk->inherit = token;
out:
	mutex_unlock(&pkvtd_mutex);
	return err;
}

/* pkernfs_iommu_map_check() found @hpa outside the pkernfs file data. */
int pkernfs_iommu_map_refuse(struct dmar_domain *domain, phys_addr_t hpa, size_t size)
{
	pr_err_ratelimited("token %#llx: %pa (+%zu) is not pkernfs file memory: a persistent domain maps nothing else\n",
			   domain->pk->token, &hpa, size);
	return -EINVAL;
}

/*
 * prepare_domain_attach_device(): a unit with a narrower address width
 * knocks top levels off the tables. An empty top level is only narrowed;
 * a used one would go to the page allocator, and it is a pool page that
 * other units may walk. True: refuse the attach.
 */
bool pkernfs_iommu_agaw_refuse(struct dmar_domain *domain, struct intel_iommu *iommu)
{
	if (iommu->agaw >= domain->agaw || !dma_pte_present(domain->pgd))
		return false;
	pr_err("token %#llx: %s uses a narrower address width (agaw %d) than the persistent domain (agaw %d), whose top level is in use: attach refused\n",
	       domain->pk->token, iommu->name, iommu->agaw, domain->agaw);
	return true;
}

/*
 * domain_detach_iommu(), iommu->lock held: a restored domain's id is also
 * the one the copied contexts of other records of its tree use, until the
 * tree's last user is finished (pkvtd_tree_put() frees it then).
 */
bool pkernfs_iommu_did_kept(struct intel_iommu *iommu, u16 did)
{
	struct pkernfs_iommu_saved *s;
	bool kept = false;
	u32 i;

	lockdep_assert_held(&iommu->lock);
	if (iommu->seq_id >= PKVTD_MAX_UNITS)
		return false;
	/* Set once at DMAR init and never freed: no lock to read it. */
	s = pkvtd_saved[iommu->seq_id];
	if (!s)
		return false;
	spin_lock(&pkvtd_held_lock);
	for (i = 0; i < s->nr_tree; i++)
		if (s->tree[i].did == did && s->tree[i].users)
			kept = true;
	spin_unlock(&pkvtd_held_lock);
	return kept;
}

void pkernfs_iommu_pick_did(struct dmar_domain *domain, struct intel_iommu *iommu, int *did)
{
	struct pkernfs_iommu_dom *pk = to_pk(domain);

	/* Once: after a detach the id may be another domain's. */
	if (pk && iommu->seq_id < PKVTD_MAX_UNITS && pk->did[iommu->seq_id] >= 0) {
		*did = pk->did[iommu->seq_id];
		pk->did[iommu->seq_id] = -1;
	}
}

/*
 * Attaching a restored domain to its device: the copied context entry
 * already says what the new one would (same table, domain id and width).
 * Keep it rather than tear it down, so DMA in flight does not fault.
 */
bool pkernfs_iommu_keep_context(struct dmar_domain *domain, struct intel_iommu *iommu,
				struct context_entry *context, u8 bus, u8 devfn, u16 did)
{
	if (!domain->pk || !context_copied(iommu, bus, devfn) || !context_present(context))
		return false;
	if (context_address_root(context) != virt_to_phys(domain->pgd) ||
	    context_domain_id(context) != did || context_address_width(context) != domain->agaw ||
	    context_translation_type(context) != CONTEXT_TT_MULTI_LEVEL)
		return false;
	clear_context_copied(iommu, bus, devfn);
	domain->pk->adopted = true;
	return true;
}

/* Is @info the device of @domain's handed-over record, not yet adopted? */
bool pkvtd_record_dev(struct dmar_domain *domain, struct device_domain_info *info)
{
	struct pkernfs_iommu_dom *pk = domain->pk;
	const struct pkvtd_dev *rec;

	/*
	 * No lock: pk's restore fields are set before the domain can be
	 * attached and change after that only in an attach, which the group
	 * mutex serializes; a unit's saved records are set at DMAR init and
	 * never freed.
	 */
	if (!pk || !pk->restored || pk->adopted || info->iommu != pk->saved->iommu)
		return false;
	rec = &pk->saved->dev[pk->rec];
	return rec->bus == info->bus && rec->devfn == info->devfn;
}

/* As pkvtd_record_dev(), its context still copied. */
static bool pk_sm_record_dev(struct dmar_domain *domain, struct device_domain_info *info)
{
	return pkvtd_record_dev(domain, info) &&
	       context_copied(info->iommu, info->bus, info->devfn);
}

/*
 * prepare_domain_attach_device(), scalable mode, a copied context: the
 * stock path clears it and points it at this kernel's PASID table, with
 * DMA faulting in between. For the restored domain of that device, keep
 * it until pkernfs_iommu_sm_adopt() can switch it in one store.
 */
bool pkernfs_iommu_keep_sm_context(struct dmar_domain *domain, struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct context_entry *ctx;
	bool keep;

	if (!pk_sm_record_dev(domain, info))
		return false;
	spin_lock(&info->iommu->lock);
	ctx = iommu_context_addr(info->iommu, info->bus, info->devfn, 1);
	keep = ctx && context_present(ctx) &&
	       ctx->lo == le64_to_cpu(domain->pk->saved->dev[domain->pk->rec].ctx_lo);
	spin_unlock(&info->iommu->lock);
	return keep;
}

/*
 * The record's handed-over PASID directory and table go back to the pool,
 * whose reserve pkernfs_iommu_link() took for this device past the free
 * pages. The record is restored: the claim at a later adopt skips them.
 * No lock: sm_pages is written only here, under the group mutex, and read
 * by that claim only while no domain holds a pool user; the restored
 * domain holds one, so pkvtd_pool is stable.
 */
static void pk_free_sm_pages(struct pkernfs_iommu_dom *pk)
{
	u64 *pages;
	int j;

	if (!pk->saved->sm_pages)
		return;
	pages = pk->saved->sm_pages[pk->rec];
	for (j = 0; j < 2; j++) {
		if (pages[j])
			pkernfs_kroot_page_free(pkvtd_pool, pages[j]);
		pages[j] = 0;
	}
}

/*
 * dmar_domain_attach_device(), scalable mode, once the RID_PASID entry of
 * this kernel's PASID table is written: it translates as the handed-over
 * one does (same table, domain id and width). Point the copied context at
 * this kernel's directory in one 8-byte store; every state the IOMMU may
 * see translates the same pages.
 */
void pkernfs_iommu_sm_adopt(struct dmar_domain *domain, struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	u16 did = domain_id_iommu(domain, iommu);
	struct context_entry *ctx, want;
	struct pasid_entry *pe;
	bool same;

	if (!pk_sm_record_dev(domain, info))
		return;
	spin_lock(&iommu->lock);
	ctx = iommu_context_addr(iommu, info->bus, info->devfn, 1);
	pe = intel_pasid_get_entry(dev, IOMMU_NO_PASID);
	same = ctx && pe && pasid_pte_is_present(pe) &&
	       pasid_get_slptr(pe) == virt_to_phys(domain->pgd) && pasid_get_domain_id(pe) == did;
	if (same) {
		context_entry_set_pasid_table(&want, dev);
		same = want.hi == ctx->hi;
	}
	if (!same) {
		spin_unlock(&iommu->lock);
		dev_warn(dev, "pkernfs-iommu: domain %#llx: this kernel's PASID entry does not match the handed-over one: the device goes on through the handed-over PASID table\n",
			 domain->pk->token);
		return;
	}
	WRITE_ONCE(ctx->lo, want.lo);
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(ctx, sizeof(*ctx));
	clear_context_copied(iommu, info->bus, info->devfn);
	spin_unlock(&iommu->lock);
	iommu->flush.flush_context(iommu, 0, PCI_DEVID(info->bus, info->devfn),
				   DMA_CCMD_MASK_NOBIT, DMA_CCMD_DEVICE_INVL);
	qi_flush_pasid_cache(iommu, did, QI_PC_ALL_PASIDS, 0);
	iommu->flush.flush_iotlb(iommu, did, 0, 0, DMA_TLB_DSI_FLUSH);
	domain->pk->adopted = true;
	/* Flushed: nothing walks the handed-over PASID pages any more. */
	pk_free_sm_pages(domain->pk);
	dev_info(dev, "pkernfs-iommu: domain %#llx: the handed-over PASID table replaced by this kernel's, translation kept (did %u)\n",
		 domain->pk->token, did);
}
