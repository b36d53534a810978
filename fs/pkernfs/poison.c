// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs memory errors: pages that memory_failure() reported bad.
 *
 * The list lives in the superblock (s_bad), so it outlasts the kernel
 * that saw the error: after any number of kexecs a bad page still reads
 * as EIO and faults as SIGBUS, and its AU is never allocated again. The
 * copy in memory is what the read, write and fault paths check.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "pkernfs.h"

static const char *pkernfs_page_owner(struct pkernfs_sb_info *sbi, u64 page)
{
	return pkernfs_region_name(pkernfs_bad_region(sbi->dsb, page));
}

static int pkernfs_cmp_page(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Replace the list with @bad (sbi->lock held, or the mount not yet live). */
static void pkernfs_bad_publish(struct pkernfs_sb_info *sbi, struct pkernfs_bad *bad)
{
	struct pkernfs_bad *old = rcu_replace_pointer(sbi->bad, bad, true);

	if (old)
		kfree_rcu(old, rcu);
}

/**
 * pkernfs_bad_range() - the first bad page in a range of the device
 * @sbi: the filesystem
 * @off: first byte, from the start of the device
 * @len: bytes
 * @first: where to store the byte offset of the first bad page, if any
 *
 * Lockless: the list is replaced whole under RCU, never changed in place,
 * and a page once listed stays listed while mounted.
 *
 * Return: true if a page of the range is bad.
 */
bool pkernfs_bad_range(struct pkernfs_sb_info *sbi, u64 off, u64 len, u64 *first)
{
	u64 lo = off >> PAGE_SHIFT, hi = (off + len - 1) >> PAGE_SHIFT;
	struct pkernfs_bad *bad;
	bool hit = false;
	u32 a, b, m;

	if (!len || !rcu_access_pointer(sbi->bad))
		return false;
	rcu_read_lock();
	bad = rcu_dereference(sbi->bad);
	/* The first listed page at or past @lo. */
	for (a = 0, b = bad ? bad->nr : 0; a < b;) {
		m = a + (b - a) / 2;
		if (bad->page[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	if (bad && a < bad->nr && bad->page[a] <= hi) {
		hit = true;
		if (first)
			*first = bad->page[a] << PAGE_SHIFT;
	}
	rcu_read_unlock();
	return hit;
}

/* Is a page of AU @au bad? */
bool pkernfs_au_bad(struct pkernfs_sb_info *sbi, u64 au)
{
	return pkernfs_bad_range(sbi, au << sbi->au_shift, 1ULL << sbi->au_shift, NULL);
}

/**
 * pkernfs_bad_clip() - shorten a copy to stop before the first bad page
 * @sbi: the filesystem
 * @addr: where the copy starts, in the region's kernel mapping
 * @n: bytes; lowered to the bytes before the first bad page
 *
 * Return: 0, or -EIO if a bad page lies in the range.
 */
int pkernfs_bad_clip(struct pkernfs_sb_info *sbi, const void *addr, size_t *n)
{
	u64 off = (const u8 *)addr - sbi->base, first;

	if (!pkernfs_bad_range(sbi, off, *n, &first))
		return 0;
	*n = first > off ? first - off : 0;
	return -EIO;
}

/* Mark the AUs holding bad pages in @map (an AU bitmap), as mount counts them. */
void pkernfs_bad_mark(struct pkernfs_sb_info *sbi, unsigned long *map)
{
	u64 data = le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_DATA].off) >> PAGE_SHIFT;
	struct pkernfs_bad *bad = rcu_dereference_protected(sbi->bad, true);
	u32 i;

	for (i = 0; bad && i < bad->nr; i++)
		if (bad->page[i] >= data)
			__set_bit((bad->page[i] << PAGE_SHIFT) >> sbi->au_shift, map);
}

/* Bad AUs stay marked in use whatever frees or un-reserves them. */
void pkernfs_bad_keep(struct pkernfs_sb_info *sbi, u64 start, u64 len)
{
	u64 au;

	if (!rcu_access_pointer(sbi->bad))
		return;
	for (au = start; au < start + len; au++)
		if (pkernfs_au_bad(sbi, au) && !__test_and_set_bit(au, sbi->au_used))
			sbi->free_aus--;
}

/* Pages of one entry kept in memory: a long run is bounded like the list. */
static u32 pkernfs_bad_count(const struct pkernfs_bad_range *b)
{
	return min_t(u32, le32_to_cpu(b->b_count), PKERNFS_BAD_MAX);
}

/* The in-memory list from the superblock, one entry per page. */
static struct pkernfs_bad *pkernfs_bad_build(struct pkernfs_sb_info *sbi)
{
	const struct pkernfs_super *dsb = sbi->dsb;
	u32 n = le32_to_cpu(dsb->s_nr_bad), i, j, pages = 0;
	struct pkernfs_bad *bad;

	for (i = 0; i < n; i++)
		pages += pkernfs_bad_count(&dsb->s_bad[i]);
	bad = kmalloc(struct_size(bad, page, pages), GFP_KERNEL);
	if (!bad)
		return NULL;
	bad->nr = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < pkernfs_bad_count(&dsb->s_bad[i]); j++)
			bad->page[bad->nr++] = le64_to_cpu(dsb->s_bad[i].b_page) + j;
	sort(bad->page, bad->nr, sizeof(bad->page[0]), pkernfs_cmp_page, NULL);
	return bad;
}

/*
 * The list in memory with @page added, in order. From the list, not the
 * superblock: it also holds the errors a read-only mount or a full table
 * could not write. sbi->lock held.
 */
static struct pkernfs_bad *pkernfs_bad_with(struct pkernfs_sb_info *sbi, u64 page)
{
	struct pkernfs_bad *old = rcu_dereference_protected(sbi->bad, lockdep_is_held(&sbi->lock));
	u32 n = old ? old->nr : 0, i = 0, j;
	struct pkernfs_bad *bad;

	bad = kmalloc(struct_size(bad, page, n + 1), GFP_KERNEL);
	if (!bad)
		return NULL;
	for (j = 0; j < n && old->page[j] < page; j++)
		bad->page[i++] = old->page[j];
	bad->page[i++] = page;
	for (; j < n; j++)
		bad->page[i++] = old->page[j];
	bad->nr = i;
	return bad;
}

/**
 * pkernfs_bad_load() - take the superblock's list of bad pages at mount
 * @sbi: the filesystem being mounted, its superblock checked
 *
 * A bad page of metadata cannot be read without a machine check on real
 * media, and the mount would read it: refuse.
 *
 * Return: 0, -EIO for bad metadata, or -ENOMEM.
 */
int pkernfs_bad_load(struct pkernfs_sb_info *sbi)
{
	const struct pkernfs_super *dsb = sbi->dsb;
	u32 n = le32_to_cpu(dsb->s_nr_bad), i;
	struct pkernfs_bad *bad;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		u64 page = le64_to_cpu(dsb->s_bad[i].b_page);
		int r = pkernfs_bad_region(dsb, page);

		if (r != PKERNFS_R_DATA && r != PKERNFS_R_KERNEL) {
			pkernfs_err(sbi,
				    "memory error recorded in the %s (page %llu): not mounting; pkernfsctl fsck lists it",
				    pkernfs_page_owner(sbi, page), page);
			return -EIO;
		}
	}
	bad = pkernfs_bad_build(sbi);
	if (!bad)
		return -ENOMEM;
	pkernfs_bad_publish(sbi, bad);
	pkernfs_notice(sbi,
		       "%u bad pages recorded: reads of them fail with EIO, mappings with SIGBUS",
		       bad->nr);
	return 0;
}

