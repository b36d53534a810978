// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool of IOMMU table pages in pkernfs's kernel area, and the
 * handed-over page tables it holds until their last user is finished.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/slab.h>

#include "internal.h"

static unsigned int pkernfs_iommu_pool_pages = 256;
module_param_named(pool_pages, pkernfs_iommu_pool_pages, uint, 0644);
MODULE_PARM_DESC(pool_pages, "Pages of the kernel-area pool for IOMMU tables");

DEFINE_MUTEX(pkvtd_mutex);		/* pool set-up, persist, restore */
DEFINE_SPINLOCK(pkvtd_list_lock);	/* pkvtd_domains; taken at shutdown */
LIST_HEAD(pkvtd_domains);
/*
 * The pool, once set up, lives until the last persistent domain goes.
 * Writers hold pkvtd_mutex; table alloc/free reach it only through a domain
 * that holds a pool user (pkvtd_pool_users), so it cannot go under them.
 */
struct pkernfs_kroot *pkvtd_pool;
unsigned int pkvtd_pool_users;
struct pkernfs_iommu_saved *pkvtd_saved[PKVTD_MAX_UNITS];
/* Why a unit's handover was not adopted at boot, for restore's errno. */
struct pkvtd_refusal pkvtd_refused[PKVTD_MAX_UNITS];
unsigned long pkvtd_saved_open;	/* saved devices not yet restored */
/*
 * Trees with users, and their users and spans. Innermost: taken under
 * iommu->lock (domain_detach_iommu()) and by pkernfs's free path; takes
 * nothing and never sleeps.
 */
DEFINE_SPINLOCK(pkvtd_held_lock);
unsigned int pkvtd_trees_live;
void *pkernfs_iommu_table_alloc(struct dmar_domain *domain, phys_addr_t *phys)
{
	phys_addr_t pa;
	void *va;

	/* The domain holds a pool user: pkvtd_pool is stable under it. */
	va = pkernfs_kroot_page_alloc(READ_ONCE(pkvtd_pool), &pa);
	if (!va)
		pr_warn_ratelimited("token %#llx: the IOMMU table pool is full (its free pages are kept for the kexec handover of the attached devices): map refused\n",
				    domain->pk->token);
	if (va && phys)
		*phys = pa;
	return va;
}

/* Pool pages the kexec handover may take for one device of @iommu. */
static unsigned long pkvtd_handover_pages(struct intel_iommu *iommu)
{
	/* Legacy: its bus's context table; scalable: one of two, a PASID directory and table. */
	return sm_supported(iommu) ? 3 : 1;
}

/**
 * pkernfs_iommu_link() - keep the pool pages a device's handover will take
 * @domain: the domain the device joins
 * @info: the device
 *
 * dmar_domain_attach_device(), before the device joins @domain's list:
 * the handover writes its context at kexec, when nothing can fail
 * gracefully, so a persistent domain takes no device the pool could not
 * hand over. The device of a restored record is never refused: its
 * handed-over pages go back to the pool as it is adopted.
 *
 * Return: 0, or -ENOSPC.
 */
int pkernfs_iommu_link(struct dmar_domain *domain, struct device_domain_info *info)
{
	unsigned long n = pkvtd_handover_pages(info->iommu);
	int err;

	if (!domain->pk)
		return 0;
	/* The domain holds a pool user: pkvtd_pool is stable under it. */
	err = pkernfs_kroot_reserve(READ_ONCE(pkvtd_pool), n, pkvtd_record_dev(domain, info));
	if (err)
		dev_warn_ratelimited(info->dev, "pkernfs-iommu: domain %#llx: the IOMMU table pool cannot keep the %lu page(s) this device's kexec handover takes: attach refused\n",
				     domain->pk->token, n);
	return err;
}

/**
 * pkernfs_iommu_unlink() - a device left @domain's list: its pages are free
 * @domain: the domain
 * @info: the device
 */
void pkernfs_iommu_unlink(struct dmar_domain *domain, struct device_domain_info *info)
{
	/* @domain, not yet freed, holds a pool user: pkvtd_pool is stable. */
	if (domain->pk)
		pkernfs_kroot_unreserve(READ_ONCE(pkvtd_pool), pkvtd_handover_pages(info->iommu));
}

/* The in-place replace: @info's reservation passes from one domain to the next. */
void pkvtd_link_moved(struct device_domain_info *info)
{
	/* Both domains are persistent and hold pool users: pkvtd_pool is stable. */
	pkernfs_kroot_reserve(READ_ONCE(pkvtd_pool), pkvtd_handover_pages(info->iommu), true);
}

