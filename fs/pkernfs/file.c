// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs regular files: extents, read/write, truncate, fallocate, and
 * mmap through our own fault handler.
 *
 * File data is the namespace's ZONE_DEVICE memory itself; there is no page
 * cache. mmap inserts devmap pfns (PTE, PMD or PUD, whichever the file's
 * extents and the VMA allow), so the pages can be pinned long-term by GUP
 * (VFIO, iommufd, io_uring). The inode is not S_DAX on purpose: fs-dax
 * files refuse FOLL_LONGTERM.
 *
 * Freeing data that a pin still references would hand live DMA targets to
 * another file. So truncate, hole punch and unlink first unmap, then free
 * only AUs whose pages are idle: truncate and punch fail with EBUSY while
 * a page in the range is pinned; an unlinked file whose pages are pinned
 * stays an orphan and is freed by the next mount.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/falloc.h>
#include <linux/huge_mm.h>
#include <linux/libnvdimm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include "pkernfs.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* AUs a single allocating transaction takes at most, bounding lock hold time. */
#define PKERNFS_ALLOC_CHUNK	512u

static struct pkernfs_ext *pkernfs_find_ext(struct inode *inode, u32 lblk)
{
	return mtree_load(&PKERNFS_I(inode)->extents, lblk);
}

void pkernfs_destroy_extents(struct inode *inode)
{
	struct maple_tree *mt = &PKERNFS_I(inode)->extents;
	struct pkernfs_ext *ext;
	unsigned long index = 0;

	mt_for_each(mt, ext, index, ULONG_MAX)
		kfree(ext);
	mtree_destroy(mt);
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

/* A page of the range is referenced beyond its idle count: GUP holds it. */
static bool pkernfs_aus_busy(struct pkernfs_sb_info *sbi, u64 start, u64 len)
{
	unsigned long pfn = PHYS_PFN(pkernfs_au_phys(sbi, start));
	unsigned long end = pfn + (len << (sbi->au_shift - PAGE_SHIFT));

	while (pfn < end) {
		struct folio *folio = page_folio(pfn_to_page(pfn));

		if (folio_ref_count(folio) > 1)
			return true;
		pfn = folio_pfn(folio) + folio_nr_pages(folio);
	}
	return false;
}

/*
 * Allocate and map AUs for [lblk, lblk + want) that are holes, one
 * transaction per run found. Called with sbi->lock held.
 */
static int pkernfs_alloc_run(struct inode *inode, u32 lblk, u32 want)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	struct pkernfs_ext *prev, *ext;
	struct pkernfs_extent *e;
	unsigned long idx;
	u64 start, got, goal = 0;
	u32 slot;
	bool merge;
	int err;

	/* The hole ends where the next extent starts. */
	idx = lblk;
	ext = mt_find(&pi->extents, &idx, (unsigned long)lblk + want - 1);
	if (ext)
		want = ext->lblk - lblk;
	want = min(want, PKERNFS_ALLOC_CHUNK);
	prev = lblk ? pkernfs_find_ext(inode, lblk - 1) : NULL;
	if (prev)
		goal = prev->start + prev->len;

	err = pkernfs_alloc_aus(sbi, want, goal, &start, &got);
	if (err)
		return err;
	merge = prev && prev->start + prev->len == start &&
		prev->len + got <= PKERNFS_BITS_PER_BMAP;
	if (!merge) {
		err = pkernfs_alloc_slot(sbi->extent_used, sbi->nr_extents, 0, &slot);
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
	/* Old contents of a freed AU must never show through a new file. */
	memset(pkernfs_au_addr(sbi, start), 0, got << sbi->au_shift);
	arch_wb_cache_pmem(pkernfs_au_addr(sbi, start), got << sbi->au_shift);

	if (merge) {
		*ext = *prev;
		ext->len += got;
	} else {
		*ext = (struct pkernfs_ext){ .slot = slot, .lblk = lblk, .len = got,
					     .start = start };
	}
	e = pkernfs_txn_add(sbi, PKERNFS_T_EXTENT, slot);
	if (IS_ERR(e)) {
		err = PTR_ERR(e);
		goto out_free;
	}
	pkernfs_stage_ext(sbi, e, inode, ext);
	err = pkernfs_set_aus(sbi, start, got, true);
	if (err)
		goto out_free;
	pkernfs_txn_commit(sbi);

	err = mtree_store_range(&pi->extents, ext->lblk, ext->lblk + ext->len - 1, ext,
				GFP_KERNEL);
	if (err) {
		/* The extent is on media; the in-memory map is rebuilt at mount. */
		kfree(ext);
		return err;
	}
	if (merge)
		kfree(prev);
	inode->i_blocks += (blkcnt_t)got << (sbi->au_shift - 9);
	return 0;

out_free:
	pkernfs_txn_abort(sbi);
	kfree(ext);
out_slot:
	if (!merge)
		__clear_bit(slot, sbi->extent_used);
	return err;
}

/**
 * pkernfs_get_ext() - the extent mapping file AU @lblk, allocating on a hole
 * @inode: a regular file
 * @lblk: file AU
 * @want: AUs to allocate from @lblk if it is a hole (a hint)
 * @alloc: allocate if a hole
 * @extp: the extent found
 *
 * Return: 0 (with *@extp NULL for a hole when !@alloc), -ENOSPC, -ENOMEM.
 */
static int pkernfs_get_ext(struct inode *inode, u32 lblk, u32 want, bool alloc,
			   struct pkernfs_ext **extp)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	int err = 0;

	*extp = pkernfs_find_ext(inode, lblk);
	if (*extp || !alloc)
		return 0;
	mutex_lock(&sbi->lock);
	*extp = pkernfs_find_ext(inode, lblk);
	if (!*extp) {
		err = pkernfs_alloc_run(inode, lblk, max(want, 1u));
		if (!err)
			*extp = pkernfs_find_ext(inode, lblk);
	}
	mutex_unlock(&sbi->lock);
	return err;
}

