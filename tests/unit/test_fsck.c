// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfsctl's checker on images built here: a fresh mkfs is clean, a
 * hand-built tree is clean, and each class of damage is found (exit 4).
 */
#define UNIT_MAIN
#include "unit.h"
#include "fsck.h"
#include "img.h"

#define MiB (1ULL << 20)
#define SIZE (64 * MiB)

/*
 * A tree: /d (dir, inode 2), /d/f (file, inode 3, two AUs), /d/g a hard
 * link to f. Root has nlink 3 (2 + one subdirectory).
 */
/* The test image at format level @level (PKERNFS_LEVEL(minor), 0: newest). */
static void build_level(struct img *m, uint32_t level)
{
	static struct pkernfs_super sb;
	struct pkernfs_mkfs_params p = { .time = 5, .level = level };
	const char *why = NULL;
	uint64_t first;

	m->b = calloc(1, SIZE);
	if (!m->b || pkernfs_format(m->b, SIZE, &p, &sb, &why))
		abort();
	m->sb = (void *)m->b;
	mkinode(m, 2, S_IFDIR | 0755, 2);
	mkinode(m, 3, S_IFREG | 0644, 2);
	ino(m, 1)->i_nlink = cpu_to_le32(3);
	pkernfs_inode_set_crc(ino(m, 1));
	mkname(m, 0, 1, 2, "d", DT_DIR);
	mkname(m, 1, 2, 3, "f", DT_REG);
	mkname(m, 2, 2, 3, "g", DT_REG);
	first = roff(m, PKERNFS_R_DATA) >> 21;
	ext(m, 0)->e_ino = cpu_to_le64(3);
	ext(m, 0)->e_ino_gen = cpu_to_le32(1);
	ext(m, 0)->e_start = cpu_to_le64(first);
	ext(m, 0)->e_len = cpu_to_le32(2);
	pkernfs_extent_set_crc(ext(m, 0));
	mark(m, first, 1);
	mark(m, first + 1, 1);
}

static void build(struct img *m)
{
	build_level(m, 0);
}

static int run(struct img *m, struct pkernfs_fsck *f)
{
	memset(f, 0, sizeof(*f));
	return pkernfs_fsck(f, m->b, SIZE);
}

TEST(fresh_mkfs_is_clean)
{
	struct pkernfs_mkfs_params p = { 0 };
	struct pkernfs_super sb;
	struct pkernfs_fsck f;
	struct img m;
	const char *why;

	m.b = calloc(1, SIZE);
	EXPECT_EQ(pkernfs_format(m.b, SIZE, &p, &sb, &why), 0);
	m.sb = (void *)m.b;
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.errors, 0);
	EXPECT_EQ(f.inodes, 1);
	free(m.b);
}

TEST(built_tree_is_clean)
{
	struct pkernfs_fsck f;
	struct img m;

	build(&m);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.inodes, 3);
	EXPECT_EQ(f.extents, 1);
	EXPECT_EQ(f.used_aus, 2);
	free(m.b);
}

TEST(not_pkernfs_is_8)
{
	struct pkernfs_fsck f;
	struct img m;

	m.b = calloc(1, SIZE);
	m.sb = (void *)m.b;
	EXPECT_EQ(run(&m, &f), 8);
	free(m.b);
}

