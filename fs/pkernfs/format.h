/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs on-memory format, version 1.
 *
 * This header is shared, unchanged, by the kernel, pkernfsctl (mkfs, fsck,
 * info) and the host unit tests. It uses only fixed-size little-endian
 * types from <linux/types.h>, which userspace has too.
 *
 * The namespace is laid out as (all offsets from the start of the dax
 * device; every region is 4 KiB aligned):
 *
 *   super      one 4 KiB block at offset 0
 *   journal    redo log for metadata transactions
 *   inodes     table of struct pkernfs_inode, index = inode number
 *   dirents    table of struct pkernfs_dirent
 *   extents    table of struct pkernfs_extent
 *   bitmap     one bit per allocation unit (AU) of the whole device
 *   kdir       directory of the kernel-only area
 *   kernel     kernel-only area, AU aligned: IOMMU page tables live here
 *   data       file data, in AUs (2 MiB by default)
 *
 * Every record carries a crc32c computed with its own crc field zeroed,
 * seeded with ~0 and stored without final inversion (the kernel's
 * crc32c() convention). A record that fails its crc is never used.
 */
#ifndef _PKERNFS_FORMAT_H
#define _PKERNFS_FORMAT_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#include <linux/magic.h>
#include <linux/stddef.h>
#else
#include <assert.h>
#include <stddef.h>
#endif

/* "PKERNFS1" read as a little-endian u64. */
#define PKERNFS_MAGIC		0x31534f4e52454b50ULL
/* statfs f_type; the kernel's is in include/uapi/linux/magic.h */
#ifndef PKERNFS_SUPER_MAGIC
#define PKERNFS_SUPER_MAGIC	0x706b6673
#endif

/* Corruption is reported as EUCLEAN, as xfs, ext4 and erofs do. */
#ifndef EFSCORRUPTED
#define EFSCORRUPTED		EUCLEAN
#endif

#define PKERNFS_MAJOR		1
#define PKERNFS_MINOR		2
/* Format levels: the minor revision that brought each feature. */
#define PKERNFS_MINOR_DMA	1	/* RO_COMPAT_DMA, INODE_DMA */
#define PKERNFS_MINOR_HWM	2	/* RO_COMPAT_HWM, s_hwm, j_hwm_seq */
#define PKERNFS_LEVEL(minor)	((minor) + 1)

/* Feature masks. A newer kernel may know more bits than these. */
#define PKERNFS_FEATURE_COMPAT_SUPP	0x0u
#define PKERNFS_FEATURE_RO_COMPAT_SUPP	(PKERNFS_FEATURE_RO_COMPAT_DMA | \
					 PKERNFS_FEATURE_RO_COMPAT_HWM)

/*
 * Some inode carries PKERNFS_INODE_DMA: a kernel that does not know it
 * would let the file be truncated under a preserved IOMMU mapping, so it
 * may only mount read-only.
 */
#define PKERNFS_FEATURE_RO_COMPAT_DMA	0x1u
/*
 * s_hwm is kept: no slot of a table at or past its high-water mark is in
 * use, so a mount reads only the slots below it (minor 2). A kernel that
 * does not know it would allocate past the mark without raising it, so
 * it may only mount read-only; read-only, it scans every slot and is
 * right.
 */
#define PKERNFS_FEATURE_RO_COMPAT_HWM	0x2u

/* Indices of s_hwm, and the step it rises by (a transaction per step). */
enum pkernfs_hwm_id {
	PKERNFS_HWM_INODES,
	PKERNFS_HWM_DIRENTS,
	PKERNFS_HWM_EXTENTS,
	PKERNFS_NR_HWM
};

#define PKERNFS_HWM_STEP	1024u

#define PKERNFS_FEATURE_INCOMPAT_SUPP	PKERNFS_FEATURE_INCOMPAT_BADPAGES

/*
 * s_bad lists pages with memory errors. Set only while the list is not
 * empty: a kernel that does not know it would map a poisoned page, and a
 * read of it is a machine check, so it must not mount at all.
 */
#define PKERNFS_FEATURE_INCOMPAT_BADPAGES 0x1u

