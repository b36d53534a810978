/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PKERNFSCTL_FSCK_H
#define PKERNFSCTL_FSCK_H

#include <stdint.h>

#include "pkernfs_user.h"
#include "format.h"

/* Levels passed to struct pkernfs_fsck's report. */
#define PKERNFS_FSCK_NOTE	0
#define PKERNFS_FSCK_ERROR	1
#define PKERNFS_FSCK_FIXED	2

/**
 * struct pkernfs_fsck - one check of an image
 * @report: called for each finding, at a PKERNFS_FSCK_* level
 * @priv: passed to @report
 * @errors: findings that are damage
 * @notes: findings that mount resolves by itself (orphans, a pending journal)
 * @inodes: inodes in use
 * @extents: extents in use
 * @used_aus: AUs held by files
 * @kernel_pages: pages allocated in the kernel-only area
 * @orphans: inodes with no links that mount will free
 * @bad_pages: pages with a recorded memory error
 * @bad_in_files: of those entries, the ones inside a file's extent
 * @repairs: changes made by pkernfs_fsck_repair()
 * @super_ok: the superblock passed its checks
 * @journal_pending: a transaction waits in the journal (mount replays it)
 * @drop_bad: set by the caller of pkernfs_fsck_repair(): take AUs with
 *	memory errors out of their files (the range becomes a hole)
 */
struct pkernfs_fsck {
	void (*report)(void *priv, int error, const char *msg);
	void *priv;
	unsigned int errors;
	unsigned int notes;
	uint64_t inodes;
	uint64_t extents;
	uint64_t used_aus;
	uint64_t kernel_pages;
	uint64_t orphans;
	uint64_t bad_pages;
	uint64_t bad_in_files;
	unsigned int repairs;
	int super_ok;
	int journal_pending;
	int drop_bad;
};

int pkernfs_fsck(struct pkernfs_fsck *f, const uint8_t *b, uint64_t size);
int pkernfs_fsck_repair(struct pkernfs_fsck *f, uint8_t *b, uint64_t size);
int pkernfs_upgrade(struct pkernfs_fsck *f, uint8_t *b, uint64_t size, uint32_t minor);

static inline uint64_t fsck_roff(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].off);
}

static inline uint64_t fsck_rlen(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].len);
}

static inline uint32_t fsck_rcount(const struct pkernfs_super *sb, int r)
{
	return le32_to_cpu(sb->s_regions[r].count);
}

/* The first and last AU that bad-page entry @i of @sb covers. */
static inline void fsck_bad_aus(const struct pkernfs_super *sb, uint32_t i,
				uint64_t *first, uint64_t *last)
{
	uint32_t shift = le32_to_cpu(sb->s_au_shift);
	uint64_t page = le64_to_cpu(sb->s_bad[i].b_page);

	*first = (page * PKERNFS_BLOCK_SIZE) >> shift;
	*last = ((page + le32_to_cpu(sb->s_bad[i].b_count)) * PKERNFS_BLOCK_SIZE - 1) >> shift;
}

/* The slot of the extent of @n in @et that holds @au, or -1. */
static inline int64_t fsck_extent_of(const struct pkernfs_extent *et, uint32_t n, uint64_t au)
{
	uint32_t k;

	for (k = 0; k < n; k++) {
		uint64_t start = le64_to_cpu(et[k].e_start);

		if (et[k].e_ino && au >= start && au - start < le32_to_cpu(et[k].e_len))
			return k;
	}
	return -1;
}

static inline int fsck_bit(const uint8_t *map, uint64_t n)
{
	return (map[n / 8] >> (n % 8)) & 1;
}

static inline void fsck_set_bit(uint8_t *map, uint64_t n)
{
	map[n / 8] |= 1u << (n % 8);
}

#endif
