/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs: in-kernel definitions shared by the filesystem's files.
 *
 * Locking, outermost first:
 *   i_rwsem (VFS) > mmap_lock > mapping->invalidate_lock > sbi->lock
 *	> i_mmap_rwsem (zapping a hole's zero pages) > page table locks
 * sbi->lock serialises every metadata change and the journal, and is the
 * external lock of every inode's extent tree; it is never held across a
 * copy to or from userspace. The rules for reading extents are at the top
 * of file.c. Everything that touches the
 * region's memory runs inside pkernfs_enter()/pkernfs_exit(), an SRCU read
 * section, so that a forced unbind (pkernfs_shutdown) can wait for it and
 * stop new ones; SRCU, unlike a rwsem, may be held across a user copy that
 * faults on a pkernfs mapping.
 */
#ifndef _FS_PKERNFS_H
#define _FS_PKERNFS_H

#include <linux/fs.h>
#include <linux/libnvdimm.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/srcu.h>
#include <linux/pkernfs.h>
#include "format.h"

#define PKERNFS_TXN_MAX		24	/* record images in one transaction */
/* Journal bytes a full transaction can take: the head and 24 block images. */
#define PKERNFS_JOURNAL_MIN	(sizeof(struct pkernfs_journal_head) + \
				 PKERNFS_TXN_MAX * (sizeof(struct pkernfs_journal_rec) + \
						    PKERNFS_BLOCK_SIZE))

struct pkernfs_txn_rec {
	void *home;		/* the record's place in its table */
	void *image;		/* its new version, in the journal */
	u16 table;
	u32 len;
};

struct pkernfs_txn {
	unsigned int nrec;
	u32 bytes;
	struct pkernfs_txn_rec rec[PKERNFS_TXN_MAX];
};

/* Mount options; the format ones apply only with "format". */
struct pkernfs_fs_context {
	bool format;
	bool force;
	u32 au_shift;
	u64 nr_inodes;
	u64 kernel_bytes;
	u32 level;		/* PKERNFS_LEVEL(minor), 0: this kernel's */
};

struct pkernfs_sb_info {
	struct pkernfs_region *region;
	char *source;
	u8 *base;
	u64 size;
	/*
	 * The superblock as checked at mount, in memory: geometry is read
	 * from here only, and the media copy is written only by transactions.
	 */
	struct pkernfs_super *dsb;
	bool ro_only;		/* unknown ro_compat features: never read-write */

	u32 au_shift;
	u64 nr_aus;
	u64 data_first_au;
	struct pkernfs_inode *itab;
	u32 nr_inodes;
	struct pkernfs_dirent *dtab;
	u32 nr_dirents;
	struct pkernfs_extent *etab;
	u32 nr_extents;
	u8 *bmap;
	u32 nr_bmap;
	struct pkernfs_kdir_entry *kdir;
	struct pkernfs_journal_head *jhead;
	u64 jlen;

	/*
	 * In-memory allocation state, rebuilt from the tables at mount.
	 * slot_used[] aliases ino_used, dirent_used and extent_used (by enum
	 * pkernfs_hwm_id); mount checked the slots below slot_checked[].
	 */
	unsigned long *ino_used;
	unsigned long *dirent_used;
	unsigned long *extent_used;
	unsigned long *slot_used[PKERNFS_NR_HWM];
	u32 slot_count[PKERNFS_NR_HWM];
	u32 slot_checked[PKERNFS_NR_HWM];
	unsigned long *au_used;
	u64 free_aus;
	u32 free_inodes;
	u32 free_dirents;

	struct mutex lock;		/* tables, allocation state, txn */
	struct pkernfs_txn txn;

	bool mounted;		/* fill_super finished */
	bool dead;		/* the device was unbound */
	bool meta_bad;		/* a memory error hit metadata: no more changes */
	struct pkernfs_bad __rcu *bad;	/* pages with memory errors; poison.c */
};

/* The bad pages of the device, sorted; replaced whole, under RCU. */
struct pkernfs_bad {
	struct rcu_head rcu;
	u32 nr;
	u64 page[];
};

/*
 * One extent as the inode keeps it: a node in the inode's maple tree,
 * indexed by the file AU range it maps.
 */
