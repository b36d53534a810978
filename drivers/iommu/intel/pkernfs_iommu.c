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

#include <linux/acpi.h>
#include <linux/bitmap.h>
#include <linux/crash_dump.h>
#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/iommu.h>
#include <linux/kexec.h>
#include <linux/libnvdimm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pkernfs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/workqueue.h>
#include <linux/string.h>
#include <linux/stringify.h>

#include "iommu.h"
#include "../iommu-pages.h"
#include "pkernfs_iommu.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pkernfs_iommu."

static bool pkernfs_iommu_liveupdate;
module_param_named(liveupdate, pkernfs_iommu_liveupdate, bool, 0444);
MODULE_PARM_DESC(liveupdate,
		 "Adopt the IOMMU state a previous kernel handed over at kexec");

/*
 * Read by pkernfsctl kexec-check --arm out of the next kernel's image: the
 * handover versions this kernel adopts, the newest first.
 */
static const char pkernfs_iommu_note[] __used =
	"PKERNFS_IOMMU_NOTE handover=" __stringify(PKVTD_VERSION)
	" oldest=" __stringify(PKVTD_VERSION_1) " modes=legacy";

static unsigned int pkernfs_iommu_handover_version = PKVTD_VERSION;
module_param_named(handover_version, pkernfs_iommu_handover_version, uint, 0444);
MODULE_PARM_DESC(handover_version, "The IOMMU handover version this kernel writes and adopts");

static unsigned int pkernfs_iommu_pool_pages = 256;
module_param_named(pool_pages, pkernfs_iommu_pool_pages, uint, 0644);
MODULE_PARM_DESC(pool_pages, "Pages of the kernel-area pool for IOMMU tables");

/*
 * The loaded kexec image the handover is armed for. Only an armed kexec
 * keeps preserved devices running; otherwise shutdown stops them, as a
 * target that cannot adopt the state (a kernel without pkernfs, an older
 * handover format) would leave them DMA-ing untranslated. Cleared when
 * that image is freed, so a later load is never armed by accident.
 */
static DEFINE_MUTEX(pk_arm_mutex);
static struct kimage *pk_armed;

static bool pk_handover_armed(void)
{
	/* Pointers compared, never followed: the image may be going. */
	struct kimage *armed = READ_ONCE(pk_armed);

	return armed && armed == READ_ONCE(kexec_image);
}

static int pk_arm_set(const char *val, const struct kernel_param *kp)
{
	bool arm;
	int err = kstrtobool(val, &arm);

	if (err)
		return err;
	if (!capable(CAP_SYS_BOOT))
		return -EPERM;
	mutex_lock(&pk_arm_mutex);
	if (arm && !READ_ONCE(kexec_image)) {
		mutex_unlock(&pk_arm_mutex);
		pr_err("no kexec image is loaded: load the next kernel, then arm the handover\n");
		return -ENOENT;
	}
	WRITE_ONCE(pk_armed, arm ? READ_ONCE(kexec_image) : NULL);
	mutex_unlock(&pk_arm_mutex);
	pr_info("IOMMU handover %s for the loaded kexec image\n", arm ? "armed" : "disarmed");
	return 0;
}

static int pk_arm_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", pk_handover_armed());
}

static const struct kernel_param_ops pk_arm_ops = {
	.set = pk_arm_set,
	.get = pk_arm_get,
};
module_param_cb(armed, &pk_arm_ops, NULL, 0644);
MODULE_PARM_DESC(armed, "Hand the IOMMU state over to the loaded kexec image (pkernfsctl kexec-check --arm)");

/**
 * pkernfs_iommu_kimage_free() - a kexec image is being freed
 * @image: the image
 *
 * If the handover was armed for it, it is not any more.
 */
void pkernfs_iommu_kimage_free(struct kimage *image)
{
	mutex_lock(&pk_arm_mutex);
	if (pk_armed == image) {
		WRITE_ONCE(pk_armed, NULL);
		pr_info("IOMMU handover disarmed: its kexec image was unloaded\n");
	}
	mutex_unlock(&pk_arm_mutex);
}

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
	struct pkernfs_iommu_saved *saved;	/* restored: the record's unit */
	u32 rec;			/* restored: the record */
	/* Table pages unlinked but maybe still cached by the IOMMU. */
	spinlock_t defer_lock;
	unsigned int defer_depth, nr_deferred, max_deferred;
	phys_addr_t *deferred;
};

/* A run of memory that a handed-over page table maps. */
struct pk_span {
	u64 start, end;
};

/*
 * A page table the last kernel handed over, shared by every record that
 * names its root. Until the last of them is finished (abandoned, or its
 * restored domain freed) a device may still walk it: its table pages
 * stay claimed, its domain id reserved, and the memory its leaves map is
 * held in pkernfs (pkernfs_dma_range_mapped()): no truncate, punch,
 * unlink or reuse. The leaves, not any mark, are the truth.
 */
struct pk_tree {
	u64 pgd;
	u16 did;
	u8 aw;
	unsigned int users;	/* unfinished records; pk_held_lock */
	unsigned int nr, max;
	struct pk_span *span;	/* sorted, merged; NULL once users is 0 */
};

/* What a unit handed over, as checked at DMAR init. */
struct pkernfs_iommu_saved {
	struct pkvtd_handover hdr;	/* header fields only */
	struct intel_iommu *iommu;
	struct pkvtd_dev *dev;
	bool *restored;
	u16 *tree_of;			/* record -> tree[] */
	struct pk_tree *tree;
	u32 nr_tree;
	DECLARE_BITMAP(abandoned, PKVTD_MAX_DEVS);	/* restored flag set too */
	/* Copied context cleared by another domain's attach; never cleared. */
	DECLARE_BITMAP(torn, PKVTD_MAX_DEVS);
	DECLARE_BITMAP(replaced, PKVTD_MAX_DEVS);	/* finished for that; restored set */
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
/*
 * Trees with users, and their users and spans. Innermost: taken under
 * iommu->lock (domain_detach_iommu()) and by pkernfs's free path; takes
 * nothing and never sleeps.
 */
static DEFINE_SPINLOCK(pk_held_lock);
static unsigned int pk_trees_live;
/* Some saved->torn bit is set that pk_reap_torn() has not seen. */
static atomic_t pk_torn_pending = ATOMIC_INIT(0);

/* Fault injection for tests: how the next handover is damaged. */
enum {
	PK_INJECT_NONE, PK_INJECT_CRC, PK_INJECT_VERSION, PK_INJECT_REGBASE, PK_INJECT_DID0,
	PK_INJECT_DATA,
	/*
	 * Written as a format 1.1 kernel does: version 1; then one leaf into
	 * metadata; then one leaf at pk_inject_pa (another pkernfs).
	 */
	PK_INJECT_V1, PK_INJECT_V1_META, PK_INJECT_V1_AT,
};

static int pk_inject;
static u64 pk_inject_pa;

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
	va = pkernfs_kroot_page_alloc_keep(READ_ONCE(pk_pool), PKVTD_HANDOVER_KEEP, &pa);
	if (!va)
		pr_warn_ratelimited("token %#llx: the IOMMU table pool is full (its last %d pages are kept for the kexec handover): map refused\n",
				    domain->pk->token, PKVTD_HANDOVER_KEEP);
	if (va && phys)
		*phys = pa;
	return va;
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
	/* As for alloc: the domain's pool user keeps pk_pool. */
	pkernfs_kroot_page_free(READ_ONCE(pk_pool), virt_to_phys(va));
}

/*
 * switch_to_super_page() unlinks and frees lower tables, then flushes the
 * IOTLB. A pool page freed before the flush could be handed to another
 * table while the IOMMU may still walk it through its paging-structure
 * cache: hold frees from @begin until the last caller has flushed.
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
		pkernfs_kroot_page_free(READ_ONCE(pk_pool), d[i]);
	kfree(d);
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
static void pk_reap_torn(void);

/*
 * Record @i of @s is finished: abandoned, or its restored domain freed.
 * Return true if it was the last user of its tree: nothing walks the
 * tree any more, its memory is no longer held and its domain id is free.
 * Caller holds pk_mutex, and not iommu->lock.
 */
