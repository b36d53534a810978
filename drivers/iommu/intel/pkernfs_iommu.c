// SPDX-License-Identifier: GPL-2.0-only
/*
 * Intel IOMMU (VT-d, legacy mode) translation kept on across kexec, with
 * the tables in pkernfs's kernel-only area.
 *
 * Life-cycle:
 *
 *  1. A domain is marked persistent under a token before it is attached
 *     or mapped (pkernfs_iommu_domain_persist()). From then on every
 *     table page of it comes from one pool: a root named "intel-iommu" in
 *     the kernel area of the pkernfs the caller names. Pool pages never
 *     reach the page allocator: ZONE_DEVICE page->pgmap shares storage
 *     with page->lru, which iommu_put_pages_list() would write. Unmap
 *     therefore clears leaf entries only; table pages go back to the pool
 *     when the domain is freed.
 *
 *  2. At kexec -e (intel_iommu_shutdown(), interrupts off, other CPUs
 *     stopped) each unit that has devices attached to marked domains gets
 *     a new root table and context tables, from the pool, holding those
 *     devices only, plus a checksummed handover page just below the root.
 *     The unit is switched to that root (SRTP, global invalidation) and
 *     translation stays on; every other device loses its context, so its
 *     DMA is blocked. pci_device_shutdown() leaves bus mastering on for
 *     preserved devices only. Units without preserved devices are
 *     switched off as before.
 *
 *  3. The next kernel's init_dmars() finds translation on. With
 *     pkernfs_iommu.liveupdate=1, pkernfs_iommu_adopt_unit() reads the
 *     handover page one page below RTADDR (memremap: pkernfs is not
 *     mounted, nor its dax device bound, this early) and checks it: magic,
 *     version, crc, the unit's register base and capabilities, legacy
 *     mode, and that the root table names exactly the listed devices with
 *     the listed context entries. Then the kdump path copies those
 *     contexts into fresh tables, and translation never goes off. Without
 *     the parameter, or when a check fails, the state is ignored with a
 *     log line and the unit starts clean.
 *
 *  4. Once pkernfs is mounted, pkernfs_iommu_domain_restore() adopts the
 *     pool, claims every table page reachable from the handed-over
 *     contexts (so none is given out twice), and wraps the saved page
 *     table in a new paging domain whose domain id is the saved one.
 *     Attaching it keeps the copied context entry as it is: no window in
 *     which the device's DMA faults.
 *
 * Scalable mode would also need the PASID directory and tables from the
 * pool, and the handover of scalable-mode context entries; the copy path
 * refuses a change between modes, and so does this file.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/kexec.h>
#include <linux/libnvdimm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pkernfs.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "iommu.h"
#include "../iommu-pages.h"
#include "pkernfs_iommu.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pkernfs_iommu."

static bool pkernfs_iommu_liveupdate;
module_param_named(liveupdate, pkernfs_iommu_liveupdate, bool, 0444);
MODULE_PARM_DESC(liveupdate,
		 "Adopt the IOMMU state a previous kernel handed over at kexec");

static unsigned int pkernfs_iommu_pool_pages = 256;
module_param_named(pool_pages, pkernfs_iommu_pool_pages, uint, 0644);
MODULE_PARM_DESC(pool_pages, "Pages of the kernel-area pool for IOMMU tables");

/*
 * A marked domain. Table pages come from @pool as long as this exists;
 * @token is 0 once unmarked (no longer handed over).
 */
struct pkernfs_iommu_dom {
	struct list_head list;		/* pk_domains, pk_list_lock */
	struct dmar_domain *domain;
	u64 token;
	int did[PKVTD_MAX_UNITS];	/* restored: the saved domain ids, used once */
	bool *restored;			/* restored: its saved record's flag */
	bool adopted;			/* restored: its copied context was taken over */
};

/* What a unit handed over, as checked at DMAR init. */
struct pkernfs_iommu_saved {
	struct pkvtd_handover hdr;	/* header fields only */
	struct pkvtd_dev *dev;
	bool *restored;
};

static DEFINE_MUTEX(pk_mutex);		/* pool set-up, persist, restore */
static DEFINE_SPINLOCK(pk_list_lock);	/* pk_domains; taken at shutdown */
static LIST_HEAD(pk_domains);
/*
 * The pool, once set up, lives until the last persistent domain goes.
 * Writers hold pk_mutex; table alloc/free reach it only through a domain
 * that holds a pool user (pk_pool_users), so it cannot go under them.
 */
static struct pkernfs_kroot *pk_pool;
static unsigned int pk_pool_users;
static struct pkernfs_iommu_saved *pk_saved[PKVTD_MAX_UNITS];
/* Why a unit's handover was not adopted at boot, for restore's errno. */
static struct {
	int err;
	const char *why;
} pk_refused[PKVTD_MAX_UNITS];
static unsigned long pk_saved_open;	/* saved devices not yet restored */

/* Fault injection for tests: how the next handover is damaged. */
enum { PK_INJECT_NONE, PK_INJECT_CRC, PK_INJECT_VERSION, PK_INJECT_REGBASE };
static int pk_inject;

/*
 * crc32c of the page with the crc field zero. The library's crc32c() needs
 * the crypto layer, which is not up yet when init_dmars() runs.
 */
static u32 pkvtd_crc(const struct pkvtd_handover *h)
{
	u32 crc = __crc32c_le(~0u, (const u8 *)h, offsetof(struct pkvtd_handover, crc));
	static const u8 zero[4];

	crc = __crc32c_le(crc, zero, sizeof(zero));
	return __crc32c_le(crc, (const u8 *)h + offsetof(struct pkvtd_handover, version),
			   PAGE_SIZE - offsetof(struct pkvtd_handover, version));
}

