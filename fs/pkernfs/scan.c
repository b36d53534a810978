// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs at mount: the tree built from the dirent table into a pinned
 * dcache, every record checked once, the extents given to their inodes,
 * and orphans (files unlinked while still open or pinned) freed.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include "pkernfs.h"

struct pkernfs_name_ref {
	u64 parent;
	u32 slot;
};

static int pkernfs_cmp_ref(const void *a, const void *b)
{
	const struct pkernfs_name_ref *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return x->slot < y->slot ? -1 : (x->slot > y->slot);
}

/* Inode records are checked once, here; later reads trust them. */
static int pkernfs_scan_inodes(struct pkernfs_sb_info *sbi)
{
	const char *why = NULL;
	u32 i;

	sbi->ino_used = bitmap_zalloc(sbi->nr_inodes, GFP_KERNEL);
	if (!sbi->ino_used)
		return -ENOMEM;
	sbi->slot_used[PKERNFS_HWM_INODES] = sbi->ino_used;
	__set_bit(0, sbi->ino_used);
	/* Slots past the high-water mark are free: checked when taken. */
	for (i = 1; i < sbi->slot_checked[PKERNFS_HWM_INODES]; i++) {
		if (pkernfs_inode_check(&sbi->itab[i], i, &why)) {
			pkernfs_err(sbi, "inode %u: %s", i, why);
			return -EFSCORRUPTED;
		}
		if (le16_to_cpu(sbi->itab[i].i_flags) & PKERNFS_INODE_USED)
			__set_bit(i, sbi->ino_used);
	}
	if (!test_bit(PKERNFS_ROOT_INO, sbi->ino_used) ||
	    !S_ISDIR(le16_to_cpu(sbi->itab[PKERNFS_ROOT_INO].i_mode))) {
		pkernfs_err(sbi, "root inode is not a directory");
		return -EFSCORRUPTED;
	}
	sbi->free_inodes = sbi->nr_inodes - bitmap_weight(sbi->ino_used, sbi->nr_inodes);
	return 0;
}

static int pkernfs_check_name(struct pkernfs_sb_info *sbi, u32 slot)
{
	struct pkernfs_dirent *de = &sbi->dtab[slot];
	u64 parent = le64_to_cpu(de->d_parent), ino = le64_to_cpu(de->d_ino);
	struct pkernfs_inode *dp, *di;

	if (parent >= sbi->nr_inodes || ino >= sbi->nr_inodes || ino == PKERNFS_ROOT_INO ||
	    !test_bit(parent, sbi->ino_used) || !test_bit(ino, sbi->ino_used)) {
		pkernfs_err(sbi, "dirent %u links unused inodes %llu -> %llu", slot, parent, ino);
		return -EFSCORRUPTED;
	}
	dp = &sbi->itab[parent];
	di = &sbi->itab[ino];
	if (!S_ISDIR(le16_to_cpu(dp->i_mode)) || dp->i_gen != de->d_parent_gen ||
	    di->i_gen != de->d_ino_gen ||
	    de->d_type != fs_umode_to_dtype(le16_to_cpu(di->i_mode))) {
		pkernfs_err(sbi, "dirent %u disagrees with inodes %llu and %llu", slot, parent,
			    ino);
		return -EFSCORRUPTED;
	}
	return 0;
}

