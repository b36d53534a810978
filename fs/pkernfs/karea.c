// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs kernel-only area: named roots and their page pools.
 *
 * A kernel user (the Intel IOMMU) asks for a named allocation in the
 * kernel area, a "root": a run of 4 KiB pages recorded in a kdir slot
 * with the owner's cookie. The slot is written by a journalled
 * transaction, so a root is never half-created. After kexec the owner
 * adopts the root by name and cookie.
 *
 * Each root carries a page pool. Allocation and free take only a
 * spinlock, because intel-iommu allocates page-table pages in atomic
 * context; the pool's used set lives in memory only. After an adopt the
 * owner rebuilds it by walking its own structures (pkernfs_kroot_claim()
 * for every page they reach) and then opens the pool with
 * pkernfs_kroot_ready(); until then the pool hands out nothing, so a page
 * the hardware still walks is never given out twice.
 *
 * Lifetime. A root belongs to the region, not to the mount: it holds a
 * reference on its first page, so an unbind of the dax device waits for
 * it (pkernfs_dax_wait_pins()), and it survives an unmount. Only its kdir
 * slot needs the filesystem: kr->sbi is cleared by kill_sb under
 * pkernfs_kroot_mutex, and a release without a mount leaves the slot on
 * media for the next adopt to reuse.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/bitmap.h>
#include <linux/libnvdimm.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pkernfs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include "pkernfs.h"

struct pkernfs_kroot {
	struct list_head list;		/* pkernfs_kroots */
	struct pkernfs_sb_info *sbi;	/* NULL once unmounted; the mutex */
	u32 slot;
	char name[PKERNFS_KNAME_LEN];
	u64 cookie;
	phys_addr_t phys;
	u8 *kaddr;
	unsigned long npages;
	struct page *ref;		/* keeps an unbind waiting */
	phys_addr_t data_phys;		/* the file data area of the same device */
	u64 data_len;

	spinlock_t lock;		/* the pool */
	unsigned long *used;
	unsigned long *bad;		/* memory errors: used for good */
	unsigned long nfree;
	unsigned long reserved;		/* of nfree, for pkernfs_kroot_page_alloc_reserved() */
	bool ready;
	bool poisoned;			/* a memory error hit it; never cleared */
};

static DEFINE_MUTEX(pkernfs_kroot_mutex);
static LIST_HEAD(pkernfs_kroots);

static bool pkernfs_kname_ok(const char *name)
{
	size_t len = strnlen(name, PKERNFS_KNAME_LEN);

	return len && len < PKERNFS_KNAME_LEN;
}

static u64 pkernfs_karea_pages(struct pkernfs_sb_info *sbi)
{
	return le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_KERNEL].len) >> PKERNFS_BLOCK_SHIFT;
}

static u64 pkernfs_karea_off(struct pkernfs_sb_info *sbi)
{
	return le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_KERNEL].off);
}

/* The kdir slot named @name, or -1. Caller holds sbi->lock. */
static int pkernfs_kdir_find(struct pkernfs_sb_info *sbi, const char *name)
{
	u32 i, n = le32_to_cpu(sbi->dsb->s_regions[PKERNFS_R_KDIR].count);

	for (i = 0; i < n; i++) {
		const struct pkernfs_kdir_entry *ke = &sbi->kdir[i];

		if (le64_to_cpu(ke->k_npages) &&
		    !strncmp(ke->k_name, name, PKERNFS_KNAME_LEN))
			return i;
	}
	return -1;
}

/*
 * First fit of @npages in the kernel area, or -ENOSPC. The live entries
 * were checked not to overlap at mount (pkernfs_kdir_validate()).
 */
static s64 pkernfs_karea_fit(struct pkernfs_sb_info *sbi, u64 npages)
{
	u32 i, n = le32_to_cpu(sbi->dsb->s_regions[PKERNFS_R_KDIR].count);
	u64 start = 0, total = pkernfs_karea_pages(sbi);
	bool moved;

	do {
		moved = false;
		for (i = 0; i < n; i++) {
			u64 s = le64_to_cpu(sbi->kdir[i].k_start);
			u64 len = le64_to_cpu(sbi->kdir[i].k_npages);

			if (len && s < start + npages && start < s + len) {
				start = s + len;
				moved = true;
			}
		}
	} while (moved && start + npages <= total);
	return start + npages <= total ? (s64)start : -ENOSPC;
}

