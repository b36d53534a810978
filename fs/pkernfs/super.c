// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs: mounting, the superblock, and module setup.
 *
 *   mount -t pkernfs [-o format[,au=2M,inodes=N,kernel_area=SIZE]] dax0.0 /mnt
 *
 * The source names a dax device bound to the dax_pkernfs driver ("dax0.0"
 * or "/dev/dax0.0"). One mount per device: a second is refused with EBUSY.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/libnvdimm.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/stringify.h>
#include "pkernfs.h"

/*
 * Kept in the image for `pkernfsctl kexec-check`, which reads it out of
 * the kernel about to be kexec'd to learn which images it can mount.
 */
static const char pkernfs_format_note[] __used =
	"PKERNFS_FORMAT_NOTE major=" __stringify(PKERNFS_MAJOR)
	" minor=" __stringify(PKERNFS_MINOR)
	" incompat=" __stringify(PKERNFS_FEATURE_INCOMPAT_SUPP);

static struct kmem_cache *pkernfs_inode_cachep;
DEFINE_SRCU(pkernfs_srcu);

enum pkernfs_param {
	Opt_format,
	Opt_force,
	Opt_au,
	Opt_inodes,
	Opt_kernel_area,
	Opt_level,
};

static const struct fs_parameter_spec pkernfs_fs_parameters[] = {
	fsparam_flag("format", Opt_format),
	fsparam_flag("force", Opt_force),
	fsparam_string("au", Opt_au),
	fsparam_u64("inodes", Opt_inodes),
	fsparam_string("kernel_area", Opt_kernel_area),
	fsparam_string("level", Opt_level),
	{}
};

static int pkernfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct pkernfs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	unsigned long long v;
	char *rest;
	int opt;

	opt = fs_parse(fc, pkernfs_fs_parameters, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case Opt_format:
		ctx->format = true;
		break;
	case Opt_force:
		ctx->force = true;
		break;
	case Opt_au:
		v = memparse(param->string, &rest);
		if (*rest || !is_power_of_2(v) || ilog2(v) < PKERNFS_AU_SHIFT_MIN ||
		    ilog2(v) > PKERNFS_AU_SHIFT_MAX)
			return invalfc(fc, "au=%s: allocation unit must be a power of two, 4K..1G",
				       param->string);
		ctx->au_shift = ilog2(v);
		break;
	case Opt_inodes:
		ctx->nr_inodes = result.uint_64;
		break;
	case Opt_kernel_area:
		v = memparse(param->string, &rest);
		if (*rest || !v)
			return invalfc(fc, "kernel_area=%s: not a size", param->string);
		ctx->kernel_bytes = v;
		break;
	case Opt_level: {
		unsigned int major, minor;
		char c;

		if (sscanf(param->string, "%u.%u%c", &major, &minor, &c) != 2 ||
		    major != PKERNFS_MAJOR || minor > PKERNFS_MINOR)
			return invalfc(fc, "level=%s: a format level from %u.0 to %u.%u",
				       param->string, PKERNFS_MAJOR, PKERNFS_MAJOR, PKERNFS_MINOR);
		ctx->level = PKERNFS_LEVEL(minor);
		break;
	}
	}
	return 0;
}

/* Options that only make sense together, checked once all are parsed. */
static int pkernfs_validate(struct fs_context *fc)
{
	struct pkernfs_fs_context *ctx = fc->fs_private;

	if (!fc->source)
		return invalfc(fc, "no source: name a dax device, such as dax0.0");
	if (!ctx->format && (ctx->au_shift || ctx->nr_inodes || ctx->kernel_bytes || ctx->force ||
			     ctx->level))
		return invalfc(fc, "au=, inodes=, kernel_area=, level= and force need format");
	return 0;
}

static const char *pkernfs_dev_name(const char *source)
{
	return strncmp(source, "/dev/", 5) ? source : source + 5;
}

