/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building pkernfs images by hand, record by record, for the checker's
 * unit tests and the fuzzer: the same helpers, so both damage the same
 * kind of tree.
 */
#ifndef PKERNFS_TEST_IMG_H
#define PKERNFS_TEST_IMG_H

#include <string.h>

#include "fsck.h"

struct img {
	uint8_t *b;
	struct pkernfs_super *sb;
};

static inline uint64_t roff(struct img *m, int r);

static inline struct pkernfs_journal_head *jhead(struct img *m)
{
	return (struct pkernfs_journal_head *)(m->b + roff(m, PKERNFS_R_JOURNAL));
}

static inline uint64_t roff(struct img *m, int r)
{
	return le64_to_cpu(m->sb->s_regions[r].off);
}

static inline struct pkernfs_inode *ino(struct img *m, uint64_t n)
{
	return (struct pkernfs_inode *)(m->b + roff(m, PKERNFS_R_INODES)) + n;
}

static inline struct pkernfs_dirent *dent(struct img *m, uint64_t n)
{
	return (struct pkernfs_dirent *)(m->b + roff(m, PKERNFS_R_DIRENTS)) + n;
}

static inline struct pkernfs_extent *ext(struct img *m, uint64_t n)
{
	return (struct pkernfs_extent *)(m->b + roff(m, PKERNFS_R_EXTENTS)) + n;
}

static inline void mark(struct img *m, uint64_t au, int used)
{
	struct pkernfs_bmap_block *bb = (void *)(m->b + roff(m, PKERNFS_R_BITMAP));

	if (used)
		bb->b_bits[au / 8] |= 1u << (au % 8);
	else
		bb->b_bits[au / 8] &= ~(1u << (au % 8));
	pkernfs_bmap_set_crc(bb);
}

static inline void mkinode(struct img *m, uint64_t n, uint16_t mode, uint32_t nlink)
{
	struct pkernfs_inode *di = ino(m, n);

	memset(di, 0, sizeof(*di));
	di->i_ino = cpu_to_le64(n);
	di->i_gen = cpu_to_le32(1);
	di->i_mode = cpu_to_le16(mode);
	di->i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	di->i_nlink = cpu_to_le32(nlink);
	pkernfs_inode_set_crc(di);
}

static inline void mkname(struct img *m, uint32_t slot, uint64_t parent, uint64_t child,
		   const char *name, uint8_t type)
{
	struct pkernfs_dirent *de = dent(m, slot);

	memset(de, 0, sizeof(*de));
	de->d_parent = cpu_to_le64(parent);
	de->d_ino = cpu_to_le64(child);
	de->d_parent_gen = ino(m, parent)->i_gen;
	de->d_ino_gen = ino(m, child)->i_gen;
	de->d_type = type;
	de->d_namelen = cpu_to_le16(strlen(name));
	memcpy(de->d_name, name, strlen(name));
	de->d_hash = cpu_to_le32(pkernfs_name_hash(name, strlen(name)));
	pkernfs_dirent_set_crc(de);
}

#endif