static bool pk_tree_put(struct pkernfs_iommu_saved *s, u32 i)
{
	struct pk_tree *t = &s->tree[s->tree_of[i]];
	struct pk_span *span = NULL;

	spin_lock(&pk_held_lock);
	if (!WARN_ON_ONCE(!t->users) && !--t->users) {
		span = t->span;
		t->span = NULL;
		t->nr = 0;
		pk_trees_live--;
	}
	spin_unlock(&pk_held_lock);
	if (!span)
		return false;
	kvfree(span);
	/* Kept by pkernfs_iommu_did_kept() while the tree had users. */
	spin_lock(&s->iommu->lock);
	clear_bit(t->did, s->iommu->domain_ids);
	spin_unlock(&s->iommu->lock);
	return true;
}

void pkernfs_iommu_domain_exit(struct dmar_domain *domain)
{
	struct pkernfs_iommu_dom *pk = to_pk(domain);

	spin_lock(&pk_list_lock);
	list_del(&pk->list);
	spin_unlock(&pk_list_lock);
	mutex_lock(&pk_mutex);
	pk_reap_torn();
	if (pk->restored && !pk->adopted && !test_bit(pk->rec, pk->saved->torn)) {
		/*
		 * Restored but never attached: the device still walks these
		 * tables through its copied context. Keep them claimed and
		 * the record open, as before the restore.
		 */
		*pk->restored = false;
		pk_saved_open++;
	} else if (pk->restored) {
		/* Other records' devices may still walk a shared tree. */
		if (pk_tree_put(pk->saved, pk->rec) && domain->pgd)
			pk_free_tree(domain->pgd, agaw_to_level(domain->agaw));
	} else if (domain->pgd) {
		pk_free_tree(domain->pgd, agaw_to_level(domain->agaw));
	}
	domain->pgd = NULL;
	domain->pk = NULL;
	kfree(pk->deferred);
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

/*
 * Claim every handed-over tree that a record still uses. The pool is
 * adopted only while no domain holds it, so no restored domain is alive:
 * a tree with users is one an open record's device walks.
 */
static int pk_claim_saved(void)
{
	unsigned int users;
	int u, i, err;

	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pk_saved[u];

		for (i = 0; s && i < s->nr_tree; i++) {
			spin_lock(&pk_held_lock);
			users = s->tree[i].users;
			spin_unlock(&pk_held_lock);
			if (!users)
				continue;
			err = pk_claim_tree(s->tree[i].pgd, agaw_to_level(s->tree[i].aw));
			if (err) {
				pr_err("dmar%d: saved page table at %#llx (did %u) is not within the pool (%d): not restored\n",
				       u, s->tree[i].pgd, s->tree[i].did, err);
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
	phys_addr_t pa, data_pa;
	bool adopted = false;
	u64 data_len, cookie;
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
	/* A format 1.1 kernel's pool: the same layout under its own cookie. */
	if (pkernfs_kroot_cookie(sb, PKVTD_POOL_NAME, &cookie) || cookie != PKVTD_POOL_COOKIE_1)
		cookie = PKVTD_POOL_COOKIE;
	kr = pkernfs_kroot_adopt(sb, PKVTD_POOL_NAME, cookie);
	/* The one pool must be the one the open records' tables are in. */
	if (IS_ERR(kr) && PTR_ERR(kr) == -ENOENT && pk_saved_open) {
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
	pk_pool = kr;
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
			struct pkernfs_iommu_saved *s = pk_saved[i];

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
	pk_pool_users = 1;
	return 0;

fail:
	pa = pkernfs_kroot_phys(kr);
	pr_err("IOMMU table pool at %pa refused: %d\n", &pa, err);
	WRITE_ONCE(pk_pool, NULL);
	pkernfs_kroot_put(kr);
	return err;
}

/* Drop a pool user; the last one gives the pool back. Caller holds pk_mutex. */
static void pk_pool_put(void)
{
	struct pkernfs_kroot *kr;

	if (WARN_ON_ONCE(!pk_pool_users) || --pk_pool_users)
		return;
	kr = pk_pool;
	/* Before the root goes: the kexec shutdown reads pk_pool unlocked. */
	WRITE_ONCE(pk_pool, NULL);
	/* Saved tables nobody restored yet keep the root on media. */
	if (pk_saved_open)
		pkernfs_kroot_put(kr);
	else
		pkernfs_kroot_release(kr);
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
	spin_lock_init(&pk->defer_lock);
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
 * Attaching a device the handover cannot keep (pkernfs_iommu_dev_check())
 * is refused with -EINVAL.
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
	pgd = pkernfs_kroot_page_alloc_keep(pk_pool, PKVTD_HANDOVER_KEEP, &pa);
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

static int pk_count_alias(struct pci_dev *pdev, u16 alias, void *data)
{
	(*(int *)data)++;
	return 0;
}

/* Why the handover could not keep @dev's DMA, or NULL. */
static const char *pk_dev_why(struct device *dev)
{
	struct device_domain_info *info;
	int aliases = 0;

	if (!dev->iommu || !dev->iommu->iommu_dev ||
	    dev->iommu->iommu_dev->ops != &intel_iommu_ops)
		return "not behind an Intel IOMMU";
	info = dev_iommu_priv_get(dev);
	if (!info || !info->iommu)
		return "not probed by the IOMMU";
	if (sm_supported(info->iommu))
		return "its IOMMU runs in scalable mode";
	if (info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return "its IOMMU is past the 8th unit";
	if (info->ats_supported)
		return "it has a device-TLB (ATS)";
	if (!dev_is_pci(dev))
		return "not a PCI device";
	pci_for_each_dma_alias(to_pci_dev(dev), pk_count_alias, &aliases);
	return aliases != 1 ? "it has DMA aliases" : NULL;
}

/**
 * pkernfs_iommu_dev_check() - can @dev's DMA be handed over at all?
 * @dev: the device a persistent domain is for
 *
 * The handover keeps legacy-mode, multi-level contexts of the first 8
 * units only, one requester id per device, without device-TLBs. Refusing
 * here, at PERSIST, beats a device silently stopped at kexec.
 *
 * Return: 0, or -EOPNOTSUPP with a message naming the reason.
 */
int pkernfs_iommu_dev_check(struct device *dev)
{
	const char *why = pk_dev_why(dev);

	if (!why)
		return 0;
	dev_err(dev, "pkernfs-iommu: its DMA cannot be kept across kexec: %s\n", why);
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_dev_check);

/* The saved record of @token for this device; its restored flag in *@done. */
static struct pkvtd_dev *pk_saved_dev(struct intel_iommu *iommu, u8 bus, u8 devfn,
				      u64 token, bool **done, int *err,
				      struct pkernfs_iommu_saved **sp, u32 *ip)
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
	struct pkernfs_iommu_saved *s;
	struct iommu_domain *domain;
	struct dmar_domain *dmar;
	struct pkvtd_dev *rec;
	bool *done;
	int err;
	u64 lo, hi;
	u32 i;

	if (!info || !info->iommu || info->iommu->seq_id >= PKVTD_MAX_UNITS)
		return ERR_PTR(-ENODEV);
	mutex_lock(&pk_mutex);
	pk_reap_torn();
	rec = pk_saved_dev(info->iommu, info->bus, info->devfn, token, &done, &err, &s, &i);
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
		else if (err == -ESTALE && test_bit(i, s->replaced))
			dev_err(dev, "pkernfs-iommu: domain %#llx: the device's handed-over context was replaced by another domain: nothing to restore\n",
				token);
		else if (err == -ESTALE)
			dev_err(dev, "pkernfs-iommu: domain %#llx was abandoned (pkernfs_iommu.abandon): nothing to restore\n",
				token);
		else
			dev_err(dev, "pkernfs-iommu: domain %#llx is already restored\n", token);
		return ERR_PTR(err == -ESTALE ? -ENOENT : err);
	}
	lo = le64_to_cpu(rec->ctx_lo);
	hi = le64_to_cpu(rec->ctx_hi);
	err = pk_pool_get(sb);
	if (err)
		goto undo;
	/* A pool this kernel just made on another pkernfs holds nothing of it. */
	if (!pkernfs_kroot_contains(pk_pool, lo & VTD_PAGE_MASK)) {
		dev_err(dev, "pkernfs-iommu: domain %#llx was handed over in another pkernfs's kernel area (tables at %#llx): restore it on that one\n",
			token, lo & VTD_PAGE_MASK);
		err = -EXDEV;
		goto put;
	}
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
	dmar->pk->saved = s;
	dmar->pk->rec = i;
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

/* Is @bridge on the path from a preserved device to the root complex? */
static bool pk_bridge_on_path(struct pci_dev *bridge)
{
	struct pkernfs_iommu_dom *pk;
	bool ret = false;

	/* As in pkernfs_dma_preserved(): the list keeps its domains alive. */
	spin_lock(&pk_list_lock);
	list_for_each_entry(pk, &pk_domains, list) {
		struct device_domain_info *d;
		struct pci_dev *up;
		unsigned long flags;

		if (!pk->token)
			continue;
		spin_lock_irqsave(&pk->domain->lock, flags);
		list_for_each_entry(d, &pk->domain->devices, link) {
			if (!d->dev || !dev_is_pci(d->dev))
				continue;
			for (up = pci_upstream_bridge(to_pci_dev(d->dev)); up;
			     up = pci_upstream_bridge(up))
				if (up == bridge)
					ret = true;
		}
		spin_unlock_irqrestore(&pk->domain->lock, flags);
	}
	spin_unlock(&pk_list_lock);
	return ret;
}

/**
 * pkernfs_dma_preserved() - is @dev's DMA to go on through this kexec?
 * @dev: a device
 *
 * Return: true if the handover is armed for the loaded kexec image and
 * @dev is attached to a marked persistent domain, or is a bridge such a
 * device's DMA passes through.
 */
bool pkernfs_dma_preserved(struct device *dev)
{
	struct device_domain_info *info;
	struct pkernfs_iommu_dom *pk;
	bool ret = false;

	if (!pk_handover_armed())
		return false;
	if (dev_is_pci(dev) && pci_is_bridge(to_pci_dev(dev)))
		return pk_bridge_on_path(to_pci_dev(dev));
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

	mutex_lock(&pk_mutex);
	if (pk_pool) {
		p = pkernfs_kroot_phys(pk_pool);
		n = (u64)pkernfs_kroot_npages(pk_pool) << PAGE_SHIFT;
		live = start < p + n && p < start + len;
	}
	for (u = 0; u < PKVTD_MAX_UNITS && !live; u++) {
		if (!pk_saved[u])
			continue;
		p = le64_to_cpu(pk_saved[u]->hdr.pool_phys);
		n = le64_to_cpu(pk_saved[u]->hdr.pool_pages) << PAGE_SHIFT;
		live = start < p + n && p < start + len;
	}
	mutex_unlock(&pk_mutex);
	return live;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_range_live);

/* Does a span of @t overlap [start, end)? Caller holds pk_held_lock. */
static bool pk_tree_maps(const struct pk_tree *t, u64 start, u64 end)
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
	if (!READ_ONCE(pk_trees_live))
		return false;
	spin_lock(&pk_held_lock);
	for (u = 0; u < PKVTD_MAX_UNITS && !mapped; u++) {
		struct pkernfs_iommu_saved *s = pk_saved[u];

		for (i = 0; s && i < s->nr_tree && !mapped; i++)
			mapped = s->tree[i].users && pk_tree_maps(&s->tree[i], start, start + len);
	}
	spin_unlock(&pk_held_lock);
	return mapped;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_range_mapped);

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
	pk_reap_torn();
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
 * tree's last user is finished (pk_tree_put() frees it then).
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
	s = pk_saved[iommu->seq_id];
	if (!s)
		return false;
	spin_lock(&pk_held_lock);
	for (i = 0; i < s->nr_tree; i++)
		if (s->tree[i].did == did && s->tree[i].users)
			kept = true;
	spin_unlock(&pk_held_lock);
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
	const char *why;
	u128 cur, val;

	/* Whoever made it persistent: never a device the handover cannot keep. */
	why = new->pk ? pk_dev_why(dev) : NULL;
	if (why) {
		dev_err(dev, "pkernfs-iommu: not attached to persistent domain %#llx: %s, so its DMA could not be kept across kexec\n",
			new->pk->token, why);
		return -EINVAL;
	}
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
	/* Before the switch: from it on, invalidations must reach @new's tags. */
	ret = cache_tag_assign_domain(new, dev, IOMMU_NO_PASID);
	if (ret) {
		domain_detach_iommu(new, iommu);
		return ret;
	}
	did_old = domain_id_iommu(old, iommu);
	did_new = domain_id_iommu(new, iommu);

	spin_lock(&iommu->lock);
	ctx = iommu_context_addr(iommu, info->bus, info->devfn, 0);
	if (!ctx || !context_present(ctx)) {
		spin_unlock(&iommu->lock);
		cache_tag_unassign_domain(new, dev, IOMMU_NO_PASID);
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
	/* As dmar_domain_attach_device() would decide; more flushes are harmless. */
	new->iotlb_sync_map |= cap_caching_mode(iommu->cap) || cap_rwbf(iommu->cap);
	if (iommu->copied_tables)
		clear_context_copied(iommu, info->bus, info->devfn);
	dev_info(dev, "pkernfs-iommu: domain replaced in place (did %u -> %u)\n", did_old, did_new);
	return 0;
}

/* ---- 3. kexec: hand over ---- */

static void pk_flush(struct intel_iommu *iommu, void *va)
{
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(va, PAGE_SIZE);
}

/*
 * A preserved device that is not handed over: stop its DMA before
 * translation goes (config access takes a raw lock: fine with IRQs off).
 */
static void pk_stop(struct device_domain_info *info, const char *why)
{
	if (info->dev && dev_is_pci(info->dev))
		pci_clear_master(to_pci_dev(info->dev));
	pr_warn("%s: %02x:%02x.%d %s; its bus mastering is off\n", info->iommu->name,
		info->bus, PCI_SLOT(info->devfn), PCI_FUNC(info->devfn), why);
}

/*
 * Not handed over: every preserved device on @iommu stops. False if the
 * devices cannot be found: a CPU stopped for the kexec holds a lock.
 */
static bool pk_stop_all(struct intel_iommu *iommu, const char *why)
{
	struct pkernfs_iommu_dom *pk;
	struct device_domain_info *info;
	bool done = true;

	if (!spin_trylock(&pk_list_lock))
		return false;
	list_for_each_entry(pk, &pk_domains, list) {
		if (!pk->token)
			continue;
		if (!spin_trylock(&pk->domain->lock)) {
			done = false;
			break;
		}
		list_for_each_entry(info, &pk->domain->devices, link)
			if (info->iommu == iommu)
				pk_stop(info, why);
		spin_unlock(&pk->domain->lock);
	}
	spin_unlock(&pk_list_lock);
	return done;
}

/*
 * PK_INJECT_V1_META: the first leaf of dev[0]'s table now maps the page
 * (or superpage) below the data area, outside the pool: pkernfs metadata
 * that a version 1 handover cannot be told from data at boot.
 * PK_INJECT_V1_AT: it maps pk_inject_pa instead, for a test that names
 * memory of another pkernfs in the same persistent range.
 */
static void pk_inject_leaf(struct intel_iommu *iommu, const struct pkvtd_handover *h)
{
	u64 pa = le64_to_cpu(h->dev[0].ctx_lo) & VTD_PAGE_MASK, size, len, pool, end;
	int i, level = (le64_to_cpu(h->dev[0].ctx_hi) & 7) + 2;
	struct dma_pte *tbl = NULL, *pte = NULL;
	phys_addr_t data;

	for (; level >= 1; level--) {
		if (!pkernfs_kroot_contains(pk_pool, pa))
			return;
		tbl = pkernfs_kroot_page_va(pk_pool, pa);
		for (i = 0; i < 512 && !dma_pte_present(&tbl[i]); i++)
			;
		if (i == 512)
			return;
		pte = &tbl[i];
		if (level == 1 || dma_pte_superpage(pte))
			break;
		pa = dma_pte_addr(pte);
	}
	if (!pte)
		return;
	pkernfs_kroot_data_range(pk_pool, &data, &len);
	pool = pkernfs_kroot_phys(pk_pool);
	end = pool + ((u64)pkernfs_kroot_npages(pk_pool) << PAGE_SHIFT);
	size = VTD_PAGE_SIZE << (9 * (level - 1));
	if (data < 2 * size)
		return;
	pa = ALIGN_DOWN(pk_inject == PK_INJECT_V1_AT ? pk_inject_pa : data - size, size);
	while (pa < end && pool < pa + size) {
		if (pa < size)
			return;
		pa -= size;
	}
	pte->val = (pte->val & ~(VTD_PAGE_MASK & GENMASK_ULL(51, 0))) | pa;
	pk_flush(iommu, tbl);
	pr_info("inject: the first leaf of %02x:%02x.%d's table now maps %#llx\n", h->dev[0].bus,
		PCI_SLOT(h->dev[0].devfn), PCI_FUNC(h->dev[0].devfn), pa);
}

/* Everything of the handover header but the device records and the crc. */
static void pk_fill_header(struct intel_iommu *iommu, struct pkvtd_handover *h,
			   phys_addr_t hdr_pa, u64 gen, u32 n)
{
	phys_addr_t data_pa;
	u64 data_len;

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
	pkernfs_kroot_data_range(pk_pool, &data_pa, &data_len);
	h->data_phys = cpu_to_le64(data_pa);
	h->data_len = cpu_to_le64(data_len);
}

/*
 * The preserved devices cannot be found: keep translation on through an
 * empty root, so every DMA of the unit is blocked, and hand over a record
 * of no device, which the next kernel refuses, stopping what is mastering.
 */
static void pk_block_unit(struct intel_iommu *iommu, struct pkvtd_handover *h,
			  struct root_entry *root, phys_addr_t hdr_pa, u64 gen)
{
	memset(h, 0, PAGE_SIZE);
	memset(root, 0, PAGE_SIZE);
	pk_fill_header(iommu, h, hdr_pa, gen, 0);
	h->crc = cpu_to_le32(pkvtd_crc(h));
	pk_flush(iommu, root);
	arch_wb_cache_pmem(h, PAGE_SIZE);
	arch_wb_cache_pmem(root, PAGE_SIZE);
	pr_warn("%s: the preserved devices cannot be found (a lock is held by a stopped CPU): translation stays on through an empty root, blocking every DMA\n",
		iommu->name);
	iommu->root_entry = root;
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
	bool busy = false;
	u64 gen;
	u32 n = 0;

	/*
	 * No lock for pk_pool: the other CPUs are stopped, and this one
	 * cannot be inside pk_pool_get() or pk_pool_put() (process context).
	 */
	if (!kexec_in_progress || !pk_pool)
		return false;
	if (iommu->seq_id >= PKVTD_MAX_UNITS || sm_supported(iommu)) {
		pk_stop_all(iommu, "cannot be handed over (scalable mode, or a unit past the 8th)");
		return false;
	}
	hdr_pa = pkernfs_kroot_phys(pk_pool) + 2 * iommu->seq_id * PAGE_SIZE;
	h = pkernfs_kroot_page_va(pk_pool, hdr_pa);
	root = pkernfs_kroot_page_va(pk_pool, hdr_pa + PAGE_SIZE);
	gen = le64_to_cpu(h->magic) == PKVTD_MAGIC ? le64_to_cpu(h->generation) : 0;
	memset(h, 0, PAGE_SIZE);
	memset(root, 0, PAGE_SIZE);
	if (!pk_handover_armed()) {
		if (pk_stop_all(iommu, "is preserved, but this kexec is not armed"))
			return false;
		goto blocked;
	}

	/* Trylocks: a CPU stopped for the kexec may hold either lock. */
	if (!spin_trylock(&pk_list_lock))
		goto blocked;
	list_for_each_entry(pk, &pk_domains, list) {
		struct device_domain_info *info;

		if (!pk->token)
			continue;
		if (!spin_trylock(&pk->domain->lock)) {
			busy = true;
			break;
		}
		list_for_each_entry(info, &pk->domain->devices, link) {
			struct context_entry *live, *ctbl;

			if (info->iommu != iommu)
				continue;
			/* alloc 1: with 0 a copied entry reads as absent; its table exists. */
			live = iommu_context_addr(iommu, info->bus, info->devfn, 1);
			if (!live || !context_present(live)) {
				pk_stop(info, "has no live context");
				continue;
			}
			/* Device-TLB contexts and overflow are not handed over. */
			if (((live->lo >> 2) & 3) != CONTEXT_TT_MULTI_LEVEL ||
			    n >= PKVTD_MAX_DEVS) {
				pk_stop(info, "cannot be handed over (ATS, or too many)");
				continue;
			}
			if (!(root[info->bus].lo & 1)) {
				ctbl = pkernfs_kroot_page_alloc(pk_pool, &pa);
				if (!ctbl) {
					pk_stop(info, "cannot be handed over (pool full)");
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
	if (busy)
		goto blocked;
	if (!n)
		return false;

	pk_fill_header(iommu, h, hdr_pa, gen, n);
	if (pk_inject == PK_INJECT_VERSION)
		h->version = cpu_to_le16(PKVTD_VERSION + 1);
	if (pk_inject == PK_INJECT_REGBASE)
		h->reg_phys = cpu_to_le64(iommu->reg_phys + PAGE_SIZE);
	if (pk_inject == PK_INJECT_DID0) {
		struct context_entry *ce = pkernfs_kroot_page_va(pk_pool,
				root[h->dev[0].bus].lo & VTD_PAGE_MASK);

		ce[h->dev[0].devfn].hi &= ~(0xffffULL << 8);
		h->dev[0].ctx_hi = cpu_to_le64(ce[h->dev[0].devfn].hi);
	}
	if (pk_inject == PK_INJECT_DATA)
		h->data_len = cpu_to_le64(PAGE_SIZE);
	if (pk_inject == PK_INJECT_V1_META || pk_inject == PK_INJECT_V1_AT)
		pk_inject_leaf(iommu, h);
	if (pk_inject >= PK_INJECT_V1) {
		memmove((u8 *)h + PKVTD_V1_DEV_OFFSET, h->dev, n * sizeof(*h->dev));
		memset((u8 *)h + PKVTD_V1_DEV_OFFSET + n * sizeof(*h->dev), 0,
		       sizeof(h->data_phys) + sizeof(h->data_len));
		h->version = cpu_to_le16(PKVTD_VERSION_1);
	}
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

blocked:
	pk_block_unit(iommu, h, root, hdr_pa, gen);
	return true;
}

/* ---- 4. the next kernel: check what was handed over ---- */

/*
 * Nothing in the handover is trusted before it is checked, in this order:
 * the memory it lives in (firmware-described persistent memory, no System
 * RAM), its version (before the checksum, so a newer format reads as
 * such), its checksum, its header, then every table the hardware can walk
 * from the root: each page inside the pool and reached once, reserved
 * bits zero, one page table per domain id and no domain id 0, and every
 * leaf inside the pkernfs data area the handover names. Refused state is
 * never left to a device: see pk_refuse().
 */

struct pk_cover {
	u64 start, end;
	bool covered;
	u64 ext_start, ext_end;	/* the covering resource, unclipped walks only */
};

static int pk_cover_cb(struct resource *res, void *arg)
{
	struct pk_cover *c = arg;

	/* @res is clipped to the range asked for: one resource covers it all. */
	if (res->start <= c->start && res->end >= c->end) {
		c->covered = true;
		c->ext_start = res->start;
		c->ext_end = res->end;
	}
	return 0;
}

static bool pk_res_covers(u64 start, u64 len, unsigned long desc)
{
	struct pk_cover c = { .start = start, .end = start + len - 1 };

	walk_iomem_res_desc(desc, IORESOURCE_MEM, c.start, c.end, &c, pk_cover_cb);
	return c.covered;
}

/*
 * An NFIT persistent-memory range: the nfit driver, which turns it into a
 * resource, binds only after DMAR init, so read the table itself.
 */
static bool pk_nfit_range(u64 start, u64 len, u64 *ext_start, u64 *ext_len)
{
	static const guid_t pm = GUID_INIT(0x66f0d379, 0xb4f3, 0x4074, 0xac, 0x43,
					   0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb);
	struct acpi_table_header *tbl;
	bool covered = false;
	u32 off;

	if (acpi_disabled || ACPI_FAILURE(acpi_get_table(ACPI_SIG_NFIT, 0, &tbl)))
		return false;
	for (off = sizeof(struct acpi_table_nfit);
	     off + sizeof(struct acpi_nfit_header) <= tbl->length;) {
		struct acpi_nfit_header *nh = (void *)tbl + off;
		struct acpi_nfit_system_address *spa = (void *)nh;

		if (nh->length < sizeof(*nh) || nh->length > tbl->length - off)
			break;
		/* Before ACPI 6.4 the range has no location cookie. */
		if (nh->type == ACPI_NFIT_TYPE_SYSTEM_ADDRESS &&
		    nh->length >= offsetof(struct acpi_nfit_system_address, location_cookie) &&
		    guid_equal((const guid_t *)spa->range_guid, &pm) && start >= spa->address &&
		    len <= spa->length && start - spa->address <= spa->length - len) {
			covered = true;
			*ext_start = spa->address;
			*ext_len = spa->length;
		}
		off += nh->length;
	}
	acpi_put_table(tbl);
	return covered;
}

static bool pk_nfit_covers(u64 start, u64 len)
{
	u64 s, l;

	return pk_nfit_range(start, len, &s, &l);
}

/* NULL if [@start, +@len) is persistent memory this kernel will not allocate. */
static const char *pk_check_memory(u64 start, u64 len)
{
	if (!len || start + len < start)
		return "is an empty or wrapping range";
	if (region_intersects(start, len, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT)
		return "is System RAM in this kernel (its reservation is gone)";
	if (pk_res_covers(start, len, IORES_DESC_PERSISTENT_MEMORY_LEGACY) ||
	    pk_res_covers(start, len, IORES_DESC_PERSISTENT_MEMORY) || pk_nfit_covers(start, len))
		return NULL;
	return "is not persistent memory that the firmware (NFIT, e820) or memmap=! describes";
}

/* The pool, mapped once, and what the walk has seen of it. */
struct pk_walk {
	struct intel_iommu *iommu;
	const struct pkvtd_handover *h;
	u8 *pool;
	u64 pool_phys, pool_pages, data_phys, data_len;
	unsigned long *seen;
	u32 nr_tree, cur;
	struct pk_tree tree[PKVTD_MAX_DEVS];
	u16 tree_of[PKVTD_MAX_DEVS];
};

/*
 * Version 1 recorded no data area: bound the leaves by the persistent
 * memory range that holds the pool (the walk keeps them out of the pool
 * itself). The mount narrows that to the filesystem's data area before it
 * reads its metadata (pkernfs_dma_guard()).
 */
static const char *pk_v1_data_area(struct pk_walk *w)
{
	static const unsigned long desc[] = {
		IORES_DESC_PERSISTENT_MEMORY_LEGACY, IORES_DESC_PERSISTENT_MEMORY,
	};
	u64 len = w->pool_pages << PAGE_SHIFT;
	struct pk_cover c = { .start = w->pool_phys, .end = w->pool_phys + len - 1 };
	int i;

	for (i = 0; i < ARRAY_SIZE(desc) && !c.covered; i++)
		walk_iomem_res_desc(desc[i], IORESOURCE_MEM, 0, U64_MAX, &c, pk_cover_cb);
	if (c.covered) {
		w->data_phys = c.ext_start;
		w->data_len = c.ext_end - c.ext_start + 1;
	} else if (!pk_nfit_range(w->pool_phys, len, &w->data_phys, &w->data_len)) {
		return "no persistent-memory range holds the table pool";
	}
	return pk_check_memory(w->data_phys, w->data_len);
}

/* Add a leaf's target to the current tree's spans, merged with the last. */
static const char *pk_span_add(struct pk_walk *w, u64 start, u64 len)
{
	struct pk_tree *t = &w->tree[w->cur];
	struct pk_span *span;

	if (t->nr && t->span[t->nr - 1].end == start) {
		t->span[t->nr - 1].end += len;
		return NULL;
	}
	if (t->nr == t->max) {
		span = kvrealloc(t->span, array_size(t->max ? 2 * t->max : 64, sizeof(*span)),
				 GFP_KERNEL);
		if (!span)
			return "out of memory for the held ranges";
		t->span = span;
		t->max = t->max ? 2 * t->max : 64;
	}
	t->span[t->nr].start = start;
	t->span[t->nr].end = start + len;
	t->nr++;
	return NULL;
}

static int pk_span_cmp(const void *a, const void *b)
{
	const struct pk_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort each tree's spans and merge those that touch, for the lookup. */
static void pk_spans_finish(struct pk_walk *w)
{
	u32 i, j, n;

	for (i = 0; i < w->nr_tree; i++) {
		struct pk_tree *t = &w->tree[i];

		sort(t->span, t->nr, sizeof(*t->span), pk_span_cmp, NULL);
		for (j = 1, n = !!t->nr; j < t->nr; j++) {
			if (t->span[j].start <= t->span[n - 1].end)
				t->span[n - 1].end = max(t->span[n - 1].end, t->span[j].end);
			else
				t->span[n++] = t->span[j];
		}
		t->nr = n;
	}
}

/* A table page of the pool, past the headers and roots, not seen before. */
static void *pk_walk_page(struct pk_walk *w, u64 pa, const char **why)
{
	u64 idx = (pa - w->pool_phys) >> PAGE_SHIFT;

	if (pa < w->pool_phys || idx >= w->pool_pages || pa & ~PAGE_MASK) {
		*why = "a table page outside the pool";
		return NULL;
	}
	if (idx < PKVTD_RESERVED_PAGES) {
		*why = "a table page on a handover or root page";
		return NULL;
	}
	if (test_and_set_bit(idx, w->seen)) {
		*why = "a table page reached twice (shared or a loop)";
		return NULL;
	}
	return w->pool + (idx << PAGE_SHIFT);
}

static const char *pk_walk_pgtable(struct pk_walk *w, u64 pa, int level)
{
	const char *why = NULL;
	struct dma_pte *t = pk_walk_page(w, pa, &why);
	u64 size = 1ULL << (VTD_PAGE_SHIFT + 9 * (level - 1));
	int i;

	if (!t)
		return why;
	for (i = 0; i < 512 && !why; i++) {
		u64 addr = dma_pte_addr(&t[i]);

		if (!dma_pte_present(&t[i]))
			continue;
		if (level > 1 && !dma_pte_superpage(&t[i])) {
			why = pk_walk_pgtable(w, addr, level - 1);
			continue;
		}
		if (level > 3)
			why = "a superpage larger than 1 GiB";
		else if (addr < w->data_phys || size > w->data_len ||
			 addr - w->data_phys > w->data_len - size)
			why = "a mapping outside the pkernfs data area";
		/* Version 1's bound is the whole namespace, the pool too. */
		else if (addr < w->pool_phys + (w->pool_pages << PAGE_SHIFT) &&
			 w->pool_phys < addr + size)
			why = "a mapping into the IOMMU table pool";
		else
			why = pk_span_add(w, addr, size);
	}
	return why;
}

/*
 * One page table per domain id, one domain id per page table; walked
 * once. Record @rec uses it.
 */
static const char *pk_walk_domain(struct pk_walk *w, u32 rec, u64 pgd, u16 did, u8 aw)
{
	struct pk_tree *t;
	u32 i;

	for (i = 0; i < w->nr_tree; i++) {
		t = &w->tree[i];
		if (t->did == did && t->pgd == pgd && t->aw == aw) {
			w->tree_of[rec] = i;
			t->users++;
			return NULL;
		}
		if (t->did == did || t->pgd == pgd)
			return "domain ids and page tables not one to one";
	}
	if (w->nr_tree >= ARRAY_SIZE(w->tree))
		return "too many page tables";
	t = &w->tree[w->nr_tree];
	t->pgd = pgd;
	t->did = did;
	t->aw = aw;
	t->users = 1;
	w->tree_of[rec] = w->nr_tree;
	w->cur = w->nr_tree++;
	return pk_walk_pgtable(w, pgd, agaw_to_level(aw));
}

static const char *pk_walk_context(struct pk_walk *w, u8 bus, u8 devfn,
				   const struct context_entry *ce)
{
	const struct pkvtd_handover *h = w->h;
	u32 i, n = le32_to_cpu(h->nr_dev);
	u16 did = (ce->hi >> 8) & 0xffff;
	u8 aw = ce->hi & 7;

	if (!(ce->lo & 1))
		return ce->lo || ce->hi ? "a non-present context entry that is not zero" : NULL;
	for (i = 0; i < n; i++)
		if (h->dev[i].bus == bus && h->dev[i].devfn == devfn)
			break;
	if (i == n)
		return "a context entry for a device that was not preserved";
	if (le64_to_cpu(h->dev[i].ctx_lo) != ce->lo || le64_to_cpu(h->dev[i].ctx_hi) != ce->hi)
		return "a context entry differs from its record";
	if (((ce->lo >> 2) & 3) != CONTEXT_TT_MULTI_LEVEL)
		return "a context entry with device-TLB or pass-through translation";
	if (ce->lo & 0xff2 || ce->hi & ~((0xffffULL << 8) | 7))
		return "reserved bits set in a context entry";
	if (!did || did >= cap_ndoms(w->iommu->cap))
		return "domain id 0 or out of range";
	if (aw != w->iommu->agaw || !(cap_sagaw(w->iommu->cap) & BIT(aw)))
		return "an address width this IOMMU does not use";
	return pk_walk_domain(w, i, ce->lo & VTD_PAGE_MASK, did, aw);
}

static const char *pk_check_tables(struct pk_walk *w, u64 root_pa)
{
	const struct root_entry *root = (void *)(w->pool + (root_pa - w->pool_phys));
	const char *why = NULL;
	u32 found = 0;
	int bus, fn;

	for (bus = 0; bus < 256 && !why; bus++) {
		const struct context_entry *ctbl;

		if (root[bus].hi)
			return "root entry has an upper half (scalable mode)";
		if (!(root[bus].lo & 1)) {
			if (root[bus].lo)
				return "a non-present root entry that is not zero";
			continue;
		}
		if (root[bus].lo & 0xffe)
			return "reserved bits set in a root entry";
		ctbl = pk_walk_page(w, root[bus].lo & VTD_PAGE_MASK, &why);
		for (fn = 0; ctbl && fn < 256 && !why; fn++) {
			why = pk_walk_context(w, bus, fn, &ctbl[fn]);
			found += !why && (ctbl[fn].lo & 1);
		}
	}
	if (!why && found != le32_to_cpu(w->h->nr_dev))
		why = "a preserved device has no context entry";
	return why;
}

static const char *pk_check_header(struct intel_iommu *iommu, const struct pkvtd_handover *h,
				   u64 root_pa)
{
	u64 pool = le64_to_cpu(h->pool_phys), pages = le64_to_cpu(h->pool_pages);
	u64 data = le64_to_cpu(h->data_phys), dlen = le64_to_cpu(h->data_len);
	u32 i, j, n = le32_to_cpu(h->nr_dev);

	if (le16_to_cpu(h->flags))
		return "scalable mode state (not supported)";
	if (h->reserved)
		return "reserved header field set";
	if (le64_to_cpu(h->reg_phys) != iommu->reg_phys)
		return "saved for another IOMMU unit (register base differs)";
	if (le64_to_cpu(h->root_phys) != root_pa)
		return "root table address differs from the hardware's";
	if (le64_to_cpu(h->cap) != iommu->cap || le64_to_cpu(h->ecap) != iommu->ecap)
		return "IOMMU capabilities differ";
	if (!n || n > PKVTD_MAX_DEVS)
		return "device count out of range";
	if (pool & ~PAGE_MASK || pages < PKVTD_RESERVED_PAGES + 8 || pages > PKVTD_MAX_POOL_PAGES ||
	    root_pa != pool + (2 * iommu->seq_id + 1) * PAGE_SIZE)
		return "the root table is not where the pool layout puts it";
	if (le16_to_cpu(h->version) == PKVTD_VERSION_1)
		;	/* no data area: pk_v1_data_area() */
	else if (data & ~PAGE_MASK || !dlen || dlen & ~PAGE_MASK || data + dlen < data ||
		 (data < pool + pages * PAGE_SIZE && pool < data + dlen))
		return "the data area is malformed or overlaps the pool";
	for (i = 0; i < n; i++) {
		if (memchr_inv(h->dev[i].reserved, 0, sizeof(h->dev[i].reserved)))
			return "reserved bytes set in a device record";
		for (j = 0; j < i; j++)
			if (h->dev[j].bus == h->dev[i].bus && h->dev[j].devfn == h->dev[i].devfn)
				return "a device listed twice";
	}
	return NULL;
}

/*
 * Turn bus mastering off for every device behind @iommu that has it on.
 * Used when translation the previous kernel left on is not adopted: not
 * the handover's list, which may be what is damaged. A device stopped
 * wrongly gets bus mastering back when its driver binds.
 */
static unsigned int pk_stop_unit_devices(struct intel_iommu *iommu)
{
	struct pci_dev *pdev = NULL;
	unsigned int n = 0;
	u16 cmd;

	for_each_pci_dev(pdev) {
		struct dmar_drhd_unit *drhd = dmar_find_matched_drhd_unit(pdev);

		if (!drhd || drhd->iommu != iommu ||
		    pci_read_config_word(pdev, PCI_COMMAND, &cmd) || !(cmd & PCI_COMMAND_MASTER))
			continue;
		pci_info(pdev, "pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off\n");
		pci_clear_master(pdev);
		n++;
	}
	return n;
}

static char pk_why[PKVTD_MAX_UNITS][192];

/* Log why @iommu's state is not adopted, keep it for restore, stop its devices. */
static __printf(3, 4) void pk_refuse(struct intel_iommu *iommu, int err, const char *fmt, ...)
{
	char *why = iommu->seq_id < PKVTD_MAX_UNITS ? pk_why[iommu->seq_id] : NULL;
	char buf[192];
	unsigned int n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why ?: buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pr_err("%s: IOMMU state from the previous kernel refused: %s\n", iommu->name, why ?: buf);
	n = pk_stop_unit_devices(iommu);
	pr_err("%s: %u device(s) stopped before translation goes off\n", iommu->name, n);
	if (why) {
		pk_refused[iommu->seq_id].err = err;
		pk_refused[iommu->seq_id].why = why;
	}
}

static bool pk_in_ram(u64 root_pa)
{
	return region_intersects(root_pa - PAGE_SIZE, 2 * PAGE_SIZE, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) != REGION_DISJOINT;
}

/*
 * A version 1 page (checksum already checked) read as version 2: the same
 * header without the data area, whose bytes the device records begin at.
 * The copy keeps version 1, so the checks know it has no data area.
 */
static struct pkvtd_handover *pk_handover_from_v1(const struct pkvtd_handover *h)
{
	u32 n = min_t(u32, le32_to_cpu(h->nr_dev), PKVTD_MAX_DEVS);
	struct pkvtd_handover *v2 = kzalloc(PAGE_SIZE, GFP_KERNEL);

	if (!v2)
		return NULL;
	memcpy(v2, h, PKVTD_V1_DEV_OFFSET);
	memcpy(v2->dev, (const u8 *)h + PKVTD_V1_DEV_OFFSET, n * sizeof(*v2->dev));
	return v2;
}

/*
 * The handover page below the hardware's root, mapped; NULL if not ours.
 * Never read where it is System RAM in this kernel: the page allocator
 * owns it, whatever it holds now.
 */
static struct pkvtd_handover *pk_map_handover(struct intel_iommu *iommu, u64 *root_pa)
{
	struct pkvtd_handover *h;

	*root_pa = dmar_readq(iommu->reg + DMAR_RTADDR_REG) & VTD_PAGE_MASK;
	if (*root_pa < PAGE_SIZE || pk_in_ram(*root_pa))
		return NULL;
	h = memremap(*root_pa - PAGE_SIZE, PAGE_SIZE, MEMREMAP_WB);
	if (h && le64_to_cpu(h->magic) != PKVTD_MAGIC) {
		memunmap(h);
		h = NULL;
	}
	return h;
}

/**
 * pkernfs_iommu_fail_closed() - translation left on is about to go off
 * @iommu: a unit iommu.c turns off at boot (intel_iommu=off, an ignored
 *	unit, a failed copy of adopted tables)
 * @why: the reason, for the log
 *
 * If the previous kernel handed state over (or a live update was asked
 * for), stop the unit's bus-mastering devices first, so that no IOVA
 * becomes a physical address in this kernel.
 */
void pkernfs_iommu_fail_closed(struct intel_iommu *iommu, const char *why)
{
	struct pkvtd_handover *h;
	u64 root_pa;

	if (is_kdump_kernel() || !(readl(iommu->reg + DMAR_GSTS_REG) & DMA_GSTS_TES))
		return;
	h = pk_map_handover(iommu, &root_pa);
	if (h)
		memunmap(h);
	else if (!pkernfs_iommu_liveupdate && (root_pa < PAGE_SIZE || !pk_in_ram(root_pa)))
		return;		/* not ours, and no live update: as upstream */
	pk_refuse(iommu, -EBADMSG, "%s", why);
}

/*
 * A bridge whose bus mastering is off does not forward the DMA of the
 * preserved devices below it: say so, as the old kernel should have kept
 * it on (an old kernel that did not, or firmware that reset the port).
 */
static void pk_check_paths(struct intel_iommu *iommu, const struct pkernfs_iommu_saved *s)
{
	unsigned int i, kept = 0, off = 0;
	struct pci_dev *pdev, *up;
	u16 cmd;

	for (i = 0; i < le32_to_cpu(s->hdr.nr_dev); i++) {
		pdev = pci_get_domain_bus_and_slot(iommu->segment, s->dev[i].bus,
						   s->dev[i].devfn);
		if (!pdev)
			continue;
		for (up = pci_upstream_bridge(pdev); up; up = pci_upstream_bridge(up)) {
			if (pci_read_config_word(up, PCI_COMMAND, &cmd))
				continue;
			if (cmd & PCI_COMMAND_MASTER) {
				kept++;
				continue;
			}
			off++;
			pci_warn(up, "pkernfs-iommu: bus mastering is off on the path of preserved %s: its DMA is blocked until a driver turns it on\n",
				 pci_name(pdev));
		}
		pci_dev_put(pdev);
	}
	if (kept || off)
		pr_info("%s: %u bridge(s) on the preserved devices' paths kept bus mastering, %u did not\n",
			iommu->name, kept, off);
}

/*
 * init_dmars(), translation found on: adopt it if a live update was asked
 * for and the handover checks out. False: the caller turns translation
 * off and starts clean, after pk_refuse() stopped the devices.
 */
bool pkernfs_iommu_adopt_unit(struct intel_iommu *iommu)
{
	struct pkernfs_iommu_saved *s = NULL;
	struct pkvtd_handover *h, *h1 = NULL;
	struct pk_walk *w = NULL;
	const char *why;
	u64 root_pa, pool, pages;
	u16 ver;
	u32 n;

	h = pk_map_handover(iommu, &root_pa);
	/* Tables in System RAM are never legitimate outside kdump: refused below. */
	if (!h && !pkernfs_iommu_liveupdate && (root_pa < PAGE_SIZE || !pk_in_ram(root_pa)))
		return false;	/* not ours: whoever left translation on */
	if (h && !pkernfs_iommu_liveupdate) {
		pr_info("%s: the previous kernel handed over IOMMU state (generation %llu), but no live update was requested (pkernfs_iommu.liveupdate=1): ignored, starting clean\n",
			iommu->name, le64_to_cpu(h->generation));
		pk_refuse(iommu, -ENOENT, "no live update was requested");
		goto out;
	}
	if (iommu->seq_id >= PKVTD_MAX_UNITS) {
		pk_refuse(iommu, -EBADMSG, "only the first %d IOMMU units are handed over",
			  PKVTD_MAX_UNITS);
		goto out;
	}
	/* Before the magic, which pk_map_handover() did not read there. */
	why = root_pa < PAGE_SIZE ? "holds no root table" :
	      pk_check_memory(root_pa - PAGE_SIZE, 2 * PAGE_SIZE);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the table pool at %#llx %s",
			  root_pa < PAGE_SIZE ? root_pa : root_pa - PAGE_SIZE, why);
		goto out;
	}
	if (!h) {
		pk_refuse(iommu, -EBADMSG,
			  "no handover page below the root table at %#llx (overwritten, or not from pkernfs)",
			  root_pa);
		return false;
	}
	/* The kdump copy cannot change modes either. */
	if (dmar_readq(iommu->reg + DMAR_RTADDR_REG) & DMA_RTADDR_SMT) {
		pk_refuse(iommu, -EBADMSG, "scalable-mode root table (not supported)");
		goto out;
	}
	if (sm_supported(iommu)) {
		pk_refuse(iommu, -EBADMSG, "this kernel runs the IOMMU in scalable mode");
		goto out;
	}
	ver = le16_to_cpu(h->version);
	if (ver != PKVTD_VERSION && ver != PKVTD_VERSION_1) {
		pk_refuse(iommu, -EPROTONOSUPPORT,
			  "handover format version %u, this kernel reads versions %u to %u",
			  ver, PKVTD_VERSION_1, PKVTD_VERSION);
		goto out;
	}
	if (le32_to_cpu(h->crc) != pkvtd_crc(h)) {
		pk_refuse(iommu, -EBADMSG, "checksum mismatch");
		goto out;
	}
	if (ver == PKVTD_VERSION_1) {
		h1 = h;
		h = pk_handover_from_v1(h1);
		if (!h) {
			pk_refuse(iommu, -ENOMEM, "out of memory");
			goto out;
		}
		pr_info("%s: handover version 1 (from a format 1.1 kernel): read as version %u, its mappings bounded by the persistent memory that holds its tables\n",
			iommu->name, PKVTD_VERSION);
	}
	why = pk_check_header(iommu, h, root_pa);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "%s", why);
		goto out;
	}
	pool = le64_to_cpu(h->pool_phys);
	pages = le64_to_cpu(h->pool_pages);
	why = pk_check_memory(pool, pages << PAGE_SHIFT);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the table pool at %#llx (%llu pages) %s", pool, pages,
			  why);
		goto out;
	}
	why = ver == PKVTD_VERSION_1 ? NULL :
	      pk_check_memory(le64_to_cpu(h->data_phys), le64_to_cpu(h->data_len));
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the data area at %#llx %s", le64_to_cpu(h->data_phys),
			  why);
		goto out;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (w) {
		w->seen = bitmap_zalloc(pages, GFP_KERNEL);
		w->pool = memremap(pool, pages << PAGE_SHIFT, MEMREMAP_WB);
	}
	if (!w || !w->seen || !w->pool) {
		pk_refuse(iommu, -ENOMEM, "cannot map the table pool to check it");
		goto out;
	}
	w->iommu = iommu;
	w->h = h;
	w->pool_phys = pool;
	w->pool_pages = pages;
	w->data_phys = le64_to_cpu(h->data_phys);
	w->data_len = le64_to_cpu(h->data_len);
	why = ver == PKVTD_VERSION_1 ? pk_v1_data_area(w) : NULL;
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the persistent memory around the table pool %s", why);
		goto out;
	}
	why = pk_check_tables(w, root_pa);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "%s", why);
		goto out;
	}
	pk_spans_finish(w);
	n = le32_to_cpu(h->nr_dev);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (s) {
		memcpy(&s->hdr, h, sizeof(s->hdr));
		s->dev = kmemdup(h->dev, n * sizeof(*s->dev), GFP_KERNEL);
		s->restored = kcalloc(n, sizeof(*s->restored), GFP_KERNEL);
		s->tree_of = kmemdup(w->tree_of, n * sizeof(*s->tree_of), GFP_KERNEL);
		s->tree = kmemdup(w->tree, w->nr_tree * sizeof(*s->tree), GFP_KERNEL);
	}
	if (!s || !s->dev || !s->restored || !s->tree_of || !s->tree) {
		if (s) {
			kfree(s->dev);
			kfree(s->restored);
			kfree(s->tree_of);
			kfree(s->tree);
			kfree(s);
			s = NULL;
		}
		pk_refuse(iommu, -ENOMEM, "out of memory");
		goto out;
	}
	/* The spans are s's now. */
	s->nr_tree = w->nr_tree;
	w->nr_tree = 0;
	s->iommu = iommu;
	spin_lock(&pk_held_lock);
	pk_trees_live += s->nr_tree;
	spin_unlock(&pk_held_lock);
	pk_saved[iommu->seq_id] = s;
	pk_saved_open += n;
	pk_check_paths(iommu, s);
	pr_info("%s: adopting the previous kernel's translation (generation %llu): %u preserved device(s) keep DMA going\n",
		iommu->name, le64_to_cpu(s->hdr.generation), n);
out:
	if (w) {
		while (w->nr_tree)
			kvfree(w->tree[--w->nr_tree].span);
		if (w->pool)
			memunmap(w->pool);
		bitmap_free(w->seen);
		kfree(w);
	}
	if (h1) {
		memunmap(h1);
		kfree(h);
	} else if (h) {
		memunmap(h);
	}
	return !!s;
}