TEST(damage_classes_are_found)
{
	struct pkernfs_fsck f;
	struct img m;
	uint64_t first;

	/* wrong link count, crc kept valid */
	build(&m);
	ino(&m, 3)->i_nlink = cpu_to_le32(1);
	pkernfs_inode_set_crc(ino(&m, 3));
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* leaked AU: marked used, no extent */
	build(&m);
	first = roff(&m, PKERNFS_R_DATA) >> 21;
	mark(&m, first + 5, 1);
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* extent over an AU the bitmap says is free */
	build(&m);
	mark(&m, first + 1, 0);
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* two extents over one AU */
	build(&m);
	*ext(&m, 1) = *ext(&m, 0);
	ext(&m, 1)->e_lblk = cpu_to_le32(5);
	pkernfs_extent_set_crc(ext(&m, 1));
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* a name whose parent is not reachable: a cycle d -> e -> d */
	build(&m);
	mkinode(&m, 4, S_IFDIR | 0755, 2);
	mkname(&m, 3, 4, 2, "loop", DT_DIR);	/* d gets a second name */
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* torn dirent */
	build(&m);
	dent(&m, 1)->d_name[0] = 'F';
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* overlapping kernel-area entries */
	build(&m);
	{
		struct pkernfs_kdir_entry *kd = (void *)(m.b + roff(&m, PKERNFS_R_KDIR));

		kd[0].k_npages = cpu_to_le64(2);
		strcpy((char *)kd[0].k_name, "a");
		pkernfs_kdir_set_crc(&kd[0]);
		kd[1].k_start = cpu_to_le64(1);
		kd[1].k_npages = cpu_to_le64(2);
		strcpy((char *)kd[1].k_name, "b");
		pkernfs_kdir_set_crc(&kd[1]);
	}
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);
}

TEST(orphan_and_pending_journal_are_notes)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_fsck f;
	struct img m;

	build(&m);
	mkinode(&m, 7, S_IFREG | 0600, 0);	/* no links, no names */
	jh = (void *)(m.b + roff(&m, PKERNFS_R_JOURNAL));
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	pkernfs_journal_set_crc(jh);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.notes, 2);
	EXPECT_EQ(f.errors, 0);
	free(m.b);
}

/*
 * Repair: one image per class of damage. Each must come back as 1 (fixed,
 * now clean), a second pass must find nothing (0), and what was intact
 * before (the file /d/f, its two AUs) must still be there.
 */
static int repair(struct img *m, struct pkernfs_fsck *f)
{
	memset(f, 0, sizeof(*f));
	return pkernfs_fsck_repair(f, m->b, SIZE);
}

static void expect_converges(struct img *m, int *unit_failed, int want)
{
	struct pkernfs_fsck f;

	EXPECT_EQ(repair(m, &f), want);
	EXPECT_EQ(f.errors, 0);
	EXPECT_EQ(repair(m, &f), 0);
	EXPECT_EQ(f.repairs, 0);
	EXPECT_EQ(run(m, &f), 0);
}

/* Is @name a name of @child in @parent? */
static int has_name(struct img *m, uint64_t parent, uint64_t child, const char *name)
{
	uint32_t i, n = le32_to_cpu(m->sb->s_regions[PKERNFS_R_DIRENTS].count);

	for (i = 0; i < n; i++) {
		struct pkernfs_dirent *de = dent(m, i);

		if (le64_to_cpu(de->d_parent) == parent && le64_to_cpu(de->d_ino) == child &&
		    le16_to_cpu(de->d_namelen) == strlen(name) &&
		    !memcmp(de->d_name, name, strlen(name)))
			return 1;
	}
	return 0;
}

static uint64_t lookup(struct img *m, uint64_t parent, const char *name)
{
	uint32_t i, n = le32_to_cpu(m->sb->s_regions[PKERNFS_R_DIRENTS].count);

	for (i = 0; i < n; i++) {
		struct pkernfs_dirent *de = dent(m, i);

		if (le64_to_cpu(de->d_parent) == parent &&
		    le16_to_cpu(de->d_namelen) == strlen(name) &&
		    !memcmp(de->d_name, name, strlen(name)))
			return le64_to_cpu(de->d_ino);
	}
	return 0;
}

static void expect_file_intact(struct img *m, int *unit_failed)
{
	EXPECT(has_name(m, 2, 3, "f"));
	EXPECT_EQ(le64_to_cpu(ext(m, 0)->e_ino), 3);
	EXPECT_EQ(le32_to_cpu(ext(m, 0)->e_len), 2);
}

TEST(repair_clean_image_is_untouched)
{
	struct pkernfs_fsck f;
	struct img m;
	uint8_t *copy;

	build(&m);
	copy = malloc(SIZE);
	memcpy(copy, m.b, SIZE);
	EXPECT_EQ(repair(&m, &f), 0);
	EXPECT_EQ(f.repairs, 0);
	EXPECT(!memcmp(copy, m.b, SIZE));
	free(copy);
	free(m.b);
}

