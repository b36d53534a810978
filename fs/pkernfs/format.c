// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs on-memory format: layout, mkfs, and the checks every metadata
 * record passes before it is used. Pure code: no locking, no allocation,
 * no I/O beyond the flat mapping it is handed. Built into the kernel and,
 * unchanged, into pkernfsctl and the host tests (see pkernfs_user.h).
 *
 * Every check returns 0, or a negative errno and a static string in *why
 * that names the problem:
 *   -EINVAL        not a pkernfs image at all (no magic), or bad parameters
 *   -EFSCORRUPTED  a structure that fails its crc or its invariants
 *   -EOPNOTSUPP    a newer major version or an unknown incompat feature
 *   -EROFS         an unknown ro_compat feature: only a read-only use is safe
 *   -ENOSPC        the device is too small for the requested layout
 */
#ifdef __KERNEL__
#include <linux/crc32c.h>
#include <linux/dcache.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/stat.h>
#include <linux/string.h>
#else
#include "pkernfs_user.h"
#endif
#include "format.h"

#define PKERNFS_MIN_INODES	64u
#define PKERNFS_DEF_MIN_INODES	1024u
#define PKERNFS_MAX_INODES	4194304u
#define PKERNFS_KERNEL_DIVISOR	256	/* default kernel area: 1/256 of the device */
#define PKERNFS_KERNEL_MAX	1073741824ULL

static inline int fail(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

static bool all_zero(const void *p, u32 len)
{
	const u8 *b = p;
	u32 i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/**
 * pkernfs_crc() - checksum a record as if its crc field were zero
 * @rec: the record
 * @len: its size
 * @crc_off: offset of its 4-byte crc field
 *
 * Return: the crc32c to store in, or compare with, the crc field.
 */
u32 pkernfs_crc(const void *rec, u32 len, u32 crc_off)
{
	static const u8 zero[4];
	u32 crc;

	crc = crc32c(~0u, rec, crc_off);
	crc = crc32c(crc, zero, sizeof(zero));
	return crc32c(crc, (const u8 *)rec + crc_off + 4, len - crc_off - 4);
}

/**
 * pkernfs_name_hash() - hash of a directory entry name, stored in d_hash
 * @name: the name
 * @len: its length
 *
 * Return: the hash.
 */
u32 pkernfs_name_hash(const void *name, u32 len)
{
	return crc32c(~0u, name, len);
}

static void set_region(struct pkernfs_super *sb, int r, u64 off, u64 len,
		       u64 count, u32 rec_size)
{
	sb->s_regions[r].off = cpu_to_le64(off);
	sb->s_regions[r].len = cpu_to_le64(len);
	sb->s_regions[r].count = cpu_to_le32((u32)count);
	sb->s_regions[r].rec_size = cpu_to_le32(rec_size);
}

static u64 rgn_off(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].off);
}

static u64 rgn_len(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].len);
}

/* The table each high-water mark bounds. */
static const int hwm_region[PKERNFS_NR_HWM] = {
	[PKERNFS_HWM_INODES] = PKERNFS_R_INODES,
	[PKERNFS_HWM_DIRENTS] = PKERNFS_R_DIRENTS,
	[PKERNFS_HWM_EXTENTS] = PKERNFS_R_EXTENTS,
};

/**
 * pkernfs_layout() - compute a superblock for a device of @dev_size bytes
 * @sb: filled in completely, crc included
 * @dev_size: bytes of the device
 * @p: the caller's choices, 0 fields meaning default
 * @why: set to the reason on failure
 *
 * Return: 0, -EINVAL for impossible parameters, -ENOSPC if the device is
 * too small to hold the metadata, the kernel area and one data AU.
 */
