// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs regular files: read/write, fallocate, llseek, fsync, and mmap
 * through our own fault handler. The extents behind them: extent.c.
 *
 * File data is the namespace's ZONE_DEVICE memory itself; there is no page
 * cache. mmap inserts devmap pfns (PTE, PMD or PUD, whichever the file's
 * extents and the VMA allow), so the pages can be pinned long-term by GUP
 * (VFIO, iommufd, io_uring). The inode is not S_DAX on purpose: fs-dax
 * files refuse FOLL_LONGTERM.
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
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/uio.h>
#include "pkernfs.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static ssize_t pkernfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	loff_t pos = iocb->ki_pos, size;
	struct pkernfs_ext ext;
	ssize_t done = 0;
	size_t n, copied;
	int idx, err = 0;

	if (!iov_iter_count(to))
		return 0;
	/*
	 * Shared i_rwsem keeps truncate and punch from freeing the AUs being
	 * copied. The copy may fault on a mapping of this very file; that
	 * takes mmap_lock and invalidate_lock, both inside i_rwsem.
	 */
	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (!inode_trylock_shared(inode))
			return -EAGAIN;
	} else {
		inode_lock_shared(inode);
	}
	if (pkernfs_enter(sbi, &idx)) {
		inode_unlock_shared(inode);
		return -EIO;
	}
	size = i_size_read(inode);
	while (iov_iter_count(to) && pos < size) {
		n = min3((u64)iov_iter_count(to), (u64)(size - pos),
			 au_size - (pos & (au_size - 1)));
		if (pkernfs_lookup_ext(inode, pos >> sbi->au_shift, &ext)) {
			void *src = pkernfs_ext_addr(sbi, &ext, pos);

			err = pkernfs_bad_clip(sbi, src, &n);
			/* Real media may hold poison not listed yet: a short copy. */
			copied = n ? _copy_mc_to_iter(src, n, to) : 0;
			if (copied < n && !err)
				err = -EIO;
		} else {
			copied = iov_iter_zero(n, to);
		}
		pos += copied;
		done += copied;
		if (err || copied < n) {
			if (!done)
				done = err ?: -EFAULT;
			break;
		}
	}
	pkernfs_exit(idx);
	inode_unlock_shared(inode);
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
	struct pkernfs_ext ext;
	ssize_t done = 0, ret;
	size_t n, copied;
	void *dst;
	loff_t pos;
	int err = 0;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out_unlock;
	ret = file_modified(iocb->ki_filp);
	if (ret)
		goto out_unlock;
	ret = pkernfs_enter(sbi, &idx);
	if (ret)
		goto out_unlock;
	pos = iocb->ki_pos;
	while (iov_iter_count(from)) {
		u32 lblk = pos >> sbi->au_shift;
		u64 left = iov_iter_count(from) + (pos & (au_size - 1));

		err = pkernfs_get_ext(inode, lblk, DIV_ROUND_UP(left, au_size), &ext);
		if (err)
			break;
		n = min_t(u64, iov_iter_count(from), au_size - (pos & (au_size - 1)));
		dst = pkernfs_ext_addr(sbi, &ext, pos);
		err = pkernfs_bad_clip(sbi, dst, &n);
		/*
		 * Non-temporal stores, as fs-dax writes pmem: the data does
		 * not pass through (and evict) the cache, and it is durable
		 * without a write-back at fsync.
		 */
		copied = n ? _copy_from_iter_flushcache(dst, n, from) : 0;
		pos += copied;
		done += copied;
		if (err)
			break;
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

static long pkernfs_do_fallocate(struct inode *inode, int mode, loff_t offset, loff_t len)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift, end = offset + len, pos;
	struct pkernfs_ext ext;
	long err = 0;

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		u64 first = DIV_ROUND_UP(offset, au_size), last = end / au_size;

		filemap_invalidate_lock(inode->i_mapping);
		pkernfs_unmap_range(inode, offset, end);
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
					      DIV_ROUND_UP(end - pos, au_size), &ext);
			if (err)
				break;
		}
		if (!err && !(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode))
			i_size_write(inode, end);
	}
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
	err = -EBUSY;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && pkernfs_dma_busy(inode, "hole punch"))
		goto out_unlock;
	err = inode_newsize_ok(inode, offset + len);
	if (err)
		goto out_unlock;
	/* As a write would: drop setuid/setgid, update the times. */
	err = file_modified(file);
	if (err)
		goto out_unlock;
	err = pkernfs_enter(sbi, &idx);
	if (err)
		goto out_unlock;
	err = pkernfs_do_fallocate(inode, mode, offset, len);
	pkernfs_exit(idx);
out_unlock:
	inode_unlock(inode);
	return err;
}

static loff_t pkernfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	struct pkernfs_ext ext;
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
		bool data = pkernfs_lookup_ext(inode, pos >> sbi->au_shift, &ext);
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

/*
 * Metadata is committed as it changes; data needs its cache lines written
 * back, for the range asked only.
 */