static void pkernfs_shutdown(void *holder)
{
	struct super_block *sb = holder;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	struct inode *inode, *toput = NULL;

	/* Let no new user of the memory in, and wait for those inside. */
	WRITE_ONCE(sbi->dead, true);
	synchronize_srcu(&pkernfs_srcu);

	/* Unmapping sleeps: hold each inode, not the list lock, meanwhile. */
	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if ((inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) ||
		    !mapping_mapped(inode->i_mapping)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);

		unmap_mapping_range(inode->i_mapping, 0, 0, 1);
		iput(toput);
		toput = inode;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(toput);
	pkernfs_err(sbi, "device unbound while mounted; every access now fails with EIO");
}

/*
 * Called under the dax driver's lock, while the region still names us as
 * holder, so the superblock cannot be freed under it (kill_sb releases
 * the region first). An active reference keeps it past the lock, as
 * get_bdev_super() does for a block device going away.
 */
static bool pkernfs_holder_get(void *holder)
{
	struct super_block *sb = holder;

	return atomic_inc_not_zero(&sb->s_active);
}

static void pkernfs_holder_put(void *holder)
{
	deactivate_super(holder);
}

static const struct pkernfs_holder_ops pkernfs_holder_ops = {
	.get = pkernfs_holder_get,
	.put = pkernfs_holder_put,
	.shutdown = pkernfs_shutdown,
	.memory_failure = pkernfs_memory_failure,
};

/* How many slots of each table mount reads: up to the marks, if trusted. */
static void pkernfs_slots_to_read(struct pkernfs_sb_info *sbi)
{
	int h;

	for (h = 0; h < PKERNFS_NR_HWM; h++)
		sbi->slot_checked[h] = pkernfs_hwm_scan(sbi->dsb, sbi->jhead, h);
}

/*
 * Live entries in the kernel-only area of a valid existing image: the
 * state of devices that may be doing DMA right now, which a format must
 * never wipe. An image whose superblock fails its checks has none we can
 * trust, and may be formatted.
 */
static int pkernfs_kdir_live(struct pkernfs_sb_info *sbi, const struct pkernfs_super *old)
{
	const struct pkernfs_kdir_entry *kd;
	const char *why = NULL;
	u32 i, n, live = 0;

	int err = pkernfs_super_check(old, sbi->size, &why);

	if (err && err != -EROFS)
		return 0;
	kd = (const void *)(sbi->base + le64_to_cpu(old->s_regions[PKERNFS_R_KDIR].off));
	n = le32_to_cpu(old->s_regions[PKERNFS_R_KDIR].count);
	for (i = 0; i < n; i++)
		if (!pkernfs_kdir_check(old, &kd[i], &why) && le64_to_cpu(kd[i].k_npages))
			live++;
	return live;
}

static int pkernfs_format_region(struct fs_context *fc, struct pkernfs_sb_info *sbi)
{
	struct pkernfs_fs_context *ctx = fc->fs_private;
	struct pkernfs_mkfs_params p = {
		.au_shift = ctx->au_shift,
		.nr_inodes = ctx->nr_inodes,
		.kernel_bytes = ctx->kernel_bytes,
		.level = ctx->level,
		.journal_bytes = PKERNFS_JOURNAL_DEFAULT,
		.time = ktime_get_real_seconds(),
	};
	struct pkernfs_super *old = (struct pkernfs_super *)sbi->base;
	struct pkernfs_super *sb;
	const char *why = NULL;
	int err;

	if (fc->sb_flags & SB_RDONLY)
		return invalfc(fc, "%s: format needs a read-write mount", sbi->source);
	if (le64_to_cpu(old->s_magic) == PKERNFS_MAGIC && !ctx->force)
		return invalfc(fc, "%s already holds a pkernfs; add force to format it again",
			       sbi->source);
	err = pkernfs_kdir_live(sbi, old);
	if (err)
		return invalfc(fc,
			       "%s: the kernel-only area holds %d live entries (IOMMU state); format refused",
			       sbi->source, err);
	if (sbi->region->align > (1UL << (ctx->au_shift ?: PKERNFS_AU_SHIFT_DEFAULT)))
		return invalfc(fc, "%s: allocation unit is smaller than the device alignment %lu",
			       sbi->source, sbi->region->align);
	get_random_bytes(p.uuid, sizeof(p.uuid));
	sb = kmalloc(sizeof(*sb), GFP_KERNEL);
	if (!sb)
		return -ENOMEM;
	err = pkernfs_format(sbi->base, sbi->size, &p, sb, &why);
	if (!err)
		arch_wb_cache_pmem(sbi->base, le64_to_cpu(sb->s_regions[PKERNFS_R_DATA].off));
	kfree(sb);
	if (err)
		return invalfc(fc, "%s: cannot format: %s", sbi->source, why);
	pkernfs_info(sbi, "formatted %llu MiB", sbi->size >> 20);
	return 0;
}