/* ---- giving up what nobody restores ---- */

/* Clear @rec's copied context entry, and flush. iommu->lock held. */
static void pk_abandon_one(struct intel_iommu *iommu, const struct pkvtd_dev *rec)
{
	/* alloc 1: with 0 a copied entry reads as absent; its table exists. */
	struct context_entry *ctx = iommu_context_addr(iommu, rec->bus, rec->devfn, 1);
	u16 did;

	if (!ctx || !context_present(ctx) || !context_copied(iommu, rec->bus, rec->devfn))
		return;
	did = context_domain_id(ctx);
	context_clear_entry(ctx);
	__iommu_flush_cache(iommu, ctx, sizeof(*ctx));
	iommu->flush.flush_context(iommu, did, PCI_DEVID(rec->bus, rec->devfn),
				   DMA_CCMD_MASK_NOBIT, DMA_CCMD_DEVICE_INVL);
	iommu->flush.flush_iotlb(iommu, did, 0, 0, DMA_TLB_DSI_FLUSH);
	clear_context_copied(iommu, rec->bus, rec->devfn);
	pr_warn("%s: %02x:%02x.%d abandoned (token %#llx): bus mastering off, its context cleared\n",
		iommu->name, rec->bus, PCI_SLOT(rec->devfn), PCI_FUNC(rec->devfn),
		le64_to_cpu(rec->token));
}

