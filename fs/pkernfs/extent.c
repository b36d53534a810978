// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs extents: each file's map of AUs, AUs into and out of files
 * (allocation, truncate, hole punch), and the DMA holds that keep a
 * file's AUs in place across kexec.
 *
 * Freeing data that a pin still references would hand live DMA targets to
 * another file. So truncate, hole punch and unlink first unmap, then free
 * only AUs whose pages are idle: truncate and punch fail with EBUSY while
 * a page in the range is pinned; an unlinked file whose pages are pinned
 * stays an orphan and is freed by the next mount.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/libnvdimm.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "pkernfs.h"

/*
 * The extent map, and what keeps an extent alive for whoever reads it:
 *
 *  - Each inode's maple tree maps file AUs to struct pkernfs_ext. It runs
 *    in RCU mode, and sbi->lock is its external lock: every change holds
 *    sbi->lock.
 *  - An extent object that leaves the tree is freed by kfree_rcu(). A
 *    lockless reader calls pkernfs_lookup_ext(), which copies the extent
 *    inside rcu_read_lock(); nothing dereferences an extent object outside
 *    RCU or sbi->lock.
 *  - The AUs a copy names stay this file's while the reader holds the
 *    inode's i_rwsem (read, write, llseek, fsync) or its invalidate_lock
 *    (faults), shared or exclusive: truncate and hole punch, the only
 *    paths that free a live file's AUs, hold both exclusively. Allocation
 *    only adds AUs; a merge replaces an extent with a longer one over the
 *    same AUs, so an older copy still tells the truth.
 *  - Eviction frees the rest when no other user is left.
 */

/* AUs a single allocating transaction takes at most, bounding lock hold time. */
#define PKERNFS_ALLOC_CHUNK	512u

/* How long truncate waits for transient page references to drain. */
#define PKERNFS_BUSY_WAIT_MS	1000

/* Called from alloc_inode, before the VFS has set i_sb. */
void pkernfs_init_extents(struct pkernfs_inode_info *pi, struct pkernfs_sb_info *sbi)
{
	mt_init_flags(&pi->extents, MT_FLAGS_USE_RCU | MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&pi->extents, &sbi->lock);
}

/* A copy of the extent mapping @lblk; false for a hole. */
bool pkernfs_lookup_ext(struct inode *inode, u32 lblk, struct pkernfs_ext *out)
{
	struct pkernfs_ext *ext;
	bool found = false;

	rcu_read_lock();
	ext = mtree_load(&PKERNFS_I(inode)->extents, lblk);
	if (ext) {
		*out = *ext;
		found = true;
	}
	rcu_read_unlock();
	return found;
}

/* The extent object itself, for writers: sbi->lock held. */
struct pkernfs_ext *pkernfs_find_ext_locked(struct inode *inode, u32 lblk)
{
	lockdep_assert_held(&PKERNFS_SB(inode->i_sb)->lock);
	return mtree_load(&PKERNFS_I(inode)->extents, lblk);
}

void pkernfs_destroy_extents(struct inode *inode)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct maple_tree *mt = &PKERNFS_I(inode)->extents;
	struct pkernfs_ext *ext;
	unsigned long index = 0;

	/* No reader is left; the lock is for the tree's lockdep rule. */
	mutex_lock(&sbi->lock);
	mt_for_each(mt, ext, index, ULONG_MAX)
		kfree(ext);
	__mt_destroy(mt);
	mutex_unlock(&sbi->lock);
}

static void pkernfs_stage_ext(struct pkernfs_sb_info *sbi, struct pkernfs_extent *e,
			      struct inode *inode, struct pkernfs_ext *ext)
{
	e->e_ino = cpu_to_le64(inode->i_ino);
	e->e_ino_gen = cpu_to_le32(PKERNFS_I(inode)->gen);
	e->e_lblk = cpu_to_le32(ext->lblk);
	e->e_len = cpu_to_le32(ext->len);
	e->e_start = cpu_to_le64(ext->start);
}

/*
 * Is a page of AUs [start, start + len) still referenced, the mappings of
 * it being gone? A DMA pin (FOLL_PIN) may last forever: -EBUSY at once.
 * Other references (GUP-fast in flight, a get_user_pages() caller about
 * to drop it) are transient: wait for them, a bounded time.
 */