static void *pkernfs_region_addr(struct pkernfs_sb_info *sbi, int r)
{
	return sbi->base + le64_to_cpu(sbi->dsb->s_regions[r].off);
}

static u32 pkernfs_region_count(struct pkernfs_sb_info *sbi, int r)
{
	return le32_to_cpu(sbi->dsb->s_regions[r].count);
}

static int pkernfs_check_super(struct fs_context *fc, struct pkernfs_sb_info *sbi,
			       const struct pkernfs_super *dsb)
{
	const char *why = NULL;
	int err;

	err = pkernfs_super_check(dsb, sbi->size, &why);
	if (err == -EINVAL && le64_to_cpu(dsb->s_magic) != PKERNFS_MAGIC)
		return invalfc(fc, "%s: no pkernfs format found (mount with -o format to make one)",
			       sbi->source);
	if (err == -EROFS) {
		if (!(fc->sb_flags & SB_RDONLY)) {
			pkernfs_err(sbi,
				    "format %u.%u, read-only-compatible feature bits %#x unknown to this kernel (format %u.%u, knows %#x): a newer kernel turned them on; mount with -o ro, or with that kernel",
				    le16_to_cpu(dsb->s_major), le16_to_cpu(dsb->s_minor),
				    pkernfs_ro_compat_unknown(dsb), PKERNFS_MAJOR, PKERNFS_MINOR,
				    PKERNFS_FEATURE_RO_COMPAT_SUPP);
			return invalfc(fc, "%s: unknown read-only-compatible features",
				       sbi->source);
		}
		pkernfs_notice(sbi,
			       "read-only-compatible feature bits %#x unknown to this kernel: read-only",
			       pkernfs_ro_compat_unknown(dsb));
		sbi->ro_only = true;
		err = 0;
	}
	if (err == -EOPNOTSUPP && le16_to_cpu(dsb->s_major) == PKERNFS_MAJOR) {
		pkernfs_err(sbi,
			    "incompatible feature bits %#x unknown to this kernel (format %u.%u): a newer kernel turned them on; mount it with that kernel",
			    le32_to_cpu(dsb->s_feature_incompat) & ~PKERNFS_FEATURE_INCOMPAT_SUPP,
			    PKERNFS_MAJOR, PKERNFS_MINOR);
		return err;
	}
	if (err == -EOPNOTSUPP) {
		pkernfs_err(sbi,
			    "format %u.%u, this kernel reads format %u.x: mount it with a newer kernel",
			    le16_to_cpu(dsb->s_major), le16_to_cpu(dsb->s_minor), PKERNFS_MAJOR);
		return err;
	}
	if (err) {
		errorfc(fc, "%s: %s", sbi->source, why);
		return err;
	}
	if (le64_to_cpu(dsb->s_regions[PKERNFS_R_JOURNAL].len) < PKERNFS_JOURNAL_MIN) {
		errorfc(fc, "%s: journal smaller than %zu bytes", sbi->source,
			(size_t)PKERNFS_JOURNAL_MIN);
		return -EOPNOTSUPP;
	}
	if (le32_to_cpu(dsb->s_au_shift) < PAGE_SHIFT ||
	    sbi->region->align > (1UL << le32_to_cpu(dsb->s_au_shift)))
		return invalfc(fc, "%s: allocation unit smaller than the device alignment",
			       sbi->source);
	return 0;
}