TEST(repair_link_count)
{
	struct img m;

	build(&m);
	ino(&m, 3)->i_nlink = cpu_to_le32(7);
	pkernfs_inode_set_crc(ino(&m, 3));
	expect_converges(&m, unit_failed, 1);
	EXPECT_EQ(le32_to_cpu(ino(&m, 3)->i_nlink), 2);
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

/* Records in use past a high-water mark would vanish at the next mount. */
TEST(high_water_marks)
{
	struct pkernfs_fsck f;
	struct img m;

	build(&m);
	EXPECT(le32_to_cpu(m.sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM);
	EXPECT_EQ(pkernfs_hwm_scan(m.sb, jhead(&m), PKERNFS_HWM_INODES),
		  le32_to_cpu(m.sb->s_regions[PKERNFS_R_INODES].count));
	m.sb->s_hwm[PKERNFS_HWM_INODES] = cpu_to_le32(3);	/* inode 3 is past it */
	m.sb->s_hwm[PKERNFS_HWM_DIRENTS] = cpu_to_le32(2);	/* and dirent 2 */
	pkernfs_super_set_crc(m.sb);
	EXPECT_EQ(run(&m, &f), 4);
	EXPECT_EQ(f.errors, 2);
	expect_converges(&m, unit_failed, 1);
	EXPECT(le32_to_cpu(m.sb->s_hwm[PKERNFS_HWM_INODES]) > 3);
	EXPECT(le32_to_cpu(m.sb->s_hwm[PKERNFS_HWM_DIRENTS]) > 2);
	expect_file_intact(&m, unit_failed);
	free(m.b);

	/* A mark past its table is a bad superblock. */
	build(&m);
	m.sb->s_hwm[PKERNFS_HWM_EXTENTS] =
		cpu_to_le32(le32_to_cpu(m.sb->s_regions[PKERNFS_R_EXTENTS].count) + 1);
	pkernfs_super_set_crc(m.sb);
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);
}

/*
 * A kernel that does not keep the marks (a rollback to format 1.0 or 1.1)
 * wrote past them: its commits advance j_seq but not j_hwm_seq. That is no
 * damage, only a note: the marks are not trusted, every slot is read, and
 * the next mount sets them again; so does a repair run for other damage.
 */
TEST(high_water_marks_after_an_older_writer)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_fsck f;
	struct img m;

	build(&m);
	jh = jhead(&m);
	m.sb->s_hwm[PKERNFS_HWM_INODES] = cpu_to_le32(3);	/* inode 3 is past it */
	m.sb->s_hwm[PKERNFS_HWM_DIRENTS] = cpu_to_le32(2);	/* and dirent 2 */
	pkernfs_super_set_crc(m.sb);
	jh->j_hwm_seq = cpu_to_le64(le64_to_cpu(jh->j_seq));
	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 7);
	pkernfs_journal_set_crc(jh);
	EXPECT(!pkernfs_hwm_trusted(m.sb, jh));
	EXPECT_EQ(pkernfs_hwm_scan(m.sb, jh, PKERNFS_HWM_INODES),
		  le32_to_cpu(m.sb->s_regions[PKERNFS_R_INODES].count));
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.errors, 0);
	EXPECT_EQ(f.notes, 1);
	mark(&m, (roff(&m, PKERNFS_R_DATA) >> 21) + 9, 1);	/* a leaked AU */
	expect_converges(&m, unit_failed, 1);
	EXPECT(pkernfs_hwm_trusted(m.sb, jh));
	EXPECT(le32_to_cpu(m.sb->s_hwm[PKERNFS_HWM_INODES]) > 3);
	EXPECT(le32_to_cpu(m.sb->s_hwm[PKERNFS_HWM_DIRENTS]) > 2);
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

/*
 * A fleet formats for the oldest kernel it may roll back to, and raises
 * the level once it has moved: offline, explicit, never lowered.
 */