static int pkernfs_aus_busy(struct pkernfs_sb_info *sbi, u64 start, u64 len)
{
	unsigned long pfn0 = PHYS_PFN(pkernfs_au_phys(sbi, start));
	unsigned long end = pfn0 + (len << (sbi->au_shift - PAGE_SHIFT));
	unsigned int waited = 0;
	unsigned long pfn;

	/* After kexec a device may still reach them through the old tables. */
	if (pkernfs_dma_range_mapped(PFN_PHYS(pfn0), PFN_PHYS(end - pfn0)))
		return -EBUSY;
	for (pfn = pfn0; pfn < end;) {
		struct folio *folio = page_folio(pfn_to_page(pfn));

		if (folio_maybe_dma_pinned(folio))
			return -EBUSY;
		if (folio_ref_count(folio) > 1) {
			if (waited >= PKERNFS_BUSY_WAIT_MS || fatal_signal_pending(current))
				return -EBUSY;
			msleep(20);
			waited += 20;
			continue;	/* the same folio again */
		}
		pfn = folio_pfn(folio) + folio_nr_pages(folio);
	}
	return 0;
}

/* Drop the zero pages a read-only mapping put over what is now data. */
static void pkernfs_unmap_zero(struct inode *inode, u32 lblk, u32 len)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);

	lockdep_assert_held(&sbi->lock);
	if (PKERNFS_I(inode)->zero_mapped)
		unmap_mapping_range(inode->i_mapping, (loff_t)lblk << sbi->au_shift,
				    (loff_t)len << sbi->au_shift, 0);
}

/*
 * Clear AUs that are reserved in memory but not yet recorded, without
 * sbi->lock: zeroing a run (up to 1 GiB) is the slow part of an
 * allocation, and under the lock it would stall every create, stat of a
 * new name and fault on the filesystem behind it. The reservation keeps
 * the AUs from anyone else; the caller's pkernfs_enter() section keeps
 * the region mapped (an unbind waits for it).
 */
static void pkernfs_zero_aus(struct pkernfs_sb_info *sbi, u64 start, u64 len)
{
	void *addr = pkernfs_au_addr(sbi, start);
	u64 bytes = len << sbi->au_shift;
	u64 off, n;

	for (off = 0; off < bytes; off += n) {
		n = min_t(u64, bytes - off, SZ_2M);
		memset(addr + off, 0, n);
		arch_wb_cache_pmem(addr + off, n);
		cond_resched();
	}
	pkernfs_persist_barrier(sbi);
}

/*
 * Allocate and map AUs for [lblk, lblk + want) that are holes, one
 * transaction per run found. Called with sbi->lock held, which it drops
 * while it zeroes the run: the run is reserved in au_used meanwhile, so
 * no one else takes it, but it is on media only once the transaction
 * commits. Another task may fill part of the hole while the lock is
 * dropped (faults hold the invalidate_lock shared, and a write races a
 * fault): then the run goes back and -EAGAIN says to look again. The
 * tree is given its memory before the commit, so nothing can fail after
 * it.
 */