void pkernfs_geometry(struct pkernfs_sb_info *sbi)
{
	struct pkernfs_super *dsb = sbi->dsb;

	sbi->au_shift = le32_to_cpu(dsb->s_au_shift);
	sbi->nr_aus = le64_to_cpu(dsb->s_nr_aus);
	sbi->data_first_au = le64_to_cpu(dsb->s_regions[PKERNFS_R_DATA].off) >> sbi->au_shift;
	sbi->itab = (struct pkernfs_inode *)pkernfs_region_addr(sbi, PKERNFS_R_INODES);
	sbi->nr_inodes = pkernfs_region_count(sbi, PKERNFS_R_INODES);
	sbi->dtab = (struct pkernfs_dirent *)pkernfs_region_addr(sbi, PKERNFS_R_DIRENTS);
	sbi->nr_dirents = pkernfs_region_count(sbi, PKERNFS_R_DIRENTS);
	sbi->etab = (struct pkernfs_extent *)pkernfs_region_addr(sbi, PKERNFS_R_EXTENTS);
	sbi->nr_extents = pkernfs_region_count(sbi, PKERNFS_R_EXTENTS);
	sbi->bmap = pkernfs_region_addr(sbi, PKERNFS_R_BITMAP);
	sbi->nr_bmap = pkernfs_region_count(sbi, PKERNFS_R_BITMAP);
	sbi->kdir = (struct pkernfs_kdir_entry *)pkernfs_region_addr(sbi, PKERNFS_R_KDIR);
	sbi->jhead = (struct pkernfs_journal_head *)pkernfs_region_addr(sbi, PKERNFS_R_JOURNAL);
	sbi->jlen = le64_to_cpu(dsb->s_regions[PKERNFS_R_JOURNAL].len);
	sbi->slot_count[PKERNFS_HWM_INODES] = sbi->nr_inodes;
	sbi->slot_count[PKERNFS_HWM_DIRENTS] = sbi->nr_dirents;
	sbi->slot_count[PKERNFS_HWM_EXTENTS] = sbi->nr_extents;
	pkernfs_slots_to_read(sbi);
	if ((le32_to_cpu(dsb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM) &&
	    !pkernfs_hwm_trusted(dsb, sbi->jhead))
		pkernfs_notice(sbi,
			       "written by a kernel that does not keep the high-water marks (journal at transaction %llu, marks kept at %llu; a rollback?): reading every slot, and setting them again",
			       le64_to_cpu(sbi->jhead->j_seq), le64_to_cpu(sbi->jhead->j_hwm_seq));
}

/* Read the AU bitmap into memory, checking every block. */
static int pkernfs_load_bitmap(struct pkernfs_sb_info *sbi)
{
	const char *why = NULL;
	u64 au, first;
	u32 i;

	sbi->au_used = bitmap_zalloc(sbi->nr_aus, GFP_KERNEL);
	if (!sbi->au_used)
		return -ENOMEM;
	for (i = 0; i < sbi->nr_bmap; i++) {
		struct pkernfs_bmap_block *bb =
			(struct pkernfs_bmap_block *)(sbi->bmap + (u64)i * PKERNFS_BLOCK_SIZE);

		if (pkernfs_bmap_check(bb, i, &why)) {
			pkernfs_err(sbi, "bitmap block %u: %s", i, why);
			return -EFSCORRUPTED;
		}
		first = (u64)i * PKERNFS_BITS_PER_BMAP;
		for (au = first; au < min(first + PKERNFS_BITS_PER_BMAP, sbi->nr_aus); au++)
			if (bb->b_bits[(au - first) / 8] & (1u << ((au - first) % 8)))
				__set_bit(au, sbi->au_used);
	}
	for (au = 0; au < sbi->data_first_au; au++) {
		if (!test_bit(au, sbi->au_used)) {
			pkernfs_err(sbi, "bitmap marks metadata AU %llu free", au);
			return -EFSCORRUPTED;
		}
	}
	sbi->free_aus = sbi->nr_aus - bitmap_weight(sbi->au_used, sbi->nr_aus);
	return 0;
}

/* Record a mount (state 0) or a clean unmount in the superblock. */
static void pkernfs_set_state(struct pkernfs_sb_info *sbi, u32 state)
{
	struct pkernfs_super *img;

	mutex_lock(&sbi->lock);
	img = pkernfs_txn_add(sbi, PKERNFS_T_SUPER, 0);
	if (!IS_ERR(img)) {
		if (!state) {
			img->s_mount_time = cpu_to_le64(ktime_get_real_seconds());
			le64_add_cpu(&img->s_mount_count, 1);
		}
		img->s_state = cpu_to_le32(state);
		pkernfs_hwm_lower(sbi, img);
		pkernfs_txn_commit(sbi);
	}
	mutex_unlock(&sbi->lock);
}

/*
 * Validate the superblock once, keep that copy, and take the geometry
 * from it only (as erofs_read_superblock() does). A journal replay may
 * rewrite the media superblock, but never its geometry: the replay code
 * refuses such a record, and the result is checked again here.
 */
static int pkernfs_read_super(struct fs_context *fc, struct pkernfs_sb_info *sbi)
{
	struct pkernfs_fs_context *ctx = fc->fs_private;
	struct pkernfs_super *media = (struct pkernfs_super *)sbi->base;
	int err;

	if (ctx->format) {
		err = pkernfs_format_region(fc, sbi);
		if (err)
			return err;
	}
	err = pkernfs_check_super(fc, sbi, media);
	if (err)
		return err;
	sbi->dsb = kmemdup(media, sizeof(*media), GFP_KERNEL);
	if (!sbi->dsb)
		return -ENOMEM;
	pkernfs_geometry(sbi);
	/* Handed-over DMA must reach file data only: checked before the replay reads any. */
	pkernfs_dma_guard(sbi->region->phys, sbi->region->size,
			  sbi->region->phys + le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_DATA].off),
			  le64_to_cpu(sbi->dsb->s_regions[PKERNFS_R_DATA].len));

	err = pkernfs_journal_replay(sbi, fc->sb_flags & SB_RDONLY);
	if (err == -EROFS)
		return invalfc(fc,
			       "%s: the journal needs a replay, which a read-only mount cannot do",
			       sbi->source);
	if (err)
		return err;
	err = pkernfs_check_super(fc, sbi, media);
	if (err)
		return err;
	if (!pkernfs_super_same_geometry(sbi->dsb, media)) {
		errorfc(fc, "%s: the superblock's geometry changed during journal replay",
			sbi->source);
		return -EFSCORRUPTED;
	}
	memcpy(sbi->dsb, media, sizeof(*media));
	/* A replayed transaction may have raised a mark over a slot it filled. */
	pkernfs_slots_to_read(sbi);
	return 0;
}