int pkernfs_layout(struct pkernfs_super *sb, u64 dev_size,
		   const struct pkernfs_mkfs_params *p, const char **why)
{
	u32 shift = p->au_shift ? p->au_shift : PKERNFS_AU_SHIFT_DEFAULT;
	u64 au, nr_aus, inodes, dirents, extents, bmaps, jlen, klen, off;
	u64 kernel_off, data_off;
	int h;

	if (shift < PKERNFS_AU_SHIFT_MIN || shift > PKERNFS_AU_SHIFT_MAX)
		return fail(why, "allocation unit must be 4K..1G, a power of two", -EINVAL);
	au = 1ULL << shift;
	nr_aus = dev_size >> shift;
	if (nr_aus < 2)
		return fail(why, "device smaller than two allocation units", -ENOSPC);

	inodes = p->nr_inodes ? p->nr_inodes :
		 clamp(nr_aus, (u64)PKERNFS_DEF_MIN_INODES, (u64)PKERNFS_MAX_INODES);
	if (inodes < PKERNFS_MIN_INODES || inodes > PKERNFS_MAX_INODES)
		return fail(why, "inode count out of range (64..4M)", -EINVAL);
	dirents = p->nr_dirents ? p->nr_dirents : inodes;
	if (dirents < 2 || dirents > 4 * (u64)PKERNFS_MAX_INODES)
		return fail(why, "dirent count out of range", -EINVAL);
	/* Every extent covers a distinct data AU: more could never be used. */
	extents = nr_aus;
	if (extents > 0xffffffffULL)
		return fail(why, "too many allocation units for this format", -EINVAL);
	bmaps = DIV_ROUND_UP(nr_aus, (u64)PKERNFS_BITS_PER_BMAP);
	jlen = ALIGN(p->journal_bytes ? p->journal_bytes : PKERNFS_JOURNAL_DEFAULT,
		     (u64)PKERNFS_BLOCK_SIZE);
	if (jlen < 4 * PKERNFS_BLOCK_SIZE || jlen > (64u << 20))
		return fail(why, "journal size out of range (16K..64M)", -EINVAL);
	klen = p->kernel_bytes ? p->kernel_bytes :
	       min(dev_size / PKERNFS_KERNEL_DIVISOR, PKERNFS_KERNEL_MAX);
	klen = ALIGN(max(klen, au), au);
	if (p->level > PKERNFS_LEVEL(PKERNFS_MINOR))
		return fail(why, "format level newer than this code writes", -EINVAL);

	memset(sb, 0, sizeof(*sb));
	off = PKERNFS_BLOCK_SIZE;
	set_region(sb, PKERNFS_R_JOURNAL, off, jlen, 0, 0);
	off += jlen;
	set_region(sb, PKERNFS_R_INODES, off,
		   ALIGN(inodes * sizeof(struct pkernfs_inode), (u64)PKERNFS_BLOCK_SIZE),
		   inodes, sizeof(struct pkernfs_inode));
	off += rgn_len(sb, PKERNFS_R_INODES);
	set_region(sb, PKERNFS_R_DIRENTS, off,
		   ALIGN(dirents * sizeof(struct pkernfs_dirent), (u64)PKERNFS_BLOCK_SIZE),
		   dirents, sizeof(struct pkernfs_dirent));
	off += rgn_len(sb, PKERNFS_R_DIRENTS);
	set_region(sb, PKERNFS_R_EXTENTS, off,
		   ALIGN(extents * sizeof(struct pkernfs_extent), (u64)PKERNFS_BLOCK_SIZE),
		   extents, sizeof(struct pkernfs_extent));
	off += rgn_len(sb, PKERNFS_R_EXTENTS);
	set_region(sb, PKERNFS_R_BITMAP, off, bmaps * PKERNFS_BLOCK_SIZE, bmaps,
		   PKERNFS_BLOCK_SIZE);
	off += bmaps * PKERNFS_BLOCK_SIZE;
	set_region(sb, PKERNFS_R_KDIR, off, PKERNFS_BLOCK_SIZE, PKERNFS_KDIR_ENTRIES,
		   sizeof(struct pkernfs_kdir_entry));
	off += PKERNFS_BLOCK_SIZE;
	kernel_off = ALIGN(off, au);
	set_region(sb, PKERNFS_R_KERNEL, kernel_off, klen, 0, 0);
	data_off = kernel_off + klen;
	if (data_off >= nr_aus << shift)
		return fail(why,
			    "device too small for the metadata, the kernel area and one data AU",
			    -ENOSPC);
	set_region(sb, PKERNFS_R_DATA, data_off, (nr_aus << shift) - data_off, 0, 0);

	sb->s_magic = cpu_to_le64(PKERNFS_MAGIC);
	sb->s_major = cpu_to_le16(PKERNFS_MAJOR);
	sb->s_minor = cpu_to_le16(p->level ? p->level - 1 : PKERNFS_MINOR);
	sb->s_au_shift = cpu_to_le32(shift);
	sb->s_state = cpu_to_le32(PKERNFS_STATE_CLEAN);
	memcpy(sb->s_uuid, p->uuid, sizeof(sb->s_uuid));
	memcpy(sb->s_label, p->label, sizeof(sb->s_label));
	sb->s_size = cpu_to_le64(nr_aus << shift);
	sb->s_nr_aus = cpu_to_le64(nr_aus);
	sb->s_mkfs_time = cpu_to_le64(p->time);
	sb->s_root_ino = cpu_to_le64(PKERNFS_ROOT_INO);
	if (le16_to_cpu(sb->s_minor) < PKERNFS_MINOR_HWM) {
		pkernfs_super_set_crc(sb);
		return 0;
	}
	sb->s_feature_ro_compat = cpu_to_le32(PKERNFS_FEATURE_RO_COMPAT_HWM);
	for (h = 0; h < PKERNFS_NR_HWM; h++) {
		u32 n = le32_to_cpu(sb->s_regions[hwm_region[h]].count);

		sb->s_hwm[h] = cpu_to_le32(n < PKERNFS_HWM_STEP ? n : PKERNFS_HWM_STEP);
	}
	pkernfs_super_set_crc(sb);
	return 0;
}

/**
 * pkernfs_hwm_slots() - the slots of the table a high-water mark bounds
 * @sb: a superblock that passed pkernfs_super_check()
 * @h: the table
 *
 * Return: the table's record count.
 */
u32 pkernfs_hwm_slots(const struct pkernfs_super *sb, enum pkernfs_hwm_id h)
{
	return le32_to_cpu(sb->s_regions[hwm_region[h]].count);
}

/**
 * pkernfs_slot_in_use() - does a slot of an inode, dirent or extent table
 *	hold a live record?
 * @sb: a superblock that passed pkernfs_super_check()
 * @base: the device, as mapped
 * @h: the table
 * @i: the slot, below pkernfs_hwm_slots()
 *
 * Return: nonzero if it does. The record's own checks are not made.
 */
int pkernfs_slot_in_use(const struct pkernfs_super *sb, const void *base,
			enum pkernfs_hwm_id h, u32 i)
{
	const u8 *rec = (const u8 *)base + rgn_off(sb, hwm_region[h]) +
			(u64)i * le32_to_cpu(sb->s_regions[hwm_region[h]].rec_size);

	switch (h) {
	case PKERNFS_HWM_INODES:
		return !!(le16_to_cpu(((const struct pkernfs_inode *)rec)->i_flags) &
			  PKERNFS_INODE_USED);
	case PKERNFS_HWM_DIRENTS:
		return ((const struct pkernfs_dirent *)rec)->d_parent != 0;
	default:
		return ((const struct pkernfs_extent *)rec)->e_ino != 0;
	}
}

/**
 * pkernfs_ro_compat_unknown() - read-only-compatible bits this code lacks
 * @sb: a superblock
 *
 * Return: the bits of s_feature_ro_compat this code does not know.
 */