static int pkernfs_alloc_run(struct inode *inode, u32 lblk, u32 want)
{
	MA_STATE(mas, &PKERNFS_I(inode)->extents, 0, 0);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	struct pkernfs_ext *prev, *ext;
	struct pkernfs_extent *e;
	unsigned long idx;
	u64 start, got, goal = 0;
	u32 slot;
	bool merge;
	int err;

	lockdep_assert_held(&sbi->lock);
	/* The hole ends where the next extent starts. */
	idx = lblk;
	ext = mt_find(&pi->extents, &idx, (unsigned long)lblk + want - 1);
	if (ext)
		want = ext->lblk - lblk;
	want = min(want, PKERNFS_ALLOC_CHUNK);
	prev = lblk ? pkernfs_find_ext_locked(inode, lblk - 1) : NULL;
	if (prev)
		goal = prev->start + prev->len;

	err = pkernfs_alloc_aus(sbi, want, goal, &start, &got);
	if (err)
		return err;
	/* Reserved in memory only; recorded by the transaction below. */
	bitmap_set(sbi->au_used, start, got);
	sbi->free_aus -= got;
	mutex_unlock(&sbi->lock);
	/* Old contents of a freed AU must never show through a new file. */
	pkernfs_zero_aus(sbi, start, got);
	mutex_lock(&sbi->lock);
	bitmap_clear(sbi->au_used, start, got);
	sbi->free_aus += got;
	pkernfs_bad_keep(sbi, start, got);

	idx = lblk;
	if (mt_find(&pi->extents, &idx, (unsigned long)lblk + got - 1))
		return -EAGAIN;
	prev = lblk ? pkernfs_find_ext_locked(inode, lblk - 1) : NULL;
	merge = prev && prev->start + prev->len == start &&
		prev->len + got <= PKERNFS_BITS_PER_BMAP;
	if (!merge) {
		err = pkernfs_take_slot(sbi, PKERNFS_HWM_EXTENTS, 0, &slot);
		if (err)
			return err;
	} else {
		slot = prev->slot;
	}
	ext = kmalloc(sizeof(*ext), GFP_KERNEL);
	if (!ext) {
		err = -ENOMEM;
		goto out_slot;
	}
	if (merge) {
		*ext = *prev;
		ext->len += got;
	} else {
		*ext = (struct pkernfs_ext){ .slot = slot, .lblk = lblk, .len = got,
					     .start = start };
	}
	mas_set_range(&mas, ext->lblk, ext->lblk + ext->len - 1);
	err = mas_preallocate(&mas, ext, GFP_KERNEL);
	if (err)
		goto out_free;

	e = pkernfs_txn_add(sbi, PKERNFS_T_EXTENT, slot);
	if (IS_ERR(e)) {
		err = PTR_ERR(e);
		goto out_abort;
	}
	pkernfs_stage_ext(sbi, e, inode, ext);
	err = pkernfs_set_aus(sbi, start, got, true);
	if (err)
		goto out_abort;

	pkernfs_txn_commit(sbi);

	mas_store_prealloc(&mas, ext);
	if (merge)
		kfree_rcu(prev, rcu);
	inode->i_blocks += (blkcnt_t)got << (sbi->au_shift - 9);
	pkernfs_unmap_zero(inode, lblk, got);
	return 0;

out_abort:
	pkernfs_txn_abort(sbi);
	mas_destroy(&mas);
out_free:
	kfree(ext);
out_slot:
	if (!merge)
		__clear_bit(slot, sbi->extent_used);
	return err;
}

/**
 * pkernfs_get_ext() - the extent mapping file AU @lblk, allocating on a hole
 * @inode: a regular file, its i_rwsem or invalidate_lock held
 * @lblk: file AU
 * @want: AUs to allocate from @lblk if it is a hole (a hint)
 * @extp: a copy of the extent found
 *
 * Return: 0, -ENOSPC, -ENOMEM.
 */
int pkernfs_get_ext(struct inode *inode, u32 lblk, u32 want, struct pkernfs_ext *extp)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_ext *ext;
	int err = 0;

	if (pkernfs_lookup_ext(inode, lblk, extp))
		return 0;
	mutex_lock(&sbi->lock);
	do {
		ext = pkernfs_find_ext_locked(inode, lblk);
		if (ext)
			break;
		err = pkernfs_alloc_run(inode, lblk, max(want, 1u));
	} while (!err || err == -EAGAIN);
	if (ext)
		*extp = *ext;
	mutex_unlock(&sbi->lock);
	return ext ? 0 : err;
}

void *pkernfs_ext_addr(struct pkernfs_sb_info *sbi, const struct pkernfs_ext *ext, u64 pos)
{
	u64 off = pos - ((u64)ext->lblk << sbi->au_shift);

	return pkernfs_au_addr(sbi, ext->start) + off;
}

/*
 * Is the memory behind [pos, pos + size) one physically contiguous run,
 * with no hole? Lockless, under the rules at the top of this file.
 */
bool pkernfs_contig(struct inode *inode, u64 pos, u64 size, phys_addr_t *phys)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u32 lblk = pos >> sbi->au_shift;
	u64 last = (pos + size - 1) >> sbi->au_shift;
	struct pkernfs_ext ext, next;
	phys_addr_t p;

	if (!pkernfs_lookup_ext(inode, lblk, &ext))
		return false;
	p = pkernfs_au_phys(sbi, ext.start) + (pos - ((u64)ext.lblk << sbi->au_shift));
	*phys = p;
	while (last >= (u64)ext.lblk + ext.len) {
		if (!pkernfs_lookup_ext(inode, ext.lblk + ext.len, &next) ||
		    next.start != ext.start + ext.len)
			return false;
		ext = next;
	}
	return IS_ALIGNED(p, size);
}

/* Zero [pos, end) within mapped AUs; holes already read as zero. */
void pkernfs_zero_range(struct inode *inode, u64 pos, u64 end)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	struct pkernfs_ext ext;

	while (pos < end) {
		u64 n = min(end - pos, au_size - (pos & (au_size - 1)));

		if (pkernfs_lookup_ext(inode, pos >> sbi->au_shift, &ext)) {
			memset(pkernfs_ext_addr(sbi, &ext, pos), 0, n);
			arch_wb_cache_pmem(pkernfs_ext_addr(sbi, &ext, pos), n);
		}
		pos += n;
	}
}