void pkernfs_iommu_table_free(struct dmar_domain *domain, void *va)
{
	struct pkernfs_iommu_dom *pk = domain->pk;
	phys_addr_t *d;

	spin_lock(&pk->defer_lock);
	if (pk->defer_depth) {
		if (pk->nr_deferred == pk->max_deferred) {
			d = krealloc_array(pk->deferred, pk->max_deferred + 64, sizeof(*d),
					   GFP_ATOMIC | __GFP_NOWARN);
			if (!d) {
				spin_unlock(&pk->defer_lock);
				/* Lost to the pool until it is released: never reused early. */
				pr_warn_ratelimited("token %#llx: out of memory deferring a table page's free: kept\n",
						    pk->token);
				return;
			}
			pk->deferred = d;
			pk->max_deferred += 64;
		}
		pk->deferred[pk->nr_deferred++] = virt_to_phys(va);
		spin_unlock(&pk->defer_lock);
		return;
	}
	spin_unlock(&pk->defer_lock);
	/* As for alloc: the domain's pool user keeps pkvtd_pool. */
	pkernfs_kroot_page_free(READ_ONCE(pkvtd_pool), virt_to_phys(va));
}

/*
 * switch_to_super_page() unlinks and frees lower tables, then flushes the
 * IOTLB. A pool page freed before the flush could be handed to another
 * table while the IOMMU may still walk it through its paging-structure
 * cache: hold frees from @begin until the last caller has flushed. The
 * unlocked walks of the in-place replace hold them the same way.
 */
void pkernfs_iommu_defer_frees(struct dmar_domain *domain, bool begin)
{
	struct pkernfs_iommu_dom *pk = domain->pk;
	unsigned int i, n = 0;
	phys_addr_t *d = NULL;

	spin_lock(&pk->defer_lock);
	if (begin) {
		pk->defer_depth++;
	} else if (!--pk->defer_depth) {
		d = pk->deferred;
		n = pk->nr_deferred;
		pk->deferred = NULL;
		pk->nr_deferred = 0;
		pk->max_deferred = 0;
	}
	spin_unlock(&pk->defer_lock);
	for (i = 0; i < n; i++)
		pkernfs_kroot_page_free(READ_ONCE(pkvtd_pool), d[i]);
	kfree(d);
}

/*
 * An unmap's unlinked table pages wait for the IOTLB flush on the
 * gather's freelist, as stock ones do, but inside a carrier: a pool page
 * cannot be listed itself (a ZONE_DEVICE page's pgmap shares page->lru).
 * A carrier is an ordinary iommu page, so a stock iommu_put_pages_list()
 * of one only loses its pool pages until the next kexec, never frees them
 * before the flush.
 */
#define PKVTD_CARRIER_SLOTS	(PAGE_SIZE / sizeof(u64) - 1)

struct pkvtd_carrier {
	u64 nr;
	u64 pa[PKVTD_CARRIER_SLOTS];
};

static_assert(sizeof(struct pkvtd_carrier) == PAGE_SIZE);

/**
 * pkernfs_iommu_tagged() - a device's attach to @domain is complete
 * @domain: a persistent domain
 *
 * dmar_domain_attach_device(), once the device's cache tag is on @domain:
 * from now on this domain's flushes reach it. Once the adopted device of
 * a restored domain is there, an unmap may free table pages.
 */
void pkernfs_iommu_tagged(struct dmar_domain *domain)
{
	/* Attaches are serialized by the group mutex; unmaps read it unlocked. */
	if (domain->pk->adopted)
		WRITE_ONCE(domain->pk->tagged, true);
}

/* May an unmap of @domain free table pages, or only clear leaves? */
static bool pk_may_unlink(struct pkernfs_iommu_dom *pk)
{
	const struct pkvtd_tree *t;

	if (!pk->restored)
		return true;
	/*
	 * A handed-over tree may still be walked through a copied context
	 * (another record's, or this device's until adopted), which this
	 * domain's flush does not reach; nor does it reach the adopted
	 * device until its cache tag is on the domain (@tagged). No lock:
	 * @tagged only goes true and the tree's @users only down while this
	 * domain lives, its record being one of them, and saved units are
	 * never freed; a stale read only clears leaves this time.
	 */
	t = &pk->saved->tree[pk->saved->tree_of[pk->rec]];
	return READ_ONCE(pk->tagged) && READ_ONCE(t->users) == 1;
}

