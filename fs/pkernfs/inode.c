// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs inodes and the namespace.
 *
 * Like ramfs, the whole tree lives in the dcache: mount builds a pinned
 * dentry for every name in the dirent table, so lookup never misses
 * something that exists and readdir is dcache_readdir(). Each dentry
 * remembers the dirent slot that names it (d_fsdata). Every operation
 * changes the tables in one journal transaction under sbi->lock, and only
 * then the VFS objects, so a crash leaves either the old or the new name.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include "pkernfs.h"

static struct timespec64 pkernfs_time_from_disk(__le64 sec, __le32 nsec)
{
	return (struct timespec64){ .tv_sec = le64_to_cpu(sec), .tv_nsec = le32_to_cpu(nsec) };
}

void pkernfs_dirty_inode(struct inode *inode, int flags)
{
	int idx;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);

	if (!PKERNFS_I(inode)->gen || pkernfs_enter(sbi, &idx))
		return;
	if (!sb_rdonly(inode->i_sb)) {
		mutex_lock(&sbi->lock);
		if (!__pkernfs_stage_inode(sbi, inode))
			pkernfs_txn_commit(sbi);
		mutex_unlock(&sbi->lock);
	}
	pkernfs_exit(idx);
}

static void pkernfs_set_ops(struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &pkernfs_file_inode_operations;
		inode->i_fop = &pkernfs_file_operations;
		break;
	case S_IFDIR:
		inode->i_op = &pkernfs_dir_inode_operations;
		inode->i_fop = &simple_dir_operations;
		break;
	case S_IFLNK:
		inode->i_op = &pkernfs_symlink_inode_operations;
		break;
	default:
		inode->i_op = &pkernfs_file_inode_operations;
		break;
	}
}

/**
 * pkernfs_iget() - the in-memory inode of a checked inode record
 * @sb: the filesystem
 * @ino: inode number
 *
 * Return: the inode, or an ERR_PTR.
 */
struct inode *pkernfs_iget(struct super_block *sb, u64 ino)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	struct pkernfs_inode *di = &sbi->itab[ino];
	struct inode *inode;
	u64 size;

	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;
	size = le64_to_cpu(di->i_size);
	/* File offsets past s_maxbytes would overflow the 32-bit AU index. */
	if (S_ISREG(le16_to_cpu(di->i_mode)) && size > sb->s_maxbytes) {
		pkernfs_err(sbi, "inode %llu: size %llu is past the largest file (%lld)", ino, size,
			    sb->s_maxbytes);
		iget_failed(inode);
		return ERR_PTR(-EFSCORRUPTED);
	}

	PKERNFS_I(inode)->gen = le32_to_cpu(di->i_gen);
	PKERNFS_I(inode)->dma_held = le16_to_cpu(di->i_flags) & PKERNFS_INODE_DMA;
	inode->i_mode = le16_to_cpu(di->i_mode);
	i_uid_write(inode, le32_to_cpu(di->i_uid));
	i_gid_write(inode, le32_to_cpu(di->i_gid));
	set_nlink(inode, le32_to_cpu(di->i_nlink));
	i_size_write(inode, size);
	inode_set_atime_to_ts(inode, pkernfs_time_from_disk(di->i_atime, di->i_atime_ns));
	inode_set_mtime_to_ts(inode, pkernfs_time_from_disk(di->i_mtime, di->i_mtime_ns));
	inode_set_ctime_to_ts(inode, pkernfs_time_from_disk(di->i_ctime, di->i_ctime_ns));
	inode->i_generation = le32_to_cpu(di->i_gen);
	inode->i_mapping->a_ops = &empty_aops;
	pkernfs_set_ops(inode);
	if (S_ISLNK(inode->i_mode)) {
		inode->i_link = kmemdup_nul(di->i_inline, size, GFP_KERNEL);
		if (!inode->i_link) {
			iget_failed(inode);
			return ERR_PTR(-ENOMEM);
		}
	} else if (S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode) ||
		   S_ISFIFO(inode->i_mode) || S_ISSOCK(inode->i_mode)) {
		init_special_inode(inode, inode->i_mode,
				   new_decode_dev(get_unaligned_le32(di->i_inline)));
	}
	unlock_new_inode(inode);
	return inode;
}

/* --- namespace operations --- */