/*
 * Give up record @i of @s: stop @pdev (if it is still there), clear its
 * copied context, flush, and drop its tree user, so the memory it reached
 * is no longer held. Caller holds pk_mutex; @i is not restored.
 */
static void pk_abandon_rec(struct intel_iommu *iommu, struct pkernfs_iommu_saved *s,
			   u32 i, struct pci_dev *pdev)
{
	/* Stopped first: then nothing walks the context being cleared. */
	if (pdev)
		pci_clear_master(pdev);
	spin_lock(&iommu->lock);
	pk_abandon_one(iommu, &s->dev[i]);
	spin_unlock(&iommu->lock);
	/* As if restored: nothing claims or keeps it. */
	s->restored[i] = true;
	set_bit(i, s->abandoned);
	pk_saved_open--;
	pk_tree_put(s, i);
}

/* pk_abandon_rec() on record @i of @s, its device looked up. Under pk_mutex. */
static void pk_abandon_found(struct pkernfs_iommu_saved *s, u32 i)
{
	struct pci_dev *pdev = pci_get_domain_bus_and_slot(s->iommu->segment, s->dev[i].bus,
							   s->dev[i].devfn);

	pk_abandon_rec(s->iommu, s, i, pdev);
	pci_dev_put(pdev);
}

/* Does a span of @t leave [@ds, +@dl) inside [@rs, +@rl)? Under pk_mutex. */
static bool pk_tree_strays(const struct pk_tree *t, u64 rs, u64 rl, u64 ds, u64 dl)
{
	const struct pk_span *sp;

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
	if (!READ_ONCE(pk_trees_live))
		return 0;
	mutex_lock(&pk_mutex);
	pk_reap_torn();
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pk_saved[u];
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
	mutex_unlock(&pk_mutex);
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
	mutex_lock(&pk_mutex);
	pk_reap_torn();
	s = pk_saved[info->iommu->seq_id];
	for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
		if (s->dev[i].bus != info->bus || s->dev[i].devfn != info->devfn ||
		    s->restored[i])
			continue;
		pk_abandon_rec(info->iommu, s, i, to_pci_dev(info->dev));
		pr_warn("%s: %02x:%02x.%d removed before its domain was restored (token %#llx): given up\n",
			info->iommu->name, info->bus, PCI_SLOT(info->devfn),
			PCI_FUNC(info->devfn), le64_to_cpu(s->dev[i].token));
	}
	mutex_unlock(&pk_mutex);
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
	mutex_lock(&pk_mutex);
	pk_reap_torn();
	for_each_active_iommu(iommu, drhd) {
		struct pkernfs_iommu_saved *s;

		if (iommu->seq_id >= PKVTD_MAX_UNITS || !pk_saved[iommu->seq_id])
			continue;
		s = pk_saved[iommu->seq_id];
		for (i = 0; i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (s->restored[i])
				continue;
			pk_abandon_found(s, i);
			n++;
		}
	}
	mutex_unlock(&pk_mutex);
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
	/* pk_saved_open is set at DMAR init, before this initcall. */
	if (pkernfs_iommu_abandon_after && READ_ONCE(pk_saved_open))
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