/* The table pages from the table at @pa (@level) down; stops past @max. */
static unsigned long pk_subtree_pages(u64 pa, int level, unsigned long max)
{
	struct dma_pte *pte = phys_to_virt(pa);
	unsigned long n = 1;
	int i;

	for (i = 0; level > 1 && i < BIT(LEVEL_STRIDE) && n <= max; i++)
		if (dma_pte_present(&pte[i]) && !dma_pte_superpage(&pte[i]))
			n += pk_subtree_pages(dma_pte_addr(&pte[i]), level - 1, max - n);
	return n;
}

static void pk_carry(struct pkvtd_carrier *c, u64 pa, int level)
{
	struct dma_pte *pte = phys_to_virt(pa);
	int i;

	c->pa[c->nr++] = pa;
	for (i = 0; level > 1 && i < BIT(LEVEL_STRIDE); i++)
		if (dma_pte_present(&pte[i]) && !dma_pte_superpage(&pte[i]))
			pk_carry(c, dma_pte_addr(&pte[i]), level - 1);
}

/**
 * pkernfs_iommu_gather() - list a persistent domain's unlinked table for freeing
 * @domain: a persistent domain being unmapped
 * @level: the table's level, 1 for a last-level table
 * @pa: the table page, still linked
 * @freelist: the unmap's gather list
 *
 * dma_pte_clear_level(), for a table the unmap covers whole. Never sleeps.
 *
 * Return: true if the table and those below it are listed, to go back to
 * the pool after the flush (pkernfs_iommu_gather_free()); false if the
 * caller must keep the table and clear inside it: its tree may be walked
 * through a copied context, or it does not fit a carrier, or no carrier
 * could be allocated.
 */
bool pkernfs_iommu_gather(struct dmar_domain *domain, int level, u64 pa,
			  struct list_head *freelist)
{
	struct pkernfs_iommu_dom *pk = domain->pk;
	struct pkvtd_carrier *c = NULL;
	unsigned long n;
	struct page *pg;

	if (!pk_may_unlink(pk))
		return false;
	n = pk_subtree_pages(pa, level, PKVTD_CARRIER_SLOTS);
	if (n > PKVTD_CARRIER_SLOTS)
		return false;
	/* Only carriers are on a persistent domain's list: the last has room? */
	if (!list_empty(freelist)) {
		c = page_address(list_last_entry(freelist, struct page, lru));
		if (c->nr + n > PKVTD_CARRIER_SLOTS)
			c = NULL;
	}
	if (!c) {
		pg = xchg(&pk->spare, NULL) ?: __iommu_alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0);
		if (!pg)
			return false;
		list_add_tail(&pg->lru, freelist);
		c = page_address(pg);
	}
	pk_carry(c, pa, level);
	return true;
}

/**
 * pkernfs_iommu_gather_free() - the flush is done: free what the carriers list
 * @domain: the persistent domain
 * @freelist: its gather list, of carriers only
 *
 * intel_iommu_tlb_sync(), after the flush. One emptied carrier is kept
 * for the next unmap; iommu_put_pages_list() frees the others.
 */
void pkernfs_iommu_gather_free(struct dmar_domain *domain, struct list_head *freelist)
{
	struct pkernfs_iommu_dom *pk = domain->pk;
	struct page *pg, *next;
	u64 i;

	list_for_each_entry_safe(pg, next, freelist, lru) {
		struct pkvtd_carrier *c = page_address(pg);

		/* Through the deferral: an unlocked walk may still read them. */
		for (i = 0; i < c->nr; i++)
			pkernfs_iommu_table_free(domain, phys_to_virt(c->pa[i]));
		c->nr = 0;
		/* Off the list first: once published, another unmap may take it. */
		list_del(&pg->lru);
		if (cmpxchg(&pk->spare, NULL, pg))
			list_add(&pg->lru, freelist);
	}
}

/**
 * pkvtd_pgtable_walk() - visit a second-stage page table
 * @pw: what to do at each table page and leaf
 * @pa: the table page at @level
 * @level: 1 for a last-level table
 * @iova: the first IOVA the page translates
 *
 * The one walker of every page table pkernfs keeps: claim, free, the
 * boot-time check, injection and the replace check. Depth-first, in IOVA
 * order; stops at the first non-zero return.
 *
 * Return: 0, or what a callback returned.
 */
int pkvtd_pgtable_walk(struct pkvtd_pgwalk *pw, u64 pa, int level, u64 iova)
{
	u64 step = level_size(level) << VTD_PAGE_SHIFT;
	struct dma_pte *table = pw->table(pw, pa);
	int i, ret = 0;

	if (IS_ERR_OR_NULL(table))
		return table ? PTR_ERR(table) : -EFAULT;
	for (i = 0; i < BIT(LEVEL_STRIDE) && !ret; i++) {
		struct dma_pte *pte = &table[i];

		if (!dma_pte_present(pte))
			continue;
		if (level > 1 && !dma_pte_superpage(pte))
			ret = pkvtd_pgtable_walk(pw, dma_pte_addr(pte), level - 1, iova + i * step);
		else if (pw->leaf)
			ret = pw->leaf(pw, pte, iova + i * step, level);
	}
	if (!ret && pw->leave)
		pw->leave(pw, table);
	return ret;
}