static int pkernfs_stage_dirent(struct pkernfs_sb_info *sbi, u32 slot, struct inode *dir,
				const struct qstr *name, struct inode *inode)
{
	struct pkernfs_dirent *de = pkernfs_txn_add(sbi, PKERNFS_T_DIRENT, slot);

	if (IS_ERR(de))
		return PTR_ERR(de);
	memset(de, 0, sizeof(*de));
	de->d_parent = cpu_to_le64(dir->i_ino);
	de->d_parent_gen = cpu_to_le32(PKERNFS_I(dir)->gen);
	de->d_ino = cpu_to_le64(inode->i_ino);
	de->d_ino_gen = cpu_to_le32(PKERNFS_I(inode)->gen);
	de->d_type = fs_umode_to_dtype(inode->i_mode);
	de->d_namelen = cpu_to_le16(name->len);
	memcpy(de->d_name, name->name, name->len);
	de->d_hash = cpu_to_le32(pkernfs_name_hash(name->name, name->len));
	return 0;
}

static int pkernfs_free_dirent(struct pkernfs_sb_info *sbi, u32 slot)
{
	struct pkernfs_dirent *de = pkernfs_txn_add(sbi, PKERNFS_T_DIRENT, slot);

	if (IS_ERR(de))
		return PTR_ERR(de);
	/* An all-zero record is a free slot and needs no crc. */
	memset(de, 0, sizeof(*de));
	return 0;
}

/*
 * Remove @inode's name in @slot from @dir, in the open transaction: the
 * links it held (a directory's two, and its ".." in @dir) go with it.
 */
static int pkernfs_drop_name(struct pkernfs_sb_info *sbi, struct inode *dir,
			     struct inode *inode, u32 slot)
{
	int err;

	if (S_ISDIR(inode->i_mode)) {
		clear_nlink(inode);
		drop_nlink(dir);
	} else {
		drop_nlink(inode);
	}
	err = pkernfs_free_dirent(sbi, slot);
	if (!err)
		err = __pkernfs_stage_inode(sbi, inode);
	return err;
}

static void pkernfs_dirent_done(struct pkernfs_sb_info *sbi, u32 slot)
{
	__clear_bit(slot, sbi->dirent_used);
	sbi->free_dirents++;
}

static struct dentry *pkernfs_lookup(struct inode *dir, struct dentry *dentry,
				     unsigned int flags)
{
	if (dentry->d_name.len > PKERNFS_NAME_LEN)
		return ERR_PTR(-ENAMETOOLONG);
	/* Everything that exists is in the dcache: a miss is a negative. */
	d_add(dentry, NULL);
	return NULL;
}

static int pkernfs_new(struct mnt_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, umode_t mode, dev_t rdev,
		       const char *symname)
{
	int idx;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(dir->i_sb);
	size_t symlen = symname ? strlen(symname) : 0;
	struct pkernfs_inode *di;
	struct inode *inode;
	u32 ino, slot;
	int err;

	if (symlen > PKERNFS_SYMLINK_INLINE)
		return -ENAMETOOLONG;
	inode = new_inode(dir->i_sb);
	if (!inode)
		return -ENOMEM;
	inode_init_owner(idmap, inode, dir, mode);
	simple_inode_init_ts(inode);
	inode->i_mapping->a_ops = &empty_aops;
	if (symname) {
		inode->i_link = kmemdup_nul(symname, symlen, GFP_KERNEL);
		if (!inode->i_link) {
			iput(inode);
			return -ENOMEM;
		}
		i_size_write(inode, symlen);
	} else if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode) || S_ISSOCK(mode)) {
		init_special_inode(inode, mode, rdev);
	}
	set_nlink(inode, S_ISDIR(mode) ? 2 : 1);
	pkernfs_set_ops(inode);

	err = pkernfs_enter(sbi, &idx);
	if (err)
		goto out_iput;
	mutex_lock(&sbi->lock);
	err = pkernfs_take_slot(sbi, PKERNFS_HWM_INODES, PKERNFS_ROOT_INO + 1, &ino);
	if (err)
		goto out_unlock;
	err = pkernfs_take_slot(sbi, PKERNFS_HWM_DIRENTS, 0, &slot);
	if (err) {
		__clear_bit(ino, sbi->ino_used);
		goto out_unlock;
	}
	inode->i_ino = ino;
	PKERNFS_I(inode)->gen = le32_to_cpu(sbi->itab[ino].i_gen) + 1;
	inode->i_generation = PKERNFS_I(inode)->gen;
	if (S_ISDIR(mode))
		inc_nlink(dir);
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));

	err = __pkernfs_stage_inode(sbi, inode);
	if (!err) {
		di = sbi->txn.rec[sbi->txn.nrec - 1].image;
		memset(di->i_inline, 0, sizeof(di->i_inline));
		if (symname)
			memcpy(di->i_inline, symname, symlen);
		else if (inode->i_rdev)
			put_unaligned_le32(new_encode_dev(inode->i_rdev), di->i_inline);
		err = pkernfs_stage_dirent(sbi, slot, dir, &dentry->d_name, inode);
	}
	if (!err)
		err = __pkernfs_stage_inode(sbi, dir);
	if (err) {
		pkernfs_txn_abort(sbi);
		if (S_ISDIR(mode))
			drop_nlink(dir);
		__clear_bit(ino, sbi->ino_used);
		__clear_bit(slot, sbi->dirent_used);
		goto out_unlock;
	}
	pkernfs_txn_commit(sbi);
	sbi->free_inodes--;
	sbi->free_dirents--;
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);

	insert_inode_hash(inode);
	pkernfs_set_dentry_slot(dentry, slot);
	d_instantiate(dentry, inode);
	dget(dentry);	/* pin, as in ramfs */
	return 0;