static void *pkernfs_ext_addr(struct pkernfs_sb_info *sbi, struct pkernfs_ext *ext,
			      u64 pos)
{
	u64 off = pos - ((u64)ext->lblk << sbi->au_shift);

	return pkernfs_au_addr(sbi, ext->start) + off;
}

/* Is the memory behind [pos, pos + size) one physically contiguous run? */
static bool pkernfs_contig(struct inode *inode, u64 pos, u64 size, phys_addr_t *phys)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u32 lblk = pos >> sbi->au_shift;
	u64 last = (pos + size - 1) >> sbi->au_shift;
	struct pkernfs_ext *ext = pkernfs_find_ext(inode, lblk);
	phys_addr_t p;

	if (!ext)
		return false;
	p = pkernfs_au_phys(sbi, ext->start) + (pos - ((u64)ext->lblk << sbi->au_shift));
	*phys = p;
	while (last >= (u64)ext->lblk + ext->len) {
		struct pkernfs_ext *next = pkernfs_find_ext(inode, ext->lblk + ext->len);

		if (!next || next->start != ext->start + ext->len)
			return false;
		ext = next;
	}
	return IS_ALIGNED(p, size);
}

static ssize_t pkernfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	int idx;
	struct inode *inode = file_inode(iocb->ki_filp);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	loff_t pos = iocb->ki_pos, size;
	ssize_t done = 0;
	size_t n, copied;

	if (!iov_iter_count(to))
		return 0;
	if (pkernfs_enter(sbi, &idx))
		return -EIO;
	size = i_size_read(inode);
	while (iov_iter_count(to) && pos < size) {
		struct pkernfs_ext *ext = pkernfs_find_ext(inode, pos >> sbi->au_shift);

		n = min3((u64)iov_iter_count(to), (u64)(size - pos),
			 au_size - (pos & (au_size - 1)));
		if (ext)
			copied = copy_to_iter(pkernfs_ext_addr(sbi, ext, pos), n, to);
		else
			copied = iov_iter_zero(n, to);
		pos += copied;
		done += copied;
		if (copied < n) {
			if (!done)
				done = -EFAULT;
			break;
		}
	}
	pkernfs_exit(idx);
	iocb->ki_pos = pos;
	file_accessed(iocb->ki_filp);
	return done;
}