struct pkernfs_ext {
	u32 slot;		/* index in the extent table */
	u32 lblk;
	u32 len;
	u64 start;		/* device AU */
	struct rcu_head rcu;
};

struct pkernfs_inode_info {
	struct maple_tree extents;
	u32 gen;
	bool zero_mapped;	/* a hole was mapped to the zero page; sbi->lock */
	bool dma_held;		/* PKERNFS_INODE_DMA on media; sbi->lock */
	unsigned int dma_holds;	/* this kernel's holders; inode lock */
	struct inode vfs_inode;
};

static inline struct pkernfs_sb_info *PKERNFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct pkernfs_inode_info *PKERNFS_I(struct inode *inode)
{
	return container_of(inode, struct pkernfs_inode_info, vfs_inode);
}

/* diag.c: "pkernfs: <device>: <message>", at a LOGLEVEL_* level */
__printf(3, 4) void pkernfs_printk(const struct pkernfs_sb_info *sbi, int level,
				   const char *fmt, ...);
#define pkernfs_err(sbi, fmt, ...) pkernfs_printk(sbi, LOGLEVEL_ERR, fmt, ##__VA_ARGS__)
#define pkernfs_warn(sbi, fmt, ...) pkernfs_printk(sbi, LOGLEVEL_WARNING, fmt, ##__VA_ARGS__)
#define pkernfs_notice(sbi, fmt, ...) pkernfs_printk(sbi, LOGLEVEL_NOTICE, fmt, ##__VA_ARGS__)
#define pkernfs_info(sbi, fmt, ...) pkernfs_printk(sbi, LOGLEVEL_INFO, fmt, ##__VA_ARGS__)

/* The dirent slot naming a dentry, kept in d_fsdata; -1 for the root. */
static inline s64 pkernfs_dentry_slot(const struct dentry *dentry)
{
	return (s64)(uintptr_t)dentry->d_fsdata - 1;
}

static inline void pkernfs_set_dentry_slot(struct dentry *dentry, u32 slot)
{
	dentry->d_fsdata = (void *)(uintptr_t)(slot + 1);
}

static inline void *pkernfs_au_addr(struct pkernfs_sb_info *sbi, u64 au)
{
	return sbi->base + (au << sbi->au_shift);
}

static inline phys_addr_t pkernfs_au_phys(struct pkernfs_sb_info *sbi, u64 au)
{
	return sbi->region->phys + (au << sbi->au_shift);
}

/*
 * An ordering point on persistent memory: every line written back
 * (arch_wb_cache_pmem()) before it is durable once it returns.
 */
static inline void pkernfs_persist_barrier(struct pkernfs_sb_info *sbi)
{
	if (sbi->region->flush)
		sbi->region->flush(sbi->region);
	else
		pmem_wmb();
}

extern struct srcu_struct pkernfs_srcu;

/*
 * Enter a section that touches the region's memory. Return: 0, inside the
 * section (leave it with pkernfs_exit(*@idx)), or -EIO once the device was
 * unbound.
 */
static inline int pkernfs_enter(struct pkernfs_sb_info *sbi, int *idx)
{
	*idx = srcu_read_lock(&pkernfs_srcu);
	if (READ_ONCE(sbi->dead)) {
		srcu_read_unlock(&pkernfs_srcu, *idx);
		return -EIO;
	}
	return 0;
}

static inline void pkernfs_exit(int idx)
{
	srcu_read_unlock(&pkernfs_srcu, idx);
}

/* extent.c */
bool pkernfs_dma_busy(struct inode *inode, const char *what);
bool pkernfs_lookup_ext(struct inode *inode, u32 lblk, struct pkernfs_ext *out);
struct pkernfs_ext *pkernfs_find_ext_locked(struct inode *inode, u32 lblk);
int pkernfs_get_ext(struct inode *inode, u32 lblk, u32 want, struct pkernfs_ext *extp);
void *pkernfs_ext_addr(struct pkernfs_sb_info *sbi, const struct pkernfs_ext *ext, u64 pos);
bool pkernfs_contig(struct inode *inode, u64 pos, u64 size, phys_addr_t *phys);
void pkernfs_zero_range(struct inode *inode, u64 pos, u64 end);
void pkernfs_unmap_range(struct inode *inode, u64 start, u64 end);
int pkernfs_free_range(struct inode *inode, u64 first_au, u64 end_au);
int pkernfs_setsize(struct inode *inode, loff_t newsize);
void pkernfs_init_extents(struct pkernfs_inode_info *pi, struct pkernfs_sb_info *sbi);
void pkernfs_destroy_extents(struct inode *inode);