/* ---- a copied context replaced by another domain ---- */

/*
 * Finish each open record whose copied context another domain's attach
 * cleared: no device walks its tables any more, so they, their domain id
 * and the memory they map are no longer held, and a restore is refused.
 * A restored domain's own record is left to pkernfs_iommu_domain_exit().
 * Caller holds pk_mutex.
 */
static void pk_reap_torn(void)
{
	struct pkernfs_iommu_saved *s;
	int u;
	u32 i;

	lockdep_assert_held(&pk_mutex);
	/* Fully ordered: the torn bits set before the flag are seen below. */
	if (!atomic_xchg(&pk_torn_pending, 0))
		return;
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		s = pk_saved[u];
		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
			if (!test_bit(i, s->torn) || s->restored[i])
				continue;
			s->restored[i] = true;
			set_bit(i, s->replaced);
			pk_saved_open--;
			pk_tree_put(s, i);
			pr_info("%s: %02x:%02x.%d: its handed-over context was replaced by another domain (token %#llx): its tables and memory are no longer held\n",
				s->iommu->name, s->dev[i].bus, PCI_SLOT(s->dev[i].devfn),
				PCI_FUNC(s->dev[i].devfn), le64_to_cpu(s->dev[i].token));
		}
	}
}

static void pk_torn_work_fn(struct work_struct *work)
{
	mutex_lock(&pk_mutex);
	pk_reap_torn();
	mutex_unlock(&pk_mutex);
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
 * finished by pk_reap_torn(), which needs pk_mutex.
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
	s = pk_saved[iommu->seq_id];
	for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++) {
		if (s->dev[i].bus == bus && s->dev[i].devfn == devfn) {
			set_bit(i, s->torn);
			any = true;
		}
	}
	if (!any)
		return;
	atomic_set_release(&pk_torn_pending, 1);
	schedule_work(&pk_torn_work);
}