static ssize_t pkernfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	int idx;
	struct inode *inode = file_inode(iocb->ki_filp);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	struct pkernfs_ext *ext;
	ssize_t done = 0, ret;
	size_t n, copied;
	loff_t pos;
	int err = 0;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out_unlock;
	ret = file_remove_privs(iocb->ki_filp);
	if (!ret)
		ret = file_update_time(iocb->ki_filp);
	if (ret)
		goto out_unlock;
	ret = pkernfs_enter(sbi, &idx);
	if (ret)
		goto out_unlock;
	pos = iocb->ki_pos;
	while (iov_iter_count(from)) {
		u32 lblk = pos >> sbi->au_shift;
		u64 left = iov_iter_count(from) + (pos & (au_size - 1));

		err = pkernfs_get_ext(inode, lblk, DIV_ROUND_UP(left, au_size), true, &ext);
		if (err)
			break;
		n = min_t(u64, iov_iter_count(from), au_size - (pos & (au_size - 1)));
		copied = copy_from_iter(pkernfs_ext_addr(sbi, ext, pos), n, from);
		pos += copied;
		done += copied;
		if (copied < n) {
			err = -EFAULT;
			break;
		}
	}
	if (pos > i_size_read(inode)) {
		i_size_write(inode, pos);
		mutex_lock(&sbi->lock);
		pkernfs_stage_inode(sbi, inode);
		pkernfs_txn_commit(sbi);
		mutex_unlock(&sbi->lock);
	}
	pkernfs_exit(idx);
	iocb->ki_pos = pos;
	ret = done ? done : err;
out_unlock:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/* Zero [pos, end) within mapped AUs; holes already read as zero. */
static void pkernfs_zero_range(struct inode *inode, u64 pos, u64 end)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;

	while (pos < end) {
		struct pkernfs_ext *ext = pkernfs_find_ext(inode, pos >> sbi->au_shift);
		u64 n = min(end - pos, au_size - (pos & (au_size - 1)));

		if (ext) {
			memset(pkernfs_ext_addr(sbi, ext, pos), 0, n);
			arch_wb_cache_pmem(pkernfs_ext_addr(sbi, ext, pos), n);
		}
		pos += n;
	}
}

/* Remove [first, end) from one extent: trim it, split it, or free it. */
static int pkernfs_cut_ext(struct inode *inode, struct pkernfs_ext *ext, u32 first, u32 end)
{
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
			kfree(head);
			return -ENOMEM;
		}
		if (head) {
			err = pkernfs_alloc_slot(sbi->extent_used, sbi->nr_extents, 0, &tslot);
			if (err) {
				kfree(head);
				kfree(tail);
				return err;
			}
		} else {
			tslot = ext->slot;
		}
		*tail = (struct pkernfs_ext){ .slot = tslot, .lblk = cut_hi,
					      .len = ext->lblk + ext->len - cut_hi,
					      .start = ext->start + (cut_hi - ext->lblk) };
	}

	e = pkernfs_txn_add(sbi, PKERNFS_T_EXTENT, ext->slot);
	err = PTR_ERR_OR_ZERO(e);
	if (!err) {
		if (head)
			pkernfs_stage_ext(sbi, e, inode, head);
		else if (tail)
			pkernfs_stage_ext(sbi, e, inode, tail);
		else
			memset(e, 0, sizeof(*e));
	}
	if (!err && head && tail) {
		e = pkernfs_txn_add(sbi, PKERNFS_T_EXTENT, tslot);
		err = PTR_ERR_OR_ZERO(e);
		if (!err)
			pkernfs_stage_ext(sbi, e, inode, tail);
	}
	if (!err)
		err = pkernfs_set_aus(sbi, ext->start + (cut_lo - ext->lblk), cut_hi - cut_lo,
				      false);
	if (err) {
		pkernfs_txn_abort(sbi);
		if (head && tail)
			__clear_bit(tslot, sbi->extent_used);
		kfree(head);
		kfree(tail);
		return err;
	}
	pkernfs_txn_commit(sbi);

	mtree_erase(&pi->extents, ext->lblk);
	inode->i_blocks -= (blkcnt_t)(cut_hi - cut_lo) << (sbi->au_shift - 9);
	if (!head && !tail)
		__clear_bit(ext->slot, sbi->extent_used);
	if (head)
		mtree_store_range(&pi->extents, head->lblk, head->lblk + head->len - 1, head,
				  GFP_KERNEL);
	if (tail)
		mtree_store_range(&pi->extents, tail->lblk, tail->lblk + tail->len - 1, tail,
				  GFP_KERNEL);
	kfree(ext);
	return 0;
}