u32 pkernfs_ro_compat_unknown(const struct pkernfs_super *sb)
{
	return le32_to_cpu(sb->s_feature_ro_compat) & ~PKERNFS_FEATURE_RO_COMPAT_SUPP;
}

/**
 * pkernfs_hwm_trusted() - may a reader stop at the high-water marks?
 * @sb: a superblock that passed pkernfs_super_check()
 * @jh: its journal head
 *
 * Return: true if the image keeps marks and its last transaction was
 * committed by a kernel that keeps them (j_hwm_seq == j_seq).
 */
bool pkernfs_hwm_trusted(const struct pkernfs_super *sb, const struct pkernfs_journal_head *jh)
{
	return (le32_to_cpu(sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM) &&
	       le64_to_cpu(jh->j_hwm_seq) == le64_to_cpu(jh->j_seq);
}

/**
 * pkernfs_hwm_scan() - how many slots of a table a reader must look at
 * @sb: a superblock that passed pkernfs_super_check()
 * @jh: its journal head
 * @h: the table
 *
 * Return: its high-water mark if pkernfs_hwm_trusted(), else every slot.
 */
u32 pkernfs_hwm_scan(const struct pkernfs_super *sb, const struct pkernfs_journal_head *jh,
		     enum pkernfs_hwm_id h)
{
	if (pkernfs_hwm_trusted(sb, jh))
		return le32_to_cpu(sb->s_hwm[h]);
	return pkernfs_hwm_slots(sb, h);
}

static void bmap_set_range(u8 *bmap_region, u64 first, u64 count)
{
	struct pkernfs_bmap_block *bb;
	u64 au;

	for (au = first; au < first + count; au++) {
		bb = (struct pkernfs_bmap_block *)(bmap_region +
			(au / PKERNFS_BITS_PER_BMAP) * PKERNFS_BLOCK_SIZE);
		bb->b_bits[(au % PKERNFS_BITS_PER_BMAP) / 8] |= 1u << (au % 8);
	}
}

/**
 * pkernfs_format() - write an empty filesystem over a device
 * @base: flat mapping of the whole device
 * @dev_size: bytes mapped at @base
 * @p: mkfs choices
 * @sb: caller's buffer for the new superblock (4 KiB: too big for a stack)
 * @why: set to the reason on failure
 *
 * Zeroes the metadata and the kernel area; file data is left as it is and
 * zeroed by the kernel when an AU is handed to a file.
 *
 * Return: 0 or the error of pkernfs_layout(); nothing is written then.
 */
int pkernfs_format(void *base, u64 dev_size, const struct pkernfs_mkfs_params *p,
		   struct pkernfs_super *sb, const char **why)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_inode *root;
	u8 *b = base, *bmap;
	u64 i, nbmap, data_au;
	int err;

	err = pkernfs_layout(sb, dev_size, p, why);
	if (err)
		return err;

	/* Superblock last: a torn format is not mistaken for a good one. */
	memset(b, 0, PKERNFS_BLOCK_SIZE);
	memset(b + PKERNFS_BLOCK_SIZE, 0, rgn_off(sb, PKERNFS_R_DATA) - PKERNFS_BLOCK_SIZE);

	jh = (struct pkernfs_journal_head *)(b + rgn_off(sb, PKERNFS_R_JOURNAL));
	jh->j_magic = cpu_to_le32(PKERNFS_JOURNAL_MAGIC);
	jh->j_state = cpu_to_le32(PKERNFS_J_EMPTY);
	/* j_seq and j_hwm_seq 0: the marks below are this format's own. */
	pkernfs_journal_set_crc(jh);

	root = (struct pkernfs_inode *)(b + rgn_off(sb, PKERNFS_R_INODES)) + PKERNFS_ROOT_INO;
	root->i_gen = cpu_to_le32(1);
	root->i_ino = cpu_to_le64(PKERNFS_ROOT_INO);
	root->i_mode = cpu_to_le16(S_IFDIR | 0755);
	root->i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	root->i_nlink = cpu_to_le32(2);
	root->i_parent = cpu_to_le64(PKERNFS_ROOT_INO);
	root->i_atime = cpu_to_le64(p->time);
	root->i_mtime = root->i_atime;
	root->i_ctime = root->i_atime;
	root->i_btime = root->i_atime;
	pkernfs_inode_set_crc(root);

	bmap = b + rgn_off(sb, PKERNFS_R_BITMAP);
	nbmap = le32_to_cpu(sb->s_regions[PKERNFS_R_BITMAP].count);
	data_au = rgn_off(sb, PKERNFS_R_DATA) >> le32_to_cpu(sb->s_au_shift);
	bmap_set_range(bmap, 0, data_au);
	for (i = 0; i < nbmap; i++) {
		struct pkernfs_bmap_block *bb =
			(struct pkernfs_bmap_block *)(bmap + i * PKERNFS_BLOCK_SIZE);

		bb->b_index = cpu_to_le32((u32)i);
		pkernfs_bmap_set_crc(bb);
	}

	memcpy(b, sb, sizeof(*sb));
	return 0;
}

void pkernfs_super_set_crc(struct pkernfs_super *sb)
{
	sb->s_crc = cpu_to_le32(pkernfs_crc(sb, sizeof(*sb),
					    offsetof(struct pkernfs_super, s_crc)));
}

/* The list of bad pages: sorted, apart, inside the device, and flagged. */
static int bad_check(const struct pkernfs_super *sb, __u64 pages, const char **why)
{
	__u32 n = le32_to_cpu(sb->s_nr_bad), i;
	__u64 next = 0;

	if (n > PKERNFS_BAD_MAX)
		return fail(why, "bad page list longer than its table", -EFSCORRUPTED);
	if (!n != !(le32_to_cpu(sb->s_feature_incompat) & PKERNFS_FEATURE_INCOMPAT_BADPAGES))
		return fail(why, "bad page list and its feature flag disagree", -EFSCORRUPTED);
	for (i = 0; i < n; i++) {
		const struct pkernfs_bad_range *b = &sb->s_bad[i];
		__u64 first = le64_to_cpu(b->b_page), count = le32_to_cpu(b->b_count);
		__u16 kind = le16_to_cpu(b->b_kind);

		if (!count || first < next || first > pages || count > pages - first ||
		    kind < PKERNFS_BAD_FREE || kind > PKERNFS_BAD_KERNEL || b->b_reserved)
			return fail(why, "bad page entry unsorted, past the end or of no kind",
				    -EFSCORRUPTED);
		next = first + count;
	}
	return 0;
}