/**
 * pkernfs_kdir_validate() - check the kernel-area directory at mount
 * @sbi: the filesystem, geometry loaded
 *
 * Every slot must pass its crc and bounds, and live entries must neither
 * overlap nor share a name: two owners of one page would each free it.
 *
 * Return: the number of live entries, or -EFSCORRUPTED.
 */
int pkernfs_kdir_validate(struct pkernfs_sb_info *sbi)
{
	u32 i, j, n = le32_to_cpu(sbi->dsb->s_regions[PKERNFS_R_KDIR].count);
	const char *why = NULL;
	int live = 0;

	for (i = 0; i < n; i++) {
		const struct pkernfs_kdir_entry *a = &sbi->kdir[i];
		u64 as = le64_to_cpu(a->k_start), an = le64_to_cpu(a->k_npages);

		if (pkernfs_kdir_check(sbi->dsb, a, &why)) {
			pkernfs_err(sbi, "kernel area entry %u: %s", i, why);
			return -EFSCORRUPTED;
		}
		if (!an)
			continue;
		live++;
		for (j = 0; j < i; j++) {
			const struct pkernfs_kdir_entry *b = &sbi->kdir[j];
			u64 bs = le64_to_cpu(b->k_start), bn = le64_to_cpu(b->k_npages);

			if (!bn)
				continue;
			if (as < bs + bn && bs < as + an) {
				pkernfs_err(sbi, "kernel area entries %u and %u overlap", j, i);
				return -EFSCORRUPTED;
			}
			if (!strncmp(a->k_name, b->k_name, PKERNFS_KNAME_LEN)) {
				pkernfs_err(sbi,
					    "kernel area entries %u and %u are both named '%.*s'",
					    j, i, PKERNFS_KNAME_LEN, a->k_name);
				return -EFSCORRUPTED;
			}
		}
	}
	return live;
}

/* Recorded bad pages of a root at byte @off of its region: never handed out. */
static void pkernfs_kroot_mark_bad(struct pkernfs_kroot *kr, u64 off)
{
	unsigned long i;
	u64 bad;

	while (pkernfs_bad_range(kr->sbi, off, ((u64)kr->npages << PAGE_SHIFT) -
				 (off - (kr->phys - kr->sbi->region->phys)), &bad)) {
		i = (bad - (kr->phys - kr->sbi->region->phys)) >> PAGE_SHIFT;
		kr->poisoned = true;
		__set_bit(i, kr->bad);
		if (!__test_and_set_bit(i, kr->used))
			kr->nfree--;
		off = bad + PAGE_SIZE;
		if (i + 1 >= kr->npages)
			break;
	}
}

static struct pkernfs_kroot *pkernfs_kroot_new(struct pkernfs_sb_info *sbi, u32 slot)
{
	const struct pkernfs_kdir_entry *ke = &sbi->kdir[slot];
	u64 off = pkernfs_karea_off(sbi) + (le64_to_cpu(ke->k_start) << PKERNFS_BLOCK_SHIFT);
	struct pkernfs_kroot *kr;