/**
 * pkernfs_free_range() - free the AUs of file blocks [@first, @end)
 * @inode: a regular file whose mappings of the range are gone
 * @first: first file AU
 * @end: one past the last file AU
 *
 * Return: 0; -EBUSY (nothing freed) if a page of the range is still
 * referenced, by a GUP pin for example; -ENOMEM or -ENOSPC.
 */
int pkernfs_free_range(struct inode *inode, u64 first, u64 end)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode_info *pi = PKERNFS_I(inode);
	struct pkernfs_ext *ext;
	unsigned long idx;
	int err = 0;

	if (first >= end || first > U32_MAX)
		return 0;
	end = min_t(u64, end, (u64)U32_MAX + 1);
	mutex_lock(&sbi->lock);
	idx = first;
	mt_for_each(&pi->extents, ext, idx, end - 1) {
		u32 lo = max_t(u64, first, ext->lblk);
		u32 hi = min_t(u64, end, (u64)ext->lblk + ext->len);

		if (pkernfs_aus_busy(sbi, ext->start + (lo - ext->lblk), hi - lo)) {
			err = -EBUSY;
			goto out;
		}
	}
	for (;;) {
		idx = first;
		ext = mt_find(&pi->extents, &idx, end - 1);
		if (!ext)
			break;
		err = pkernfs_cut_ext(inode, ext, first, end);
		if (err)
			break;
	}
out:
	mutex_unlock(&sbi->lock);
	return err;
}

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

	filemap_invalidate_lock(inode->i_mapping);
	if (newsize < oldsize) {
		unmap_mapping_range(inode->i_mapping, round_up(newsize, PAGE_SIZE), 0, 1);
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

static long pkernfs_do_fallocate(struct inode *inode, int mode, loff_t offset, loff_t len)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift, end = offset + len, pos;
	struct pkernfs_ext *ext;
	long err = 0;

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		u64 first = DIV_ROUND_UP(offset, au_size), last = end / au_size;

		filemap_invalidate_lock(inode->i_mapping);
		unmap_mapping_range(inode->i_mapping, offset, len, 1);
		err = pkernfs_free_range(inode, first, last);
		if (!err) {
			/* Partial AUs at the edges keep their memory, zeroed. */
			pkernfs_zero_range(inode, offset, min(end, first * au_size));
			if (last >= first)
				pkernfs_zero_range(inode, max_t(u64, offset, last * au_size), end);
		}
		filemap_invalidate_unlock(inode->i_mapping);
	} else {
		for (pos = round_down(offset, au_size); pos < end; pos += au_size) {
			err = pkernfs_get_ext(inode, pos >> sbi->au_shift,
					      DIV_ROUND_UP(end - pos, au_size), true, &ext);
			if (err)
				break;
		}
		if (!err && !(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode))
			i_size_write(inode, end);
	}
	inode_set_ctime_current(inode);
	mutex_lock(&sbi->lock);
	pkernfs_stage_inode(sbi, inode);
	pkernfs_txn_commit(sbi);
	mutex_unlock(&sbi->lock);
	return err;
}