TEST(format_level_and_upgrade)
{
	struct pkernfs_fsck f;
	struct img m;

	build_level(&m, PKERNFS_LEVEL(0));
	EXPECT_EQ(le16_to_cpu(m.sb->s_minor), 0);
	EXPECT_EQ(le32_to_cpu(m.sb->s_feature_ro_compat), 0);
	EXPECT_EQ(le32_to_cpu(m.sb->s_hwm[PKERNFS_HWM_INODES]), 0);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.errors + f.notes, 0);
	memset(&f, 0, sizeof(f));
	EXPECT_EQ(pkernfs_upgrade(&f, m.b, SIZE, 1), 0);
	EXPECT_EQ(le16_to_cpu(m.sb->s_minor), 1);
	EXPECT_EQ(le32_to_cpu(m.sb->s_feature_ro_compat), 0);
	memset(&f, 0, sizeof(f));
	EXPECT_EQ(pkernfs_upgrade(&f, m.b, SIZE, 2), 0);
	EXPECT_EQ(le16_to_cpu(m.sb->s_minor), 2);
	EXPECT(le32_to_cpu(m.sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM);
	EXPECT(pkernfs_hwm_trusted(m.sb, jhead(&m)));
	EXPECT(le32_to_cpu(m.sb->s_hwm[PKERNFS_HWM_INODES]) > 3);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.errors + f.notes, 0);
	memset(&f, 0, sizeof(f));
	EXPECT_EQ(pkernfs_upgrade(&f, m.b, SIZE, 1), 4);	/* never lowered */
	EXPECT_EQ(le16_to_cpu(m.sb->s_minor), 2);
	expect_file_intact(&m, unit_failed);
	free(m.b);

	/* Not clean: refused, untouched. */
	build_level(&m, PKERNFS_LEVEL(1));
	ino(&m, 3)->i_nlink = cpu_to_le32(9);
	pkernfs_inode_set_crc(ino(&m, 3));
	memset(&f, 0, sizeof(f));
	EXPECT_EQ(pkernfs_upgrade(&f, m.b, SIZE, 2), 4);
	EXPECT_EQ(le16_to_cpu(m.sb->s_minor), 1);
	free(m.b);
}