/**
 * pkernfs_super_check() - validate a superblock against the device it is on
 * @sb: the superblock as read
 * @dev_size: bytes of the device
 * @why: set to the reason on failure
 *
 * Checks, in order: magic, crc, version, features, then the geometry of
 * every region (inside the device, aligned, in order, not overlapping,
 * large enough for its records).
 *
 * Return: 0 or a negative errno as listed at the top of this file.
 */
int pkernfs_super_check(const struct pkernfs_super *sb, u64 dev_size,
			const char **why)
{
	static const u32 rec_sizes[PKERNFS_NR_REGIONS] = {
		[PKERNFS_R_INODES] = sizeof(struct pkernfs_inode),
		[PKERNFS_R_DIRENTS] = sizeof(struct pkernfs_dirent),
		[PKERNFS_R_EXTENTS] = sizeof(struct pkernfs_extent),
		[PKERNFS_R_BITMAP] = PKERNFS_BLOCK_SIZE,
		[PKERNFS_R_KDIR] = sizeof(struct pkernfs_kdir_entry),
	};
	u64 size, nr_aus, au, prev_end, off, len, count;
	u32 shift;
	int r;

	if (le64_to_cpu(sb->s_magic) != PKERNFS_MAGIC)
		return fail(why, "no pkernfs superblock (bad magic)", -EINVAL);
	if (le32_to_cpu(sb->s_crc) != pkernfs_crc(sb, sizeof(*sb),
						  offsetof(struct pkernfs_super, s_crc)))
		return fail(why, "superblock checksum mismatch", -EFSCORRUPTED);
	if (le16_to_cpu(sb->s_major) > PKERNFS_MAJOR)
		return fail(why, "format major version is newer than this code supports",
			    -EOPNOTSUPP);
	if (le16_to_cpu(sb->s_major) < 1)
		return fail(why, "format major version 0 is invalid", -EFSCORRUPTED);
	if (le32_to_cpu(sb->s_feature_incompat) & ~PKERNFS_FEATURE_INCOMPAT_SUPP)
		return fail(why, "unknown incompatible feature flags", -EOPNOTSUPP);
	if (le32_to_cpu(sb->s_feature_ro_compat) & ~PKERNFS_FEATURE_RO_COMPAT_SUPP)
		return fail(why, "unknown read-only-compatible feature flags", -EROFS);

	shift = le32_to_cpu(sb->s_au_shift);
	if (shift < PKERNFS_AU_SHIFT_MIN || shift > PKERNFS_AU_SHIFT_MAX)
		return fail(why, "allocation unit size out of range", -EFSCORRUPTED);
	au = 1ULL << shift;
	size = le64_to_cpu(sb->s_size);
	nr_aus = le64_to_cpu(sb->s_nr_aus);
	if (size > dev_size)
		return fail(why, "device is smaller than the filesystem on it", -EINVAL);
	if (nr_aus < 2 || nr_aus > 0xffffffffULL || nr_aus << shift != size)
		return fail(why, "size and allocation unit count disagree", -EFSCORRUPTED);

	prev_end = PKERNFS_BLOCK_SIZE;
	for (r = 0; r < PKERNFS_NR_REGIONS; r++) {
		off = rgn_off(sb, r);
		len = rgn_len(sb, r);
		count = le32_to_cpu(sb->s_regions[r].count);
		if (off < prev_end || off > size || len > size - off || !len ||
		    !IS_ALIGNED(off | len, (u64)PKERNFS_BLOCK_SIZE))
			return fail(why,
				    "metadata region outside the device, misaligned or overlapping",
				    -EFSCORRUPTED);
		if (le32_to_cpu(sb->s_regions[r].rec_size) != rec_sizes[r] ||
		    count * rec_sizes[r] > len)
			return fail(why, "metadata table record size or count is wrong",
				    -EFSCORRUPTED);
		prev_end = off + len;
	}
	if (le32_to_cpu(sb->s_regions[PKERNFS_R_INODES].count) <= PKERNFS_ROOT_INO ||
	    le64_to_cpu(sb->s_root_ino) != PKERNFS_ROOT_INO)
		return fail(why, "root inode outside the inode table", -EFSCORRUPTED);
	if (le32_to_cpu(sb->s_regions[PKERNFS_R_EXTENTS].count) < 1 ||
	    le32_to_cpu(sb->s_regions[PKERNFS_R_DIRENTS].count) < 1)
		return fail(why, "empty extent or dirent table", -EFSCORRUPTED);
	if (le32_to_cpu(sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM) {
		for (r = 0; r < PKERNFS_NR_HWM; r++)
			if (le32_to_cpu(sb->s_hwm[r]) >
			    le32_to_cpu(sb->s_regions[hwm_region[r]].count))
				return fail(why, "high-water mark past the end of its table",
					    -EFSCORRUPTED);
		if (le32_to_cpu(sb->s_hwm[PKERNFS_HWM_INODES]) <= PKERNFS_ROOT_INO)
			return fail(why, "inode high-water mark below the root inode",
				    -EFSCORRUPTED);
	}
	count = le32_to_cpu(sb->s_regions[PKERNFS_R_BITMAP].count);
	if (count * PKERNFS_BITS_PER_BMAP < nr_aus)
		return fail(why, "allocation bitmap does not cover the device", -EFSCORRUPTED);
	if (rgn_len(sb, PKERNFS_R_JOURNAL) < 4 * PKERNFS_BLOCK_SIZE)
		return fail(why, "journal region too small", -EFSCORRUPTED);
	off = rgn_off(sb, PKERNFS_R_KERNEL);
	len = rgn_len(sb, PKERNFS_R_KERNEL);
	if (!IS_ALIGNED(off | len, au) || rgn_off(sb, PKERNFS_R_DATA) != off + len ||
	    !IS_ALIGNED(rgn_len(sb, PKERNFS_R_DATA), au) ||
	    rgn_off(sb, PKERNFS_R_DATA) + rgn_len(sb, PKERNFS_R_DATA) != size)
		return fail(why, "kernel or data area not AU aligned or not at the end",
			    -EFSCORRUPTED);
	return bad_check(sb, size / PKERNFS_BLOCK_SIZE, why);
}

/**
 * pkernfs_region_name() - a region's name for messages
 * @r: enum pkernfs_region_id, PKERNFS_NR_REGIONS for the superblock, or -1
 *
 * Return: the name, "nothing" for -1.
 */
const char *pkernfs_region_name(int r)
{
	static const char * const names[PKERNFS_NR_REGIONS + 1] = {
		[PKERNFS_R_JOURNAL] = "journal",
		[PKERNFS_R_INODES] = "inode table",
		[PKERNFS_R_DIRENTS] = "directory table",
		[PKERNFS_R_EXTENTS] = "extent table",
		[PKERNFS_R_BITMAP] = "allocation bitmap",
		[PKERNFS_R_KDIR] = "kernel area directory",
		[PKERNFS_R_KERNEL] = "kernel-only area",
		[PKERNFS_R_DATA] = "data area",
		[PKERNFS_NR_REGIONS] = "superblock",
	};

	return r < 0 || r > PKERNFS_NR_REGIONS ? "nothing" : names[r];
}

/**
 * pkernfs_bad_region() - what a page of the device belongs to
 * @sb: a superblock that passed pkernfs_super_check()
 * @page: 4 KiB page index from the start of the device
 *
 * Return: the enum pkernfs_region_id of the region holding @page,
 * PKERNFS_NR_REGIONS for the superblock, or -1 past the end.
 */
int pkernfs_bad_region(const struct pkernfs_super *sb, __u64 page)
{
	__u64 off = page * PKERNFS_BLOCK_SIZE;
	int r;

	if (off < PKERNFS_BLOCK_SIZE)
		return PKERNFS_NR_REGIONS;
	for (r = 0; r < PKERNFS_NR_REGIONS; r++)
		if (off >= rgn_off(sb, r) && off - rgn_off(sb, r) < rgn_len(sb, r))
			return r;
	return -1;
}

/**
 * pkernfs_bad_add() - record a page with a memory error in a superblock image
 * @sb: the image, its crc set by the caller afterwards
 * @page: 4 KiB page index from the start of the device
 * @kind: enum pkernfs_bad_kind
 *
 * Return: 1 if added, 0 if already listed, -ENOSPC if the list is full.
 */
int pkernfs_bad_add(struct pkernfs_super *sb, __u64 page, __u16 kind)
{
	__u32 n = le32_to_cpu(sb->s_nr_bad), i;

	for (i = 0; i < n; i++) {
		__u64 first = le64_to_cpu(sb->s_bad[i].b_page);

		if (page >= first && page - first < le32_to_cpu(sb->s_bad[i].b_count))
			return 0;
		if (page < first)
			break;
	}
	if (n >= PKERNFS_BAD_MAX)
		return -ENOSPC;
	memmove(&sb->s_bad[i + 1], &sb->s_bad[i], (n - i) * sizeof(sb->s_bad[0]));
	sb->s_bad[i] = (struct pkernfs_bad_range){
		.b_page = cpu_to_le64(page),
		.b_count = cpu_to_le32(1),
		.b_kind = cpu_to_le16(kind),
	};
	sb->s_nr_bad = cpu_to_le32(n + 1);
	sb->s_feature_incompat |= cpu_to_le32(PKERNFS_FEATURE_INCOMPAT_BADPAGES);
	return 1;
}

void pkernfs_inode_set_crc(struct pkernfs_inode *di)
{
	di->i_crc = cpu_to_le32(pkernfs_crc(di, sizeof(*di),
					    offsetof(struct pkernfs_inode, i_crc)));
}

/**
 * pkernfs_inode_check() - validate inode slot @ino
 * @di: the record
 * @ino: its index in the inode table
 * @why: set to the reason on failure
 *
 * An all-zero record is a slot never used since mkfs and is valid.
 *
 * Return: 0 or -EFSCORRUPTED.
 */
int pkernfs_inode_check(const struct pkernfs_inode *di, u64 ino, const char **why)
{
	u16 mode;

	if (all_zero(di, sizeof(*di)))
		return 0;
	if (le32_to_cpu(di->i_crc) != pkernfs_crc(di, sizeof(*di),
						  offsetof(struct pkernfs_inode, i_crc)))
		return fail(why, "inode checksum mismatch", -EFSCORRUPTED);
	if (le64_to_cpu(di->i_ino) != ino)
		return fail(why, "inode record holds another inode's number", -EFSCORRUPTED);
	if (le16_to_cpu(di->i_flags) & ~(PKERNFS_INODE_USED | PKERNFS_INODE_DMA))
		return fail(why, "unknown inode flags", -EFSCORRUPTED);
	if (!(le16_to_cpu(di->i_flags) & PKERNFS_INODE_USED))
		return 0;
	mode = le16_to_cpu(di->i_mode);
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFLNK:
		if (le64_to_cpu(di->i_size) > PKERNFS_SYMLINK_INLINE ||
		    !le64_to_cpu(di->i_size))
			return fail(why, "symlink target length out of range", -EFSCORRUPTED);
		break;
	default:
		return fail(why, "inode has an invalid file type", -EFSCORRUPTED);
	}
	if (le32_to_cpu(di->i_atime_ns) >= 1000000000u ||
	    le32_to_cpu(di->i_mtime_ns) >= 1000000000u ||
	    le32_to_cpu(di->i_ctime_ns) >= 1000000000u ||
	    le32_to_cpu(di->i_btime_ns) >= 1000000000u)
		return fail(why, "inode timestamp nanoseconds out of range", -EFSCORRUPTED);
	return 0;
}