static int pkernfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct pkernfs_sb_info *sbi;
	struct pkernfs_region *region;
	int err, idx;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sb->s_fs_info = sbi;
	mutex_init(&sbi->lock);
	sbi->source = kstrdup(pkernfs_dev_name(fc->source), GFP_KERNEL);
	if (!sbi->source)
		return -ENOMEM;

	region = pkernfs_region_claim(sbi->source, sb, &pkernfs_holder_ops);
	if (IS_ERR(region)) {
		if (PTR_ERR(region) == -EBUSY)
			errorfc(fc, "%s is already mounted", sbi->source);
		else
			errorfc(fc, "%s: no such dax device bound to dax_pkernfs", sbi->source);
		return PTR_ERR(region);
	}
	sbi->region = region;
	sbi->base = region->kaddr;
	sbi->size = region->size;

	/* Everything below reads the region: an unbind waits for it. */
	if (pkernfs_enter(sbi, &idx)) {
		errorfc(fc, "%s: the dax device is being unbound", sbi->source);
		return -ENODEV;
	}
	err = pkernfs_read_super(fc, sbi);
	if (err)
		goto out;
	err = pkernfs_bad_load(sbi);
	if (err) {
		errorfc(fc, "%s: memory error in metadata", sbi->source);
		goto out;
	}
	err = pkernfs_load_bitmap(sbi);
	if (err)
		goto out;
	err = pkernfs_kdir_validate(sbi);
	if (err < 0) {
		errorfc(fc, "%s: the kernel-only area's directory is corrupt", sbi->source);
		goto out;
	}
	if (err)
		pkernfs_info(sbi, "kernel-only area: %d live entries", err);
	err = 0;

	sb->s_magic = PKERNFS_SUPER_MAGIC;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_maxbytes = min_t(u64, MAX_LFS_FILESIZE, pkernfs_max_file_bytes(sbi->au_shift));
	sb->s_time_gran = 1;
	sb->s_op = &pkernfs_super_operations;
	sb->s_d_op = NULL;
	super_set_uuid(sb, sbi->dsb->s_uuid, sizeof(sbi->dsb->s_uuid));

	err = pkernfs_build_tree(sb);
	if (err)
		goto out;
	err = pkernfs_load_extents(sb);
	if (err)
		goto out;

	if (!sb_rdonly(sb))
		pkernfs_set_state(sbi, 0);
	sbi->mounted = true;
	pkernfs_bad_pending(sb);
	pkernfs_info(sbi, "mounted%s, %llu of %llu AUs free, %u inodes",
		     sb_rdonly(sb) ? " read-only" : "", sbi->free_aus, sbi->nr_aus,
		     sbi->nr_inodes - sbi->free_inodes);
