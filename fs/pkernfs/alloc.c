// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs allocators: table slots (inodes, dirents, extents) and data AUs,
 * and staging an inode's record in a transaction.
 *
 * The on-media AU bitmap is the record of what is allocated; au_used is
 * its in-memory twin, so searching never reads the media. Slot bitmaps are
 * derived from the tables at mount and are never stored.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/bitmap.h>
#include <linux/pgtable.h>
#include "pkernfs.h"

/**
 * pkernfs_alloc_slot() - take a free slot in a table's in-memory bitmap
 * @used: the bitmap
 * @nr: slots in the table
 * @first: lowest slot that may be handed out
 * @slot: the slot taken
 *
 * Return: 0, or -ENOSPC when the table is full.
 */
int pkernfs_alloc_slot(unsigned long *used, u32 nr, u32 first, u32 *slot)
{
	unsigned long s = find_next_zero_bit(used, nr, first);

	if (s >= nr)
		return -ENOSPC;
	__set_bit(s, used);
	*slot = s;
	return 0;
}

/*
 * A slot past what mount checked is past the high-water mark that mount
 * found, so free whatever it holds. Is it damaged (it was never read)?
 */
static bool pkernfs_slot_damaged(struct pkernfs_sb_info *sbi, enum pkernfs_hwm_id h, u32 slot,
				 const char **why)
{
	int bad;

	switch (h) {
	case PKERNFS_HWM_INODES:
		bad = pkernfs_inode_check(&sbi->itab[slot], slot, why);
		break;
	case PKERNFS_HWM_DIRENTS:
		bad = pkernfs_dirent_check(&sbi->dtab[slot], why);
		break;
	default:
		bad = pkernfs_extent_check(sbi->dsb, &sbi->etab[slot], why);
		break;
	}
	return bad || pkernfs_slot_in_use(sbi->dsb, sbi->base, h, slot);
}

static const struct {
	u16 table;
	u16 size;
	const char *name;
} pkernfs_slot_tables[PKERNFS_NR_HWM] = {
	[PKERNFS_HWM_INODES] = { PKERNFS_T_INODE, sizeof(struct pkernfs_inode), "inode" },
	[PKERNFS_HWM_DIRENTS] = { PKERNFS_T_DIRENT, sizeof(struct pkernfs_dirent), "dirent" },
	[PKERNFS_HWM_EXTENTS] = { PKERNFS_T_EXTENT, sizeof(struct pkernfs_extent), "extent" },
};

/**
 * pkernfs_take_slot() - take a free inode, dirent or extent slot
 * @sbi: the filesystem, sbi->lock held
 * @h: which table
 * @first: lowest slot that may be handed out
 * @slot: the slot taken
 *
 * Mount reads only the slots below the superblock's high-water mark, so
 * a slot at or past it raises the mark first, by PKERNFS_HWM_STEP. That
 * goes in a transaction of its own when none is open (the common case,
 * so a failed caller has nothing to undo), else in the caller's. A slot
 * past what mount checked was free by that mark; if it is damaged (mount
 * never read it), it is cleared in the same transaction and said so.
 *
 * Return: 0, -ENOSPC when the table is full, or the error of
 * pkernfs_txn_add().
 */