static void *pk_pool_table(struct pkvtd_pgwalk *pw, u64 pa)
{
	return pkernfs_kroot_page_va(pkvtd_pool, pa);
}

static void pk_free_table(struct pkvtd_pgwalk *pw, struct dma_pte *table)
{
	pkernfs_kroot_page_free(pkvtd_pool, virt_to_phys(table));
}

/* Give every table page of the page table at @pgd back to the pool. */
void pkvtd_free_tree(struct dma_pte *pgd, int level)
{
	struct pkvtd_pgwalk pw = { .table = pk_pool_table, .leave = pk_free_table };

	pkvtd_pgtable_walk(&pw, virt_to_phys(pgd), level, 0);
}

/*
 * Record @i of @s is finished: abandoned, or its restored domain freed.
 * Return true if it was the last user of its tree: nothing walks the
 * tree any more, its memory is no longer held and its domain id is free.
 * Caller holds pkvtd_mutex, and not iommu->lock.
 */
bool pkvtd_tree_put(struct pkernfs_iommu_saved *s, u32 i)
{
	struct pkvtd_tree *t = &s->tree[s->tree_of[i]];
	struct pkvtd_span *span = NULL;

	spin_lock(&pkvtd_held_lock);
	if (!WARN_ON_ONCE(!t->users)) {
		/* pk_may_unlink() reads @users unlocked. */
		WRITE_ONCE(t->users, t->users - 1);
		if (!t->users) {
			span = t->span;
			t->span = NULL;
			t->nr = 0;
			pkvtd_trees_live--;
		}
	}
	spin_unlock(&pkvtd_held_lock);
	if (!span)
		return false;
	kvfree(span);
	/* Kept by pkernfs_iommu_did_kept() while the tree had users. */
	spin_lock(&s->iommu->lock);
	clear_bit(t->did, s->iommu->domain_ids);
	spin_unlock(&s->iommu->lock);
	return true;
}

static void *pk_claim_table(struct pkvtd_pgwalk *pw, u64 pa)
{
	int err = pkernfs_kroot_claim(pkvtd_pool, pa);

	return err ? ERR_PTR(err) : pkernfs_kroot_page_va(pkvtd_pool, pa);
}

/*
 * Claim every handed-over tree that a record still uses. The pool is
 * adopted only while no domain holds it, so no restored domain is alive:
 * a tree with users is one an open record's device walks.
 */
static int pk_claim_saved(void)
{
	struct pkvtd_pgwalk claim = { .table = pk_claim_table };
	unsigned int users;
	int u, i, err;

	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pkvtd_saved[u];

		for (i = 0; s && i < s->nr_tree; i++) {
			spin_lock(&pkvtd_held_lock);
			users = s->tree[i].users;
			spin_unlock(&pkvtd_held_lock);
			if (!users)
				continue;
			err = pkvtd_pgtable_walk(&claim, s->tree[i].pgd,
						 agaw_to_level(s->tree[i].aw), 0);
			if (err) {
				pr_err("dmar%d: saved page table at %#llx (did %u) is not within the pool (%d): not restored\n",
				       u, s->tree[i].pgd, s->tree[i].did, err);
				return err;
			}
		}
		/* Scalable mode: an open record's device walks its PASID tables too. */
		for (i = 0; s && s->sm_pages && i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (s->restored[i])
				continue;
			err = pkernfs_kroot_claim(pkvtd_pool, s->sm_pages[i][0]) ?:
			      pkernfs_kroot_claim(pkvtd_pool, s->sm_pages[i][1]);
			if (err) {
				pr_err("dmar%d: the saved PASID tables at %#llx are not within the pool (%d): not restored\n",
				       u, s->sm_pages[i][0], err);
				return err;
			}
		}
	}
	return 0;
}

/*
 * Take a pool user, setting the pool up on @sb first: adopt it if an
 * earlier kernel made one (claiming what the saved contexts still use),
 * else create it. @sb NULL: only an existing pool. Caller holds
 * pkvtd_mutex.
 */