static int pkernfs_add_children(struct super_block *sb, struct dentry *dir,
				struct pkernfs_name_ref *refs, u32 nref,
				u32 *names, struct dentry ***queue, u32 *qlen)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	struct pkernfs_name_ref key = { .parent = d_inode(dir)->i_ino };
	struct pkernfs_name_ref *r;
	struct dentry *dentry;
	struct inode *inode;
	u32 lo = 0, hi = nref, mid;

	while (lo < hi) {		/* first ref of this parent */
		mid = lo + (hi - lo) / 2;
		if (refs[mid].parent < key.parent)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (r = refs + lo; r < refs + nref && r->parent == key.parent; r++) {
		struct pkernfs_dirent *de = &sbi->dtab[r->slot];
		struct qstr name = QSTR_INIT((const char *)de->d_name,
					     le16_to_cpu(de->d_namelen));
		u64 ino = le64_to_cpu(de->d_ino);

		/* d_alloc() takes the hash as given: compute it as lookup will. */
		name.hash = full_name_hash(dir, name.name, name.len);
		dentry = d_lookup(dir, &name);
		if (dentry) {
			dput(dentry);
			pkernfs_err(sbi, "dirent %u repeats a name in directory %llu", r->slot,
				    key.parent);
			return -EFSCORRUPTED;
		}
		inode = pkernfs_iget(sb, ino);
		if (IS_ERR(inode))
			return PTR_ERR(inode);
		if (S_ISDIR(inode->i_mode) && names[ino]) {
			pkernfs_err(sbi, "directory inode %llu has two names", ino);
			iput(inode);
			return -EFSCORRUPTED;
		}
		names[ino]++;
		dentry = d_alloc(dir, &name);
		if (!dentry) {
			iput(inode);
			return -ENOMEM;
		}
		pkernfs_set_dentry_slot(dentry, r->slot);
		d_add(dentry, inode);
		/* The reference from d_alloc() pins the dentry, as in ramfs. */
		if (S_ISDIR(inode->i_mode))
			(*queue)[(*qlen)++] = dentry;
	}
	return 0;
}

static int pkernfs_check_nlinks(struct pkernfs_sb_info *sbi, const u32 *names,
				const u32 *subdirs)
{
	u32 i, want;

	for (i = 1; i < sbi->slot_checked[PKERNFS_HWM_INODES]; i++) {
		struct pkernfs_inode *di = &sbi->itab[i];

		if (!test_bit(i, sbi->ino_used))
			continue;
		if (!names[i] && i != PKERNFS_ROOT_INO) {
			if (!le32_to_cpu(di->i_nlink))
				continue;	/* orphan: freed once extents are known */
			pkernfs_err(sbi, "inode %u has no name but %u links", i,
				    le32_to_cpu(di->i_nlink));
			return -EFSCORRUPTED;
		}
		want = S_ISDIR(le16_to_cpu(di->i_mode)) ? 2 + subdirs[i] : names[i];
		if (le32_to_cpu(di->i_nlink) != want) {
			pkernfs_err(sbi, "inode %u has %u links but %u names", i,
				    le32_to_cpu(di->i_nlink), want);
			return -EFSCORRUPTED;
		}
	}
	return 0;
}

/**
 * pkernfs_build_tree() - check the inode and dirent tables and build the dcache
 * @sb: the filesystem being mounted
 *
 * Return: 0, or -EFSCORRUPTED naming the first bad record, or -ENOMEM.
 */