out:
	pkernfs_exit(idx);
	return err;
}

static int pkernfs_get_tree(struct fs_context *fc)
{
	int err = pkernfs_validate(fc);

	if (err)
		return err;
	return get_tree_nodev(fc, pkernfs_fill_super);
}

static void pkernfs_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

/*
 * remount: only ro/rw can change, and a switch to read-write passes the
 * same checks a read-write mount would.
 */
static int pkernfs_reconfigure(struct fs_context *fc)
{
	struct pkernfs_fs_context *ctx = fc->fs_private;
	struct super_block *sb = fc->root->d_sb;
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	bool to_rw = sb_rdonly(sb) && !(fc->sb_flags & SB_RDONLY);
	bool to_ro = !sb_rdonly(sb) && (fc->sb_flags & SB_RDONLY);
	int idx;

	if (ctx->format || ctx->force || ctx->au_shift || ctx->nr_inodes || ctx->kernel_bytes ||
	    ctx->level)
		return invalfc(fc,
			       "format, force, au=, inodes=, kernel_area= and level= cannot be changed by remount");
	if (!to_rw && !to_ro)
		return 0;
	if (to_rw && sbi->ro_only) {
		pkernfs_err(sbi,
			    "read-only-compatible feature bits %#x unknown to this kernel (knows %#x): read-only until it is mounted by a kernel that knows them",
			    pkernfs_ro_compat_unknown(sbi->dsb), PKERNFS_FEATURE_RO_COMPAT_SUPP);
		return invalfc(fc, "%s: unknown read-only-compatible features", sbi->source);
	}
	if (to_rw && READ_ONCE(sbi->meta_bad))
		return invalfc(fc, "%s: a memory error hit metadata: read-only until fsck",
			       sbi->source);
	if (pkernfs_enter(sbi, &idx))
		return invalfc(fc, "%s: the dax device was unbound", sbi->source);
	/* Orphans a read-only mount kept are freed by the next mount. */
	pkernfs_set_state(sbi, to_ro ? PKERNFS_STATE_CLEAN : 0);
	pkernfs_exit(idx);
	return 0;
}

static const struct fs_context_operations pkernfs_context_ops = {
	.free = pkernfs_free_fc,
	.parse_param = pkernfs_parse_param,
	.get_tree = pkernfs_get_tree,
	.reconfigure = pkernfs_reconfigure,
};

static int pkernfs_init_fs_context(struct fs_context *fc)
{
	struct pkernfs_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fc->fs_private = ctx;
	fc->ops = &pkernfs_context_ops;
	return 0;
}

static void pkernfs_kill_sb(struct super_block *sb)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(sb);
	int idx;

	kill_litter_super(sb);
	if (!sbi)
		return;
	pkernfs_kroot_unmount(sbi);
	if (sbi->region) {
		/* A mount that failed never marked the image in use: leave it be. */
		if (sbi->mounted && !sb_rdonly(sb) && !pkernfs_enter(sbi, &idx)) {
			pkernfs_set_state(sbi, PKERNFS_STATE_CLEAN);
			pkernfs_exit(idx);
		}
		pkernfs_region_release(sbi->region);
	}
	bitmap_free(sbi->au_used);
	bitmap_free(sbi->ino_used);
	bitmap_free(sbi->dirent_used);
	bitmap_free(sbi->extent_used);
	pkernfs_bad_free(sbi);
	kfree(sbi->dsb);
	kfree(sbi->source);
	kfree(sbi);
}