/*
 * Store @ext over exactly the range an existing entry has. An exact fit
 * needs no new tree node, so it cannot fail after the cut was staged.
 */
static void pkernfs_replace_ext(struct maple_tree *mt, struct pkernfs_ext *ext)
{
	MA_STATE(mas, mt, ext->lblk, ext->lblk + ext->len - 1);

	/* wr_exact_fit: the slot is overwritten in place, no allocation. */
	mas_store_gfp(&mas, ext, GFP_KERNEL);
}

/* Remove [first, end) from one extent: trim it, split it, or free it. */
static int pkernfs_cut_ext(struct inode *inode, struct pkernfs_ext *ext, u32 first, u32 end)
{
	MA_STATE(mas, &PKERNFS_I(inode)->extents, 0, 0);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	u32 cut_lo = max(first, ext->lblk), cut_hi = min(end, ext->lblk + ext->len);
	struct pkernfs_ext *head = NULL, *tail = NULL;
	struct pkernfs_extent *e;
	u32 tslot = 0;
	int err;

	if (cut_lo > ext->lblk) {
		head = kmalloc(sizeof(*head), GFP_KERNEL);
		if (!head)
			return -ENOMEM;
		*head = (struct pkernfs_ext){ .slot = ext->slot, .lblk = ext->lblk,
					      .len = cut_lo - ext->lblk, .start = ext->start };
	}
	if (cut_hi < ext->lblk + ext->len) {
		tail = kmalloc(sizeof(*tail), GFP_KERNEL);
		if (!tail) {
			err = -ENOMEM;
			goto out_free;
		}
		if (head) {
			err = pkernfs_take_slot(sbi, PKERNFS_HWM_EXTENTS, 0, &tslot);
			if (err)
				goto out_free;
		} else {
			tslot = ext->slot;
		}
		*tail = (struct pkernfs_ext){ .slot = tslot, .lblk = cut_hi,
					      .len = ext->lblk + ext->len - cut_hi,
					      .start = ext->start + (cut_hi - ext->lblk) };
	}

	/* The only tree store that may need memory gets it first. */
	mas_set_range(&mas, cut_lo, cut_hi - 1);
	err = mas_preallocate(&mas, NULL, GFP_KERNEL);
	if (err)
		goto out_slot;
	e = pkernfs_txn_add(sbi, PKERNFS_T_EXTENT, ext->slot);
	err = PTR_ERR_OR_ZERO(e);
	if (err)
		goto out_abort;
	if (head)
		pkernfs_stage_ext(sbi, e, inode, head);
	else if (tail)
		pkernfs_stage_ext(sbi, e, inode, tail);
	else
		memset(e, 0, sizeof(*e));
	if (head && tail) {
		e = pkernfs_txn_add(sbi, PKERNFS_T_EXTENT, tslot);
		err = PTR_ERR_OR_ZERO(e);
		if (err)
			goto out_abort;
		pkernfs_stage_ext(sbi, e, inode, tail);
	}
	err = pkernfs_set_aus(sbi, ext->start + (cut_lo - ext->lblk), cut_hi - cut_lo, false);
	if (err)
		goto out_abort;
	mas_store_prealloc(&mas, NULL);
	/* What is left of @ext maps exactly its old ranges: give them the new objects. */
	if (head)
		pkernfs_replace_ext(&pi->extents, head);
	if (tail)
		pkernfs_replace_ext(&pi->extents, tail);
	pkernfs_txn_commit(sbi);

	inode->i_blocks -= (blkcnt_t)(cut_hi - cut_lo) << (sbi->au_shift - 9);
	if (!head && !tail)
		__clear_bit(ext->slot, sbi->extent_used);
	kfree_rcu(ext, rcu);
	return 0;

out_abort:
	pkernfs_txn_abort(sbi);
	mas_destroy(&mas);
out_slot:
	if (head && tail)
		__clear_bit(tslot, sbi->extent_used);
out_free:
	kfree(head);
	kfree(tail);
	return err;
}