static struct pkernfs_iommu_dom *to_pk(struct dmar_domain *domain)
{
	return domain->pk;
}

/* ---- 1. table pages ---- */

void *pkernfs_iommu_table_alloc(struct dmar_domain *domain, phys_addr_t *phys)
{
	phys_addr_t pa;
	void *va;

	/* The domain holds a pool user: pk_pool is stable under it. */
	va = pkernfs_kroot_page_alloc(READ_ONCE(pk_pool), &pa);
	if (va && phys)
		*phys = pa;
	return va;
}

void pkernfs_iommu_table_free(struct dmar_domain *domain, void *va)
{
	/* As for alloc: the domain's pool user keeps pk_pool. */
	pkernfs_kroot_page_free(READ_ONCE(pk_pool), virt_to_phys(va));
}

/* Free every table page below @table (a page at @level) and @table itself. */
static void pk_free_tree(struct dma_pte *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < 512; i++) {
			struct dma_pte *pte = &table[i];

			if (dma_pte_present(pte) && !dma_pte_superpage(pte))
				pk_free_tree(phys_to_virt(dma_pte_addr(pte)), level - 1);
		}
	}
	pkernfs_kroot_page_free(pk_pool, virt_to_phys(table));
}

static void pk_pool_put(void);

void pkernfs_iommu_domain_exit(struct dmar_domain *domain)
{
	struct pkernfs_iommu_dom *pk = to_pk(domain);

	spin_lock(&pk_list_lock);
	list_del(&pk->list);
	spin_unlock(&pk_list_lock);
	mutex_lock(&pk_mutex);
	if (pk->restored && !pk->adopted) {
		/*
		 * Restored but never attached: the device still walks these
		 * tables through its copied context. Keep them claimed and
		 * the record open, as before the restore.
		 */
		*pk->restored = false;
		pk_saved_open++;
	} else if (domain->pgd) {
		pk_free_tree(domain->pgd, agaw_to_level(domain->agaw));
	}
	domain->pgd = NULL;
	domain->pk = NULL;
	kfree(pk);
	pk_pool_put();
	mutex_unlock(&pk_mutex);
}

/* ---- the pool ---- */

/* Walk a handed-over table tree, claiming each table page. */
static int pk_claim_tree(phys_addr_t table, int level)
{
	struct dma_pte *pte;
	int i, err;

	err = pkernfs_kroot_claim(pk_pool, table);
	if (err)
		return err;
	if (level == 1)
		return 0;
	pte = pkernfs_kroot_page_va(pk_pool, table);
	for (i = 0; i < 512; i++) {
		if (!dma_pte_present(&pte[i]) || dma_pte_superpage(&pte[i]))
			continue;
		err = pk_claim_tree(dma_pte_addr(&pte[i]), level - 1);
		if (err)
			return err;
	}
	return 0;
}

/* Claim the tables of every saved device not claimed yet (shared pgds once). */
static int pk_claim_saved(void)
{
	int u, i, j, err;

	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pk_saved[u];

		if (!s)
			continue;
		for (i = 0; i < le32_to_cpu(s->hdr.nr_dev); i++) {
			u64 lo = le64_to_cpu(s->dev[i].ctx_lo);
			u64 hi = le64_to_cpu(s->dev[i].ctx_hi);
			bool seen = false;

			/* Restored trees went back to the pool with their domain. */
			if (s->restored[i])
				continue;
			for (j = 0; j < i; j++)
				if ((le64_to_cpu(s->dev[j].ctx_lo) & VTD_PAGE_MASK) ==
				    (lo & VTD_PAGE_MASK))
					seen = true;
			if (seen)
				continue;
			err = pk_claim_tree(lo & VTD_PAGE_MASK, agaw_to_level(hi & 7));
			if (err) {
				pr_err("dmar%d: saved page table of %02x:%02x.%d is not within the pool (%d): not restored\n",
				       u, s->dev[i].bus, PCI_SLOT(s->dev[i].devfn),
				       PCI_FUNC(s->dev[i].devfn), err);
				return err;
			}
		}
	}
	return 0;
}

/*
 * Take a pool user, setting the pool up on @sb first: adopt it if an
 * earlier kernel made one (claiming what the saved contexts still use),
 * else create it. Caller holds pk_mutex.
 */