static long pkernfs_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	long err;
	int idx;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if (!S_ISREG(inode->i_mode))
		return -ENODEV;
	inode_lock(inode);
	err = inode_newsize_ok(inode, offset + len);
	if (err || pkernfs_enter(sbi, &idx)) {
		inode_unlock(inode);
		return err ?: -EIO;
	}
	err = pkernfs_do_fallocate(inode, mode, offset, len);
	pkernfs_exit(idx);
	inode_unlock(inode);
	return err;
}

static loff_t pkernfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	loff_t size, pos;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return generic_file_llseek(file, offset, whence);
	inode_lock_shared(inode);
	size = i_size_read(inode);
	pos = offset;
	if (offset < 0 || offset >= size) {
		pos = -ENXIO;
		goto out;
	}
	for (; pos < size; pos = round_down(pos, au_size) + au_size) {
		bool data = pkernfs_find_ext(inode, pos >> sbi->au_shift);
		bool want_data = whence == SEEK_DATA;

		if (data == want_data)
			break;
	}
	if (pos >= size)
		pos = whence == SEEK_DATA ? -ENXIO : size;
	else
		pos = max(pos, offset);
	if (pos >= 0)
		pos = vfs_setpos(file, pos, inode->i_sb->s_maxbytes);
out:
	inode_unlock_shared(inode);
	return pos;
}

/* Metadata is committed as it changes; data needs only its cache lines written. */
static int pkernfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_ext *ext;
	unsigned long index;
	int idx;

	if (pkernfs_enter(sbi, &idx))
		return -EIO;
	end = min_t(loff_t, end, i_size_read(inode));
	if (start < end) {
		index = start >> sbi->au_shift;
		mt_for_each(&PKERNFS_I(inode)->extents, ext, index, (end - 1) >> sbi->au_shift)
			arch_wb_cache_pmem(pkernfs_au_addr(sbi, ext->start),
					   (u64)ext->len << sbi->au_shift);
	}
	pkernfs_exit(idx);
	return 0;
}

static vm_fault_t pkernfs_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	int idx;
	struct vm_area_struct *vma = vmf->vma;
	struct inode *inode = file_inode(vma->vm_file);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	unsigned long size = PAGE_SIZE << order;
	unsigned long addr = ALIGN_DOWN(vmf->address, size);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pgoff_t pgoff = linear_page_index(vma, addr);
	struct pkernfs_ext *ext;
	vm_fault_t ret;
	phys_addr_t phys;
	pfn_t pfn;
	u64 pos = (u64)pgoff << PAGE_SHIFT;

	if (order && (order != PMD_ORDER && order != PUD_ORDER))
		return VM_FAULT_FALLBACK;
	if (order && (addr < vma->vm_start || addr + size > vma->vm_end ||
		      (1UL << sbi->au_shift) < min_t(unsigned long, size, PMD_SIZE)))
		return VM_FAULT_FALLBACK;
	if (pkernfs_enter(sbi, &idx)) {
		ret = VM_FAULT_SIGBUS;
		goto out_trace;
	}
	filemap_invalidate_lock_shared(inode->i_mapping);
	if (pos >= round_up(i_size_read(inode), PAGE_SIZE) ||
	    (order && pos + size > round_up(i_size_read(inode), size))) {
		ret = order ? VM_FAULT_FALLBACK : VM_FAULT_SIGBUS;
		goto out;
	}
	if (pkernfs_get_ext(inode, pos >> sbi->au_shift,
			    DIV_ROUND_UP(size, 1UL << sbi->au_shift), true, &ext)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	if (order) {
		/* Later AUs of the huge range may be holes: fill them first. */
		u64 p;

		for (p = pos; p < pos + size; p += 1ULL << sbi->au_shift) {
			if (pkernfs_get_ext(inode, p >> sbi->au_shift, 1, true, &ext)) {
				ret = VM_FAULT_FALLBACK;
				goto out;
			}
		}
		if (!pkernfs_contig(inode, pos, size, &phys)) {
			ret = VM_FAULT_FALLBACK;
			goto out;
		}
	} else {
		phys = pkernfs_au_phys(sbi, ext->start) +
		       (pos - ((u64)ext->lblk << sbi->au_shift));
	}
	pfn = phys_to_pfn_t(phys, PFN_DEV | PFN_MAP);
	if (order == PUD_ORDER)
		ret = vmf_insert_pfn_pud(vmf, pfn, write);
	else if (order == PMD_ORDER)
		ret = vmf_insert_pfn_pmd(vmf, pfn, write);
	else
		ret = vmf_insert_mixed(vma, vmf->address, pfn);
out:
	filemap_invalidate_unlock_shared(inode->i_mapping);
	pkernfs_exit(idx);
out_trace:
	trace_pkernfs_fault(inode, pgoff, order, write, ret);
	return ret;
}