#define PKERNFS_BLOCK_SHIFT	12
#define PKERNFS_BLOCK_SIZE	4096u	/* 1 << PKERNFS_BLOCK_SHIFT */
#define PKERNFS_AU_SHIFT_MIN	12
#define PKERNFS_AU_SHIFT_MAX	30
#define PKERNFS_AU_SHIFT_DEFAULT 21

#define PKERNFS_ROOT_INO	1
#define PKERNFS_NAME_LEN	255
#define PKERNFS_LABEL_LEN	32
#define PKERNFS_KNAME_LEN	32
#define PKERNFS_SYMLINK_INLINE	160

/* s_state */
#define PKERNFS_STATE_CLEAN	0x1	/* unmounted cleanly */

/**
 * struct pkernfs_region_desc - where one table lives
 * @off: byte offset from the start of the device, 4 KiB aligned
 * @len: bytes reserved for the table
 * @count: records in the table (0 where not a table of records)
 * @rec_size: bytes per record
 */
struct pkernfs_region_desc {
	__le64 off;
	__le64 len;
	__le32 count;
	__le32 rec_size;
};

enum pkernfs_region_id {
	PKERNFS_R_JOURNAL,
	PKERNFS_R_INODES,
	PKERNFS_R_DIRENTS,
	PKERNFS_R_EXTENTS,
	PKERNFS_R_BITMAP,
	PKERNFS_R_KDIR,
	PKERNFS_R_KERNEL,
	PKERNFS_R_DATA,
	PKERNFS_NR_REGIONS
};

/* What a bad page was part of when its error was found; b_kind. */
enum pkernfs_bad_kind {
	PKERNFS_BAD_FREE = 1,	/* free data AU: kept allocated from then on */
	PKERNFS_BAD_DATA,	/* a file's data */
	PKERNFS_BAD_META,	/* superblock, journal or a table */
	PKERNFS_BAD_KERNEL,	/* the kernel-only area */
};

#define PKERNFS_BAD_MAX		64

/**
 * struct pkernfs_bad_range - pages with a memory error
 * @b_page: first page, counted in 4 KiB from the start of the device
 * @b_count: pages, at least 1
 * @b_kind: enum pkernfs_bad_kind
 * @b_reserved: zero
 *
 * An AU holding a bad page is never freed or allocated again. Reads of a
 * bad page fail with EIO and faults on it raise SIGBUS, after any number
 * of kexecs, until the list is cleared.
 */
struct pkernfs_bad_range {
	__le64 b_page;
	__le32 b_count;
	__le16 b_kind;
	__le16 b_reserved;
};

/**
 * struct pkernfs_super - the superblock, one 4 KiB block at offset 0
 * @s_magic: PKERNFS_MAGIC
 * @s_crc: crc32c of the whole block with this field zero
 * @s_major: incompatible format revision; a kernel refuses a newer one
 * @s_minor: compatible revision within @s_major
 * @s_feature_compat: features an older kernel may ignore
 * @s_feature_incompat: features an older kernel must refuse to mount
 * @s_feature_ro_compat: features an older kernel may only mount read-only
 * @s_au_shift: log2 of the allocation unit
 * @s_state: PKERNFS_STATE_* flags
 * @s_reserved0: zero
 * @s_uuid: identity of this filesystem
 * @s_label: NUL-padded volume label
 * @s_size: bytes of the device the filesystem covers
 * @s_nr_aus: allocation units in @s_size (s_size >> s_au_shift)
 * @s_mkfs_time: creation time, seconds since the epoch
 * @s_mount_time: last mount, seconds since the epoch
 * @s_mount_count: mounts since mkfs
 * @s_root_ino: inode number of the root directory
 * @s_regions: where each table lives, indexed by enum pkernfs_region_id
 * @s_hwm: with RO_COMPAT_HWM, per table (enum pkernfs_hwm_id): every slot
 *	at or past this index is free; at most the table's count
 * @s_reserved1: zero
 * @s_nr_bad: entries of @s_bad in use, at most PKERNFS_BAD_MAX; with
 *	INCOMPAT_BADPAGES set exactly when not zero
 * @s_reserved2: zero
 * @s_bad: the pages with memory errors, sorted by b_page, not overlapping
 * @s_pad: zero, up to 4 KiB
 */