out_unlock:
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
out_iput:
	PKERNFS_I(inode)->gen = 0;	/* never on media: evict must not free it */
	clear_nlink(inode);
	iput(inode);
	return err;
}

static int pkernfs_mknod(struct mnt_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode, dev_t dev)
{
	return pkernfs_new(idmap, dir, dentry, mode, dev, NULL);
}

static int pkernfs_create(struct mnt_idmap *idmap, struct inode *dir,
			  struct dentry *dentry, umode_t mode, bool excl)
{
	return pkernfs_new(idmap, dir, dentry, mode | S_IFREG, 0, NULL);
}

static int pkernfs_mkdir(struct mnt_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	return pkernfs_new(idmap, dir, dentry, mode | S_IFDIR, 0, NULL);
}

static int pkernfs_symlink(struct mnt_idmap *idmap, struct inode *dir,
			   struct dentry *dentry, const char *symname)
{
	return pkernfs_new(idmap, dir, dentry, S_IFLNK | 0777, 0, symname);
}

static int pkernfs_link(struct dentry *old_dentry, struct inode *dir,
			struct dentry *dentry)
{
	int idx;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(dir->i_sb);
	struct inode *inode = d_inode(old_dentry);
	u32 slot;
	int err;

	err = pkernfs_enter(sbi, &idx);
	if (err)
		return err;
	mutex_lock(&sbi->lock);
	err = pkernfs_take_slot(sbi, PKERNFS_HWM_DIRENTS, 0, &slot);
	if (err)
		goto out;
	inc_nlink(inode);
	inode_set_ctime_current(inode);
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
	err = pkernfs_stage_dirent(sbi, slot, dir, &dentry->d_name, inode);
	if (!err)
		err = __pkernfs_stage_inode(sbi, inode);
	if (!err)
		err = __pkernfs_stage_inode(sbi, dir);
	if (err) {
		pkernfs_txn_abort(sbi);
		drop_nlink(inode);
		__clear_bit(slot, sbi->dirent_used);
		goto out;
	}
	pkernfs_txn_commit(sbi);
	sbi->free_dirents--;
	ihold(inode);
	pkernfs_set_dentry_slot(dentry, slot);
	d_instantiate(dentry, inode);
	dget(dentry);
out:
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
	return err;
}

static int pkernfs_unlink(struct inode *dir, struct dentry *dentry)
{
	int idx;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(dir->i_sb);
	struct inode *inode = d_inode(dentry);
	u32 slot = pkernfs_dentry_slot(dentry);
	bool isdir = S_ISDIR(inode->i_mode);
	int err;

	/* The VFS holds the victim's i_rwsem. */
	if (!isdir && inode->i_nlink == 1 && pkernfs_dma_busy(inode, "unlink of its last name"))
		return -EBUSY;
	err = pkernfs_enter(sbi, &idx);
	if (err)
		return err;
	mutex_lock(&sbi->lock);
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
	inode_set_ctime_to_ts(inode, inode_get_ctime(dir));
	err = pkernfs_drop_name(sbi, dir, inode, slot);
	if (!err)
		err = __pkernfs_stage_inode(sbi, dir);
	if (err) {
		pkernfs_txn_abort(sbi);
		/* Not inc_nlink(): the last name's drop left 0 (pkernfs-inject). */
		if (isdir) {
			set_nlink(inode, 2);
			inc_nlink(dir);
		} else {
			set_nlink(inode, inode->i_nlink + 1);
		}
		goto out;
	}
	pkernfs_txn_commit(sbi);
	pkernfs_dirent_done(sbi, slot);
	dentry->d_fsdata = NULL;
	dput(dentry);	/* undo the pin */
out:
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
	return err;
}