static vm_fault_t pkernfs_fault(struct vm_fault *vmf)
{
	return pkernfs_huge_fault(vmf, 0);
}

static const struct vm_operations_struct pkernfs_vm_ops = {
	.fault = pkernfs_fault,
	.huge_fault = pkernfs_huge_fault,
};

static int pkernfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* A private mapping would need copy-on-write of device memory. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	file_accessed(file);
	vma->vm_ops = &pkernfs_vm_ops;
	/*
	 * VM_MIXEDMAP tells the core these are not page-cache folios (no rmap,
	 * no THP split), as S_DAX does for device dax; unlike VM_PFNMAP it
	 * leaves the pages to GUP, so they stay pinnable.
	 */
	vm_flags_set(vma, VM_MIXEDMAP | VM_HUGEPAGE);
	return 0;
}

/* Place mappings so the file offset and the address agree modulo PUD or PMD. */
static unsigned long pkernfs_get_unmapped_area(struct file *file, unsigned long addr,
					       unsigned long len, unsigned long pgoff,
					       unsigned long flags)
{
	unsigned long align = len >= PUD_SIZE ? PUD_SIZE : PMD_SIZE;
	unsigned long off = pgoff << PAGE_SHIFT, ret;

	if (addr || len < PMD_SIZE || len + align < len)
		goto out;
	ret = mm_get_unmapped_area(current->mm, file, 0, len + align, pgoff, flags);
	if (IS_ERR_VALUE(ret))
		goto out;
	return ret + ((off - ret) & (align - 1));
out:
	return mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags);
}

const struct file_operations pkernfs_file_operations = {
	.llseek = pkernfs_llseek,
	.read_iter = pkernfs_read_iter,
	.write_iter = pkernfs_write_iter,
	.mmap = pkernfs_mmap,
	.get_unmapped_area = pkernfs_get_unmapped_area,
	.fsync = pkernfs_fsync,
	.fallocate = pkernfs_fallocate,
	.splice_read = copy_splice_read,
};

/**
 * pkernfs_load_extents() - check the extent table and give each file its map
 * @sb: the filesystem being mounted, its tree already built
 *
 * Also frees orphans: inodes with no links left by an unlink whose memory
 * was pinned, or by a crash between unlink and eviction.
 *
 * Return: 0, -EFSCORRUPTED naming the first bad extent, or -ENOMEM.
 */