int pkvtd_pool_get(struct super_block *sb)
{
	struct pkernfs_kroot *kr;
	phys_addr_t pa, data_pa;
	bool adopted = false;
	u64 data_len, cookie;
	int i, err;

	if (pkvtd_pool) {
		/* One pool per kernel: every persistent domain lives on one pkernfs. */
		if (sb && !pkernfs_kroot_on(pkvtd_pool, sb)) {
			pr_err("persistent domains must all keep their tables in one pkernfs\n");
			return -EXDEV;
		}
		pkvtd_pool_users++;
		return 0;
	}
	if (!sb)
		return -ENOENT;
	/* A format 1.1 kernel's pool: the same layout under its own cookie. */
	if (pkernfs_kroot_cookie(sb, PKVTD_POOL_NAME, &cookie) || cookie != PKVTD_POOL_COOKIE_1)
		cookie = PKVTD_POOL_COOKIE;
	kr = pkernfs_kroot_adopt(sb, PKVTD_POOL_NAME, cookie);
	/* The one pool must be the one the open records' tables are in. */
	if (IS_ERR(kr) && PTR_ERR(kr) == -ENOENT && pkvtd_saved_open) {
		pr_err("the tables the last kernel handed over are in another pkernfs's kernel area: restore there first (or abandon them)\n");
		return -EXDEV;
	}
	if (IS_ERR(kr) && PTR_ERR(kr) == -ENOENT)
		kr = pkernfs_kroot_create(sb, PKVTD_POOL_NAME, PKVTD_POOL_COOKIE,
					  max(pkernfs_iommu_pool_pages, PKVTD_MIN_POOL_PAGES));
	else if (!IS_ERR(kr))
		adopted = true;
	if (IS_ERR(kr)) {
		pr_err("cannot set up the IOMMU table pool in pkernfs's kernel area: %pe\n", kr);
		return PTR_ERR(kr);
	}
	pkvtd_pool = kr;
	/* 1.1 kernels made pools down to the reserved pages and 8 more. */
	if (pkernfs_kroot_npages(kr) < (cookie == PKVTD_POOL_COOKIE_1 ?
					PKVTD_RESERVED_PAGES + 8 : PKVTD_MIN_POOL_PAGES)) {
		err = -ENOSPC;
		goto fail;
	}
	if (adopted) {
		pkernfs_kroot_data_range(kr, &data_pa, &data_len);
		for (i = 0; i < PKVTD_RESERVED_PAGES; i++) {
			err = pkernfs_kroot_claim(kr, pkernfs_kroot_phys(kr) + i * PAGE_SIZE);
			if (err)
				goto fail;
		}
		for (i = 0; i < PKVTD_MAX_UNITS; i++) {
			struct pkernfs_iommu_saved *s = pkvtd_saved[i];

			/*
			 * Version 1 recorded no data area: the mount of this
			 * pkernfs already gave up whatever maps outside its own
			 * (pkernfs_dma_guard()).
			 */
			if (s && (le64_to_cpu(s->hdr.pool_phys) != pkernfs_kroot_phys(kr) ||
				  le64_to_cpu(s->hdr.pool_pages) != pkernfs_kroot_npages(kr) ||
				  (le16_to_cpu(s->hdr.version) != PKVTD_VERSION_1 &&
				   (le64_to_cpu(s->hdr.data_phys) != data_pa ||
				    le64_to_cpu(s->hdr.data_len) != data_len)))) {
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
		/* This kernel writes version 2: later ones adopt it as such. */
		if (cookie != PKVTD_POOL_COOKIE)
			pr_info("the IOMMU table pool of a version 1 handover %s\n",
				pkernfs_kroot_recookie(sb, kr, PKVTD_POOL_COOKIE) ?
				"keeps version 1's cookie" : "now carries version 2's cookie");
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
	pkvtd_pool_users = 1;
	return 0;

fail:
	pa = pkernfs_kroot_phys(kr);
	pr_err("IOMMU table pool at %pa refused: %d\n", &pa, err);
	WRITE_ONCE(pkvtd_pool, NULL);
	pkernfs_kroot_put(kr);
	return err;
}

/* Drop a pool user; the last one gives the pool back. Caller holds pkvtd_mutex. */
void pkvtd_pool_put(void)
{
	struct pkernfs_kroot *kr;

	if (WARN_ON_ONCE(!pkvtd_pool_users) || --pkvtd_pool_users)
		return;
	kr = pkvtd_pool;
	/* Before the root goes: the kexec shutdown reads pkvtd_pool unlocked. */
	WRITE_ONCE(pkvtd_pool, NULL);
	/* Saved tables nobody restored yet keep the root on media. */
	if (pkvtd_saved_open)
		pkernfs_kroot_put(kr);
	else
		pkernfs_kroot_release(kr);
}