	kr = kzalloc(sizeof(*kr), GFP_KERNEL);
	if (!kr)
		return NULL;
	kr->npages = le64_to_cpu(ke->k_npages);
	kr->used = bitmap_zalloc(kr->npages, GFP_KERNEL);
	kr->bad = bitmap_zalloc(kr->npages, GFP_KERNEL);
	if (!kr->used || !kr->bad) {
		bitmap_free(kr->used);
		bitmap_free(kr->bad);
		kfree(kr);
		return NULL;
	}
	kr->sbi = sbi;
	kr->slot = slot;
	memcpy(kr->name, ke->k_name, PKERNFS_KNAME_LEN);
	kr->cookie = le64_to_cpu(ke->k_cookie);
	kr->phys = sbi->region->phys + off;
	kr->kaddr = sbi->base + off;
	kr->data_phys = sbi->region->phys + le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_DATA].off);
	kr->data_len = le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_DATA].len);
	kr->nfree = kr->npages;
	spin_lock_init(&kr->lock);
	pkernfs_kroot_mark_bad(kr, off);
	/* No page map in the KUnit stand-in; a real region always has one. */
	if (sbi->region->pgmap) {
		kr->ref = virt_to_page(kr->kaddr);
		get_page(kr->ref);
	}
	return kr;
}

static void pkernfs_kroot_free(struct pkernfs_kroot *kr)
{
	if (kr->ref)
		put_page(kr->ref);
	bitmap_free(kr->used);
	bitmap_free(kr->bad);
	kfree(kr);
}

static bool pkernfs_kroot_held(phys_addr_t phys)
{
	struct pkernfs_kroot *kr;

	lockdep_assert_held(&pkernfs_kroot_mutex);
	list_for_each_entry(kr, &pkernfs_kroots, list)
		if (kr->phys == phys)
			return true;
	return false;
}

/* A mounted pkernfs, or NULL. */
static struct pkernfs_sb_info *pkernfs_kroot_sbi(struct super_block *sb)
{
	if (!sb || sb->s_op != &pkernfs_super_operations || !PKERNFS_SB(sb)->mounted)
		return NULL;
	return PKERNFS_SB(sb);
}

/* pkernfs_kroot_create() on a filesystem the caller keeps entered. */
struct pkernfs_kroot *pkernfs_kroot_create_sbi(struct pkernfs_sb_info *sbi, const char *name,
					       u64 cookie, unsigned long npages)
{
	struct pkernfs_kdir_entry *img;
	struct pkernfs_kroot *kr;
	int slot, err;
	s64 start;
	u32 i, n;

	if (!pkernfs_kname_ok(name) || !npages)
		return ERR_PTR(-EINVAL);
	mutex_lock(&pkernfs_kroot_mutex);
	mutex_lock(&sbi->lock);
	err = -EEXIST;
	if (pkernfs_kdir_find(sbi, name) >= 0)
		goto out_unlock;
	err = -ENOSPC;
	n = le32_to_cpu(sbi->dsb->s_regions[PKERNFS_R_KDIR].count);
	for (slot = -1, i = 0; i < n && slot < 0; i++)
		if (!le64_to_cpu(sbi->kdir[i].k_npages))
			slot = i;
	start = pkernfs_karea_fit(sbi, npages);
	if (slot < 0 || start < 0) {
		pkernfs_err(sbi, "kernel area: no room for '%s' (%lu pages)", name, npages);
		goto out_unlock;
	}
	img = pkernfs_txn_add(sbi, PKERNFS_T_KDIR, slot);
	if (IS_ERR(img)) {
		err = PTR_ERR(img);
		goto out_unlock;
	}
	memset(img, 0, sizeof(*img));
	img->k_start = cpu_to_le64(start);
	img->k_npages = cpu_to_le64(npages);
	img->k_cookie = cpu_to_le64(cookie);
	strscpy(img->k_name, name, PKERNFS_KNAME_LEN);
	pkernfs_txn_commit(sbi);

	err = -ENOMEM;
	kr = pkernfs_kroot_new(sbi, slot);
	if (!kr)
		goto out_unlock;	/* on media: the owner can adopt it */
	kr->ready = true;
	list_add(&kr->list, &pkernfs_kroots);
	mutex_unlock(&sbi->lock);
	mutex_unlock(&pkernfs_kroot_mutex);
	pkernfs_info(sbi, "kernel area: created '%s', %lu pages at %pa", name, npages, &kr->phys);
	return kr;

out_unlock:
	mutex_unlock(&sbi->lock);
	mutex_unlock(&pkernfs_kroot_mutex);
	return ERR_PTR(err);
}