int pkernfs_load_extents(struct super_block *sb)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	unsigned long *seen;
	const char *why = NULL;
	struct pkernfs_ext *ext;
	struct inode *inode;
	u32 i;
	int err = 0;

	sbi->extent_used = bitmap_zalloc(sbi->nr_extents, GFP_KERNEL);
	seen = bitmap_zalloc(sbi->nr_aus, GFP_KERNEL);
	if (!sbi->extent_used || !seen) {
		bitmap_free(seen);
		return -ENOMEM;
	}
	bitmap_set(seen, 0, sbi->data_first_au);
	for (i = 0; i < sbi->nr_extents && !err; i++) {
		struct pkernfs_extent *e = &sbi->etab[i];
		u64 ino = le64_to_cpu(e->e_ino), start = le64_to_cpu(e->e_start);
		u32 len = le32_to_cpu(e->e_len);

		if (pkernfs_extent_check(sbi->dsb, e, &why)) {
			pr_err("%s: extent %u: %s\n", sbi->source, i, why);
			err = -EFSCORRUPTED;
			break;
		}
		if (!ino)
			continue;
		if (ino >= sbi->nr_inodes || !test_bit(ino, sbi->ino_used) ||
		    sbi->itab[ino].i_gen != e->e_ino_gen ||
		    !S_ISREG(le16_to_cpu(sbi->itab[ino].i_mode))) {
			pr_err("%s: extent %u belongs to no file (inode %llu)\n",
			       sbi->source, i, ino);
			err = -EFSCORRUPTED;
			break;
		}
		if (find_next_bit(seen, start + len, start) < start + len ||
		    find_next_zero_bit(sbi->au_used, start + len, start) < start + len) {
			pr_err("%s: extent %u overlaps another or is marked free\n",
			       sbi->source, i);
			err = -EFSCORRUPTED;
			break;
		}
		bitmap_set(seen, start, len);
		__set_bit(i, sbi->extent_used);
		inode = ilookup(sb, ino);
		if (!inode)
			continue;	/* an orphan's: freed below */
		ext = kmalloc(sizeof(*ext), GFP_KERNEL);
		if (!ext) {
			err = -ENOMEM;
		} else {
			*ext = (struct pkernfs_ext){ .slot = i, .lblk = le32_to_cpu(e->e_lblk),
						     .len = len, .start = start };
			err = mtree_insert_range(&PKERNFS_I(inode)->extents, ext->lblk,
						 ext->lblk + len - 1, ext, GFP_KERNEL);
			if (!err)
				inode->i_blocks += (blkcnt_t)len << (sbi->au_shift - 9);
			if (err) {
				kfree(ext);
				pr_err("%s: extent %u overlaps another of inode %llu\n",
				       sbi->source, i, ino);
				err = -EFSCORRUPTED;
			}
		}
		iput(inode);
	}
	if (!err && !bitmap_equal(seen, sbi->au_used, sbi->nr_aus)) {
		pr_err("%s: allocation bitmap marks AUs that no extent uses\n", sbi->source);
		err = -EFSCORRUPTED;
	}
	bitmap_free(seen);
	if (err)
		return err;

	/* Orphans: used inodes with no links, which the tree did not reach. */
	for (i = PKERNFS_ROOT_INO + 1; i < sbi->nr_inodes; i++) {
		if (!test_bit(i, sbi->ino_used) || le32_to_cpu(sbi->itab[i].i_nlink))
			continue;
		inode = pkernfs_iget(sb, i);
		if (IS_ERR(inode))
			return PTR_ERR(inode);
		pr_info("%s: freeing orphan inode %u\n", sbi->source, i);
		/* Build its map so eviction frees its AUs. */
		for (u32 s = 0; s < sbi->nr_extents; s++) {
			struct pkernfs_extent *e = &sbi->etab[s];

			if (le64_to_cpu(e->e_ino) != i)
				continue;
			ext = kmalloc(sizeof(*ext), GFP_KERNEL);
			if (!ext) {
				iput(inode);
				return -ENOMEM;
			}
			*ext = (struct pkernfs_ext){ .slot = s, .lblk = le32_to_cpu(e->e_lblk),
						     .len = le32_to_cpu(e->e_len),
						     .start = le64_to_cpu(e->e_start) };
			if (mtree_insert_range(&PKERNFS_I(inode)->extents, ext->lblk,
					       ext->lblk + ext->len - 1, ext, GFP_KERNEL))
				kfree(ext);
		}
		iput(inode);	/* nlink 0: evict frees it */
	}
	return 0;
}

#ifdef CONFIG_PKERNFS_KUNIT_TEST
#include "extent_test.c"
#endif
