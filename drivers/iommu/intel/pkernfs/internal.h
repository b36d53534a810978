/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of the pkernfs VT-d persistence share. The life-cycle
 * and the lock order are in Documentation/filesystems/pkernfs.rst.
 */
#ifndef _INTEL_PKERNFS_INTERNAL_H
#define _INTEL_PKERNFS_INTERNAL_H

#include <linux/atomic.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pkernfs.h>
#include <linux/spinlock.h>

#include "../iommu.h"
#include "../pasid.h"
#include "../../iommu-pages.h"
#include "../pkernfs_iommu.h"

/* One parameter namespace for the files: pkernfs_iommu.<name>. */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pkernfs_iommu."

/*
 * A marked domain. Table pages come from @pool as long as this exists;
 * @token is 0 once unmarked (no longer handed over).
 */
struct pkernfs_iommu_dom {
	struct list_head list;		/* pkvtd_domains, pkvtd_list_lock */
	struct dmar_domain *domain;
	u64 token;
	int did[PKVTD_MAX_UNITS];	/* restored: the saved domain ids, used once */
	bool *restored;			/* restored: its saved record's flag */
	bool adopted;			/* restored: its copied context was taken over */
	bool tagged;			/* and that device's cache tag is on the domain */
	struct pkernfs_iommu_saved *saved;	/* restored: the record's unit */
	u32 rec;			/* restored: the record */
	u64 inherit;			/* takes over this record's device when attached */
	/* Table pages unlinked but maybe still cached by the IOMMU. */
	spinlock_t defer_lock;
	unsigned int defer_depth, nr_deferred, max_deferred;
	phys_addr_t *deferred;
	struct page *spare;		/* an empty carrier (pool.c); xchg/cmpxchg */
};