static int pk_pool_get(struct super_block *sb)
{
	struct pkernfs_kroot *kr;
	phys_addr_t pa;
	bool adopted = false;
	int i, err;

	if (pk_pool) {
		/* One pool per kernel: every persistent domain lives on one pkernfs. */
		if (!pkernfs_kroot_on(pk_pool, sb)) {
			pr_err("persistent domains must all keep their tables in one pkernfs\n");
			return -EXDEV;
		}
		pk_pool_users++;
		return 0;
	}
	kr = pkernfs_kroot_adopt(sb, PKVTD_POOL_NAME, PKVTD_POOL_COOKIE);
	if (IS_ERR(kr) && PTR_ERR(kr) == -ENOENT)
		kr = pkernfs_kroot_create(sb, PKVTD_POOL_NAME, PKVTD_POOL_COOKIE,
					  max(pkernfs_iommu_pool_pages, PKVTD_RESERVED_PAGES + 8));
	else if (!IS_ERR(kr))
		adopted = true;
	if (IS_ERR(kr)) {
		pr_err("cannot set up the IOMMU table pool in pkernfs's kernel area: %pe\n", kr);
		return PTR_ERR(kr);
	}
	pk_pool = kr;
	if (pkernfs_kroot_npages(kr) < PKVTD_RESERVED_PAGES + 8) {
		err = -ENOSPC;
		goto fail;
	}
	if (adopted) {
		for (i = 0; i < PKVTD_RESERVED_PAGES; i++) {
			err = pkernfs_kroot_claim(kr, pkernfs_kroot_phys(kr) + i * PAGE_SIZE);
			if (err)
				goto fail;
		}
		for (i = 0; i < PKVTD_MAX_UNITS; i++) {
			struct pkernfs_iommu_saved *s = pk_saved[i];

			if (s && (le64_to_cpu(s->hdr.pool_phys) != pkernfs_kroot_phys(kr) ||
				  le64_to_cpu(s->hdr.pool_pages) != pkernfs_kroot_npages(kr))) {
				pr_err("dmar%d: the handed-over tables are in another pool (%#llx+%llu pages), not this pkernfs's\n",
				       i, le64_to_cpu(s->hdr.pool_phys),
				       le64_to_cpu(s->hdr.pool_pages));
				err = -EXDEV;
				goto fail;
			}
		}
		err = pk_claim_saved();
		if (err)
			goto fail;
		pkernfs_kroot_ready(kr);
	} else {
		/* A fresh pool hands out pages in order: the reserved ones first. */
		for (i = 0; i < PKVTD_RESERVED_PAGES; i++) {
			if (!pkernfs_kroot_page_alloc(kr, &pa) ||
			    pa != pkernfs_kroot_phys(kr) + i * PAGE_SIZE) {
				err = -ENOSPC;
				goto fail;
			}
		}
	}
	pk_pool_users = 1;
	return 0;

fail:
	pa = pkernfs_kroot_phys(kr);
	pr_err("IOMMU table pool at %pa refused: %d\n", &pa, err);
	pkernfs_kroot_put(kr);
	pk_pool = NULL;
	return err;
}

/* Drop a pool user; the last one gives the pool back. Caller holds pk_mutex. */
static void pk_pool_put(void)
{
	if (WARN_ON_ONCE(!pk_pool_users) || --pk_pool_users)
		return;
	/* Saved tables nobody restored yet keep the root on media. */
	if (pk_saved_open)
		pkernfs_kroot_put(pk_pool);
	else
		pkernfs_kroot_release(pk_pool);
	pk_pool = NULL;
}

/* ---- 2. the in-kernel API ---- */

static struct pkernfs_iommu_dom *pk_find_token(u64 token)
{
	struct pkernfs_iommu_dom *pk;

	lockdep_assert_held(&pk_list_lock);
	list_for_each_entry(pk, &pk_domains, list)
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
	for (i = 0; i < PKVTD_MAX_UNITS; i++)
		pk->did[i] = -1;
	spin_lock(&pk_list_lock);
	if (pk_find_token(token)) {
		spin_unlock(&pk_list_lock);
		kfree(pk);
		return -EEXIST;
	}
	list_add(&pk->list, &pk_domains);
	dmar->pk = pk;
	spin_unlock(&pk_list_lock);
	return 0;
}

/**
 * pkernfs_iommu_domain_persist() - keep a domain's DMA going through kexec
 * @domain: an Intel paging domain (second-stage), not attached, not mapped
 * @sb: the pkernfs whose kernel area holds the tables (the memory the
 *	domain will map should live there too)
 * @token: the caller's non-zero name for the domain across kexec
 *
 * May sleep. From here on the domain's tables live in pkernfs; at kexec
 * every device attached to it keeps its translation and bus mastering.
 *
 * Return: 0; -EINVAL (not an Intel second-stage paging domain, token 0,
 * or @sb not a pkernfs), -EBUSY (attached or mapped already), -EEXIST
 * (token in use), -EALREADY (already persistent), -ENOSPC, -EROFS, -EIO,
 * -ENOMEM.
 */
int pkernfs_iommu_domain_persist(struct iommu_domain *domain, struct super_block *sb,
				 u64 token)
{
	struct dmar_domain *dmar;
	phys_addr_t pa;
	void *pgd;
	int err;

	if (!pk_intel_paging(domain) || !token)
		return -EINVAL;
	dmar = to_dmar_domain(domain);
	if (dmar->use_first_level || dmar->nested_parent || dmar->dirty_tracking)
		return -EINVAL;
	if (dmar->pk)
		return -EALREADY;
	if (!list_empty(&dmar->devices) || dmar->has_mappings) {
		pr_err("token %#llx: mark a domain persistent before attaching or mapping it\n",
		       token);
		return -EBUSY;
	}
	mutex_lock(&pk_mutex);
	err = pk_pool_get(sb);
	if (err)
		goto out;
	pgd = pkernfs_kroot_page_alloc(pk_pool, &pa);
	if (!pgd) {
		err = -ENOSPC;
		goto put;
	}
	err = pk_attach_new(dmar, token);
	if (err) {
		pkernfs_kroot_page_free(pk_pool, pa);
		goto put;
	}
	iommu_free_page(dmar->pgd);
	dmar->pgd = pgd;
	pr_info("domain %#llx is persistent, its tables in pkernfs at %pa\n", token, &pa);
	mutex_unlock(&pk_mutex);
	return 0;
put:
	pk_pool_put();
out:
	mutex_unlock(&pk_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_domain_persist);

/**
 * pkernfs_iommu_domain_unmark() - stop handing a domain over at kexec
 * @domain: a domain made persistent by pkernfs_iommu_domain_persist() or
 *	pkernfs_iommu_domain_restore()
 *
 * Its tables stay in the pool until the domain is freed.
 *
 * Return: 0, or -EINVAL if the domain was not marked.
 */
int pkernfs_iommu_domain_unmark(struct iommu_domain *domain)
{
	struct pkernfs_iommu_dom *pk;
	int err = -EINVAL;

	if (!pk_intel_paging(domain))
		return -EINVAL;
	spin_lock(&pk_list_lock);
	pk = to_pk(to_dmar_domain(domain));
	if (pk && pk->token) {
		pk->token = 0;
		err = 0;
	}
	spin_unlock(&pk_list_lock);
	return err;
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_domain_unmark);

/* The saved record of @token for this device; its restored flag in *@done. */
static struct pkvtd_dev *pk_saved_dev(struct intel_iommu *iommu, u8 bus, u8 devfn,
				      u64 token, bool **done, int *err)
{
	struct pkernfs_iommu_saved *s;
	int u, i;

	*err = -ENOENT;
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		s = pk_saved[u];
		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (le64_to_cpu(s->dev[i].token) != token)
				continue;
			if (u == iommu->seq_id && s->dev[i].bus == bus &&
			    s->dev[i].devfn == devfn) {
				*err = s->restored[i] ? -EBUSY : 0;
				*done = &s->restored[i];
				return *err ? NULL : &s->dev[i];
			}
			*err = -ENODEV;
		}
	}
	return NULL;
}