void pkernfs_dirent_set_crc(struct pkernfs_dirent *de)
{
	de->d_crc = cpu_to_le32(pkernfs_crc(de, sizeof(*de),
					    offsetof(struct pkernfs_dirent, d_crc)));
}

/**
 * pkernfs_dirent_check() - validate a directory entry slot
 * @de: the record
 * @why: set to the reason on failure
 *
 * Return: 0 or -EFSCORRUPTED.
 */
int pkernfs_dirent_check(const struct pkernfs_dirent *de, const char **why)
{
	u32 len;

	if (all_zero(de, sizeof(*de)))
		return 0;
	if (le32_to_cpu(de->d_crc) != pkernfs_crc(de, sizeof(*de),
						  offsetof(struct pkernfs_dirent, d_crc)))
		return fail(why, "directory entry checksum mismatch", -EFSCORRUPTED);
	if (!le64_to_cpu(de->d_parent))
		return 0;
	len = le16_to_cpu(de->d_namelen);
	if (!len || len > PKERNFS_NAME_LEN)
		return fail(why, "directory entry name length out of range", -EFSCORRUPTED);
	if (memchr(de->d_name, '/', len) || memchr(de->d_name, 0, len) ||
	    (len == 1 && de->d_name[0] == '.') ||
	    (len == 2 && de->d_name[0] == '.' && de->d_name[1] == '.'))
		return fail(why, "directory entry name is not a valid file name", -EFSCORRUPTED);
	if (le32_to_cpu(de->d_hash) != pkernfs_name_hash(de->d_name, len))
		return fail(why, "directory entry name hash mismatch", -EFSCORRUPTED);
	if (!le64_to_cpu(de->d_ino))
		return fail(why, "directory entry points to inode 0", -EFSCORRUPTED);
	if (de->d_type > DT_WHT || de->d_type == DT_UNKNOWN)
		return fail(why, "directory entry has an invalid type", -EFSCORRUPTED);
	return 0;
}