static int pkernfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	if (!simple_empty(dentry))
		return -ENOTEMPTY;
	return pkernfs_unlink(dir, dentry);
}

static int pkernfs_rename_exchange(struct pkernfs_sb_info *sbi,
				   struct inode *old_dir, struct dentry *old_dentry,
				   struct inode *new_dir, struct dentry *new_dentry)
{
	struct inode *a = d_inode(old_dentry), *b = d_inode(new_dentry);
	u32 sa = pkernfs_dentry_slot(old_dentry), sb = pkernfs_dentry_slot(new_dentry);
	int err;

	if (old_dir != new_dir && S_ISDIR(a->i_mode) != S_ISDIR(b->i_mode)) {
		if (S_ISDIR(a->i_mode)) {
			drop_nlink(old_dir);
			inc_nlink(new_dir);
		} else {
			drop_nlink(new_dir);
			inc_nlink(old_dir);
		}
	}
	/* Each slot keeps its name and gets the other inode. */
	err = pkernfs_stage_dirent(sbi, sa, old_dir, &old_dentry->d_name, b);
	if (!err)
		err = pkernfs_stage_dirent(sbi, sb, new_dir, &new_dentry->d_name, a);
	if (!err)
		err = __pkernfs_stage_inode(sbi, old_dir);
	if (!err)
		err = __pkernfs_stage_inode(sbi, new_dir);
	if (!err)
		err = __pkernfs_stage_inode(sbi, a);
	if (!err)
		err = __pkernfs_stage_inode(sbi, b);
	if (err)
		return err;
	/* d_exchange() swaps the names; the slots follow the names. */
	pkernfs_set_dentry_slot(old_dentry, sb);
	pkernfs_set_dentry_slot(new_dentry, sa);
	return 0;
}

static int pkernfs_rename(struct mnt_idmap *idmap, struct inode *old_dir,
			  struct dentry *old_dentry, struct inode *new_dir,
			  struct dentry *new_dentry, unsigned int flags)
{
	int idx;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(old_dir->i_sb);
	struct inode *inode = d_inode(old_dentry), *target = d_inode(new_dentry);
	u32 slot = pkernfs_dentry_slot(old_dentry);
	bool isdir = S_ISDIR(inode->i_mode);
	unsigned int nl_old, nl_new, nl_target;
	s64 tslot = -1;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (target && S_ISDIR(target->i_mode) && !simple_empty(new_dentry))
		return -ENOTEMPTY;
	if (target && !(flags & RENAME_EXCHANGE) && S_ISREG(target->i_mode) &&
	    target->i_nlink == 1 && pkernfs_dma_busy(target, "rename over its last name"))
		return -EBUSY;
	err = pkernfs_enter(sbi, &idx);
	if (err)
		return err;
	mutex_lock(&sbi->lock);
	/* Link counts change in memory before the commit: kept to undo. */
	nl_old = old_dir->i_nlink;
	nl_new = new_dir->i_nlink;
	nl_target = target ? target->i_nlink : 0;
	inode_set_ctime_current(inode);
	inode_set_mtime_to_ts(old_dir, inode_get_ctime(inode));
	inode_set_ctime_to_ts(old_dir, inode_get_ctime(inode));
	inode_set_mtime_to_ts(new_dir, inode_get_ctime(inode));
	inode_set_ctime_to_ts(new_dir, inode_get_ctime(inode));

	if (flags & RENAME_EXCHANGE) {
		inode_set_ctime_to_ts(target, inode_get_ctime(inode));
		err = pkernfs_rename_exchange(sbi, old_dir, old_dentry, new_dir, new_dentry);
		goto done;
	}