/**
 * pkernfs_kroot_create() - make a named root in the kernel-only area
 * @sb: a mounted pkernfs
 * @name: the root's name, shorter than PKERNFS_KNAME_LEN
 * @cookie: the owner's value, checked again by pkernfs_kroot_adopt()
 * @npages: 4 KiB pages in the root's pool
 *
 * May sleep. The pool starts empty and ready.
 *
 * Return: the root, or ERR_PTR: -EINVAL (not a pkernfs, bad name or size),
 * -EEXIST (a root of that name exists), -ENOSPC (no slot or no room),
 * -EROFS, -EIO (the device is going away), -ENOMEM.
 */
struct pkernfs_kroot *pkernfs_kroot_create(struct super_block *sb, const char *name,
					   u64 cookie, unsigned long npages)
{
	struct pkernfs_sb_info *sbi = pkernfs_kroot_sbi(sb);
	struct pkernfs_kroot *kr;
	int idx;

	if (!sbi)
		return ERR_PTR(-EINVAL);
	if (sb_rdonly(sb))
		return ERR_PTR(-EROFS);
	if (pkernfs_enter(sbi, &idx))
		return ERR_PTR(-EIO);
	kr = pkernfs_kroot_create_sbi(sbi, name, cookie, npages);
	pkernfs_exit(idx);
	return kr;
}

/* pkernfs_kroot_adopt() on a filesystem the caller keeps entered. */
struct pkernfs_kroot *pkernfs_kroot_adopt_sbi(struct pkernfs_sb_info *sbi, const char *name,
					      u64 cookie)
{
	struct pkernfs_kroot *kr = ERR_PTR(-ENOENT);
	int slot;
	u64 have;

	if (!pkernfs_kname_ok(name))
		return ERR_PTR(-EINVAL);
	mutex_lock(&pkernfs_kroot_mutex);
	mutex_lock(&sbi->lock);
	slot = pkernfs_kdir_find(sbi, name);
	if (slot < 0)
		goto out;
	have = le64_to_cpu(sbi->kdir[slot].k_cookie);
	if (have != cookie) {
		pkernfs_err(sbi, "kernel area root '%s' has cookie %#llx, not %#llx: not adopted",
			    name, have, cookie);
		kr = ERR_PTR(-EKEYREJECTED);
		goto out;
	}
	kr = pkernfs_kroot_new(sbi, slot);
	if (!kr) {
		kr = ERR_PTR(-ENOMEM);
		goto out;
	}
	if (pkernfs_kroot_held(kr->phys)) {
		pkernfs_kroot_free(kr);
		kr = ERR_PTR(-EBUSY);
		goto out;
	}
	list_add(&kr->list, &pkernfs_kroots);
	pkernfs_info(sbi, "kernel area: adopted '%s', %lu pages at %pa", name, kr->npages,
		     &kr->phys);
out:
	mutex_unlock(&sbi->lock);
	mutex_unlock(&pkernfs_kroot_mutex);
	return kr;
}

/**
 * pkernfs_kroot_cookie() - the cookie a root was made with
 * @sb: a mounted pkernfs
 * @name: the root's name
 * @cookie: set to it
 *
 * For an owner that adopts roots of more than one layout version: it
 * picks the cookie to adopt with, and pkernfs_kroot_adopt() checks it.
 *
 * Return: 0, -ENOENT (no such root), -EINVAL (not a mounted pkernfs, or a
 * bad name), -EIO.
 */
int pkernfs_kroot_cookie(struct super_block *sb, const char *name, u64 *cookie)
{
	struct pkernfs_sb_info *sbi = pkernfs_kroot_sbi(sb);
	int idx, slot;

	if (!sbi || !pkernfs_kname_ok(name))
		return -EINVAL;
	if (pkernfs_enter(sbi, &idx))
		return -EIO;
	mutex_lock(&sbi->lock);
	slot = pkernfs_kdir_find(sbi, name);
	if (slot >= 0)
		*cookie = le64_to_cpu(sbi->kdir[slot].k_cookie);
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
	return slot < 0 ? -ENOENT : 0;
}