struct pkernfs_super {
	__le64 s_magic;
	__le32 s_crc;
	__le16 s_major;
	__le16 s_minor;
	__le32 s_feature_compat;
	__le32 s_feature_incompat;
	__le32 s_feature_ro_compat;
	__le32 s_au_shift;
	__le32 s_state;
	__le32 s_reserved0;
	__u8 s_uuid[16];
	__u8 s_label[PKERNFS_LABEL_LEN];
	__le64 s_size;
	__le64 s_nr_aus;
	__le64 s_mkfs_time;
	__le64 s_mount_time;
	__le64 s_mount_count;
	__le64 s_root_ino;
	struct pkernfs_region_desc s_regions[PKERNFS_NR_REGIONS];
	__le32 s_hwm[PKERNFS_NR_HWM];
	__le32 s_reserved1;
	__le32 s_nr_bad;
	__le32 s_reserved2;
	struct pkernfs_bad_range s_bad[PKERNFS_BAD_MAX];
	__u8 s_pad[2720];
};

/* i_flags */
#define PKERNFS_INODE_USED	0x1
/*
 * The file's memory is mapped by kernel DMA state kept across kexec (a
 * persistent IOMMU domain): truncating, punching or unlinking it is
 * refused until that user releases it. Minor 1, with RO_COMPAT_DMA.
 */
#define PKERNFS_INODE_DMA	0x2

/**
 * struct pkernfs_inode - one inode, 256 bytes; its table index is its number
 * @i_crc: crc32c of the record with this field zero
 * @i_gen: generation, bumped each time the slot is reused
 * @i_ino: the inode's own number, guarding against a misplaced record
 * @i_mode: file type and permissions (S_IF* and 07777)
 * @i_flags: PKERNFS_INODE_*
 * @i_nlink: hard links (directories: 2 + subdirectories)
 * @i_uid: owner
 * @i_gid: group
 * @i_size: bytes (symlinks: length of the target)
 * @i_parent: directories only: inode number of the parent
 * @i_atime: access time, seconds
 * @i_mtime: modification time, seconds
 * @i_ctime: change time, seconds
 * @i_btime: birth time, seconds
 * @i_atime_ns: nanoseconds of @i_atime
 * @i_mtime_ns: nanoseconds of @i_mtime
 * @i_ctime_ns: nanoseconds of @i_ctime
 * @i_btime_ns: nanoseconds of @i_btime
 * @i_inline: symlinks: the target, not NUL-terminated; device nodes: the
 *	device number as a __le32 in new_encode_dev() form
 */
struct pkernfs_inode {
	__le32 i_crc;
	__le32 i_gen;
	__le64 i_ino;
	__le16 i_mode;
	__le16 i_flags;
	__le32 i_nlink;
	__le32 i_uid;
	__le32 i_gid;
	__le64 i_size;
	__le64 i_parent;
	__le64 i_atime;
	__le64 i_mtime;
	__le64 i_ctime;
	__le64 i_btime;
	__le32 i_atime_ns;
	__le32 i_mtime_ns;
	__le32 i_ctime_ns;
	__le32 i_btime_ns;
	__u8 i_inline[PKERNFS_SYMLINK_INLINE];
};

/**
 * struct pkernfs_dirent - one name in one directory, 320 bytes
 * @d_crc: crc32c of the record with this field zero
 * @d_hash: pkernfs_name_hash() of the name, for the mount-time index
 * @d_parent: inode number of the directory holding the name; 0 = free slot
 * @d_ino: inode number the name refers to
 * @d_parent_gen: i_gen of @d_parent when the name was made
 * @d_ino_gen: i_gen of @d_ino when the name was made
 * @d_namelen: bytes of @d_name in use, 1..255
 * @d_type: DT_* of the target
 * @d_reserved0: zero
 * @d_reserved: zero
 * @d_name: the name, not NUL-terminated
 */
struct pkernfs_dirent {
	__le32 d_crc;
	__le32 d_hash;
	__le64 d_parent;
	__le64 d_ino;
	__le32 d_parent_gen;
	__le32 d_ino_gen;
	__le16 d_namelen;
	__u8 d_type;
	__u8 d_reserved0;
	__u8 d_reserved[28];
	__u8 d_name[PKERNFS_NAME_LEN + 1];
};