TEST(repair_leaked_and_unmarked_aus)
{
	struct img m;
	uint64_t first;

	build(&m);
	first = roff(&m, PKERNFS_R_DATA) >> 21;
	mark(&m, first + 9, 1);		/* leaked */
	mark(&m, first + 1, 0);		/* in use, marked free */
	expect_converges(&m, unit_failed, 1);
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

TEST(repair_bitmap_block_crc)
{
	struct pkernfs_bmap_block *bb;
	struct img m;

	build(&m);
	bb = (void *)(m.b + roff(&m, PKERNFS_R_BITMAP));
	bb->b_crc ^= cpu_to_le32(1);
	expect_converges(&m, unit_failed, 1);
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

TEST(repair_torn_dirent_moves_file_to_lost_found)
{
	uint64_t lf;
	struct img m;

	build(&m);
	dent(&m, 2)->d_name[0] = 'G';	/* /d/g, the second name of inode 3 */
	expect_converges(&m, unit_failed, 1);
	EXPECT_EQ(le32_to_cpu(ino(&m, 3)->i_nlink), 1);
	expect_file_intact(&m, unit_failed);
	free(m.b);

	/* Both names gone: the file, with its data, lands in /lost+found. */
	build(&m);
	dent(&m, 1)->d_crc ^= cpu_to_le32(1);
	dent(&m, 2)->d_crc ^= cpu_to_le32(1);
	expect_converges(&m, unit_failed, 1);
	lf = lookup(&m, 1, "lost+found");
	EXPECT(lf != 0);
	EXPECT(has_name(&m, lf, 3, "#3"));
	EXPECT_EQ(le64_to_cpu(ext(&m, 0)->e_ino), 3);
	EXPECT_EQ(le32_to_cpu(ino(&m, 3)->i_nlink), 1);
	free(m.b);
}

TEST(repair_unreachable_cycle)
{
	uint64_t lf;
	struct img m;

	/* /d loses its name; e (inode 4) and d name each other. */
	build(&m);
	mkinode(&m, 4, S_IFDIR | 0755, 3);
	memset(dent(&m, 0), 0, sizeof(struct pkernfs_dirent));
	mkname(&m, 3, 4, 2, "d", DT_DIR);
	mkname(&m, 4, 2, 4, "e", DT_DIR);
	ino(&m, 1)->i_nlink = cpu_to_le32(2);
	pkernfs_inode_set_crc(ino(&m, 1));
	EXPECT_EQ(run(&m, &(struct pkernfs_fsck){ 0 }), 4);
	expect_converges(&m, unit_failed, 1);
	lf = lookup(&m, 1, "lost+found");
	EXPECT(lf != 0);
	/* One of the pair is adopted; the other hangs under it; f under d. */
	EXPECT(has_name(&m, lf, 2, "#2") || has_name(&m, lf, 4, "#4"));
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

TEST(repair_bad_records_are_cleared)
{
	struct pkernfs_kdir_entry *kd;
	struct img m;

	/* An extent whose owner is gone, an inode with a bad crc, a bad kdir entry. */
	build(&m);
	mkinode(&m, 5, S_IFREG | 0644, 0);
	*ext(&m, 1) = *ext(&m, 0);
	ext(&m, 1)->e_ino = cpu_to_le64(6);
	ext(&m, 1)->e_start = cpu_to_le64(le64_to_cpu(ext(&m, 0)->e_start) + 4);
	pkernfs_extent_set_crc(ext(&m, 1));
	mark(&m, le64_to_cpu(ext(&m, 1)->e_start), 1);
	mkinode(&m, 6, S_IFREG | 0644, 1);
	ino(&m, 6)->i_size = cpu_to_le64(99);	/* crc now stale */
	kd = (void *)(m.b + roff(&m, PKERNFS_R_KDIR));
	kd[3].k_npages = cpu_to_le64(1);
	expect_converges(&m, unit_failed, 1);
	EXPECT_EQ(le16_to_cpu(ino(&m, 6)->i_flags), 0);
	EXPECT_EQ(le64_to_cpu(ext(&m, 1)->e_ino), 0);
	EXPECT_EQ(le64_to_cpu(kd[3].k_npages), 0);
	/* The orphan (no links) is left for mount to free. */
	EXPECT_EQ(le16_to_cpu(ino(&m, 5)->i_flags), PKERNFS_INODE_USED);
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

/* A committed one-record transaction giving inode 3 @mode, not yet applied. */
static struct pkernfs_journal_head *commit_mode(struct img *m, uint16_t mode)
{
	struct pkernfs_journal_head *jh = (void *)(m->b + roff(m, PKERNFS_R_JOURNAL));
	struct pkernfs_journal_rec *jr = (void *)(jh + 1);
	struct pkernfs_inode *img = (void *)(jr + 1);

	jr->jr_table = cpu_to_le16(PKERNFS_T_INODE);
	jr->jr_len = cpu_to_le32(sizeof(*img));
	jr->jr_index = cpu_to_le64(3);
	*img = *ino(m, 3);
	img->i_mode = cpu_to_le16(mode);
	pkernfs_inode_set_crc(img);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(1);
	jh->j_bytes = cpu_to_le32(sizeof(*jr) + sizeof(*img));
	pkernfs_journal_set_crc(jh);
	return jh;
}

TEST(repair_journal)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_journal_rec *jr;
	struct img m;

	/* A committed transaction whose record sets inode 3's mode: replayed. */
	build(&m);
	jh = commit_mode(&m, S_IFREG | 0600);
	expect_converges(&m, unit_failed, 1);
	EXPECT_EQ(le16_to_cpu(ino(&m, 3)->i_mode), S_IFREG | 0600);
	EXPECT_EQ(le32_to_cpu(jh->j_state), PKERNFS_J_EMPTY);
	free(m.b);

	/* The same, torn (payload changed after the crc): dropped, not applied. */
	build(&m);
	jh = commit_mode(&m, S_IFREG | 0600);
	jr = (void *)(jh + 1);
	((uint8_t *)(jr + 1))[7] ^= 1;
	expect_converges(&m, unit_failed, 1);
	EXPECT_EQ(le16_to_cpu(ino(&m, 3)->i_mode), S_IFREG | 0644);
	free(m.b);

	/* A head with no magic: reset to an empty journal. */
	build(&m);
	jh = (void *)(m.b + roff(&m, PKERNFS_R_JOURNAL));
	jh->j_magic = 0;
	expect_converges(&m, unit_failed, 1);
	expect_file_intact(&m, unit_failed);
	free(m.b);
}

TEST(repair_leaves_what_it_cannot_fix)
{
	struct pkernfs_fsck f;
	struct img m;

	/* Two files over one AU: no bitmap or extent change is right. */
	build(&m);
	mkinode(&m, 4, S_IFREG | 0644, 1);
	mkname(&m, 3, 1, 4, "h", DT_REG);
	*ext(&m, 1) = *ext(&m, 0);
	ext(&m, 1)->e_ino = cpu_to_le64(4);
	pkernfs_extent_set_crc(ext(&m, 1));
	EXPECT_EQ(repair(&m, &f), 4);
	EXPECT_EQ(le64_to_cpu(ext(&m, 1)->e_ino), 4);
	expect_file_intact(&m, unit_failed);
	EXPECT_EQ(repair(&m, &f), 4);
	free(m.b);

	/* A bad superblock: untouched, still an error. */
	build(&m);
	m.sb->s_nr_aus = cpu_to_le64(1);
	EXPECT_EQ(repair(&m, &f), 4);
	EXPECT_EQ(le64_to_cpu(m.sb->s_nr_aus), 1);
	free(m.b);

	m.b = calloc(1, SIZE);
	m.sb = (void *)m.b;
	EXPECT_EQ(repair(&m, &f), 8);
	free(m.b);
}

/* What the kernel refuses since the hardening, fsck finds too. */
TEST(refused_by_the_kernel_is_an_error)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_journal_rec *jr;
	struct pkernfs_super *im;
	struct pkernfs_fsck f;
	struct img m;

	/* "g" renamed "f": two names alike in /d (link counts still right) */
	build(&m);
	mkname(&m, 2, 2, 3, "f", DT_REG);
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* a file larger than 2^32 AUs */
	build(&m);
	ino(&m, 3)->i_size = cpu_to_le64(pkernfs_max_file_bytes(21) + 1);
	pkernfs_inode_set_crc(ino(&m, 3));
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);

	/* a committed transaction whose superblock doubles the device */
	build(&m);
	jh = (void *)(m.b + roff(&m, PKERNFS_R_JOURNAL));
	jr = (void *)(jh + 1);
	im = (void *)(jr + 1);
	jr->jr_table = cpu_to_le16(PKERNFS_T_SUPER);
	jr->jr_len = cpu_to_le32(sizeof(*im));
	*im = *m.sb;
	im->s_nr_aus = cpu_to_le64(2 * le64_to_cpu(im->s_nr_aus));
	im->s_size = cpu_to_le64(2 * le64_to_cpu(im->s_size));
	pkernfs_super_set_crc(im);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(1);
	jh->j_bytes = cpu_to_le32(sizeof(*jr) + sizeof(*im));
	pkernfs_journal_set_crc(jh);
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);
}