/* karea.c */
int pkernfs_kdir_validate(struct pkernfs_sb_info *sbi);
void pkernfs_kroot_unmount(struct pkernfs_sb_info *sbi);
void pkernfs_kroot_poison(struct pkernfs_sb_info *sbi, u64 off);
struct pkernfs_kroot *pkernfs_kroot_create_sbi(struct pkernfs_sb_info *sbi, const char *name,
					       u64 cookie, unsigned long npages);
int pkernfs_kroot_recookie_sbi(struct pkernfs_sb_info *sbi, struct pkernfs_kroot *kr, u64 cookie);
struct pkernfs_kroot *pkernfs_kroot_adopt_sbi(struct pkernfs_sb_info *sbi, const char *name,
					      u64 cookie);

/* journal.c */
void *pkernfs_txn_add(struct pkernfs_sb_info *sbi, u16 table, u64 index);
void pkernfs_txn_commit(struct pkernfs_sb_info *sbi);
void pkernfs_txn_abort(struct pkernfs_sb_info *sbi);
int pkernfs_journal_replay(struct pkernfs_sb_info *sbi, bool rdonly);

/* alloc.c */
int __pkernfs_stage_inode(struct pkernfs_sb_info *sbi, struct inode *inode);
void pkernfs_stage_inode(struct pkernfs_sb_info *sbi, struct inode *inode);
int pkernfs_alloc_slot(unsigned long *used, u32 nr, u32 first, u32 *slot);
int pkernfs_take_slot(struct pkernfs_sb_info *sbi, enum pkernfs_hwm_id h, u32 first, u32 *slot);
void pkernfs_hwm_lower(struct pkernfs_sb_info *sbi, struct pkernfs_super *img);
int pkernfs_alloc_aus(struct pkernfs_sb_info *sbi, u64 want, u64 goal,
		      u64 *start, u64 *got);
int pkernfs_set_aus(struct pkernfs_sb_info *sbi, u64 start, u64 len, bool used);

/* diag.c: the fail_pkernfs fault-injection attribute (debugfs) */
#ifdef CONFIG_FAULT_INJECTION
bool pkernfs_should_fail(void);
void pkernfs_fail_init(void);
void pkernfs_fail_exit(void);
#else
static inline bool pkernfs_should_fail(void)
{
	return false;
}

static inline void pkernfs_fail_init(void)
{
}

static inline void pkernfs_fail_exit(void)
{
}
#endif

/* poison.c */
bool pkernfs_bad_range(struct pkernfs_sb_info *sbi, u64 off, u64 len, u64 *first);
bool pkernfs_au_bad(struct pkernfs_sb_info *sbi, u64 au);
void pkernfs_bad_keep(struct pkernfs_sb_info *sbi, u64 start, u64 len);
int pkernfs_bad_clip(struct pkernfs_sb_info *sbi, const void *addr, size_t *n);
void pkernfs_bad_mark(struct pkernfs_sb_info *sbi, unsigned long *map);
int pkernfs_bad_load(struct pkernfs_sb_info *sbi);
void pkernfs_bad_free(struct pkernfs_sb_info *sbi);
int pkernfs_memory_failure(void *holder, u64 offset, int mf_flags);
void pkernfs_bad_pending(struct super_block *sb);

/* super.c */
extern const struct super_operations pkernfs_super_operations;
void pkernfs_geometry(struct pkernfs_sb_info *sbi);

/* inode.c */
extern const struct inode_operations pkernfs_dir_inode_operations;
extern const struct inode_operations pkernfs_file_inode_operations;
extern const struct inode_operations pkernfs_symlink_inode_operations;
struct inode *pkernfs_iget(struct super_block *sb, u64 ino);
void pkernfs_evict_inode(struct inode *inode);
void pkernfs_dirty_inode(struct inode *inode, int flags);

/* scan.c */
int pkernfs_build_tree(struct super_block *sb);
int pkernfs_load_extents(struct super_block *sb);

/* file.c */
extern const struct file_operations pkernfs_file_operations;

#endif /* _FS_PKERNFS_H */