/**
 * struct pkernfs_extent - a run of AUs backing part of a file, 32 bytes
 * @e_crc: crc32c of the record with this field zero
 * @e_ino_gen: i_gen of @e_ino when the extent was made
 * @e_ino: owning inode; 0 = free slot
 * @e_lblk: first file AU (file offset >> s_au_shift) the run maps
 * @e_len: AUs in the run, at least 1
 * @e_start: first device AU of the run, inside the data region
 */
struct pkernfs_extent {
	__le32 e_crc;
	__le32 e_ino_gen;
	__le64 e_ino;
	__le32 e_lblk;
	__le32 e_len;
	__le64 e_start;
};

/*
 * A bitmap block covers PKERNFS_BITS_PER_BMAP AUs; bit n of the bytes in
 * b_bits is AU (block index * PKERNFS_BITS_PER_BMAP + n). 1 = in use.
 */
#define PKERNFS_BMAP_HDR	8
#define PKERNFS_BITS_PER_BMAP	((PKERNFS_BLOCK_SIZE - PKERNFS_BMAP_HDR) * 8)

/**
 * struct pkernfs_bmap_block - one 4 KiB block of the AU bitmap
 * @b_crc: crc32c of the block with this field zero
 * @b_index: this block's index in the bitmap region
 * @b_bits: the bits
 */
struct pkernfs_bmap_block {
	__le32 b_crc;
	__le32 b_index;
	__u8 b_bits[PKERNFS_BLOCK_SIZE - PKERNFS_BMAP_HDR];
};

/**
 * struct pkernfs_kdir_entry - one named allocation in the kernel-only area
 * @k_crc: crc32c of the record with this field zero
 * @k_flags: zero; reserved
 * @k_start: first 4 KiB page, counted from the start of the kernel area
 * @k_npages: pages in the allocation; 0 = free slot
 * @k_cookie: owner's value (for example an IOMMU domain token)
 * @k_name: NUL-padded name, such as "intel-iommu/dmar0"
 */
struct pkernfs_kdir_entry {
	__le32 k_crc;
	__le32 k_flags;
	__le64 k_start;
	__le64 k_npages;
	__le64 k_cookie;
	__u8 k_name[PKERNFS_KNAME_LEN];
};

#define PKERNFS_JOURNAL_MAGIC	0x4c4e524a	/* "JRNL" */

/* j_state */
#define PKERNFS_J_EMPTY		0
#define PKERNFS_J_COMMITTED	1

/* What a journal record's image replaces; jr_table. */
enum pkernfs_table_id {
	PKERNFS_T_SUPER = 1,
	PKERNFS_T_INODE,
	PKERNFS_T_DIRENT,
	PKERNFS_T_EXTENT,
	PKERNFS_T_BMAP,
	PKERNFS_T_KDIR,
};

/**
 * struct pkernfs_journal_head - start of the journal region
 * @j_magic: PKERNFS_JOURNAL_MAGIC
 * @j_crc: crc32c of this header (field zeroed) and the @j_bytes that follow
 * @j_seq: transaction sequence number
 * @j_state: PKERNFS_J_*
 * @j_nrec: records in the transaction
 * @j_bytes: bytes of records after the header
 * @j_pad: zero
 * @j_hwm_seq: the @j_seq of the last transaction committed by a kernel that
 *	keeps s_hwm (minor 2). A kernel that does not know the marks (a
 *	rollback to minor 0 or 1, which may even remount read-write) commits
 *	with @j_seq advanced and this left behind: the marks are then not
 *	trusted, and the next mount reads every slot and sets them again
 * @j_reserved: zero
 *
 * A transaction writes record images after the header, then the header
 * with PKERNFS_J_COMMITTED; then it copies each image home and sets the
 * state back to empty. Mount replays a committed transaction whose crc
 * holds, so an interrupted update is either whole or absent.
 */