void pkernfs_bad_free(struct pkernfs_sb_info *sbi)
{
	kfree(rcu_dereference_protected(sbi->bad, true));
	RCU_INIT_POINTER(sbi->bad, NULL);
}

/* The file, and its page index, that data AU @au's page @page belongs to. */
static u64 pkernfs_bad_owner(struct pkernfs_sb_info *sbi, u64 au, u64 page, pgoff_t *index)
{
	u32 i, shift = sbi->au_shift - PAGE_SHIFT;

	lockdep_assert_held(&sbi->lock);
	for (i = 0; i < sbi->nr_extents; i++) {
		const struct pkernfs_extent *e = &sbi->etab[i];
		u64 start = le64_to_cpu(e->e_start);

		if (!e->e_ino || au < start || au - start >= le32_to_cpu(e->e_len))
			continue;
		*index = (((u64)le32_to_cpu(e->e_lblk) + au - start) << shift) +
			 (page & ((1ULL << shift) - 1));
		return le64_to_cpu(e->e_ino);
	}
	return 0;
}

/*
 * Record page @page bad: on media first, so the next kernel knows, then
 * in memory. sbi->lock held. Return: the kind, or a negative errno.
 */
static int pkernfs_bad_record(struct super_block *sb, u64 page)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	int r = pkernfs_bad_region(sbi->dsb, page), kind, added;
	u64 au = (page << PAGE_SHIFT) >> sbi->au_shift;
	struct pkernfs_super *img;
	struct pkernfs_bad *bad;

	lockdep_assert_held(&sbi->lock);
	if (r < 0)
		return -ENXIO;
	if (r == PKERNFS_R_DATA)
		kind = test_bit(au, sbi->au_used) ? PKERNFS_BAD_DATA : PKERNFS_BAD_FREE;
	else
		kind = r == PKERNFS_R_KERNEL ? PKERNFS_BAD_KERNEL : PKERNFS_BAD_META;
	if (pkernfs_bad_range(sbi, page << PAGE_SHIFT, PAGE_SIZE, NULL))
		return kind;

	bad = pkernfs_bad_with(sbi, page);
	if (!bad)
		return -ENOMEM;
	if (sb_rdonly(sb) || r == PKERNFS_NR_REGIONS || r == PKERNFS_R_JOURNAL) {
		/* Not written: a read-only mount, or what a write goes through failed. */
		added = -EROFS;
	} else {
		img = pkernfs_txn_add(sbi, PKERNFS_T_SUPER, 0);
		added = IS_ERR(img) ? PTR_ERR(img) : pkernfs_bad_add(img, page, kind);
		if (added > 0 && kind == PKERNFS_BAD_FREE)
			added = pkernfs_set_aus(sbi, au, 1, true) ?: added;
		if (added > 0)
			pkernfs_txn_commit(sbi);
		else
			pkernfs_txn_abort(sbi);
	}
	if (added < 0)
		pkernfs_err(sbi,
			    "memory error at page %llu not recorded on media (%s): the next mount will not know it",
			    page,
			    added == -ENOSPC ? "the list of bad pages is full" :
			    added == -EROFS ?
			    "read-only mount, or the superblock or journal itself" :
			    "no journal room");
	pkernfs_bad_publish(sbi, bad);
	if (kind == PKERNFS_BAD_FREE || kind == PKERNFS_BAD_DATA)
		pkernfs_bad_keep(sbi, au, 1);
	return kind;
}