static int pkernfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u64 au_size = 1ULL << sbi->au_shift;
	struct pkernfs_ext ext;
	loff_t pos;
	u64 n;
	int idx;

	inode_lock_shared(inode);
	if (pkernfs_enter(sbi, &idx)) {
		inode_unlock_shared(inode);
		return -EIO;
	}
	end = min_t(loff_t, end, i_size_read(inode) - 1);
	for (pos = start; pos <= end; pos += n) {
		n = min_t(u64, end - pos + 1, au_size - (pos & (au_size - 1)));
		if (pkernfs_lookup_ext(inode, pos >> sbi->au_shift, &ext))
			arch_wb_cache_pmem(pkernfs_ext_addr(sbi, &ext, pos), n);
	}
	pkernfs_persist_barrier(sbi);
	pkernfs_exit(idx);
	inode_unlock_shared(inode);
	return 0;
}

/*
 * A read fault on a hole maps the shared zero page when the mapping can
 * never be written (no VM_MAYWRITE: a read-only open, or any mapping on a
 * read-only mount), so reading a sparse file costs no memory and a
 * read-only mount never writes. The core refuses the zero page in a
 * mapping that may become writable, since a long-term GUP pin of it
 * would outlive the page being replaced; there a read fault allocates.
 */
static vm_fault_t pkernfs_map_zero(struct vm_fault *vmf, struct inode *inode, u32 lblk,
				   bool *raced)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	vm_fault_t ret = VM_FAULT_NOPAGE;

	/* Under sbi->lock: an allocation of this AU zaps the zero page after us. */
	mutex_lock(&sbi->lock);
	*raced = pkernfs_find_ext_locked(inode, lblk);
	if (!*raced) {
		PKERNFS_I(inode)->zero_mapped = true;
		ret = vmf_insert_mixed(vmf->vma, vmf->address,
				       pfn_to_pfn_t(my_zero_pfn(vmf->address)));
	}
	mutex_unlock(&sbi->lock);
	return ret;
}

static vm_fault_t pkernfs_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	int idx;
	struct vm_area_struct *vma = vmf->vma;
	struct inode *inode = file_inode(vma->vm_file);
	struct super_block *sb = inode->i_sb;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	unsigned long size = PAGE_SIZE << order;
	unsigned long addr = ALIGN_DOWN(vmf->address, size);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pgoff_t pgoff = linear_page_index(vma, addr);
	u64 au_size = 1ULL << sbi->au_shift;
	u64 pos = (u64)pgoff << PAGE_SHIFT;
	struct pkernfs_ext ext;
	vm_fault_t ret;
	phys_addr_t phys;
	loff_t end;
	bool raced;
	pfn_t pfn;

	if (order && (order != PMD_ORDER && order != PUD_ORDER))
		return VM_FAULT_FALLBACK;
	/*
	 * A huge page must fit the VMA, map file offsets aligned as its
	 * address is (or truncate could not unmap it whole), and not be
	 * smaller than an AU run can back.
	 */
	if (order && (addr < vma->vm_start || addr + size > vma->vm_end ||
		      (vmf->pgoff ^ (vmf->address >> PAGE_SHIFT)) & ((size >> PAGE_SHIFT) - 1) ||
		      au_size < min_t(unsigned long, size, PMD_SIZE)))
		return VM_FAULT_FALLBACK;
	if (write) {
		sb_start_pagefault(sb);
		file_update_time(vma->vm_file);
	}
	if (pkernfs_enter(sbi, &idx)) {
		ret = VM_FAULT_SIGBUS;
		goto out_trace;
	}
	filemap_invalidate_lock_shared(inode->i_mapping);
	end = round_up(i_size_read(inode), PAGE_SIZE);
	if (pos >= end) {
		ret = order ? VM_FAULT_FALLBACK : VM_FAULT_SIGBUS;
		goto out;
	}
	/* Never map a huge page past EOF: fall back to pages up to it. */
	if (order && pos + size > end) {
		ret = VM_FAULT_FALLBACK;
		goto out;
	}
	if (order) {
		u64 p;

		/* A write fills the holes of the huge range; a read maps only data. */
		for (p = pos; write && p < pos + size; p += au_size) {
			if (pkernfs_get_ext(inode, p >> sbi->au_shift,
					    DIV_ROUND_UP(pos + size - p, au_size), &ext)) {
				ret = VM_FAULT_FALLBACK;
				goto out;
			}
		}
		if (!pkernfs_contig(inode, pos, size, &phys)) {
			ret = VM_FAULT_FALLBACK;
			goto out;
		}
	} else {
		u32 lblk = pos >> sbi->au_shift;
		int err = 0;

		while (!pkernfs_lookup_ext(inode, lblk, &ext)) {
			if (write || (vma->vm_flags & VM_MAYWRITE)) {
				err = pkernfs_get_ext(inode, lblk, 1, &ext);
				break;
			}
			ret = pkernfs_map_zero(vmf, inode, lblk, &raced);
			if (!raced)
				goto out;
		}
		if (err) {
			ret = err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
			goto out;
		}
		phys = pkernfs_au_phys(sbi, ext.start) +
		       (pos - ((u64)ext.lblk << sbi->au_shift));
	}
	/* A bad page is never mapped; a huge mapping over one maps the rest by page. */
	if (pkernfs_bad_range(sbi, phys - sbi->region->phys, order ? size : PAGE_SIZE, NULL)) {
		ret = order ? VM_FAULT_FALLBACK : VM_FAULT_HWPOISON;
		goto out;
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
	if (write)
		sb_end_pagefault(sb);
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
	.splice_write = iter_file_splice_write,
};

#ifdef CONFIG_PKERNFS_KUNIT_TEST
#endif