/* A run of memory that a handed-over page table maps. */
struct pkvtd_span {
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
struct pkvtd_tree {
	u64 pgd;
	u16 did;
	u8 aw;
	unsigned int users;	/* unfinished records; pkvtd_held_lock */
	unsigned int nr, max;
	struct pkvtd_span *span;	/* sorted, merged; NULL once users is 0 */
};

/* What a unit handed over, as checked at DMAR init. */
struct pkernfs_iommu_saved {
	struct pkvtd_handover hdr;	/* header fields only */
	struct intel_iommu *iommu;
	struct pkvtd_dev *dev;
	bool *restored;
	u16 *tree_of;			/* record -> tree[] */
	struct pkvtd_tree *tree;
	u32 nr_tree;
	u64 (*sm_pages)[2];		/* scalable mode: PASID directory and table */
	DECLARE_BITMAP(abandoned, PKVTD_MAX_DEVS);	/* restored flag set too */
	/* Copied context cleared by another domain's attach; never cleared. */
	DECLARE_BITMAP(torn, PKVTD_MAX_DEVS);
	DECLARE_BITMAP(replaced, PKVTD_MAX_DEVS);	/* finished for that; restored set */
};

/*
 * Legacy-mode context entry fields with no iommu.h mask: FPD and bits 4-11
 * are never set in a handover (reserved to the check), then the domain id
 * and the address width.
 */
#define PKVTD_CTX_LO_RSVD	(GENMASK_ULL(11, 4) | BIT_ULL(1))
#define PKVTD_CTX_HI_DID	GENMASK_ULL(23, 8)
#define PKVTD_CTX_HI_AW		GENMASK_ULL(2, 0)

/*
 * Scalable-mode context entry (low half): device-TLB, PASID and
 * page-request enables, and the PASID directory size; the RID_PASID in
 * the high quadword.
 */
#define PKVTD_SM_CTX_DTE	BIT_ULL(2)
#define PKVTD_SM_CTX_PASIDE	BIT_ULL(3)
#define PKVTD_SM_CTX_PRE	BIT_ULL(4)
#define PKVTD_SM_CTX_PDTS	GENMASK_ULL(11, 9)
#define PKVTD_SM_CTX_RID_PASID	GENMASK_ULL(19, 0)

/*
 * The bits of a second-stage PASID entry a handover may have set: present,
 * address width, PGTT and the table in the first quadword; the domain id
 * and the two snoop controls in the second. Nothing in the others.
 */
#define PKVTD_PE0_KNOWN		(BIT_ULL(0) | GENMASK_ULL(4, 2) | GENMASK_ULL(8, 6) | VTD_PAGE_MASK)
#define PKVTD_PE1_KNOWN		(GENMASK_ULL(15, 0) | BIT_ULL(23) | BIT_ULL(24))

/* A device record's context entry. */
static inline struct context_entry pkvtd_rec_context(const struct pkvtd_dev *rec)
{
	return (struct context_entry) {
		.lo = le64_to_cpu(rec->ctx_lo),
		.hi = le64_to_cpu(rec->ctx_hi),
	};
}

static inline struct pkernfs_iommu_dom *to_pk(struct dmar_domain *domain)
{
	return domain->pk;
}

/* Why a unit's handover was not adopted at boot, for restore's errno. */
struct pkvtd_refusal {
	int err;
	const char *why;
};

/**
 * struct pkvtd_pgwalk - what pkvtd_pgtable_walk() does
 * @table: the virtual address of the table page at @pa; NULL or an
 *	ERR_PTR stops the walk
 * @leaf: at each present leaf (a page, or a superpage above level 1);
 *	non-zero stops the walk
 * @leave: at each table page once its entries are done; may be NULL
 */
struct pkvtd_pgwalk {
	void *(*table)(struct pkvtd_pgwalk *pw, u64 pa);
	int (*leaf)(struct pkvtd_pgwalk *pw, struct dma_pte *pte, u64 iova, int level);
	void (*leave)(struct pkvtd_pgwalk *pw, struct dma_pte *table);
};

/* The pool, mapped once, and what the walk has seen of it. */
struct pkvtd_walk {
	struct intel_iommu *iommu;
	const struct pkvtd_handover *h;
	u8 *pool;
	u64 pool_phys, pool_pages, data_phys, data_len;
	unsigned long *seen;
	u32 nr_tree, cur;
	struct pkvtd_tree tree[PKVTD_MAX_DEVS];
	u16 tree_of[PKVTD_MAX_DEVS];
	struct pkvtd_pgwalk pw;
	const char *why;
	bool sm;			/* scalable mode */
	u64 sm_dir[PKVTD_MAX_DEVS];	/* scalable mode: each record's PASID directory */
	u64 sm_tbl[PKVTD_MAX_DEVS];	/* and table */
};

/*
 * pool.c. Lock order: dmar_global_lock, pkvtd_mutex, pkvtd_list_lock,
 * then a domain's lock or iommu->lock, pkvtd_held_lock innermost.
 */
extern struct mutex pkvtd_mutex;
extern spinlock_t pkvtd_list_lock;
extern struct list_head pkvtd_domains;
extern struct pkernfs_kroot *pkvtd_pool;
extern unsigned int pkvtd_pool_users;
extern struct pkernfs_iommu_saved *pkvtd_saved[PKVTD_MAX_UNITS];
extern struct pkvtd_refusal pkvtd_refused[PKVTD_MAX_UNITS];
extern unsigned long pkvtd_saved_open;
extern spinlock_t pkvtd_held_lock;
extern unsigned int pkvtd_trees_live;
int pkvtd_pgtable_walk(struct pkvtd_pgwalk *pw, u64 pa, int level, u64 iova);
int pkvtd_pool_get(struct super_block *sb);
bool pkvtd_same_translation(u64 old_pgd, int old_level, struct dmar_domain *new);
struct iommu_domain *pkvtd_restore(struct device *dev, struct super_block *sb, u64 token);
void pkvtd_pool_put(void);
void pkvtd_free_tree(struct dma_pte *table, int level);
bool pkvtd_tree_put(struct pkernfs_iommu_saved *s, u32 i);
bool pkvtd_record_dev(struct dmar_domain *domain, struct device_domain_info *info);
void pkvtd_link_moved(struct device_domain_info *info);

/* domain.c */
int pkvtd_count_alias(struct pci_dev *pdev, u16 alias, void *data);
const char *pkvtd_dev_why(struct device *dev);

/* handover.c */
bool pkvtd_handover_armed(void);
u32 pkvtd_crc(const struct pkvtd_handover *h);

static inline void pkvtd_flush_page(struct intel_iommu *iommu, void *va)
{
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(va, PAGE_SIZE);
}

/* inject.c */
#ifdef CONFIG_INTEL_IOMMU_PKERNFS_FAULT_INJECT
void pkvtd_inject_before_crc(struct intel_iommu *iommu, struct pkvtd_handover *h,
			     struct root_entry *root, u32 n);
void pkvtd_inject_after_crc(struct pkvtd_handover *h);
void pkvtd_inject_debugfs(struct dentry *dir);
#else
static inline void pkvtd_inject_before_crc(struct intel_iommu *iommu, struct pkvtd_handover *h,
					   struct root_entry *root, u32 n)
{
}

static inline void pkvtd_inject_after_crc(struct pkvtd_handover *h)
{
}

static inline void pkvtd_inject_debugfs(struct dentry *dir)
{
}
#endif

/* check.c */
const char *pkvtd_check_memory(u64 start, u64 len);
const char *pkvtd_v1_data_area(struct pkvtd_walk *w);
const char *pkvtd_check_header(struct intel_iommu *iommu, const struct pkvtd_handover *h,
			       u64 root_pa);
const char *pkvtd_check_tables(struct pkvtd_walk *w, u64 root_pa);
void pkvtd_spans_finish(struct pkvtd_walk *w);

/* adopt.c */
extern bool pkernfs_iommu_liveupdate;

/* giveup.c */
extern atomic_t pkvtd_torn_pending;
void pkvtd_reap_torn(void);

#endif /* _INTEL_PKERNFS_INTERNAL_H */