/*
 * Which allocation of the kernel-only area (an IOMMU table pool) was hit.
 * Unlocked: a kdir entry changing meanwhile only makes the message stale.
 */
static void pkernfs_bad_kernel(struct pkernfs_sb_info *sbi, u64 page)
{
	const struct pkernfs_super *dsb = sbi->dsb;
	u64 kpage = page - (le64_to_cpu(dsb->s_regions[PKERNFS_R_KERNEL].off) >> PAGE_SHIFT);
	u32 i, n = le32_to_cpu(dsb->s_regions[PKERNFS_R_KDIR].count);

	for (i = 0; i < n; i++) {
		const struct pkernfs_kdir_entry *ke = &sbi->kdir[i];
		u64 start = le64_to_cpu(ke->k_start), npages = le64_to_cpu(ke->k_npages);

		if (npages && kpage >= start && kpage - start < npages) {
			pkernfs_err(sbi,
				    "memory error in the kernel-only area (page %llu), in '%.*s' (cookie %#llx): recorded; it is not handed over at kexec",
				    page, PKERNFS_KNAME_LEN, ke->k_name, le64_to_cpu(ke->k_cookie));
			return;
		}
	}
	pkernfs_err(sbi,
		    "memory error in the kernel-only area (page %llu), in no allocation: recorded",
		    page);
}