/* pkernfs_kroot_recookie() on a filesystem the caller keeps entered. */
int pkernfs_kroot_recookie_sbi(struct pkernfs_sb_info *sbi, struct pkernfs_kroot *kr, u64 cookie)
{
	struct pkernfs_kdir_entry *img;
	int err = -EIO;

	mutex_lock(&pkernfs_kroot_mutex);
	if (kr->sbi != sbi)
		goto out;
	mutex_lock(&sbi->lock);
	img = pkernfs_txn_add(sbi, PKERNFS_T_KDIR, kr->slot);
	err = PTR_ERR_OR_ZERO(img);
	if (!err) {
		img->k_cookie = cpu_to_le64(cookie);
		pkernfs_txn_commit(sbi);
		kr->cookie = cookie;
	}
	mutex_unlock(&sbi->lock);
out:
	mutex_unlock(&pkernfs_kroot_mutex);
	return err;
}

/**
 * pkernfs_kroot_recookie() - give an adopted root its owner's new cookie
 * @sb: the mounted pkernfs the root is on
 * @kr: a root adopted under an older layout's cookie
 * @cookie: the cookie of the layout the owner keeps from now on
 *
 * Journalled; a later kernel adopts the root by the new cookie.
 *
 * Return: 0, -EIO (@kr not on @sb, or the device gone), -EROFS, or the
 * journal's error.
 */
int pkernfs_kroot_recookie(struct super_block *sb, struct pkernfs_kroot *kr, u64 cookie)
{
	struct pkernfs_sb_info *sbi = pkernfs_kroot_sbi(sb);
	int idx, err;

	if (!sbi)
		return -EIO;
	if (sb_rdonly(sb))
		return -EROFS;
	if (pkernfs_enter(sbi, &idx))
		return -EIO;
	err = pkernfs_kroot_recookie_sbi(sbi, kr, cookie);
	pkernfs_exit(idx);
	return err;
}

/**
 * pkernfs_kroot_adopt() - take over a root that an earlier kernel made
 * @sb: a mounted pkernfs
 * @name: the root's name
 * @cookie: what the owner expects; a different one is refused
 *
 * May sleep. The pool is closed until pkernfs_kroot_ready(): the owner
 * first claims the pages it still uses.
 *
 * Return: the root, or ERR_PTR: -ENOENT (no such root), -EKEYREJECTED
 * (cookie mismatch), -EBUSY (already adopted), -EINVAL (not a mounted
 * pkernfs), -EIO, -ENOMEM.
 */
struct pkernfs_kroot *pkernfs_kroot_adopt(struct super_block *sb, const char *name,
					  u64 cookie)
{
	struct pkernfs_sb_info *sbi = pkernfs_kroot_sbi(sb);
	struct pkernfs_kroot *kr;
	int idx;

	if (!sbi)
		return ERR_PTR(-EINVAL);
	if (pkernfs_enter(sbi, &idx))
		return ERR_PTR(-EIO);
	kr = pkernfs_kroot_adopt_sbi(sbi, name, cookie);
	pkernfs_exit(idx);
	return kr;
}

/**
 * pkernfs_kroot_put() - drop a root's handle, keeping it on media
 * @kr: the root; its pages must no longer be in use by this kernel
 */
void pkernfs_kroot_put(struct pkernfs_kroot *kr)
{
	mutex_lock(&pkernfs_kroot_mutex);
	list_del(&kr->list);
	mutex_unlock(&pkernfs_kroot_mutex);
	pkernfs_kroot_free(kr);
}

/**
 * pkernfs_kroot_release() - free a root and its kdir slot
 * @kr: the root; nothing may use its pages any more
 *
 * May sleep. Without a mount the slot stays on media (logged), and the
 * next pkernfs_kroot_adopt() of the name gets it back.
 *
 * Return: 0, or the error that kept the slot.
 */