int pkernfs_take_slot(struct pkernfs_sb_info *sbi, enum pkernfs_hwm_id h, u32 first, u32 *slot)
{
	unsigned long *used = sbi->slot_used[h];
	u32 nr = sbi->slot_count[h];
	bool own_txn = !sbi->txn.nrec;
	struct pkernfs_super *img;
	const char *why = "in use";
	void *rec;
	int err;

	lockdep_assert_held(&sbi->lock);
	if (pkernfs_should_fail())
		return -ENOSPC;
	err = pkernfs_alloc_slot(used, nr, first, slot);
	if (err)
		return err;
	if (*slot >= sbi->slot_checked[h] && pkernfs_slot_damaged(sbi, h, *slot, &why)) {
		rec = pkernfs_txn_add(sbi, pkernfs_slot_tables[h].table, *slot);
		if (IS_ERR(rec)) {
			err = PTR_ERR(rec);
			goto fail;
		}
		memset(rec, 0, pkernfs_slot_tables[h].size);
		pkernfs_warn(sbi,
			     "%s slot %u, past the high-water mark, was damaged (%s): free, so cleared",
			     pkernfs_slot_tables[h].name, *slot, why);
	}
	if ((le32_to_cpu(sbi->dsb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM) &&
	    *slot >= le32_to_cpu(sbi->dsb->s_hwm[h])) {
		img = pkernfs_txn_add(sbi, PKERNFS_T_SUPER, 0);
		if (IS_ERR(img)) {
			err = PTR_ERR(img);
			goto fail;
		}
		if (le32_to_cpu(img->s_hwm[h]) <= *slot)
			img->s_hwm[h] = cpu_to_le32(min(round_up(*slot + 1, PKERNFS_HWM_STEP), nr));
	}
	if (own_txn)
		pkernfs_txn_commit(sbi);
	return 0;

fail:
	if (own_txn)
		pkernfs_txn_abort(sbi);
	__clear_bit(*slot, used);
	return err;
}

/**
 * pkernfs_hwm_lower() - bring the high-water marks down to what is in use
 * @sbi: the filesystem, sbi->lock held
 * @img: the superblock's image in the open transaction
 */
void pkernfs_hwm_lower(struct pkernfs_sb_info *sbi, struct pkernfs_super *img)
{
	unsigned long last;
	u32 h, want;

	if (!(le32_to_cpu(img->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM))
		return;
	for (h = 0; h < PKERNFS_NR_HWM; h++) {
		last = find_last_bit(sbi->slot_used[h], sbi->slot_count[h]);
		want = last < sbi->slot_count[h] ? last + 1 : 0;
		want = min(max(round_up(want, PKERNFS_HWM_STEP), PKERNFS_HWM_STEP),
			   sbi->slot_count[h]);
		img->s_hwm[h] = cpu_to_le32(want);
	}
}

/* Length of the free run at @start, up to @max AUs. */
static u64 pkernfs_free_run(struct pkernfs_sb_info *sbi, u64 start, u64 max)
{
	u64 end = find_next_bit(sbi->au_used, sbi->nr_aus, start);

	return min(end - start, max);
}

/*
 * AUs per run that lets a fault map a PUD (or else a PMD) at once: a run
 * starting at such a physical boundary keeps huge mappings possible.
 */
static u64 pkernfs_align_aus(struct pkernfs_sb_info *sbi, u64 want)
{
	u64 pud = PUD_SIZE >> sbi->au_shift, pmd = PMD_SIZE >> sbi->au_shift;

	if (pud > 1 && want >= pud)
		return pud;
	if (pmd > 1 && want >= pmd)
		return pmd;
	return 1;
}

/**
 * pkernfs_alloc_aus() - find free data AUs, preferring aligned runs
 * @sbi: the filesystem, sbi->lock held
 * @want: AUs wanted (the caller takes fewer if that is all there is)
 * @goal: AU to start searching from, 0 for the start of the data area
 * @start: first AU found
 * @got: AUs found, 1..@want
 *
 * Only finds: the caller marks the run used with pkernfs_set_aus() in the
 * same transaction that records the extent.
 *
 * Return: 0, or -ENOSPC.
 */
int pkernfs_alloc_aus(struct pkernfs_sb_info *sbi, u64 want, u64 goal,
		      u64 *start, u64 *got)
{
	u64 align = pkernfs_align_aus(sbi, want);
	u64 phys_off = (sbi->region->phys >> sbi->au_shift) & (align - 1);
	u64 au, run, best = 0, best_len = 0;

	lockdep_assert_held(&sbi->lock);
	if (pkernfs_should_fail())
		return -ENOSPC;
	if (!sbi->free_aus)
		return -ENOSPC;
	want = min3(want, (u64)PKERNFS_BITS_PER_BMAP, sbi->free_aus);
	if (goal < sbi->data_first_au || goal >= sbi->nr_aus)
		goal = sbi->data_first_au;

	/* First pass: a free run of @want at an aligned physical address. */
	if (align > 1) {
		for (au = round_up(goal + phys_off, align) - phys_off; au < sbi->nr_aus;
		     au += align) {
			if (test_bit(au, sbi->au_used))
				continue;
			run = pkernfs_free_run(sbi, au, want);
			if (run == want) {
				*start = au;
				*got = want;
				return 0;
			}
		}
	}
	/* Second pass: the first run long enough, else the longest. */
	for (au = find_next_zero_bit(sbi->au_used, sbi->nr_aus, sbi->data_first_au);
	     au < sbi->nr_aus;
	     au = find_next_zero_bit(sbi->au_used, sbi->nr_aus, au + run)) {
		run = pkernfs_free_run(sbi, au, want);
		if (run > best_len) {
			best = au;
			best_len = run;
			if (run == want)
				break;
		}
	}
	if (!best_len)
		return -ENOSPC;
	*start = best;
	*got = best_len;
	return 0;
}

/**
 * pkernfs_set_aus() - mark AUs used or free, in memory and in the transaction
 * @sbi: the filesystem, sbi->lock held, a transaction open
 * @start: first AU
 * @len: AUs, at most PKERNFS_BITS_PER_BMAP (so at most two bitmap blocks)
 * @used: the new state
 *
 * Return: 0, or the error of pkernfs_txn_add(); then nothing changed.
 */
int pkernfs_set_aus(struct pkernfs_sb_info *sbi, u64 start, u64 len, bool used)
{
	u64 first_blk = start / PKERNFS_BITS_PER_BMAP;
	u64 last_blk = (start + len - 1) / PKERNFS_BITS_PER_BMAP;
	struct pkernfs_bmap_block *img[2];
	u64 blk, au, bit;

	for (blk = first_blk; blk <= last_blk; blk++) {
		img[blk - first_blk] = pkernfs_txn_add(sbi, PKERNFS_T_BMAP, blk);
		if (IS_ERR(img[blk - first_blk]))
			return PTR_ERR(img[blk - first_blk]);
	}
	for (au = start; au < start + len; au++) {
		blk = au / PKERNFS_BITS_PER_BMAP - first_blk;
		bit = au % PKERNFS_BITS_PER_BMAP;
		if (used) {
			img[blk]->b_bits[bit / 8] |= 1u << (bit % 8);
			if (!__test_and_set_bit(au, sbi->au_used))
				sbi->free_aus--;
		} else if (!pkernfs_au_bad(sbi, au)) {
			/* An AU with a memory error stays in use for good. */
			img[blk]->b_bits[bit / 8] &= ~(1u << (bit % 8));
			if (__test_and_clear_bit(au, sbi->au_used))
				sbi->free_aus++;
		}
	}
	return 0;
}

/* An inode's record, staged in the transaction like any slot's. */
static void pkernfs_time_to_disk(struct timespec64 ts, __le64 *sec, __le32 *nsec)
{
	*sec = cpu_to_le64(ts.tv_sec);
	*nsec = cpu_to_le32(ts.tv_nsec);
}

/**
 * __pkernfs_stage_inode() - put the inode's current attributes in the transaction
 * @sbi: the filesystem, sbi->lock held
 * @inode: the inode
 *
 * Return: 0 or the error of pkernfs_txn_add().
 */
int __pkernfs_stage_inode(struct pkernfs_sb_info *sbi, struct inode *inode)
{
	struct pkernfs_inode *di;

	di = pkernfs_txn_add(sbi, PKERNFS_T_INODE, inode->i_ino);
	if (IS_ERR(di))
		return PTR_ERR(di);
	di->i_ino = cpu_to_le64(inode->i_ino);
	di->i_gen = cpu_to_le32(PKERNFS_I(inode)->gen);
	di->i_mode = cpu_to_le16(inode->i_mode);
	di->i_flags = cpu_to_le16(PKERNFS_INODE_USED |
				  (PKERNFS_I(inode)->dma_held ? PKERNFS_INODE_DMA : 0));
	di->i_nlink = cpu_to_le32(inode->i_nlink);
	di->i_uid = cpu_to_le32(i_uid_read(inode));
	di->i_gid = cpu_to_le32(i_gid_read(inode));
	di->i_size = cpu_to_le64(i_size_read(inode));
	pkernfs_time_to_disk(inode_get_atime(inode), &di->i_atime, &di->i_atime_ns);
	pkernfs_time_to_disk(inode_get_mtime(inode), &di->i_mtime, &di->i_mtime_ns);
	pkernfs_time_to_disk(inode_get_ctime(inode), &di->i_ctime, &di->i_ctime_ns);
	return 0;
}

void pkernfs_stage_inode(struct pkernfs_sb_info *sbi, struct inode *inode)
{
	/* Callers stage few records; the transaction cannot be full here. */
	__pkernfs_stage_inode(sbi, inode);
}