/* A bad page of metadata: no further metadata change, and no remount read-write. */
static void pkernfs_bad_meta(struct super_block *sb, u64 page)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);

	WRITE_ONCE(sbi->meta_bad, true);
	pkernfs_err(sbi,
		    "memory error in the %s (page %llu): metadata changes now fail with EROFS, and the next mount is refused; copy the files off",
		    pkernfs_page_owner(sbi, page), page);
}

/**
 * pkernfs_memory_failure() - a page of the region has a memory error
 * @holder: the superblock (struct pkernfs_holder_ops)
 * @offset: byte offset of the page in the region
 * @mf_flags: memory_failure()'s MF_* flags
 *
 * Return: 0, or a negative errno when the page is outside the filesystem.
 */
int pkernfs_memory_failure(void *holder, u64 offset, int mf_flags)
{
	struct super_block *sb = holder;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	u64 page = offset >> PAGE_SHIFT, ino = 0;
	struct inode *inode;
	pgoff_t index = 0;
	int kind, idx;

	if (pkernfs_enter(sbi, &idx))
		return -ENXIO;
	mutex_lock(&sbi->lock);
	kind = pkernfs_bad_record(sb, page);
	if (kind == PKERNFS_BAD_DATA)
		ino = pkernfs_bad_owner(sbi, (page << PAGE_SHIFT) >> sbi->au_shift, page, &index);
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
	if (kind < 0) {
		pkernfs_err(sbi, "memory error at offset %#llx, outside the filesystem", offset);
		return kind;
	}
	switch (kind) {
	case PKERNFS_BAD_META:
		pkernfs_bad_meta(sb, page);
		return 0;
	case PKERNFS_BAD_KERNEL:
		pkernfs_kroot_poison(sbi, offset);
		pkernfs_bad_kernel(sbi, page);
		return 0;
	case PKERNFS_BAD_FREE:
		pkernfs_err(sbi,
			    "memory error in free space (page %llu): its AU is never allocated",
			    page);
		return 0;
	}
	inode = ino ? ilookup(sb, ino) : NULL;
	pkernfs_err(sbi,
		    "memory error in inode %llu at offset %llu (page %llu): its mappings get SIGBUS, reads EIO%s",
		    ino, (u64)index << PAGE_SHIFT, page,
		    inode && PKERNFS_I(inode)->dma_held ? "; a device may still DMA to it" : "");
	if (!inode)
		return 0;
	/* Listed above, so a refault gets VM_FAULT_HWPOISON, not the page. */
	if (IS_ENABLED(CONFIG_MEMORY_FAILURE) && IS_ENABLED(CONFIG_FS_DAX))
		mf_mapping_kill_procs(inode->i_mapping, index,
				      pfn_to_page(PHYS_PFN(sbi->region->phys + offset)), mf_flags);
	else
		unmap_mapping_pages(inode->i_mapping, index, 1, false);
	iput(inode);
	return 0;
}

/* Errors the dax driver saw while nothing was mounted: record them now. */
void pkernfs_bad_pending(struct super_block *sb)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	u64 offs[16];
	int i, n;

	n = pkernfs_region_failures(sbi->region, offs, ARRAY_SIZE(offs));
	for (i = 0; i < n; i++)
		pkernfs_memory_failure(sb, offs[i], 0);
}