int pkernfs_kroot_release(struct pkernfs_kroot *kr)
{
	struct pkernfs_kdir_entry *img;
	struct pkernfs_sb_info *sbi;
	int err = -ENODEV, idx;

	mutex_lock(&pkernfs_kroot_mutex);
	list_del(&kr->list);
	sbi = kr->sbi;
	if (sbi && !pkernfs_enter(sbi, &idx)) {
		mutex_lock(&sbi->lock);
		img = pkernfs_txn_add(sbi, PKERNFS_T_KDIR, kr->slot);
		err = PTR_ERR_OR_ZERO(img);
		if (!err) {
			memset(img, 0, sizeof(*img));
			pkernfs_txn_commit(sbi);
		}
		mutex_unlock(&sbi->lock);
		pkernfs_exit(idx);
	}
	mutex_unlock(&pkernfs_kroot_mutex);
	if (err)
		pr_warn("kernel area root '%s' stays on media (%d): its filesystem is not mounted read-write\n",
			kr->name, err);
	pkernfs_kroot_free(kr);
	return err;
}

/* kill_sb: the roots outlive the mount, their slots do not. */
void pkernfs_kroot_unmount(struct pkernfs_sb_info *sbi)
{
	struct pkernfs_kroot *kr;

	mutex_lock(&pkernfs_kroot_mutex);
	list_for_each_entry(kr, &pkernfs_kroots, list)
		if (kr->sbi == sbi)
			kr->sbi = NULL;
	mutex_unlock(&pkernfs_kroot_mutex);
}

/**
 * pkernfs_kroot_phys() - physical address of a root's first page
 * @kr: the root
 *
 * Return: the address.
 */
phys_addr_t pkernfs_kroot_phys(const struct pkernfs_kroot *kr)
{
	return kr->phys;
}

/**
 * pkernfs_kroot_poisoned() - has a memory error hit a root's pages?
 * @kr: the root
 *
 * Lockless, for the kexec path: the flag is only ever set, and @kr lives
 * while its owner holds it.
 *
 * Return: true once an error in its pages is known, this boot or recorded.
 */
bool pkernfs_kroot_poisoned(const struct pkernfs_kroot *kr)
{
	return READ_ONCE(kr->poisoned);
}

/* A memory error at byte @off of @sbi's region: flag the root holding it. */
void pkernfs_kroot_poison(struct pkernfs_sb_info *sbi, u64 off)
{
	struct pkernfs_kroot *kr;

	unsigned long i, flags;

	mutex_lock(&pkernfs_kroot_mutex);
	list_for_each_entry(kr, &pkernfs_kroots, list) {
		if (kr->sbi != sbi || off < kr->phys - sbi->region->phys)
			continue;
		i = (off - (kr->phys - sbi->region->phys)) >> PAGE_SHIFT;
		if (i >= kr->npages)
			continue;
		spin_lock_irqsave(&kr->lock, flags);
		__set_bit(i, kr->bad);
		if (!__test_and_set_bit(i, kr->used))
			kr->nfree--;
		spin_unlock_irqrestore(&kr->lock, flags);
		WRITE_ONCE(kr->poisoned, true);
	}
	mutex_unlock(&pkernfs_kroot_mutex);
}

/**
 * pkernfs_kroot_on() - is a root in the memory of the pkernfs @sb?
 * @kr: the root
 * @sb: any superblock
 *
 * Return: true if @sb is a pkernfs mounted on the region holding @kr.
 */
bool pkernfs_kroot_on(const struct pkernfs_kroot *kr, struct super_block *sb)
{
	struct pkernfs_region *r;

	if (!sb || sb->s_op != &pkernfs_super_operations)
		return false;
	r = PKERNFS_SB(sb)->region;
	return r && kr->phys >= r->phys && kr->phys - r->phys < r->size;
}

/**
 * pkernfs_kroot_data_range() - the file data area of a root's pkernfs
 * @kr: the root
 * @phys: its start
 * @len: its length in bytes
 */
void pkernfs_kroot_data_range(const struct pkernfs_kroot *kr, phys_addr_t *phys, u64 *len)
{
	*phys = kr->data_phys;
	*len = kr->data_len;
}

