// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs metadata transactions.
 *
 * The tables live in memory that outlives the kernel, so a panic or a
 * kexec -p can cut an update anywhere. Every metadata change is therefore
 * a transaction: new images of the touched records are written into the
 * journal, the journal head is committed (its crc covers the images), the
 * images are copied home, and the head is emptied. Mount replays a
 * committed head; a head whose crc fails was torn before it committed and
 * its home records were never touched.
 *
 * Callers hold sbi->lock from the first pkernfs_txn_add() to the commit.
 *
 * Ordering on real pmem. arch_wb_cache_pmem() (CLWB) only starts a
 * write-back; pkernfs_persist_barrier() (pmem_wmb(), or the region's
 * flush hints through nvdimm_flush()) waits until the lines written back
 * so far are durable. A commit therefore has four ordering points, so no
 * step can become durable before the one it relies on:
 *   1. record images         -> fence: images durable before the commit
 *   2. head COMMITTED        -> fence: commit durable before any home write
 *   3. home copies           -> fence: homes durable before the commit goes
 *   4. head EMPTY            -> fence: the next transaction reuses the area
 * A crash before 2 is durable leaves a head that fails its crc or is
 * still EMPTY (dropped); between 2 and 4, replay copies the same images
 * again; during 4, an EMPTY head with a stale crc is treated as empty
 * (pkernfs_journal_state()).
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/libnvdimm.h>
#include <linux/string.h>
#include "pkernfs.h"

/* Metadata must reach the media even when the namespace is real pmem. */
static void pkernfs_flush(void *addr, size_t len)
{
	arch_wb_cache_pmem(addr, len);
}

static int pkernfs_table_rec(struct pkernfs_sb_info *sbi, u16 table, u64 index,
			     void **home, u32 *len)
{
	u64 off;

	/* The geometry as validated at mount, never as the media says now. */
	if (pkernfs_journal_home(sbi->dsb->s_regions, table, index, &off, len))
		return -EINVAL;
	*home = sbi->base + off;
	return 0;
}

/**
 * pkernfs_txn_add() - add a record to the open transaction
 * @sbi: the filesystem, with sbi->lock held
 * @table: enum pkernfs_table_id
 * @index: the record's index in its table
 *
 * The first call for a record copies its current contents into the
 * journal; later calls return the same image. The caller edits the image,
 * not the home record; checksums are set at commit.
 *
 * Return: the image, or ERR_PTR(-ENOSPC) if the transaction is full (an
 * operation that touches more records than PKERNFS_TXN_MAX must be split).
 */
void *pkernfs_txn_add(struct pkernfs_sb_info *sbi, u16 table, u64 index)
{
	struct pkernfs_txn *txn = &sbi->txn;
	struct pkernfs_journal_rec *jr;
	struct pkernfs_txn_rec *r;
	unsigned int i;
	void *home;
	u32 len;
	u8 *p;

	lockdep_assert_held(&sbi->lock);
	/* Metadata with a memory error: change nothing more (poison.c sets it unlocked). */
	if (READ_ONCE(sbi->meta_bad))
		return ERR_PTR(-EROFS);
	if (pkernfs_should_fail())
		return ERR_PTR(-ENOSPC);
	if (pkernfs_table_rec(sbi, table, index, &home, &len))
		return ERR_PTR(-EINVAL);
	for (i = 0; i < txn->nrec; i++)
		if (txn->rec[i].home == home)
			return txn->rec[i].image;
	if (txn->nrec == PKERNFS_TXN_MAX ||
	    sizeof(*sbi->jhead) + txn->bytes + sizeof(*jr) + len > sbi->jlen)
		return ERR_PTR(-ENOSPC);

	p = (u8 *)(sbi->jhead + 1) + txn->bytes;
	jr = (struct pkernfs_journal_rec *)p;
	jr->jr_table = cpu_to_le16(table);
	jr->jr_reserved = 0;
	jr->jr_len = cpu_to_le32(len);
	jr->jr_index = cpu_to_le64(index);
	/* The superblock starts from the validated copy, not from the media. */
	memcpy(jr + 1, table == PKERNFS_T_SUPER ? (void *)sbi->dsb : home, len);

	r = &txn->rec[txn->nrec++];
	r->home = home;
	r->image = jr + 1;
	r->table = table;
	r->len = len;
	txn->bytes += sizeof(*jr) + len;
	return r->image;
}

static void pkernfs_set_crc(u16 table, void *image)
{
	switch (table) {
	case PKERNFS_T_SUPER:
		pkernfs_super_set_crc(image);
		break;
	case PKERNFS_T_INODE:
		pkernfs_inode_set_crc(image);
		break;
	case PKERNFS_T_DIRENT:
		pkernfs_dirent_set_crc(image);
		break;
	case PKERNFS_T_EXTENT:
		pkernfs_extent_set_crc(image);
		break;
	case PKERNFS_T_BMAP:
		pkernfs_bmap_set_crc(image);
		break;
	case PKERNFS_T_KDIR:
		pkernfs_kdir_set_crc(image);
		break;
	}
}