void pkernfs_extent_set_crc(struct pkernfs_extent *ex)
{
	ex->e_crc = cpu_to_le32(pkernfs_crc(ex, sizeof(*ex),
					    offsetof(struct pkernfs_extent, e_crc)));
}

/**
 * pkernfs_extent_check() - validate an extent slot against the geometry
 * @sb: a superblock that passed pkernfs_super_check()
 * @ex: the record
 * @why: set to the reason on failure
 *
 * Return: 0 or -EFSCORRUPTED.
 */
int pkernfs_extent_check(const struct pkernfs_super *sb,
			 const struct pkernfs_extent *ex, const char **why)
{
	u32 shift = le32_to_cpu(sb->s_au_shift);
	u64 first = rgn_off(sb, PKERNFS_R_DATA) >> shift;
	u64 nr_aus = le64_to_cpu(sb->s_nr_aus);
	u64 start = le64_to_cpu(ex->e_start);
	u32 len = le32_to_cpu(ex->e_len);

	if (all_zero(ex, sizeof(*ex)))
		return 0;
	if (le32_to_cpu(ex->e_crc) != pkernfs_crc(ex, sizeof(*ex),
						  offsetof(struct pkernfs_extent, e_crc)))
		return fail(why, "extent checksum mismatch", -EFSCORRUPTED);
	if (!le64_to_cpu(ex->e_ino))
		return 0;
	if (!len || start < first || start > nr_aus || len > nr_aus - start)
		return fail(why, "extent outside the data area", -EFSCORRUPTED);
	/* The allocator never makes one; freeing a longer run would span >2 blocks. */
	if (len > PKERNFS_BITS_PER_BMAP)
		return fail(why, "extent longer than one allocation bitmap block covers",
			    -EFSCORRUPTED);
	if ((u64)le32_to_cpu(ex->e_lblk) + len > 0xffffffffULL)
		return fail(why, "extent file offset overflows", -EFSCORRUPTED);
	return 0;
}

void pkernfs_bmap_set_crc(struct pkernfs_bmap_block *bb)
{
	bb->b_crc = cpu_to_le32(pkernfs_crc(bb, sizeof(*bb),
					    offsetof(struct pkernfs_bmap_block, b_crc)));
}

/**
 * pkernfs_bmap_check() - validate bitmap block @index
 * @bb: the block
 * @index: its index in the bitmap region
 * @why: set to the reason on failure
 *
 * Return: 0 or -EFSCORRUPTED.
 */
int pkernfs_bmap_check(const struct pkernfs_bmap_block *bb, u32 index,
		       const char **why)
{
	if (le32_to_cpu(bb->b_crc) != pkernfs_crc(bb, sizeof(*bb),
						  offsetof(struct pkernfs_bmap_block, b_crc)))
		return fail(why, "allocation bitmap checksum mismatch", -EFSCORRUPTED);
	if (le32_to_cpu(bb->b_index) != index)
		return fail(why, "allocation bitmap block out of place", -EFSCORRUPTED);
	return 0;
}

void pkernfs_kdir_set_crc(struct pkernfs_kdir_entry *ke)
{
	ke->k_crc = cpu_to_le32(pkernfs_crc(ke, sizeof(*ke),
					    offsetof(struct pkernfs_kdir_entry, k_crc)));
}