/**
 * pkernfs_free_range() - free the AUs of file blocks [@first, @end)
 * @inode: a regular file whose mappings of the range are gone, with
 *	i_rwsem and invalidate_lock held exclusively (or being evicted)
 * @first: first file AU
 * @end: one past the last file AU
 *
 * Return: 0; -EBUSY (nothing freed) if a page of the range is pinned, or
 * still referenced after a bounded wait; -ENOMEM or -ENOSPC.
 */
int pkernfs_free_range(struct inode *inode, u64 first, u64 end)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	struct pkernfs_ext *ext, copy;
	unsigned long idx;
	int err = 0;

	if (first >= end || first > U32_MAX)
		return 0;
	end = min_t(u64, end, (u64)U32_MAX + 1);
	/*
	 * The busy check may sleep, so it runs on copies, outside sbi->lock:
	 * the caller's locks keep the range's extents as they are.
	 */
	for (idx = first; idx < end; idx = (unsigned long)copy.lblk + copy.len) {
		u32 lo, hi;

		rcu_read_lock();
		ext = mt_find(&pi->extents, &idx, end - 1);
		if (ext)
			copy = *ext;
		rcu_read_unlock();
		if (!ext)
			break;
		lo = max_t(u64, first, copy.lblk);
		hi = min_t(u64, end, (u64)copy.lblk + copy.len);
		err = pkernfs_aus_busy(sbi, copy.start + (lo - copy.lblk), hi - lo);
		if (err)
			return err;
	}
	mutex_lock(&sbi->lock);
	for (;;) {
		idx = first;
		ext = mt_find(&pi->extents, &idx, end - 1);
		if (!ext)
			break;
		err = pkernfs_cut_ext(inode, ext, first, end);
		if (err)
			break;
	}
	mutex_unlock(&sbi->lock);
	return err;
}

/*
 * Unmap file range [start, end) from every mapping. A PUD or PMD mapping
 * that straddles an edge would have to be split, which needs mmap_lock
 * (zap_pud_range()); so the range grows to whole huge pages. Mappings
 * are placed so file offset and address agree modulo the huge size, and
 * pages unmapped beyond the range simply fault back in.
 */
void pkernfs_unmap_range(struct inode *inode, u64 start, u64 end)
{
	u64 lo = round_down(start, PUD_SIZE), hi = round_up(end, PUD_SIZE);

	if (hi <= lo)	/* the end rounded past the top of loff_t */
		hi = 0;
	unmap_mapping_range(inode->i_mapping, lo, hi ? hi - lo : 0, 1);
}

/*
 * Does a page table the last kernel handed over map any of @inode's AUs?
 * Its caller's i_rwsem keeps the extents; the maple tree is read under RCU.
 */
static bool pkernfs_dma_inode_mapped(struct inode *inode)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	struct pkernfs_ext *ext;
	unsigned long idx = 0;
	bool mapped = false;

	rcu_read_lock();
	mt_for_each(&pi->extents, ext, idx, U32_MAX) {
		mapped = pkernfs_dma_range_mapped(pkernfs_au_phys(sbi, ext->start),
						  (u64)ext->len << sbi->au_shift);
		if (mapped)
			break;
	}
	rcu_read_unlock();
	return mapped;
}

/**
 * pkernfs_dma_busy() - refuse to free a file's memory under preserved DMA
 * @inode: a regular file; its i_rwsem held (dma_holds changes under it)
 * @what: the operation, for the message
 *
 * The holders of this kernel count, and after kexec the page tables the
 * last one handed over: whatever a device can still reach is held, marked
 * on media or not.
 *
 * Return: true (and say so) if a kernel DMA user holds the file.
 */
bool pkernfs_dma_busy(struct inode *inode, const char *what)
{
	if (!PKERNFS_I(inode)->dma_holds && !pkernfs_dma_inode_mapped(inode))
		return false;
	pr_warn_ratelimited("%s: inode %lu backs DMA a kernel user keeps across kexec (IOMMU): %s refused until it is released\n",
			    PKERNFS_SB(inode->i_sb)->source, inode->i_ino, what);
	return true;
}