static void pkernfs_journal_empty(struct pkernfs_sb_info *sbi)
{
	struct pkernfs_journal_head *jh = sbi->jhead;

	jh->j_state = cpu_to_le32(PKERNFS_J_EMPTY);
	jh->j_nrec = 0;
	jh->j_bytes = 0;
	pkernfs_journal_set_crc(jh);
	pkernfs_flush(jh, sizeof(*jh));
	pkernfs_persist_barrier(sbi);
}

/**
 * pkernfs_txn_commit() - make the open transaction durable, then apply it
 * @sbi: the filesystem, with sbi->lock held
 */
void pkernfs_txn_commit(struct pkernfs_sb_info *sbi)
{
	struct pkernfs_journal_head *jh = sbi->jhead;
	struct pkernfs_txn *txn = &sbi->txn;
	unsigned int i;

	lockdep_assert_held(&sbi->lock);
	if (!txn->nrec)
		return;
	for (i = 0; i < txn->nrec; i++)
		pkernfs_set_crc(txn->rec[i].table, txn->rec[i].image);
	pkernfs_flush(jh + 1, txn->bytes);
	pkernfs_persist_barrier(sbi);

	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 1);
	/* This kernel keeps the marks: they are as good as this commit. */
	jh->j_hwm_seq = jh->j_seq;
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(txn->nrec);
	jh->j_bytes = cpu_to_le32(txn->bytes);
	pkernfs_journal_set_crc(jh);
	pkernfs_flush(jh, sizeof(*jh));
	pkernfs_persist_barrier(sbi);

	for (i = 0; i < txn->nrec; i++) {
		memcpy(txn->rec[i].home, txn->rec[i].image, txn->rec[i].len);
		pkernfs_flush(txn->rec[i].home, txn->rec[i].len);
		if (txn->rec[i].table == PKERNFS_T_SUPER)
			memcpy(sbi->dsb, txn->rec[i].image, txn->rec[i].len);
	}
	pkernfs_persist_barrier(sbi);
	pkernfs_journal_empty(sbi);
	txn->nrec = 0;
	txn->bytes = 0;
}

/**
 * pkernfs_txn_abort() - drop the open transaction; no home record changed
 * @sbi: the filesystem, with sbi->lock held
 */
void pkernfs_txn_abort(struct pkernfs_sb_info *sbi)
{
	lockdep_assert_held(&sbi->lock);
	sbi->txn.nrec = 0;
	sbi->txn.bytes = 0;
}

/**
 * pkernfs_journal_replay() - finish a transaction a crash interrupted
 * @sbi: the filesystem being mounted, its geometry set from the checked
 *	superblock
 * @rdonly: a read-only mount, which must not write the media
 *
 * Return: 0; -EROFS if a committed transaction must be replayed but the
 * mount is read-only; -EFSCORRUPTED if the journal head or a committed
 * record is malformed (the mount is refused; fsck can look at it).
 */
int pkernfs_journal_replay(struct pkernfs_sb_info *sbi, bool rdonly)
{
	struct pkernfs_journal_head *jh = sbi->jhead;
	const char *why = NULL;
	int state, err;

	state = pkernfs_journal_state(jh, sbi->jlen, &why);
	switch (state) {
	case PKERNFS_JS_CLEAN:
		return 0;
	case PKERNFS_JS_STALE:
	case PKERNFS_JS_TORN:
		/* Nothing in it applies: a read-only mount just ignores it. */
		if (state == PKERNFS_JS_TORN)
			pkernfs_info(sbi, "dropping a transaction torn before its commit");
		if (!rdonly)
			pkernfs_journal_empty(sbi);
		return 0;
	case PKERNFS_JS_REPLAY:
		break;
	default:
		pkernfs_err(sbi, "journal: %s", why);
		return state;
	}
	if (rdonly) {
		pkernfs_err(sbi,
			    "journal holds committed transaction %llu; a read-only mount cannot replay it: mount read-write once",
			    le64_to_cpu(jh->j_seq));
		return -EROFS;
	}
	err = pkernfs_journal_apply(sbi->base, jh, pkernfs_flush);
	if (err < 0) {
		pkernfs_err(sbi,
			    "journal: committed transaction has a malformed record or changes the geometry");
		return err;
	}
	pkernfs_persist_barrier(sbi);
	pkernfs_info(sbi, "replayed journal transaction %llu (%d records)", le64_to_cpu(jh->j_seq),
		     err);
	pkernfs_journal_empty(sbi);
	return 0;
}