/**
 * pkernfs_kdir_check() - validate a kernel-area directory slot
 * @sb: a superblock that passed pkernfs_super_check()
 * @ke: the record
 * @why: set to the reason on failure
 *
 * Return: 0 or -EFSCORRUPTED.
 */
int pkernfs_kdir_check(const struct pkernfs_super *sb,
		       const struct pkernfs_kdir_entry *ke, const char **why)
{
	u64 pages = rgn_len(sb, PKERNFS_R_KERNEL) >> PKERNFS_BLOCK_SHIFT;
	u64 start = le64_to_cpu(ke->k_start), n = le64_to_cpu(ke->k_npages);

	if (all_zero(ke, sizeof(*ke)))
		return 0;
	if (le32_to_cpu(ke->k_crc) != pkernfs_crc(ke, sizeof(*ke),
						  offsetof(struct pkernfs_kdir_entry, k_crc)))
		return fail(why, "kernel area entry checksum mismatch", -EFSCORRUPTED);
	if (!n)
		return 0;
	if (start > pages || n > pages - start)
		return fail(why, "kernel area entry outside the kernel area", -EFSCORRUPTED);
	if (!ke->k_name[0] || !memchr(ke->k_name, 0, sizeof(ke->k_name)))
		return fail(why, "kernel area entry name empty or unterminated", -EFSCORRUPTED);
	return 0;
}

void pkernfs_journal_set_crc(struct pkernfs_journal_head *jh)
{
	u32 crc;

	jh->j_crc = 0;
	crc = crc32c(~0u, jh, sizeof(*jh));
	crc = crc32c(crc, jh + 1, le32_to_cpu(jh->j_bytes));
	jh->j_crc = cpu_to_le32(crc);
}

/**
 * pkernfs_journal_check() - validate the journal head and its payload
 * @jh: the head, followed in memory by the journal region's payload
 * @region_len: bytes of the journal region
 * @why: set to the reason on failure
 *
 * A committed transaction whose crc fails was torn while being written,
 * before its commit could count; the caller drops it.
 *
 * Return: 0 or -EFSCORRUPTED.
 */
int pkernfs_journal_check(const struct pkernfs_journal_head *jh,
			  u64 region_len, const char **why)
{
	u32 bytes = le32_to_cpu(jh->j_bytes), crc;
	struct pkernfs_journal_head h;

	if (le32_to_cpu(jh->j_magic) != PKERNFS_JOURNAL_MAGIC)
		return fail(why, "journal magic missing", -EFSCORRUPTED);
	if (le32_to_cpu(jh->j_state) > PKERNFS_J_COMMITTED)
		return fail(why, "journal state unknown", -EFSCORRUPTED);
	if (bytes > region_len - sizeof(*jh))
		return fail(why, "journal payload larger than the journal", -EFSCORRUPTED);
	h = *jh;
	h.j_crc = 0;
	crc = crc32c(~0u, &h, sizeof(h));
	crc = crc32c(crc, jh + 1, bytes);
	if (crc != le32_to_cpu(jh->j_crc))
		return fail(why, "journal checksum mismatch", -EFSCORRUPTED);
	return 0;
}

/**
 * pkernfs_journal_home() - where a journal record's home is
 * @rg: the superblock's s_regions, as checked by pkernfs_super_check()
 * @table: enum pkernfs_table_id
 * @index: the record's index in its table (0 for the superblock)
 * @off: set to the home's byte offset from the start of the device
 * @len: set to the record's size
 *
 * Return: 0, or -EFSCORRUPTED if no such table or record exists.
 */
int pkernfs_journal_home(const struct pkernfs_region_desc *rg, u16 table, u64 index,
			 u64 *off, u32 *len)
{
	static const u8 region[] = {
		[PKERNFS_T_INODE] = PKERNFS_R_INODES,
		[PKERNFS_T_DIRENT] = PKERNFS_R_DIRENTS,
		[PKERNFS_T_EXTENT] = PKERNFS_R_EXTENTS,
		[PKERNFS_T_BMAP] = PKERNFS_R_BITMAP,
		[PKERNFS_T_KDIR] = PKERNFS_R_KDIR,
	};
	int r;

	if (table == PKERNFS_T_SUPER) {
		*off = 0;
		*len = sizeof(struct pkernfs_super);
		return index ? -EFSCORRUPTED : 0;
	}
	if (table < PKERNFS_T_INODE || table > PKERNFS_T_KDIR)
		return -EFSCORRUPTED;
	r = region[table];
	if (index >= le32_to_cpu(rg[r].count))
		return -EFSCORRUPTED;
	*len = le32_to_cpu(rg[r].rec_size);
	*off = le64_to_cpu(rg[r].off) + index * *len;
	return 0;
}

/**
 * pkernfs_journal_state() - classify the journal head found at mount
 * @jh: the head, followed in memory by the journal region's payload
 * @region_len: bytes of the journal region
 * @why: set to the reason when the head is unusable
 *
 * Emptying a head stores the state, then the counts, then the crc; a
 * crash between them leaves an EMPTY head whose crc no longer matches.
 * Such a head holds nothing to apply, so it is stale, not damaged. A
 * COMMITTED head whose crc fails was torn before its commit counted.
 *
 * Return: an enum pkernfs_journal_verdict, or -EFSCORRUPTED when the
 * head is not a journal head at all.
 */
int pkernfs_journal_state(const struct pkernfs_journal_head *jh, u64 region_len,
			  const char **why)
{
	u32 state = le32_to_cpu(jh->j_state);

	if (le32_to_cpu(jh->j_magic) != PKERNFS_JOURNAL_MAGIC)
		return fail(why, "journal magic missing", -EFSCORRUPTED);
	if (state > PKERNFS_J_COMMITTED)
		return fail(why, "journal state unknown", -EFSCORRUPTED);
	if (region_len < sizeof(*jh))
		return fail(why, "journal region smaller than its head", -EFSCORRUPTED);
	if (pkernfs_journal_check(jh, region_len, why))
		return state == PKERNFS_J_EMPTY ? PKERNFS_JS_STALE : PKERNFS_JS_TORN;
	if (state == PKERNFS_J_EMPTY)
		return jh->j_nrec || jh->j_bytes ? PKERNFS_JS_STALE : PKERNFS_JS_CLEAN;
	return PKERNFS_JS_REPLAY;
}