/**
 * pkernfs_iommu_domain_restore() - take back a domain after kexec
 * @dev: the preserved device, probed by the IOMMU and not yet attached
 * @sb: the mounted pkernfs whose kernel area holds the tables
 * @token: the token the domain was marked with
 *
 * May sleep. The result maps what it mapped before kexec and is still
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
struct iommu_domain *pkernfs_iommu_domain_restore(struct device *dev, struct super_block *sb,
						  u64 token)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct iommu_domain *domain;
	struct dmar_domain *dmar;
	struct pkvtd_dev *rec;
	bool *done;
	int err;
	u64 lo, hi;

	if (!info || !info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return ERR_PTR(-ENODEV);
	mutex_lock(&pk_mutex);
	rec = pk_saved_dev(info->iommu, info->bus, info->devfn, token, &done, &err);
	if (!rec && err == -ENOENT && pk_refused[info->iommu->seq_id].err) {
		mutex_unlock(&pk_mutex);
		dev_err(dev, "pkernfs-iommu: no domain was handed over under token %#llx: %s's handover was not adopted at boot (%s)\n",
			token, info->iommu->name, pk_refused[info->iommu->seq_id].why);
		return ERR_PTR(pk_refused[info->iommu->seq_id].err);
	}
	if (!rec) {
		mutex_unlock(&pk_mutex);
		if (err == -ENOENT)
			dev_err(dev, "pkernfs-iommu: no domain was handed over under token %#llx\n",
				token);
		else if (err == -ENODEV)
			dev_err(dev, "pkernfs-iommu: token %#llx was handed over for another device\n",
				token);
		else
			dev_err(dev, "pkernfs-iommu: domain %#llx is already restored\n", token);
		return ERR_PTR(err);
	}
	lo = le64_to_cpu(rec->ctx_lo);
	hi = le64_to_cpu(rec->ctx_hi);
	err = pk_pool_get(sb);
	if (err)
		goto undo;
	domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain)) {
		err = PTR_ERR(domain);
		goto put;
	}
	dmar = to_dmar_domain(domain);
	if ((hi & 7) != info->iommu->agaw) {
		dev_err(dev, "pkernfs-iommu: saved address width %llu, the IOMMU's %d\n",
			hi & 7, info->iommu->agaw);
		err = -EINVAL;
		goto free;
	}
	err = pk_attach_new(dmar, token);
	if (err)
		goto free;
	dmar->pk->did[info->iommu->seq_id] = (hi >> 8) & 0xffff;
	iommu_free_page(dmar->pgd);
	dmar->pgd = pkernfs_kroot_page_va(pk_pool, lo & VTD_PAGE_MASK);
	dmar->agaw = hi & 7;
	dmar->has_mappings = true;
	*done = true;
	dmar->pk->restored = done;
	pk_saved_open--;
	mutex_unlock(&pk_mutex);
	dev_info(dev, "pkernfs-iommu: restored domain %#llx (did %d, tables at %#llx)\n",
		 token, dmar->pk->did[info->iommu->seq_id], lo & VTD_PAGE_MASK);
	return domain;

free:
	iommu_domain_free(domain);
put:
	pk_pool_put();
undo:
	/* Not restored: the record stays for another try. */
	mutex_unlock(&pk_mutex);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_domain_restore);

/**
 * pkernfs_dma_preserved() - is @dev's DMA to go on through kexec?
 * @dev: a device
 *
 * Return: true if it is attached to a marked persistent domain.
 */