/* A recorded memory error: a note naming the file, its AU never "leaked". */
TEST(bad_pages_are_notes_and_keep_their_aus)
{
	struct pkernfs_fsck f;
	struct img m;
	uint64_t first, page;

	build(&m);
	first = roff(&m, PKERNFS_R_DATA) >> 21;
	page = (first + 1) * 512 + 3;	/* f's second AU, its fourth page */
	EXPECT_EQ(pkernfs_bad_add(m.sb, page, PKERNFS_BAD_DATA), 1);
	EXPECT_EQ(pkernfs_bad_add(m.sb, (first + 7) * 512, PKERNFS_BAD_FREE), 1);
	mark(&m, first + 7, 1);
	pkernfs_super_set_crc(m.sb);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.errors, 0);
	EXPECT_EQ(f.bad_pages, 2);
	EXPECT_EQ(f.notes, 2);
	/* Repair must not free the bad AU that no file holds. */
	EXPECT_EQ(repair(&m, &f), 0);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.errors, 0);

	/* Marked free, it would be handed out again: an error. */
	mark(&m, first + 7, 0);
	EXPECT_EQ(run(&m, &f), 4);

	/* In metadata: the filesystem cannot be mounted. */
	free(m.b);
	build(&m);
	EXPECT_EQ(pkernfs_bad_add(m.sb, roff(&m, PKERNFS_R_INODES) / 4096, PKERNFS_BAD_META), 1);
	pkernfs_super_set_crc(m.sb);
	EXPECT_EQ(run(&m, &f), 4);
	free(m.b);
}