struct pkernfs_journal_head {
	__le32 j_magic;
	__le32 j_crc;
	__le64 j_seq;
	__le32 j_state;
	__le32 j_nrec;
	__le32 j_bytes;
	__le32 j_pad;
	__le64 j_hwm_seq;
	__u8 j_reserved[24];
};

/**
 * struct pkernfs_journal_rec - header of one record image in a transaction
 * @jr_table: enum pkernfs_table_id
 * @jr_reserved: zero
 * @jr_len: bytes of the image that follows (the table's record size)
 * @jr_index: record index in its table (0 for the superblock)
 */
struct pkernfs_journal_rec {
	__le16 jr_table;
	__le16 jr_reserved;
	__le32 jr_len;
	__le64 jr_index;
};

static_assert(sizeof(struct pkernfs_region_desc) == 24);
static_assert(sizeof(struct pkernfs_super) == PKERNFS_BLOCK_SIZE);
static_assert(offsetof(struct pkernfs_super, s_crc) == 8);
static_assert(offsetof(struct pkernfs_super, s_uuid) == 40);
static_assert(offsetof(struct pkernfs_super, s_size) == 88);
static_assert(offsetof(struct pkernfs_super, s_regions) == 136);
static_assert(offsetof(struct pkernfs_super, s_hwm) == 136 + 24 * PKERNFS_NR_REGIONS);
static_assert(offsetof(struct pkernfs_super, s_nr_bad) == 136 + 24 * PKERNFS_NR_REGIONS + 16);
static_assert(offsetof(struct pkernfs_super, s_bad) == 136 + 24 * PKERNFS_NR_REGIONS + 24);
static_assert(sizeof(struct pkernfs_bad_range) == 16);
static_assert(sizeof(struct pkernfs_inode) == 256);
static_assert(offsetof(struct pkernfs_inode, i_mode) == 16);
static_assert(offsetof(struct pkernfs_inode, i_size) == 32);
static_assert(offsetof(struct pkernfs_inode, i_atime) == 48);
static_assert(offsetof(struct pkernfs_inode, i_inline) == 96);
static_assert(sizeof(struct pkernfs_dirent) == 320);
static_assert(offsetof(struct pkernfs_dirent, d_namelen) == 32);
static_assert(offsetof(struct pkernfs_dirent, d_name) == 64);
static_assert(sizeof(struct pkernfs_extent) == 32);
static_assert(offsetof(struct pkernfs_extent, e_start) == 24);
static_assert(sizeof(struct pkernfs_bmap_block) == PKERNFS_BLOCK_SIZE);
static_assert(sizeof(struct pkernfs_kdir_entry) == 64);
static_assert(offsetof(struct pkernfs_kdir_entry, k_name) == 32);
static_assert(sizeof(struct pkernfs_journal_head) == 64);
static_assert(sizeof(struct pkernfs_journal_rec) == 16);

/*
 * The pure code that builds and checks the format (format.c), compiled
 * into the kernel and into pkernfsctl and the host tests alike. It works
 * on one flat mapping of the whole device: the kernel's direct map of the
 * dax range, or userspace's mmap of the device or an image file.
 */

/**
 * struct pkernfs_mkfs_params - choices for pkernfs_format(); 0 means default
 * @au_shift: log2 of the allocation unit, PKERNFS_AU_SHIFT_MIN..MAX
 * @nr_inodes: inode slots, including the unused slot 0
 * @nr_dirents: directory entry slots
 * @journal_bytes: journal region size
 * @kernel_bytes: kernel-only area size, rounded up to whole AUs
 * @time: creation time in seconds, for the root inode and the superblock
 * @uuid: the new filesystem's identity
 * @label: volume label, NUL-padded
 * @level: the format level, PKERNFS_LEVEL(minor) for a minor revision up
 *	to PKERNFS_MINOR (0: this code's); what later minors brought stays
 *	off, so that kernels of that level mount it read-write (a fleet that
 *	may roll back that far)
 */
struct pkernfs_mkfs_params {
	__u32 au_shift;
	__u32 level;
	__u64 nr_inodes;
	__u64 nr_dirents;
	__u64 journal_bytes;
	__u64 kernel_bytes;
	__u64 time;
	__u8 uuid[16];
	char label[PKERNFS_LABEL_LEN];
};

