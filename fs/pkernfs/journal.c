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
 */
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
	memcpy(jr + 1, home, len);

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

	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 1);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(txn->nrec);
	jh->j_bytes = cpu_to_le32(txn->bytes);
	pkernfs_journal_set_crc(jh);
	pkernfs_flush(jh, sizeof(*jh));

	for (i = 0; i < txn->nrec; i++) {
		memcpy(txn->rec[i].home, txn->rec[i].image, txn->rec[i].len);
		pkernfs_flush(txn->rec[i].home, txn->rec[i].len);
	}
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
 * @sbi: the filesystem being mounted
 *
 * Return: 0, or -EFSCORRUPTED if the journal head or a committed record
 * is malformed (the mount is refused; fsck can look at it).
 */
int pkernfs_journal_replay(struct pkernfs_sb_info *sbi)
{
	struct pkernfs_journal_head *jh = sbi->jhead;
	const char *why = NULL;
	int err;

	err = pkernfs_journal_check(jh, sbi->jlen, &why);
	if (err && le32_to_cpu(jh->j_magic) == PKERNFS_JOURNAL_MAGIC &&
	    le32_to_cpu(jh->j_state) == PKERNFS_J_COMMITTED) {
		pr_info("%s: dropping a transaction torn before its commit\n", sbi->source);
		pkernfs_journal_empty(sbi);
		return 0;
	}
	if (err) {
		pr_err("%s: journal: %s\n", sbi->source, why);
		return err;
	}
	if (le32_to_cpu(jh->j_state) != PKERNFS_J_COMMITTED)
		return 0;
	err = pkernfs_journal_apply(sbi->base, jh, pkernfs_flush);
	if (err < 0) {
		pr_err("%s: journal: committed transaction has a malformed record\n",
		       sbi->source);
		return err;
	}
	pr_info("%s: replayed journal transaction %llu (%d records)\n",
		sbi->source, le64_to_cpu(jh->j_seq), err);
	pkernfs_journal_empty(sbi);
	return 0;
}