/* From memory only: it must work after the device is gone. */
static int pkernfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct pkernfs_sb_info *sbi = PKERNFS_SB(dentry->d_sb);
	u64 data = sbi->nr_aus - sbi->data_first_au;

	buf->f_type = PKERNFS_SUPER_MAGIC;
	buf->f_bsize = 1UL << sbi->au_shift;
	buf->f_frsize = buf->f_bsize;
	buf->f_blocks = data;
	buf->f_bfree = sbi->free_aus;
	buf->f_bavail = sbi->free_aus;
	buf->f_files = sbi->nr_inodes - 1;
	buf->f_ffree = sbi->free_inodes;
	buf->f_namelen = PKERNFS_NAME_LEN;
	buf->f_fsid = uuid_to_fsid(sbi->dsb->s_uuid);
	return 0;
}

static struct inode *pkernfs_alloc_inode(struct super_block *sb)
{
	struct pkernfs_inode_info *pi;

	pi = alloc_inode_sb(sb, pkernfs_inode_cachep, GFP_KERNEL);
	if (!pi)
		return NULL;
	pi->gen = 0;
	pi->zero_mapped = false;
	pi->dma_held = false;
	pi->dma_holds = 0;
	pkernfs_init_extents(pi, PKERNFS_SB(sb));
	return &pi->vfs_inode;
}

static void pkernfs_free_inode(struct inode *inode)
{
	/* After an RCU grace period: a lockless walk may still read i_link. */
	if (S_ISLNK(inode->i_mode))
		kfree(inode->i_link);
	kmem_cache_free(pkernfs_inode_cachep, PKERNFS_I(inode));
}

const struct super_operations pkernfs_super_operations = {
	.alloc_inode = pkernfs_alloc_inode,
	.free_inode = pkernfs_free_inode,
	.evict_inode = pkernfs_evict_inode,
	.dirty_inode = pkernfs_dirty_inode,
	.drop_inode = generic_delete_inode,
	.statfs = pkernfs_statfs,
};

/**
 * is_pkernfs_sb() - is @sb a pkernfs?
 * @sb: any superblock
 *
 * Return: true if it is one; its s_op says, not a magic number anyone
 * could copy.
 */
bool is_pkernfs_sb(const struct super_block *sb)
{
	return sb->s_op == &pkernfs_super_operations;
}
EXPORT_SYMBOL_GPL(is_pkernfs_sb);

static struct file_system_type pkernfs_fs_type = {
	.owner = THIS_MODULE,
	.name = "pkernfs",
	.init_fs_context = pkernfs_init_fs_context,
	.parameters = pkernfs_fs_parameters,
	.kill_sb = pkernfs_kill_sb,
};
MODULE_ALIAS_FS("pkernfs");

static void pkernfs_inode_init_once(void *p)
{
	struct pkernfs_inode_info *pi = p;

	inode_init_once(&pi->vfs_inode);
}

static int __init pkernfs_module_init(void)
{
	int err;

	pkernfs_inode_cachep = kmem_cache_create("pkernfs_inode_cache",
						 sizeof(struct pkernfs_inode_info), 0,
						 SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
						 pkernfs_inode_init_once);
	if (!pkernfs_inode_cachep)
		return -ENOMEM;
	err = register_filesystem(&pkernfs_fs_type);
	if (err)
		kmem_cache_destroy(pkernfs_inode_cachep);
	else
		pkernfs_fail_init();
	return err;
}

static void __exit pkernfs_module_exit(void)
{
	pkernfs_fail_exit();
	unregister_filesystem(&pkernfs_fs_type);
	rcu_barrier();
	kmem_cache_destroy(pkernfs_inode_cachep);
}

MODULE_DESCRIPTION("pkernfs: persistent memory filesystem for kexec live update");
MODULE_LICENSE("GPL");
module_init(pkernfs_module_init);
module_exit(pkernfs_module_exit);