/**
 * pkernfs_kroot_npages() - pages in a root
 * @kr: the root
 *
 * Return: the count.
 */
unsigned long pkernfs_kroot_npages(const struct pkernfs_kroot *kr)
{
	return kr->npages;
}

/**
 * pkernfs_kroot_contains() - is a physical page one of a root's?
 * @kr: the root
 * @phys: any address in the page
 *
 * Return: true if it is.
 */
bool pkernfs_kroot_contains(const struct pkernfs_kroot *kr, phys_addr_t phys)
{
	return phys >= kr->phys && phys - kr->phys < ((u64)kr->npages << PAGE_SHIFT);
}

/**
 * pkernfs_kroot_page_va() - the kernel address of a root's page
 * @kr: the root
 * @phys: a page of the root
 *
 * Return: the address, or NULL if @phys is not in the root.
 */
void *pkernfs_kroot_page_va(const struct pkernfs_kroot *kr, phys_addr_t phys)
{
	if (!pkernfs_kroot_contains(kr, phys))
		return NULL;
	return kr->kaddr + ((phys - kr->phys) & PAGE_MASK);
}

static void *pkernfs_kroot_take(struct pkernfs_kroot *kr, bool reserved, phys_addr_t *phys)
{
	unsigned long flags, i;
	void *va = NULL;

	spin_lock_irqsave(&kr->lock, flags);
	if (kr->ready && kr->nfree > (reserved ? 0 : kr->reserved)) {
		i = find_first_zero_bit(kr->used, kr->npages);
		if (!WARN_ON_ONCE(i >= kr->npages)) {
			__set_bit(i, kr->used);
			kr->nfree--;
			if (reserved && kr->reserved)
				kr->reserved--;
			va = kr->kaddr + (i << PAGE_SHIFT);
			*phys = kr->phys + (i << PAGE_SHIFT);
		}
	}
	spin_unlock_irqrestore(&kr->lock, flags);
	if (va) {
		memset(va, 0, PAGE_SIZE);
		arch_wb_cache_pmem(va, PAGE_SIZE);
	}
	return va;
}

/**
 * pkernfs_kroot_page_alloc() - take a zeroed page from a root's pool
 * @kr: the root
 * @phys: set to the page's physical address
 *
 * Never sleeps; callable in atomic context. Reserved pages are not taken.
 * The zeroes are written back, so a device that does not snoop sees them.
 *
 * Return: the page's kernel address, or NULL when only reserved pages are
 * free or the pool is not yet ready.
 */
void *pkernfs_kroot_page_alloc(struct pkernfs_kroot *kr, phys_addr_t *phys)
{
	if (pkernfs_should_fail())
		return NULL;
	return pkernfs_kroot_take(kr, false, phys);
}

/**
 * pkernfs_kroot_page_alloc_reserved() - take a page a reservation kept
 * @kr: the root
 * @phys: set to the page's physical address
 *
 * For the user that cannot fail, such as the IOMMU handover at kexec: it
 * may take the last free page, and uses up one reserved page if any.
 *
 * Return: the page's kernel address, or NULL when no page is free.
 */
void *pkernfs_kroot_page_alloc_reserved(struct pkernfs_kroot *kr, phys_addr_t *phys)
{
	return pkernfs_kroot_take(kr, true, phys);
}

/**
 * pkernfs_kroot_reserve() - keep free pages for a later user that cannot fail
 * @kr: the root
 * @n: pages
 * @over: reserve even past the free pages (the caller is about to free
 *	at least as many): never fails then
 *
 * Reserved pages are taken only by pkernfs_kroot_page_alloc_reserved().
 * Never sleeps.
 *
 * Return: 0, or -ENOSPC if fewer than @n unreserved pages are free.
 */
int pkernfs_kroot_reserve(struct pkernfs_kroot *kr, unsigned long n, bool over)
{
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&kr->lock, flags);
	if (over || (kr->ready && kr->nfree >= kr->reserved && kr->nfree - kr->reserved >= n))
		kr->reserved += n;
	else
		err = -ENOSPC;
	spin_unlock_irqrestore(&kr->lock, flags);
	return err;
}