/**
 * pkernfs_super_same_geometry() - do two superblocks describe one layout?
 * @a: a superblock
 * @b: another
 *
 * Transactions change a superblock's state, times and counters, never
 * where anything lives; a journal image that moves a table or resizes
 * the device is damage, however good its crc.
 *
 * Return: 1 if every field that places or sizes something is equal, else 0.
 */
int pkernfs_super_same_geometry(const struct pkernfs_super *a,
				const struct pkernfs_super *b)
{
	__le32 keep = ~cpu_to_le32(PKERNFS_FEATURE_INCOMPAT_BADPAGES);

	/* A recorded memory error sets INCOMPAT_BADPAGES: that moves nothing. */
	return a->s_magic == b->s_magic && a->s_major == b->s_major &&
	       (a->s_feature_incompat & keep) == (b->s_feature_incompat & keep) &&
	       a->s_au_shift == b->s_au_shift && a->s_size == b->s_size &&
	       a->s_nr_aus == b->s_nr_aus && a->s_root_ino == b->s_root_ino &&
	       !memcmp(a->s_uuid, b->s_uuid, sizeof(a->s_uuid)) &&
	       !memcmp(a->s_regions, b->s_regions, sizeof(a->s_regions));
}

/* Offset of each table's record crc, for the checks before a replay. */
static u32 rec_crc_off(u16 table)
{
	return table == PKERNFS_T_SUPER ? offsetof(struct pkernfs_super, s_crc) : 0;
}

/* A record image as a commit writes it: a crc that holds, or all zero (a freed slot). */
static bool rec_image_ok(u16 table, const void *image, u32 len)
{
	u32 off = rec_crc_off(table);
	__le32 crc;

	if (table != PKERNFS_T_SUPER && all_zero(image, len))
		return true;
	memcpy(&crc, (const u8 *)image + off, sizeof(crc));
	return le32_to_cpu(crc) == pkernfs_crc(image, len, off);
}

/**
 * pkernfs_journal_verify() - check a committed transaction without applying it
 * @base: the mapping of the whole device
 * @jh: its journal head, checked with pkernfs_journal_check() and committed
 *
 * Every record's home must exist, its image must carry the crc the commit
 * gave it (or be an all-zero freed slot), and a superblock image must keep
 * the geometry (pkernfs_super_same_geometry()). Homes are found with the
 * superblock as it was before the transaction.
 *
 * Return: the number of records, or -EFSCORRUPTED.
 */
int pkernfs_journal_verify(const void *base, const struct pkernfs_journal_head *jh)
{
	const struct pkernfs_region_desc *rg = ((const struct pkernfs_super *)base)->s_regions;
	u32 nrec = le32_to_cpu(jh->j_nrec), bytes = le32_to_cpu(jh->j_bytes);
	const struct pkernfs_journal_rec *jr;
	u32 i, pos, len;
	u64 off;

	for (i = 0, pos = 0; i < nrec; i++, pos += sizeof(*jr) + len) {
		if (pos + sizeof(*jr) > bytes)
			return -EFSCORRUPTED;
		jr = (const void *)((const u8 *)(jh + 1) + pos);
		if (pkernfs_journal_home(rg, le16_to_cpu(jr->jr_table), le64_to_cpu(jr->jr_index),
					 &off, &len) ||
		    le32_to_cpu(jr->jr_len) != len || pos + sizeof(*jr) + len > bytes ||
		    !rec_image_ok(le16_to_cpu(jr->jr_table), jr + 1, len))
			return -EFSCORRUPTED;
		if (le16_to_cpu(jr->jr_table) == PKERNFS_T_SUPER &&
		    !pkernfs_super_same_geometry(base, (const void *)(jr + 1)))
			return -EFSCORRUPTED;
	}
	return nrec;
}

/**
 * pkernfs_journal_apply() - copy a committed transaction's images home
 * @base: the mapping of the whole device
 * @jh: its journal head, checked with pkernfs_journal_check() and committed
 * @flush: called on each home after the copy (cache write-back), or NULL
 *
 * The transaction is verified whole first (pkernfs_journal_verify()), so
 * a malformed one changes nothing. The caller empties the journal
 * afterwards. Shared by mount (journal.c) and fsck --repair.
 *
 * Return: the number of records applied, or -EFSCORRUPTED.
 */
int pkernfs_journal_apply(void *base, const struct pkernfs_journal_head *jh,
			  void (*flush)(void *addr, size_t len))
{
	struct pkernfs_region_desc rg[PKERNFS_NR_REGIONS];
	const struct pkernfs_journal_rec *jr;
	int nrec = pkernfs_journal_verify(base, jh);
	u32 pos, len = 0;
	u64 off = 0;
	int i;

	if (nrec < 0)
		return nrec;
	/* A superblock record rewrites the table these homes come from. */
	memcpy(rg, ((const struct pkernfs_super *)base)->s_regions, sizeof(rg));
	for (i = 0, pos = 0; i < nrec; i++, pos += sizeof(*jr) + len) {
		jr = (const void *)((const u8 *)(jh + 1) + pos);
		pkernfs_journal_home(rg, le16_to_cpu(jr->jr_table), le64_to_cpu(jr->jr_index),
				     &off, &len);
		memcpy((u8 *)base + off, jr + 1, len);
		if (flush)
			flush((u8 *)base + off, len);
	}
	return nrec;
}