/* ---- debugfs: state, and fault injection for tests ---- */

static int pk_state_show(struct seq_file *m, void *unused)
{
	struct pkernfs_iommu_dom *pk;
	int u, i;

	mutex_lock(&pk_mutex);
	pk_reap_torn();
	seq_printf(m, "liveupdate %d\n", pkernfs_iommu_liveupdate);
	if (pk_pool) {
		phys_addr_t pa = pkernfs_kroot_phys(pk_pool);

		seq_printf(m, "pool %pa pages %lu free %lu users %u\n", &pa,
			   pkernfs_kroot_npages(pk_pool), pkernfs_kroot_free_pages(pk_pool),
			   pk_pool_users);
	}
	spin_lock(&pk_list_lock);
	list_for_each_entry(pk, &pk_domains, list) {
		struct iommu_domain_info *di;
		struct dmar_drhd_unit *drhd;
		struct intel_iommu *iommu;

		seq_printf(m, "domain token %#llx devices %d", pk->token,
			   list_empty(&pk->domain->devices) ? 0 : 1);
		/* The list keeps the domain; iommu->lock its per-unit infos. */
		rcu_read_lock();
		for_each_active_iommu(iommu, drhd) {
			spin_lock(&iommu->lock);
			di = xa_load(&pk->domain->iommu_array, iommu->seq_id);
			if (di)
				seq_printf(m, " %s did %u", iommu->name, di->did);
			spin_unlock(&iommu->lock);
		}
		rcu_read_unlock();
		seq_putc(m, '\n');
	}
	spin_unlock(&pk_list_lock);
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pk_saved[u];

		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++)
			seq_printf(m, "saved dmar%d generation %llu %02x:%02x.%d token %#llx did %u %s\n",
				   u, le64_to_cpu(s->hdr.generation), s->dev[i].bus,
				   PCI_SLOT(s->dev[i].devfn), PCI_FUNC(s->dev[i].devfn),
				   le64_to_cpu(s->dev[i].token),
				   (u32)(le64_to_cpu(s->dev[i].ctx_hi) >> 8) & 0xffff,
				   test_bit(i, s->abandoned) ? "abandoned" :
				   test_bit(i, s->replaced) ? "replaced" :
				   s->restored[i] ? "restored" : "open");
		for (i = 0; s && i < s->nr_tree; i++) {
			struct pk_tree *t = &s->tree[i];
			u64 bytes = 0;
			u32 j;

			spin_lock(&pk_held_lock);
			for (j = 0; j < t->nr; j++)
				bytes += t->span[j].end - t->span[j].start;
			seq_printf(m, "tree dmar%d did %u pgd %#llx users %u held %u span(s) %llu bytes\n",
				   u, t->did, t->pgd, t->users, t->nr, bytes);
			spin_unlock(&pk_held_lock);
		}
	}
	mutex_unlock(&pk_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pk_state);

static int __init pkernfs_iommu_debugfs(void)
{
	struct dentry *d = debugfs_create_dir("pkernfs_iommu", NULL);

	debugfs_create_file("state", 0400, d, NULL, &pk_state_fops);
	/*
	 * Damages the next handover: 1 crc, 2 version, 3 regs, 4 did 0,
	 * 5 data area, 6 version 1, 7 and a leaf into metadata, 8 and a leaf
	 * at inject_pa.
	 */
	debugfs_create_u32("inject", 0600, d, (u32 *)&pk_inject);
	debugfs_create_x64("inject_pa", 0600, d, &pk_inject_pa);
	return 0;
}
late_initcall(pkernfs_iommu_debugfs);
