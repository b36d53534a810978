// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfsctl's checker on images built here: a fresh mkfs is clean, a
 * hand-built tree is clean, and each class of damage is found (exit 4).
 */
#define UNIT_MAIN
#include "unit.h"
#include "fsck.h"

#define MiB (1ULL << 20)
#define SIZE (64 * MiB)

struct img {
	uint8_t *b;
	struct pkernfs_super *sb;
};

static uint64_t roff(struct img *m, int r)
{
	return le64_to_cpu(m->sb->s_regions[r].off);
}

static struct pkernfs_inode *ino(struct img *m, uint64_t n)
{
	return (struct pkernfs_inode *)(m->b + roff(m, PKERNFS_R_INODES)) + n;
}

static struct pkernfs_dirent *dent(struct img *m, uint64_t n)
{
	return (struct pkernfs_dirent *)(m->b + roff(m, PKERNFS_R_DIRENTS)) + n;
}

static struct pkernfs_extent *ext(struct img *m, uint64_t n)
{
	return (struct pkernfs_extent *)(m->b + roff(m, PKERNFS_R_EXTENTS)) + n;
}

static void mark(struct img *m, uint64_t au, int used)
{
	struct pkernfs_bmap_block *bb = (void *)(m->b + roff(m, PKERNFS_R_BITMAP));

	if (used)
		bb->b_bits[au / 8] |= 1u << (au % 8);
	else
		bb->b_bits[au / 8] &= ~(1u << (au % 8));
	pkernfs_bmap_set_crc(bb);
}

static void mkinode(struct img *m, uint64_t n, uint16_t mode, uint32_t nlink)
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

static void mkname(struct img *m, uint32_t slot, uint64_t parent, uint64_t child,
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

/*
 * A tree: /d (dir, inode 2), /d/f (file, inode 3, two AUs), /d/g a hard
 * link to f. Root has nlink 3 (2 + one subdirectory).
 */
static void build(struct img *m)
{
	static struct pkernfs_super sb;
	struct pkernfs_mkfs_params p = { .time = 5 };
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