#define PKERNFS_JOURNAL_DEFAULT	(128u << 10)
#define PKERNFS_KDIR_ENTRIES	64

__u32 pkernfs_crc(const void *rec, __u32 len, __u32 crc_off);
__u32 pkernfs_name_hash(const void *name, __u32 len);
int pkernfs_layout(struct pkernfs_super *sb, __u64 dev_size,
		   const struct pkernfs_mkfs_params *p, const char **why);
int pkernfs_format(void *base, __u64 dev_size, const struct pkernfs_mkfs_params *p,
		   struct pkernfs_super *sb, const char **why);
__u32 pkernfs_ro_compat_unknown(const struct pkernfs_super *sb);
bool pkernfs_hwm_trusted(const struct pkernfs_super *sb,
			 const struct pkernfs_journal_head *jh);
__u32 pkernfs_hwm_scan(const struct pkernfs_super *sb, const struct pkernfs_journal_head *jh,
		       enum pkernfs_hwm_id h);
__u32 pkernfs_hwm_slots(const struct pkernfs_super *sb, enum pkernfs_hwm_id h);
int pkernfs_slot_in_use(const struct pkernfs_super *sb, const void *base,
			enum pkernfs_hwm_id h, __u32 i);
int pkernfs_super_check(const struct pkernfs_super *sb, __u64 dev_size,
			const char **why);
int pkernfs_bad_region(const struct pkernfs_super *sb, __u64 page);
const char *pkernfs_region_name(int r);
int pkernfs_bad_add(struct pkernfs_super *sb, __u64 page, __u16 kind);
void pkernfs_super_set_crc(struct pkernfs_super *sb);

int pkernfs_inode_check(const struct pkernfs_inode *di, __u64 ino,
			const char **why);
void pkernfs_inode_set_crc(struct pkernfs_inode *di);
int pkernfs_dirent_check(const struct pkernfs_dirent *de, const char **why);
void pkernfs_dirent_set_crc(struct pkernfs_dirent *de);
int pkernfs_extent_check(const struct pkernfs_super *sb,
			 const struct pkernfs_extent *ex, const char **why);
void pkernfs_extent_set_crc(struct pkernfs_extent *ex);
int pkernfs_bmap_check(const struct pkernfs_bmap_block *bb, __u32 index,
		       const char **why);
void pkernfs_bmap_set_crc(struct pkernfs_bmap_block *bb);
int pkernfs_kdir_check(const struct pkernfs_super *sb,
		       const struct pkernfs_kdir_entry *ke, const char **why);
void pkernfs_kdir_set_crc(struct pkernfs_kdir_entry *ke);
int pkernfs_journal_check(const struct pkernfs_journal_head *jh,
			  __u64 region_len, const char **why);

/* What mount and fsck --repair do with the journal: pkernfs_journal_state(). */
enum pkernfs_journal_verdict {
	PKERNFS_JS_CLEAN,	/* empty and whole: nothing to do */
	PKERNFS_JS_STALE,	/* emptying was cut short: nothing to apply, rewrite it */
	PKERNFS_JS_TORN,	/* committed head that fails its crc: drop it */
	PKERNFS_JS_REPLAY,	/* a committed transaction to copy home */
};

int pkernfs_journal_state(const struct pkernfs_journal_head *jh, __u64 region_len,
			  const char **why);
int pkernfs_super_same_geometry(const struct pkernfs_super *a,
				const struct pkernfs_super *b);
void pkernfs_journal_set_crc(struct pkernfs_journal_head *jh);
int pkernfs_journal_home(const struct pkernfs_region_desc *rg, __u16 table, __u64 index,
			 __u64 *off, __u32 *len);
int pkernfs_journal_verify(const void *base, const struct pkernfs_journal_head *jh);
int pkernfs_journal_apply(void *base, const struct pkernfs_journal_head *jh,
			  void (*flush)(void *addr, size_t len));

/* The largest file: AU indexes are 32-bit. The kernel may lower it further. */
static inline __u64 pkernfs_max_file_bytes(__u32 au_shift)
{
	return (__u64)0xffffffffu << au_shift;
}

#endif /* _PKERNFS_FORMAT_H */