int pkernfs_build_tree(struct super_block *sb)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	struct pkernfs_name_ref *refs = NULL;
	u32 *names = NULL, *subdirs = NULL;
	struct dentry **queue = NULL;
	u32 i, ni, nref = 0, qlen = 0, qpos = 0;
	const char *why = NULL;
	struct inode *root;
	int err;

	err = pkernfs_scan_inodes(sbi);
	if (err)
		return err;
	/*
	 * Sized by the slots mount reads, not by the table: every inode
	 * and name in use lies below the high-water marks.
	 */
	ni = sbi->slot_checked[PKERNFS_HWM_INODES];
	sbi->dirent_used = bitmap_zalloc(sbi->nr_dirents, GFP_KERNEL);
	refs = kvmalloc_array(max(sbi->slot_checked[PKERNFS_HWM_DIRENTS], 1u), sizeof(*refs),
			      GFP_KERNEL);
	names = kvcalloc(ni, sizeof(*names), GFP_KERNEL);
	subdirs = kvcalloc(ni, sizeof(*subdirs), GFP_KERNEL);
	queue = kvmalloc_array(ni, sizeof(*queue), GFP_KERNEL);
	err = -ENOMEM;
	if (!sbi->dirent_used || !refs || !names || !subdirs || !queue)
		goto out;

	sbi->slot_used[PKERNFS_HWM_DIRENTS] = sbi->dirent_used;
	for (i = 0; i < sbi->slot_checked[PKERNFS_HWM_DIRENTS]; i++) {
		struct pkernfs_dirent *de = &sbi->dtab[i];

		err = pkernfs_dirent_check(de, &why);
		if (err) {
			pkernfs_err(sbi, "dirent %u: %s", i, why);
			goto out;
		}
		if (!le64_to_cpu(de->d_parent))
			continue;
		err = pkernfs_check_name(sbi, i);
		if (err)
			goto out;
		__set_bit(i, sbi->dirent_used);
		refs[nref].parent = le64_to_cpu(de->d_parent);
		refs[nref++].slot = i;
		if (de->d_type == DT_DIR)
			subdirs[refs[nref - 1].parent]++;
	}
	sbi->free_dirents = sbi->nr_dirents - nref;
	sort(refs, nref, sizeof(*refs), pkernfs_cmp_ref, NULL);

	root = pkernfs_iget(sb, PKERNFS_ROOT_INO);
	if (IS_ERR(root)) {
		err = PTR_ERR(root);
		goto out;
	}
	sb->s_root = d_make_root(root);
	err = -ENOMEM;
	if (!sb->s_root)
		goto out;
	queue[qlen++] = sb->s_root;
	while (qpos < qlen) {
		err = pkernfs_add_children(sb, queue[qpos++], refs, nref, names,
					   &queue, &qlen);
		if (err)
			goto out;
	}
	/* Every name must hang off the root: an unreachable one is damage. */
	for (i = 0; i < nref; i++) {
		if (!names[le64_to_cpu(sbi->dtab[refs[i].slot].d_ino)]) {
			pkernfs_err(sbi, "dirent %u is not reachable from the root", refs[i].slot);
			err = -EFSCORRUPTED;
			goto out;
		}
	}
	err = pkernfs_check_nlinks(sbi, names, subdirs);
out:
	kvfree(queue);
	kvfree(subdirs);
	kvfree(names);
	kvfree(refs);
	return err;
}

/* Give @inode the extent in table slot @slot; sbi->lock held. */
static int pkernfs_map_extent(struct inode *inode, u32 slot, const struct pkernfs_extent *e)
{
	MA_STATE(mas, &PKERNFS_I(inode)->extents, 0, 0);
	struct pkernfs_sb_info *sbi = PKERNFS_SB(inode->i_sb);
	u32 lblk = le32_to_cpu(e->e_lblk), len = le32_to_cpu(e->e_len);
	struct pkernfs_ext *ext;
	unsigned long idx = lblk;
	int err;

	lockdep_assert_held(&sbi->lock);
	if (mt_find(&PKERNFS_I(inode)->extents, &idx, lblk + len - 1)) {
		pkernfs_err(sbi, "extent %u overlaps another of inode %lu", slot, inode->i_ino);
		return -EFSCORRUPTED;
	}
	ext = kmalloc(sizeof(*ext), GFP_KERNEL);
	if (!ext)
		return -ENOMEM;
	*ext = (struct pkernfs_ext){ .slot = slot, .lblk = lblk, .len = len,
				     .start = le64_to_cpu(e->e_start) };
	mas_set_range(&mas, lblk, lblk + len - 1);
	err = mas_store_gfp(&mas, ext, GFP_KERNEL);
	if (err) {
		kfree(ext);
		return err;
	}
	inode->i_blocks += (blkcnt_t)len << (sbi->au_shift - 9);
	return 0;
}

/* Free an orphan: build its map so that eviction frees its AUs. */
static int pkernfs_free_orphan(struct super_block *sb, u32 ino)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	struct inode *inode;
	int err = 0;
	u32 i;

	inode = pkernfs_iget(sb, ino);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	mutex_lock(&sbi->lock);
	for (i = 0; i < sbi->nr_extents && !err; i++)
		if (le64_to_cpu(sbi->etab[i].e_ino) == ino)
			err = pkernfs_map_extent(inode, i, &sbi->etab[i]);
	mutex_unlock(&sbi->lock);
	if (err) {
		/* Keep it: its AUs stay allocated rather than half freed. */
		PKERNFS_I(inode)->gen = 0;
		iput(inode);
		return err;
	}
	pkernfs_info(sbi, "freeing orphan inode %u", ino);
	iput(inode);	/* nlink 0: evict frees it */
	return 0;
}