	if (target) {
		tslot = pkernfs_dentry_slot(new_dentry);
		inode_set_ctime_to_ts(target, inode_get_ctime(inode));
		err = pkernfs_drop_name(sbi, new_dir, target, tslot);
		if (err)
			goto done;
	}
	if (isdir && old_dir != new_dir) {
		drop_nlink(old_dir);
		inc_nlink(new_dir);
	}
	err = pkernfs_stage_dirent(sbi, slot, new_dir, &new_dentry->d_name, inode);
	if (!err)
		err = __pkernfs_stage_inode(sbi, inode);
	if (!err)
		err = __pkernfs_stage_inode(sbi, old_dir);
	if (!err)
		err = __pkernfs_stage_inode(sbi, new_dir);
done:
	if (err) {
		/* A failed allocation, or metadata a memory error hit. */
		pkernfs_txn_abort(sbi);
		set_nlink(old_dir, nl_old);
		set_nlink(new_dir, nl_new);
		if (target)
			set_nlink(target, nl_target);
	} else {
		pkernfs_txn_commit(sbi);
		if (tslot >= 0) {
			pkernfs_dirent_done(sbi, tslot);
			new_dentry->d_fsdata = NULL;
			dput(new_dentry);	/* drop the target's pin */
		}
	}
	mutex_unlock(&sbi->lock);
	pkernfs_exit(idx);
	return err;
}

static int pkernfs_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
			   struct iattr *iattr)
{
	int idx;
	struct inode *inode = d_inode(dentry);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	int err;

	err = setattr_prepare(idmap, dentry, iattr);
	if (err)
		return err;
	err = pkernfs_enter(sbi, &idx);
	if (err)
		return err;
	if ((iattr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode)) {
		err = pkernfs_setsize(inode, iattr->ia_size);
		if (err)
			goto out;
	}
	setattr_copy(idmap, inode, iattr);
	mutex_lock(&sbi->lock);
	err = __pkernfs_stage_inode(sbi, inode);
	if (!err)
		pkernfs_txn_commit(sbi);
	mutex_unlock(&sbi->lock);
out:
	pkernfs_exit(idx);
	return err;
}

/**
 * pkernfs_evict_inode() - free an unlinked inode's record and data
 * @inode: the inode
 *
 * Data AUs still pinned (by GUP, for example VFIO) are not freed: the
 * record stays as an orphan with no links, and the next mount frees it.
 */
void pkernfs_evict_inode(struct inode *inode)
{
	int idx;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	struct pkernfs_inode *di;
	int err = 0;

	truncate_inode_pages_final(&inode->i_data);
	/* A read-only mount leaves orphans for the next read-write one. */
	if (!inode->i_nlink && PKERNFS_I(inode)->gen && !sb_rdonly(inode->i_sb) &&
	    !pkernfs_enter(sbi, &idx)) {
		/* Any failure keeps the record: never free an inode whose AUs are not. */
		if (S_ISREG(inode->i_mode))
			err = pkernfs_free_range(inode, 0, U32_MAX);
		if (!err) {
			mutex_lock(&sbi->lock);
			di = pkernfs_txn_add(sbi, PKERNFS_T_INODE, inode->i_ino);
			if (!IS_ERR(di)) {
				u32 gen = le32_to_cpu(di->i_gen);

				memset(di, 0, sizeof(*di));
				di->i_ino = cpu_to_le64(inode->i_ino);
				di->i_gen = cpu_to_le32(gen);
				pkernfs_txn_commit(sbi);
				__clear_bit(inode->i_ino, sbi->ino_used);
				sbi->free_inodes++;
			}
			mutex_unlock(&sbi->lock);
		} else if (err == -EBUSY) {
			pkernfs_warn(sbi,
				     "inode %lu unlinked while its memory is pinned; freed at next mount",
				     inode->i_ino);
		} else {
			pkernfs_warn(sbi,
				     "inode %lu: freeing its memory failed (%d); freed at next mount",
				     inode->i_ino, err);
		}
		pkernfs_exit(idx);
	}
	pkernfs_destroy_extents(inode);
	clear_inode(inode);
}

static const char *pkernfs_get_link(struct dentry *dentry, struct inode *inode,
				    struct delayed_call *done)
{
	return inode->i_link;
}

const struct inode_operations pkernfs_dir_inode_operations = {
	.create = pkernfs_create,
	.lookup = pkernfs_lookup,
	.link = pkernfs_link,
	.unlink = pkernfs_unlink,
	.symlink = pkernfs_symlink,
	.mkdir = pkernfs_mkdir,
	.rmdir = pkernfs_rmdir,
	.mknod = pkernfs_mknod,
	.rename = pkernfs_rename,
	.setattr = pkernfs_setattr,
};

const struct inode_operations pkernfs_file_inode_operations = {
	.setattr = pkernfs_setattr,
};

const struct inode_operations pkernfs_symlink_inode_operations = {
	.get_link = pkernfs_get_link,
	.setattr = pkernfs_setattr,
};