/* --drop-bad: the bad AU leaves its file through the journal, the rest stays. */
TEST(drop_bad_makes_a_hole)
{
	struct pkernfs_fsck f;
	struct img m;
	uint64_t first, seq;

	build(&m);
	first = roff(&m, PKERNFS_R_DATA) >> 21;
	ext(&m, 0)->e_len = cpu_to_le32(3);
	pkernfs_extent_set_crc(ext(&m, 0));
	mark(&m, first + 2, 1);
	EXPECT_EQ(pkernfs_bad_add(m.sb, (first + 1) * 512 + 7, PKERNFS_BAD_DATA), 1);
	pkernfs_super_set_crc(m.sb);
	seq = le64_to_cpu(jhead(&m)->j_seq);

	/* Plain --repair leaves a bad page in its file. */
	EXPECT_EQ(repair(&m, &f), 0);
	EXPECT_EQ(f.bad_in_files, 1);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_len), 3);

	memset(&f, 0, sizeof(f));
	f.drop_bad = 1;
	EXPECT_EQ(pkernfs_fsck_repair(&f, m.b, SIZE), 1);
	EXPECT_EQ(f.repairs, 1);
	EXPECT_EQ(f.errors, 0);
	EXPECT_EQ(f.bad_in_files, 0);
	EXPECT_EQ(f.used_aus, 2);
	/* Split in two around AU first + 1, which stays in use. */
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_lblk), 0);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_len), 1);
	EXPECT_EQ(le64_to_cpu(ext(&m, 0)->e_start), first);
	EXPECT_EQ(le64_to_cpu(ext(&m, 1)->e_ino), 3);
	EXPECT_EQ(le32_to_cpu(ext(&m, 1)->e_lblk), 2);
	EXPECT_EQ(le32_to_cpu(ext(&m, 1)->e_len), 1);
	EXPECT_EQ(le64_to_cpu(ext(&m, 1)->e_start), first + 2);
	EXPECT_EQ(le16_to_cpu(m.sb->s_bad[0].b_kind), PKERNFS_BAD_FREE);
	EXPECT_EQ(le64_to_cpu(jhead(&m)->j_seq), seq + 1);
	EXPECT_EQ(le32_to_cpu(jhead(&m)->j_state), PKERNFS_J_EMPTY);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.notes, 1);

	/* Nothing left to drop: a second run changes nothing. */
	memset(&f, 0, sizeof(f));
	f.drop_bad = 1;
	EXPECT_EQ(pkernfs_fsck_repair(&f, m.b, SIZE), 0);
	EXPECT_EQ(le64_to_cpu(jhead(&m)->j_seq), seq + 1);

	/* The file's first AU, then its last, then its only one. */
	EXPECT_EQ(pkernfs_bad_add(m.sb, first * 512, PKERNFS_BAD_DATA), 1);
	EXPECT_EQ(pkernfs_bad_add(m.sb, (first + 2) * 512 + 511, PKERNFS_BAD_DATA), 1);
	pkernfs_super_set_crc(m.sb);
	memset(&f, 0, sizeof(f));
	f.drop_bad = 1;
	EXPECT_EQ(pkernfs_fsck_repair(&f, m.b, SIZE), 1);
	EXPECT_EQ(f.repairs, 2);
	EXPECT_EQ(f.extents, 0);
	EXPECT_EQ(f.bad_pages, 3);
	EXPECT_EQ(ext(&m, 0)->e_ino, 0);
	EXPECT_EQ(ext(&m, 1)->e_ino, 0);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.notes, 3);
	free(m.b);
}