/**
 * pkernfs_load_extents() - check the extent table and give each file its map
 * @sb: the filesystem being mounted, its tree already built
 *
 * Also frees orphans, unless the mount is read-only: inodes with no links
 * left by an unlink whose memory was pinned, or by a crash between unlink
 * and eviction.
 *
 * Return: 0, -EFSCORRUPTED naming the first bad extent, or -ENOMEM.
 */
int pkernfs_load_extents(struct super_block *sb)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	unsigned long *seen;
	const char *why = NULL;
	struct inode *inode;
	u32 i, orphans = 0;
	int err = 0;

	sbi->extent_used = bitmap_zalloc(sbi->nr_extents, GFP_KERNEL);
	seen = bitmap_zalloc(sbi->nr_aus, GFP_KERNEL);
	if (!sbi->extent_used || !seen) {
		bitmap_free(seen);
		return -ENOMEM;
	}
	sbi->slot_used[PKERNFS_HWM_EXTENTS] = sbi->extent_used;
	bitmap_set(seen, 0, sbi->data_first_au);
	for (i = 0; i < sbi->slot_checked[PKERNFS_HWM_EXTENTS] && !err; i++) {
		struct pkernfs_extent *e = &sbi->etab[i];
		u64 ino = le64_to_cpu(e->e_ino), start = le64_to_cpu(e->e_start);
		u32 len = le32_to_cpu(e->e_len);

		if (pkernfs_extent_check(sbi->dsb, e, &why)) {
			pkernfs_err(sbi, "extent %u: %s", i, why);
			err = -EFSCORRUPTED;
			break;
		}
		if (!ino)
			continue;
		if (ino >= sbi->nr_inodes || !test_bit(ino, sbi->ino_used) ||
		    sbi->itab[ino].i_gen != e->e_ino_gen ||
		    !S_ISREG(le16_to_cpu(sbi->itab[ino].i_mode))) {
			pkernfs_err(sbi, "extent %u belongs to no file (inode %llu)", i, ino);
			err = -EFSCORRUPTED;
			break;
		}
		if (find_next_bit(seen, start + len, start) < start + len ||
		    find_next_zero_bit(sbi->au_used, start + len, start) < start + len) {
			pkernfs_err(sbi, "extent %u overlaps another or is marked free", i);
			err = -EFSCORRUPTED;
			break;
		}
		bitmap_set(seen, start, len);
		__set_bit(i, sbi->extent_used);
		inode = ilookup(sb, ino);
		if (!inode)
			continue;	/* an orphan's: freed below */
		mutex_lock(&sbi->lock);
		err = pkernfs_map_extent(inode, i, e);
		mutex_unlock(&sbi->lock);
		iput(inode);
	}
	pkernfs_bad_mark(sbi, seen);
	if (!err && !bitmap_equal(seen, sbi->au_used, sbi->nr_aus)) {
		pkernfs_err(sbi, "allocation bitmap marks AUs that no extent uses");
		err = -EFSCORRUPTED;
	}
	bitmap_free(seen);
	if (err)
		return err;

	/* Orphans: used inodes with no links, which the tree did not reach. */
	for (i = PKERNFS_ROOT_INO + 1; i < sbi->slot_checked[PKERNFS_HWM_INODES]; i++) {
		if (!test_bit(i, sbi->ino_used) || le32_to_cpu(sbi->itab[i].i_nlink))
			continue;
		if (sb_rdonly(sb)) {
			orphans++;
			continue;
		}
		err = pkernfs_free_orphan(sb, i);
		if (err)
			return err;
	}
	if (orphans)
		pkernfs_info(sbi, "%u orphan inodes kept: a read-only mount does not free them",
			     orphans);
	return 0;
}