/* Set or clear PKERNFS_INODE_DMA in one transaction; i_rwsem held. */
static int pkernfs_dma_mark(struct inode *inode, bool held)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_super *sup;
	int err, idx;

	if (sb_rdonly(inode->i_sb))
		return -EROFS;
	/*
	 * Never a feature the format level keeps off: its kernels would mount
	 * it ro. Read without sbi->lock: s_minor is fixed while mounted, and
	 * the DMA bit only goes from 0 to 1 under it; a stale 0 only refuses.
	 */
	if (held && le16_to_cpu(sbi->dsb->s_minor) < PKERNFS_MINOR_DMA &&
	    !(le32_to_cpu(sbi->dsb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_DMA)) {
		pr_err_ratelimited("%s: formatted at level %u.%u, for kernels that do not know DMA holds: raise it first (pkernfsctl upgrade --level %u.%u), once no older kernel will mount it\n",
				   sbi->source, PKERNFS_MAJOR, le16_to_cpu(sbi->dsb->s_minor),
				   PKERNFS_MAJOR, PKERNFS_MINOR_DMA);
		return -EOPNOTSUPP;
	}
	if (pkernfs_enter(sbi, &idx))
		return -EIO;
	mutex_lock(&sbi->lock);
	err = 0;
	if (held && !(le32_to_cpu(sbi->dsb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_DMA)) {
		sup = pkernfs_txn_add(sbi, PKERNFS_T_SUPER, 0);
		if (IS_ERR(sup))
			err = PTR_ERR(sup);
		else
			le32_add_cpu(&sup->s_feature_ro_compat, PKERNFS_FEATURE_RO_COMPAT_DMA);
	}
	if (!err) {
		PKERNFS_I(inode)->dma_held = held;
		pkernfs_stage_inode(sbi, inode);
		pkernfs_txn_commit(sbi);
	}
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
	return err;
}

/**
 * pkernfs_dma_hold() - a kernel DMA user maps this file's memory
 * @file: an open pkernfs regular file
 *
 * Until the last pkernfs_dma_release() truncating, punching and unlinking
 * the file are refused with EBUSY. After kexec, the page tables handed
 * over keep what they map held until they are released; the mark in the
 * inode tells kernels that do not know this (ro_compat DMA). May sleep.
 *
 * Return: 0; -EINVAL (not a pkernfs regular file), -ENOENT (unlinked),
 * -EOPNOTSUPP (formatted at a level without DMA holds), -EROFS, -EIO.
 */
int pkernfs_dma_hold(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_inode_info *pi;
	int err = 0;

	if (inode->i_sb->s_op != &pkernfs_super_operations || !S_ISREG(inode->i_mode))
		return -EINVAL;
	pi = PKERNFS_I(inode);
	inode_lock(inode);
	if (!inode->i_nlink)
		err = -ENOENT;
	else if (!pi->dma_held)
		err = pkernfs_dma_mark(inode, true);
	if (!err)
		pi->dma_holds++;
	inode_unlock(inode);
	return err;
}
EXPORT_SYMBOL_GPL(pkernfs_dma_hold);

/**
 * pkernfs_dma_release() - drop a hold taken with pkernfs_dma_hold()
 * @file: the file
 *
 * The last one clears the mark in the inode. May sleep.
 */
void pkernfs_dma_release(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	int err;

	inode_lock(inode);
	/* The mark stays while handed-over tables still map the file. */
	if (!WARN_ON_ONCE(!pi->dma_holds) && !--pi->dma_holds &&
	    !pkernfs_dma_inode_mapped(inode)) {
		err = pkernfs_dma_mark(inode, false);
		if (err)
			pkernfs_warn(PKERNFS_SB(inode->i_sb),
				     "inode %lu: DMA hold released, but the mark stays on media (%d)",
				     inode->i_ino, err);
	}
	inode_unlock(inode);
}
EXPORT_SYMBOL_GPL(pkernfs_dma_release);

/**
 * pkernfs_setsize() - truncate or extend; i_rwsem held
 * @inode: a regular file
 * @newsize: the new size
 *
 * Return: 0, or -EBUSY if the AUs past the new end are pinned.
 */
int pkernfs_setsize(struct inode *inode, loff_t newsize)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	loff_t oldsize = i_size_read(inode);
	int err = 0;

	if (newsize < oldsize && pkernfs_dma_busy(inode, "truncate"))
		return -EBUSY;
	filemap_invalidate_lock(inode->i_mapping);
	if (newsize < oldsize) {
		pkernfs_unmap_range(inode, round_up(newsize, PAGE_SIZE), U64_MAX);
		err = pkernfs_free_range(inode, DIV_ROUND_UP(newsize, au_size), U32_MAX);
		if (err)
			goto out;
		/* The tail of the last AU must read as zero if the file grows again. */
		pkernfs_zero_range(inode, newsize, min_t(u64, oldsize, round_up(newsize, au_size)));
	}
	i_size_write(inode, newsize);
	inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
out:
	filemap_invalidate_unlock(inode->i_mapping);
	return err;
}

#include "extent_test.c"