/**
 * pkernfs_kroot_unreserve() - give back what pkernfs_kroot_reserve() kept
 * @kr: the root
 * @n: pages
 */
void pkernfs_kroot_unreserve(struct pkernfs_kroot *kr, unsigned long n)
{
	unsigned long flags;

	spin_lock_irqsave(&kr->lock, flags);
	if (!WARN_ON_ONCE(kr->reserved < n))
		kr->reserved -= n;
	spin_unlock_irqrestore(&kr->lock, flags);
}

static long pkernfs_kroot_index(const struct pkernfs_kroot *kr, phys_addr_t phys)
{
	if (!pkernfs_kroot_contains(kr, phys) || (phys & ~PAGE_MASK))
		return -ERANGE;
	return (phys - kr->phys) >> PAGE_SHIFT;
}

/**
 * pkernfs_kroot_page_free() - give a page back to its root's pool
 * @kr: the root
 * @phys: the page, as pkernfs_kroot_page_alloc() returned it
 *
 * Never sleeps.
 */
void pkernfs_kroot_page_free(struct pkernfs_kroot *kr, phys_addr_t phys)
{
	long i = pkernfs_kroot_index(kr, phys);
	unsigned long flags;

	if (WARN_ON_ONCE(i < 0))
		return;
	spin_lock_irqsave(&kr->lock, flags);
	if (test_bit(i, kr->bad))
		;	/* a memory error hit it: it stays out of the pool */
	else if (!WARN_ON_ONCE(!__test_and_clear_bit(i, kr->used)))
		kr->nfree++;
	spin_unlock_irqrestore(&kr->lock, flags);
}

/**
 * pkernfs_kroot_claim() - mark a page in use while rebuilding after adopt
 * @kr: the root, not yet ready
 * @phys: the page
 *
 * Return: 0, -ERANGE (not one of the root's pages: the owner's saved
 * structure is not trustworthy), -EEXIST (claimed twice: two users of one
 * page), -EBUSY (the pool is already open).
 */
int pkernfs_kroot_claim(struct pkernfs_kroot *kr, phys_addr_t phys)
{
	long i = pkernfs_kroot_index(kr, phys);
	unsigned long flags;
	int err = 0;

	if (i < 0)
		return -ERANGE;
	spin_lock_irqsave(&kr->lock, flags);
	if (kr->ready)
		err = -EBUSY;
	else if (test_bit(i, kr->bad))
		err = -EHWPOISON;
	else if (__test_and_set_bit(i, kr->used))
		err = -EEXIST;
	else
		kr->nfree--;
	spin_unlock_irqrestore(&kr->lock, flags);
	return err;
}

/**
 * pkernfs_kroot_ready() - open the pool once every used page is claimed
 * @kr: the root
 */
void pkernfs_kroot_ready(struct pkernfs_kroot *kr)
{
	unsigned long flags;

	spin_lock_irqsave(&kr->lock, flags);
	kr->ready = true;
	spin_unlock_irqrestore(&kr->lock, flags);
}

/**
 * pkernfs_kroot_free_pages() - pages a root's pool can still hand out
 * @kr: the root
 *
 * Return: the count.
 */
unsigned long pkernfs_kroot_free_pages(struct pkernfs_kroot *kr)
{
	unsigned long flags, n;

	spin_lock_irqsave(&kr->lock, flags);
	n = kr->nfree;
	spin_unlock_irqrestore(&kr->lock, flags);
	return n;
}

/**
 * pkernfs_kroot_reserved_pages() - free pages kept by pkernfs_kroot_reserve()
 * @kr: the root
 *
 * Return: the count; more than pkernfs_kroot_free_pages() while a reserve
 * made with @over is not yet covered.
 */
unsigned long pkernfs_kroot_reserved_pages(struct pkernfs_kroot *kr)
{
	unsigned long flags, n;

	spin_lock_irqsave(&kr->lock, flags);
	n = kr->reserved;
	spin_unlock_irqrestore(&kr->lock, flags);
	return n;
}