/* A drop_bad run on @m: the repair's exit code. */
static int drop(struct img *m, struct pkernfs_fsck *f)
{
	memset(f, 0, sizeof(*f));
	f->drop_bad = 1;
	return pkernfs_fsck_repair(f, m->b, SIZE);
}

/* f's extent as three AUs, first .. first + 2, and a bad page at @page. */
static void three_aus(struct img *m, uint64_t page)
{
	uint64_t first;

	build(m);
	first = roff(m, PKERNFS_R_DATA) >> 21;
	ext(m, 0)->e_len = cpu_to_le32(3);
	pkernfs_extent_set_crc(ext(m, 0));
	mark(m, first + 2, 1);
	if (pkernfs_bad_add(m->sb, first * 512 + page, PKERNFS_BAD_DATA) != 1)
		abort();
	pkernfs_super_set_crc(m->sb);
}

/* The first and the last AU of an extent, a range over two AUs, a DMA-held file. */
TEST(drop_bad_edges)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_journal_rec *jr;
	struct pkernfs_fsck f;
	uint64_t first;
	struct img m;

	three_aus(&m, 5);	/* in the first AU */
	first = roff(&m, PKERNFS_R_DATA) >> 21;
	EXPECT_EQ(drop(&m, &f), 1);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_lblk), 1);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_len), 2);
	EXPECT_EQ(le64_to_cpu(ext(&m, 0)->e_start), first + 1);
	EXPECT_EQ(ext(&m, 1)->e_ino, 0);
	/* What the journal held: the superblock and one extent, a valid transaction. */
	jh = jhead(&m);
	jr = (void *)(jh + 1);
	EXPECT_EQ(le16_to_cpu(jr->jr_table), PKERNFS_T_SUPER);
	jr = (void *)((uint8_t *)(jr + 1) + le32_to_cpu(jr->jr_len));
	EXPECT_EQ(le16_to_cpu(jr->jr_table), PKERNFS_T_EXTENT);
	EXPECT_EQ(le64_to_cpu(jr->jr_index), 0);
	jh->j_nrec = cpu_to_le32(2);
	jh->j_bytes = cpu_to_le32(2 * sizeof(*jr) + sizeof(struct pkernfs_super) +
				  sizeof(struct pkernfs_extent));
	EXPECT_EQ(pkernfs_journal_verify(m.b, jh), 2);
	free(m.b);

	three_aus(&m, 2 * 512 + 9);	/* in the last AU */
	EXPECT_EQ(drop(&m, &f), 1);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_lblk), 0);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_len), 2);
	EXPECT_EQ(le64_to_cpu(ext(&m, 0)->e_start), first);
	EXPECT_EQ(run(&m, &f), 0);
	free(m.b);

	/* Two pages across the boundary of AUs 1 and 2: both AUs leave the file. */
	three_aus(&m, 512 + 511);
	m.sb->s_bad[0].b_count = cpu_to_le32(2);
	pkernfs_super_set_crc(m.sb);
	EXPECT_EQ(run(&m, &f), 0);
	EXPECT_EQ(f.bad_in_files, 1);
	EXPECT_EQ(drop(&m, &f), 1);
	EXPECT_EQ(f.repairs, 2);
	EXPECT_EQ(f.used_aus, 1);
	EXPECT_EQ(f.bad_in_files, 0);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_len), 1);
	EXPECT_EQ(le16_to_cpu(m.sb->s_bad[0].b_kind), PKERNFS_BAD_FREE);
	free(m.b);

	/* A file held for DMA across kexec keeps its AU: exit 4, nothing changed. */
	three_aus(&m, 512);
	ino(&m, 3)->i_flags |= cpu_to_le16(PKERNFS_INODE_DMA);
	pkernfs_inode_set_crc(ino(&m, 3));
	EXPECT_EQ(run(&m, &f), 0);	/* the hold alone is no error */
	EXPECT_EQ(drop(&m, &f), 4);
	EXPECT_EQ(f.errors, 1);
	EXPECT_EQ(le32_to_cpu(ext(&m, 0)->e_len), 3);
	EXPECT_EQ(le16_to_cpu(m.sb->s_bad[0].b_kind), PKERNFS_BAD_DATA);
	free(m.b);
}