bool pkernfs_dma_preserved(struct device *dev)
{
	struct device_domain_info *info;
	struct pkernfs_iommu_dom *pk;
	bool ret = false;

	if (!dev->iommu || !dev->iommu->iommu_dev ||
	    dev->iommu->iommu_dev->ops != &intel_iommu_ops)
		return false;
	info = dev_iommu_priv_get(dev);
	/* Only where the handover can keep it: else its DMA must stop. */
	if (!info || !info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS ||
	    sm_supported(info->iommu))
		return false;
	/*
	 * Not info->domain: the domain may be going away. A domain on
	 * pk_domains is alive, and its device list is stable under its lock.
	 */
	spin_lock(&pk_list_lock);
	list_for_each_entry(pk, &pk_domains, list) {
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
	spin_unlock(&pk_list_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_preserved);

/**
 * pkernfs_dma_handed_over() - was @dev's DMA handed over by the last kernel?
 * @dev: a device
 *
 * True from boot until the handed-over domain is restored: vfio-pci must
 * then neither reset the device nor turn its bus mastering off.
 *
 * Return: true if this kernel adopted a context entry for @dev that no
 * restore has taken yet.
 */
bool pkernfs_dma_handed_over(struct device *dev)
{
	struct device_domain_info *info;
	struct pkernfs_iommu_saved *s;
	bool ret = false;
	int i;

	if (!dev->iommu || !dev->iommu->iommu_dev ||
	    dev->iommu->iommu_dev->ops != &intel_iommu_ops)
		return false;
	info = dev_iommu_priv_get(dev);
	if (!info || !info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return false;
	mutex_lock(&pk_mutex);
	s = pk_saved[info->iommu->seq_id];
	for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++)
		if (s->dev[i].bus == info->bus && s->dev[i].devfn == info->devfn &&
		    !s->restored[i])
			ret = true;
	mutex_unlock(&pk_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_handed_over);

/* ---- hooks from iommu.c ---- */

/*
 * intel_iommu_map() on a persistent domain: only pkernfs file memory may
 * be mapped, or the next kernel's DMA would reach memory it reuses. This
 * check sees every page that reaches the tables, whoever pinned it.
 */
int pkernfs_iommu_map_check(struct dmar_domain *domain, phys_addr_t hpa, size_t size)
{
	/* The domain holds a pool user: pk_pool is stable under it. */
	if (pkernfs_kroot_data_contains(READ_ONCE(pk_pool), hpa, size))
		return 0;
	pr_err_ratelimited("token %#llx: %pa (+%zu) is not pkernfs file memory: a persistent domain maps nothing else\n",
			   domain->pk->token, &hpa, size);
	return -EINVAL;
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
	if ((context->lo & VTD_PAGE_MASK) != virt_to_phys(domain->pgd) ||
	    context_domain_id(context) != did || (context->hi & 7) != domain->agaw ||
	    ((context->lo >> 2) & 3) != CONTEXT_TT_MULTI_LEVEL)
		return false;
	clear_context_copied(iommu, bus, devfn);
	domain->pk->adopted = true;
	return true;
}

/* ---- replacing a domain without a fault window ---- */

/* The leaf entry translating @iova in @domain, and its level, or NULL. */
static struct dma_pte *pk_leaf(struct dmar_domain *domain, u64 iova, int *level)
{
	struct dma_pte *table = domain->pgd, *pte;
	int l = agaw_to_level(domain->agaw);

	for (;; l--) {
		pte = &table[(iova >> (VTD_PAGE_SHIFT + 9 * (l - 1))) & 511];
		if (!dma_pte_present(pte))
			return NULL;
		if (l == 1 || dma_pte_superpage(pte)) {
			*level = l;
			return pte;
		}
		table = phys_to_virt(dma_pte_addr(pte));
	}
}

/*
 * Does @new translate every IOVA @old translates, to the same page with
 * the same permissions? Walks @old's leaves; @new may map more.
 */
static bool pk_same_translation(struct dmar_domain *old, struct dmar_domain *new,
				struct dma_pte *table, int level, u64 base)
{
	u64 span = 1ULL << (VTD_PAGE_SHIFT + 9 * (level - 1)), off, step;
	struct dma_pte *pte, *npte;
	int i, nlevel;

	cond_resched();
	for (i = 0; i < 512; i++) {
		u64 iova = base + i * span;

		pte = &table[i];
		if (!dma_pte_present(pte))
			continue;
		if (level > 1 && !dma_pte_superpage(pte)) {
			if (!pk_same_translation(old, new, phys_to_virt(dma_pte_addr(pte)),
						 level - 1, iova))
				return false;
			continue;
		}
		/* The new leaves may be smaller or larger: step by theirs. */
		for (off = 0; off < span; off += step) {
			npte = pk_leaf(new, iova + off, &nlevel);
			if (!npte || (npte->val & (DMA_PTE_READ | DMA_PTE_WRITE)) !=
			    (pte->val & (DMA_PTE_READ | DMA_PTE_WRITE)))
				return false;
			step = 1ULL << (VTD_PAGE_SHIFT + 9 * (nlevel - 1));
			if (dma_pte_addr(npte) + ((iova + off) & (step - 1)) !=
			    dma_pte_addr(pte) + off)
				return false;
			step -= (iova + off) & (step - 1);
		}
	}
	return true;
}

static int pk_count_alias(struct pci_dev *pdev, u16 alias, void *data)
{
	(*(int *)data)++;
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
	struct context_entry *ctx, want;
	unsigned long flags;
	int aliases = 0, ret;
	u16 did_old, did_new;
	u128 cur, val;

	/*
	 * info->domain is stable under the caller's group mutex. Both must be
	 * persistent: their table pages are freed only with the domain, so
	 * the walk below cannot meet a freed page while a map or unmap runs.
	 */
	if (!info->domain_attached || !old || !old->pk || !new->pk)
		return -EOPNOTSUPP;
	if (old == new)
		return 0;	/* the core reverting a replace that failed */
	if (sm_supported(iommu) || old->use_first_level || new->use_first_level ||
	    old->agaw != new->agaw || new->agaw != iommu->agaw || info->ats_enabled ||
	    !dev_is_pci(dev) || pci_real_dma_dev(to_pci_dev(dev)) != to_pci_dev(dev) ||
	    !system_has_cmpxchg128())
		return -EOPNOTSUPP;
	pci_for_each_dma_alias(to_pci_dev(dev), pk_count_alias, &aliases);
	if (aliases != 1)
		return -EOPNOTSUPP;
	if (!pk_same_translation(old, new, old->pgd, agaw_to_level(old->agaw), 0)) {
		dev_err(dev, "pkernfs-iommu: the new domain does not map what the attached one does: not replaced\n");
		return -EINVAL;
	}
	ret = prepare_domain_attach_device(domain, dev);
	if (ret)
		return ret;
	ret = domain_attach_iommu(new, iommu);
	if (ret)
		return ret;
	did_old = domain_id_iommu(old, iommu);
	did_new = domain_id_iommu(new, iommu);

	spin_lock(&iommu->lock);
	ctx = iommu_context_addr(iommu, info->bus, info->devfn, 0);
	if (!ctx || !context_present(ctx)) {
		spin_unlock(&iommu->lock);
		domain_detach_iommu(new, iommu);
		return -EOPNOTSUPP;
	}
	want.lo = (ctx->lo & ~VTD_PAGE_MASK) | virt_to_phys(new->pgd);
	want.hi = (ctx->hi & ~(0xffffULL << 8)) | ((u64)did_new << 8);
	memcpy(&cur, ctx, sizeof(cur));
	memcpy(&val, &want, sizeof(val));
	/* Under iommu->lock nothing else writes the entry: this cannot fail. */
	WARN_ON_ONCE(!try_cmpxchg128((u128 *)ctx, &cur, val));
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(ctx, sizeof(*ctx));
	spin_unlock(&iommu->lock);
	intel_context_flush_no_pasid(info, ctx, did_old, PCI_DEVID(info->bus, info->devfn));
	iommu->flush.flush_iotlb(iommu, did_new, 0, 0, DMA_TLB_DSI_FLUSH);

	cache_tag_unassign_domain(old, dev, IOMMU_NO_PASID);
	spin_lock_irqsave(&old->lock, flags);
	list_del(&info->link);
	spin_unlock_irqrestore(&old->lock, flags);
	domain_detach_iommu(old, iommu);
	info->domain = new;
	spin_lock_irqsave(&new->lock, flags);
	list_add(&info->link, &new->devices);
	spin_unlock_irqrestore(&new->lock, flags);
	ret = cache_tag_assign_domain(new, dev, IOMMU_NO_PASID);
	/* As dmar_domain_attach_device() would decide; more flushes are harmless. */
	new->iotlb_sync_map |= cap_caching_mode(iommu->cap) || cap_rwbf(iommu->cap);
	if (iommu->copied_tables)
		clear_context_copied(iommu, info->bus, info->devfn);
	dev_info(dev, "pkernfs-iommu: domain replaced in place (did %u -> %u)\n", did_old, did_new);
	return ret;
}

/* ---- 3. kexec: hand over ---- */

static void pk_flush(struct intel_iommu *iommu, void *va)
{
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(va, PAGE_SIZE);
}

/*
 * A device pci_device_shutdown() left mastering that cannot be handed
 * over: stop its DMA (config access takes a raw lock: fine with IRQs off).
 */
static void pk_stop(struct device_domain_info *info)
{
	if (info->dev && dev_is_pci(info->dev))
		pci_clear_master(to_pci_dev(info->dev));
	pr_warn("%s: %02x:%02x.%d cannot be handed over; its bus mastering is off\n",
		info->iommu->name, info->bus, PCI_SLOT(info->devfn), PCI_FUNC(info->devfn));
}

/*
 * Called from intel_iommu_shutdown(): interrupts off, this CPU alone.
 * Return true to keep translation on: iommu->root_entry is then the new
 * root, and the caller makes the hardware use it.
 */
bool pkernfs_iommu_handover(struct intel_iommu *iommu)
{
	struct pkvtd_handover *h;
	struct root_entry *root;
	struct pkernfs_iommu_dom *pk;
	phys_addr_t hdr_pa, pa;
	u32 n = 0;
	u64 gen;

	/*
	 * No lock for pk_pool: the other CPUs are stopped, and this one
	 * cannot be inside pk_pool_get() or pk_pool_put() (process context).
	 */
	if (!kexec_in_progress || !pk_pool || iommu->seq_id >= PKVTD_MAX_UNITS ||
	    sm_supported(iommu))
		return false;
	hdr_pa = pkernfs_kroot_phys(pk_pool) + 2 * iommu->seq_id * PAGE_SIZE;
	h = pkernfs_kroot_page_va(pk_pool, hdr_pa);
	root = pkernfs_kroot_page_va(pk_pool, hdr_pa + PAGE_SIZE);
	gen = le64_to_cpu(h->magic) == PKVTD_MAGIC ? le64_to_cpu(h->generation) : 0;
	memset(h, 0, PAGE_SIZE);
	memset(root, 0, PAGE_SIZE);

	spin_lock(&pk_list_lock);
	list_for_each_entry(pk, &pk_domains, list) {
		struct device_domain_info *info;

		if (!pk->token)
			continue;
		spin_lock(&pk->domain->lock);
		list_for_each_entry(info, &pk->domain->devices, link) {
			struct context_entry *live, *ctbl;

			if (info->iommu != iommu)
				continue;
			live = iommu_context_addr(iommu, info->bus, info->devfn, 0);
			if (!live || !context_present(live))
				continue;
			/* Device-TLB contexts and overflow are not handed over. */
			if (((live->lo >> 2) & 3) != CONTEXT_TT_MULTI_LEVEL ||
			    n >= PKVTD_MAX_DEVS) {
				pk_stop(info);
				continue;
			}
			if (!(root[info->bus].lo & 1)) {
				ctbl = pkernfs_kroot_page_alloc(pk_pool, &pa);
				if (!ctbl) {
					pk_stop(info);
					continue;
				}
				root[info->bus].lo = pa | 1;
			}
			ctbl = pkernfs_kroot_page_va(pk_pool, root[info->bus].lo & VTD_PAGE_MASK);
			ctbl[info->devfn] = *live;
			h->dev[n].token = cpu_to_le64(pk->token);
			h->dev[n].ctx_lo = cpu_to_le64(live->lo);
			h->dev[n].ctx_hi = cpu_to_le64(live->hi);
			h->dev[n].bus = info->bus;
			h->dev[n].devfn = info->devfn;
			n++;
		}
		spin_unlock(&pk->domain->lock);
	}
	spin_unlock(&pk_list_lock);
	if (!n)
		return false;

	h->magic = cpu_to_le64(PKVTD_MAGIC);
	h->version = cpu_to_le16(PKVTD_VERSION);
	h->reg_phys = cpu_to_le64(iommu->reg_phys);
	h->root_phys = cpu_to_le64(hdr_pa + PAGE_SIZE);
	h->pool_phys = cpu_to_le64(pkernfs_kroot_phys(pk_pool));
	h->pool_pages = cpu_to_le64(pkernfs_kroot_npages(pk_pool));
	h->cap = cpu_to_le64(iommu->cap);
	h->ecap = cpu_to_le64(iommu->ecap);
	h->generation = cpu_to_le64(gen + 1);
	h->nr_dev = cpu_to_le32(n);
	if (pk_inject == PK_INJECT_VERSION)
		h->version = cpu_to_le16(PKVTD_VERSION + 1);
	if (pk_inject == PK_INJECT_REGBASE)
		h->reg_phys = cpu_to_le64(iommu->reg_phys + PAGE_SIZE);
	h->crc = cpu_to_le32(pkvtd_crc(h));
	if (pk_inject == PK_INJECT_CRC)
		h->dev[0].token ^= cpu_to_le64(1);
	/* The context tables were flushed as the pool zeroed them; now the rest. */
	for (n = 0; n < 256; n++)
		if (root[n].lo & 1)
			pk_flush(iommu, pkernfs_kroot_page_va(pk_pool, root[n].lo & VTD_PAGE_MASK));
	pk_flush(iommu, root);
	arch_wb_cache_pmem(h, PAGE_SIZE);
	arch_wb_cache_pmem(root, PAGE_SIZE);
	pr_info("%s: handing %u preserved device(s) over to the next kernel (root %pa, generation %llu)\n",
		iommu->name, le32_to_cpu(h->nr_dev), &h->root_phys, gen + 1);
	iommu->root_entry = root;
	return true;
}

/* ---- 4. the next kernel: check what was handed over ---- */

static const char *pk_check_unit(struct intel_iommu *iommu, const struct pkvtd_handover *h,
				 phys_addr_t root_pa)
{
	const struct root_entry *root;
	u32 i, n = le32_to_cpu(h->nr_dev), found = 0;
	const char *why = NULL;
	int bus, fn;

	if (le32_to_cpu(h->crc) != pkvtd_crc(h))
		return "checksum mismatch";
	if (le16_to_cpu(h->version) != PKVTD_VERSION)
		return "unknown format version";
	if (le16_to_cpu(h->flags))
		return "scalable mode state (not supported)";
	if (le64_to_cpu(h->reg_phys) != iommu->reg_phys)
		return "saved for another IOMMU unit (register base differs)";
	if (le64_to_cpu(h->root_phys) != root_pa)
		return "root table address differs from the hardware's";
	if (le64_to_cpu(h->cap) != iommu->cap || le64_to_cpu(h->ecap) != iommu->ecap)
		return "IOMMU capabilities differ";
	if (!n || n > PKVTD_MAX_DEVS)
		return "device count out of range";
	root = memremap(root_pa, PAGE_SIZE, MEMREMAP_WB);
	if (!root)
		return "cannot map the root table";
	for (bus = 0; bus < 256 && !why; bus++) {
		const struct context_entry *ctbl;

		if (root[bus].hi) {
			why = "root entry has an upper half (scalable mode)";
			break;
		}
		if (!(root[bus].lo & 1))
			continue;
		ctbl = memremap(root[bus].lo & VTD_PAGE_MASK, PAGE_SIZE, MEMREMAP_WB);
		if (!ctbl) {
			why = "cannot map a context table";
			break;
		}
		for (fn = 0; fn < 256 && !why; fn++) {
			if (!(ctbl[fn].lo & 1))
				continue;
			for (i = 0; i < n; i++)
				if (h->dev[i].bus == bus && h->dev[i].devfn == fn)
					break;
			if (i == n)
				why = "a context entry for a device that was not preserved";
			else if (le64_to_cpu(h->dev[i].ctx_lo) != ctbl[fn].lo ||
				 le64_to_cpu(h->dev[i].ctx_hi) != ctbl[fn].hi)
				why = "a context entry differs from its record";
			else if (((ctbl[fn].hi >> 8) & 0xffff) >= cap_ndoms(iommu->cap))
				why = "domain id out of range";
			else if (((ctbl[fn].lo >> 2) & 3) != CONTEXT_TT_MULTI_LEVEL)
				why = "a context entry with device-TLB translation";
			else
				found++;
		}
		memunmap((void *)ctbl);
	}
	memunmap((void *)root);
	if (!why && found != n)
		why = "a preserved device has no context entry";
	return why;
}

/*
 * State not adopted: translation is about to go off, and the devices the
 * old kernel preserved still have bus mastering on. Turn it off, so their
 * DMA cannot reach memory untranslated. The list may be damaged (that can
 * be why it was refused); stopping a wrong device's DMA is harmless, its
 * driver turns bus mastering on again when it binds.
 */
static void pk_stop_devices(struct intel_iommu *iommu, const struct pkvtd_handover *h)
{
	u32 i, n = min_t(u32, le32_to_cpu(h->nr_dev), PKVTD_MAX_DEVS);
	struct pci_dev *pdev;

	for (i = 0; i < n; i++) {
		pdev = pci_get_domain_bus_and_slot(iommu->segment, h->dev[i].bus,
						   h->dev[i].devfn);
		if (!pdev)
			continue;
		pci_info(pdev, "pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off\n");
		pci_clear_master(pdev);
		pci_dev_put(pdev);
	}
}

/*
 * init_dmars(), translation found on: adopt it if a live update was asked
 * for and the handover checks out. False: the caller turns translation
 * off and starts clean.
 */
bool pkernfs_iommu_adopt_unit(struct intel_iommu *iommu)
{
	struct pkernfs_iommu_saved *s = NULL;
	const struct pkvtd_handover *h;
	u64 rtaddr = dmar_readq(iommu->reg + DMAR_RTADDR_REG);
	phys_addr_t root_pa = rtaddr & VTD_PAGE_MASK;
	const char *why = NULL;
	u32 n;

	if (root_pa < PAGE_SIZE || iommu->seq_id >= PKVTD_MAX_UNITS)
		return false;
	h = memremap(root_pa - PAGE_SIZE, PAGE_SIZE, MEMREMAP_WB);
	if (!h)
		return false;
	if (le64_to_cpu(h->magic) != PKVTD_MAGIC) {
		memunmap((void *)h);
		return false;	/* not ours: whoever left translation on */
	}
	if (!pkernfs_iommu_liveupdate) {
		pr_info("%s: the previous kernel handed over IOMMU state (generation %llu), but no live update was requested (pkernfs_iommu.liveupdate=1): ignored, starting clean\n",
			iommu->name, le64_to_cpu(h->generation));
		pk_stop_devices(iommu, h);
		memunmap((void *)h);
		pk_refused[iommu->seq_id].err = -ENOENT;
		pk_refused[iommu->seq_id].why = "no live update was requested";
		return false;
	}
	if (rtaddr & DMA_RTADDR_SMT)
		why = "scalable-mode root table (not supported)";
	else if (sm_supported(iommu))
		why = "this kernel runs the IOMMU in scalable mode";
	else
		why = pk_check_unit(iommu, h, root_pa);
	if (!why) {
		n = le32_to_cpu(h->nr_dev);
		s = kzalloc(sizeof(*s), GFP_KERNEL);
		if (s) {
			memcpy(&s->hdr, h, sizeof(s->hdr));
			s->dev = kmemdup(h->dev, n * sizeof(*s->dev), GFP_KERNEL);
			s->restored = kcalloc(n, sizeof(*s->restored), GFP_KERNEL);
		}
		if (!s || !s->dev || !s->restored) {
			why = "out of memory";
			if (s) {
				kfree(s->dev);
				kfree(s->restored);
				kfree(s);
			}
		}
	}
	if (why) {
		pr_err("%s: IOMMU state from the previous kernel refused: %s; translation off, starting clean\n",
		       iommu->name, why);
		pk_stop_devices(iommu, h);
		/* A format this kernel does not speak, or damage. */
		pk_refused[iommu->seq_id].err = le16_to_cpu(h->version) != PKVTD_VERSION ?
						-EPROTONOSUPPORT : -EBADMSG;
		pk_refused[iommu->seq_id].why = why;
		memunmap((void *)h);
		return false;
	}
	memunmap((void *)h);
	pk_saved[iommu->seq_id] = s;
	pk_saved_open += n;
	pr_info("%s: adopting the previous kernel's translation (generation %llu): %u preserved device(s) keep DMA going\n",
		iommu->name, le64_to_cpu(s->hdr.generation), n);
	return true;
}

/* ---- debugfs: state, and fault injection for tests ---- */

static int pk_state_show(struct seq_file *m, void *unused)
{
	struct pkernfs_iommu_dom *pk;
	int u, i;

	mutex_lock(&pk_mutex);
	seq_printf(m, "liveupdate %d\n", pkernfs_iommu_liveupdate);
	if (pk_pool) {
		phys_addr_t pa = pkernfs_kroot_phys(pk_pool);

		seq_printf(m, "pool %pa pages %lu free %lu users %u\n", &pa,
			   pkernfs_kroot_npages(pk_pool), pkernfs_kroot_free_pages(pk_pool),
			   pk_pool_users);
	}
	spin_lock(&pk_list_lock);
	list_for_each_entry(pk, &pk_domains, list)
		seq_printf(m, "domain token %#llx devices %d\n", pk->token,
			   list_empty(&pk->domain->devices) ? 0 : 1);
	spin_unlock(&pk_list_lock);
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pk_saved[u];

		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++)
			seq_printf(m, "saved dmar%d generation %llu %02x:%02x.%d token %#llx did %u %s\n",
				   u, le64_to_cpu(s->hdr.generation), s->dev[i].bus,
				   PCI_SLOT(s->dev[i].devfn), PCI_FUNC(s->dev[i].devfn),
				   le64_to_cpu(s->dev[i].token),
				   (u32)(le64_to_cpu(s->dev[i].ctx_hi) >> 8) & 0xffff,
				   s->restored[i] ? "restored" : "open");
	}
	mutex_unlock(&pk_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pk_state);

static int __init pkernfs_iommu_debugfs(void)
{
	struct dentry *d = debugfs_create_dir("pkernfs_iommu", NULL);

	debugfs_create_file("state", 0400, d, NULL, &pk_state_fops);
	/* 0 none, 1 crc, 2 version, 3 register base: damages the next handover */
	debugfs_create_u32("inject", 0600, d, (u32 *)&pk_inject);
	return 0;
}
late_initcall(pkernfs_iommu_debugfs);
