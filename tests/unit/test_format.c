// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared format code (fs/pkernfs/format.c) as userspace builds it:
 * layout, mkfs, and every check refusing what it must.
 */
#define UNIT_MAIN
#include "unit.h"
#include "pkernfs_user.h"
#include "format.h"

#define MiB (1ULL << 20)

static struct pkernfs_super *fresh(void **img, uint64_t size)
{
	struct pkernfs_mkfs_params p = { .time = 1700000000 };
	static struct pkernfs_super sb;
	const char *why = NULL;

	*img = calloc(1, size);
	if (!*img || pkernfs_format(*img, size, &p, &sb, &why)) {
		fprintf(stderr, "    format failed: %s\n", why);
		abort();
	}
	return *img;
}

static uint64_t roff(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].off);
}

TEST(format_then_check_is_clean)
{
	const char *why = "";
	struct pkernfs_super *sb;
	void *img;

	sb = fresh(&img, 64 * MiB);
	EXPECT_EQ(pkernfs_super_check(sb, 64 * MiB, &why), 0);
	EXPECT_EQ(le64_to_cpu(sb->s_nr_aus), 32);
	EXPECT_EQ(le32_to_cpu(sb->s_au_shift), 21);
	EXPECT_EQ(le16_to_cpu(sb->s_major), PKERNFS_MAJOR);
	/* Data and kernel areas are AU aligned and fill the device's end. */
	EXPECT_EQ(roff(sb, PKERNFS_R_KERNEL) % (2 * MiB), 0);
	EXPECT_EQ(roff(sb, PKERNFS_R_DATA) + le64_to_cpu(sb->s_regions[PKERNFS_R_DATA].len),
		  64 * MiB);
	free(img);
}

TEST(root_inode_and_journal_valid)
{
	const char *why = "";
	struct pkernfs_super *sb;
	struct pkernfs_inode *it;
	uint64_t i, n;
	void *img;

	sb = fresh(&img, 64 * MiB);
	it = (struct pkernfs_inode *)((char *)img + roff(sb, PKERNFS_R_INODES));
	n = le32_to_cpu(sb->s_regions[PKERNFS_R_INODES].count);
	for (i = 0; i < n; i++)
		EXPECT_EQ(pkernfs_inode_check(&it[i], i, &why), 0);
	EXPECT(S_ISDIR(le16_to_cpu(it[PKERNFS_ROOT_INO].i_mode)));
	EXPECT_EQ(le32_to_cpu(it[PKERNFS_ROOT_INO].i_nlink), 2);
	EXPECT_EQ(pkernfs_journal_check((void *)((char *)img + roff(sb, PKERNFS_R_JOURNAL)),
					le64_to_cpu(sb->s_regions[PKERNFS_R_JOURNAL].len), &why), 0);
	free(img);
}

/* Metadata AUs are marked used, data AUs free, bits past the end clear. */
TEST(bitmap_marks_metadata_only)
{
	struct pkernfs_bmap_block *bb;
	struct pkernfs_super *sb;
	const char *why = "";
	uint64_t au, data_au;
	void *img;

	sb = fresh(&img, 64 * MiB);
	bb = (void *)((char *)img + roff(sb, PKERNFS_R_BITMAP));
	EXPECT_EQ(pkernfs_bmap_check(bb, 0, &why), 0);
	data_au = roff(sb, PKERNFS_R_DATA) >> 21;
	EXPECT(data_au >= 2);
	for (au = 0; au < PKERNFS_BITS_PER_BMAP; au++) {
		int set = !!(bb->b_bits[au / 8] & (1u << (au % 8)));

		if (set != (au < data_au)) {
			EXPECT_EQ(au, ~0ULL);
			break;
		}
	}
	EXPECT_EQ(pkernfs_bmap_check(bb, 1, &why), -EFSCORRUPTED);
	free(img);
}

TEST(super_refusals)
{
	struct pkernfs_super *sb, copy;
	const char *why = "";
	void *img;

	sb = fresh(&img, 64 * MiB);
	copy = *sb;

	copy.s_magic = cpu_to_le64(0x1234);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EINVAL);
	EXPECT(strstr(why, "magic") != NULL);

	copy = *sb;
	copy.s_label[0] ^= 1;		/* any bit flip, crc not updated */
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EFSCORRUPTED);
	EXPECT(strstr(why, "checksum") != NULL);

	copy = *sb;
	copy.s_major = cpu_to_le16(PKERNFS_MAJOR + 1);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EOPNOTSUPP);

	copy = *sb;
	copy.s_minor = cpu_to_le16(PKERNFS_MINOR + 7);	/* newer minor: fine */
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), 0);

	copy = *sb;
	copy.s_feature_incompat = cpu_to_le32(0x80000000u);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EOPNOTSUPP);

	copy = *sb;
	copy.s_feature_ro_compat = cpu_to_le32(0x80000000u);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EROFS);

	copy = *sb;
	copy.s_feature_compat = cpu_to_le32(0x1u);	/* unknown compat: ignored */
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), 0);

	/* The device shrank under the filesystem. */
	EXPECT_EQ(pkernfs_super_check(sb, 32 * MiB, &why), -EINVAL);

	/* Overlapping regions, with a valid crc: only geometry catches it. */
	copy = *sb;
	copy.s_regions[PKERNFS_R_DIRENTS].off = copy.s_regions[PKERNFS_R_INODES].off;
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EFSCORRUPTED);

	copy = *sb;
	copy.s_au_shift = cpu_to_le32(40);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EFSCORRUPTED);
	free(img);
}

TEST(too_small_and_bad_params)
{
	struct pkernfs_mkfs_params p = { 0 };
	struct pkernfs_super sb;
	const char *why = "";

	EXPECT_EQ(pkernfs_layout(&sb, 2 * MiB, &p, &why), -ENOSPC);
	EXPECT_EQ(pkernfs_layout(&sb, 4 * MiB, &p, &why), -ENOSPC);
	EXPECT(strstr(why, "too small") != NULL);
	p.au_shift = 11;
	EXPECT_EQ(pkernfs_layout(&sb, 64 * MiB, &p, &why), -EINVAL);
	p.au_shift = 12;
	EXPECT_EQ(pkernfs_layout(&sb, 64 * MiB, &p, &why), 0);
	EXPECT_EQ(pkernfs_super_check(&sb, 64 * MiB, &why), 0);
	p.nr_inodes = 10;
	EXPECT_EQ(pkernfs_layout(&sb, 64 * MiB, &p, &why), -EINVAL);
	p.nr_inodes = 0;
	p.level = PKERNFS_LEVEL(PKERNFS_MINOR + 1);
	EXPECT_EQ(pkernfs_layout(&sb, 64 * MiB, &p, &why), -EINVAL);
	EXPECT(strstr(why, "format level") != NULL);
}

/* Each level writes its minor, with later minors' features off. */
TEST(format_levels)
{
	struct pkernfs_mkfs_params p = { 0 };
	struct pkernfs_super sb;
	const char *why = "";
	uint32_t minor;

	for (minor = 0; minor <= PKERNFS_MINOR; minor++) {
		p.level = PKERNFS_LEVEL(minor);
		EXPECT_EQ(pkernfs_layout(&sb, 64 * MiB, &p, &why), 0);
		EXPECT_EQ(pkernfs_super_check(&sb, 64 * MiB, &why), 0);
		EXPECT_EQ(le16_to_cpu(sb.s_minor), minor);
		EXPECT_EQ(!!(le32_to_cpu(sb.s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM),
			  minor >= PKERNFS_MINOR_HWM);
		EXPECT_EQ(le32_to_cpu(sb.s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_DMA, 0);
	}
	p.level = 0;
	EXPECT_EQ(pkernfs_layout(&sb, 64 * MiB, &p, &why), 0);
	EXPECT_EQ(le16_to_cpu(sb.s_minor), PKERNFS_MINOR);
}

TEST(inode_record_checks)
{
	struct pkernfs_inode di;
	const char *why = "";

	memset(&di, 0, sizeof(di));
	EXPECT_EQ(pkernfs_inode_check(&di, 5, &why), 0);	/* never used */
	di.i_ino = cpu_to_le64(5);
	di.i_gen = cpu_to_le32(3);
	di.i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	di.i_mode = cpu_to_le16(S_IFREG | 0644);
	di.i_nlink = cpu_to_le32(1);
	pkernfs_inode_set_crc(&di);
	EXPECT_EQ(pkernfs_inode_check(&di, 5, &why), 0);
	EXPECT_EQ(pkernfs_inode_check(&di, 6, &why), -EFSCORRUPTED);
	di.i_size = cpu_to_le64(1);			/* no crc update */
	EXPECT_EQ(pkernfs_inode_check(&di, 5, &why), -EFSCORRUPTED);
	di.i_mode = cpu_to_le16(0170000);		/* no such type */
	pkernfs_inode_set_crc(&di);
	EXPECT_EQ(pkernfs_inode_check(&di, 5, &why), -EFSCORRUPTED);
	di.i_mode = cpu_to_le16(S_IFLNK | 0777);
	di.i_size = cpu_to_le64(PKERNFS_SYMLINK_INLINE + 1);
	pkernfs_inode_set_crc(&di);
	EXPECT_EQ(pkernfs_inode_check(&di, 5, &why), -EFSCORRUPTED);
}

static void mkdirent(struct pkernfs_dirent *de, const char *name)
{
	memset(de, 0, sizeof(*de));
	de->d_parent = cpu_to_le64(1);
	de->d_ino = cpu_to_le64(2);
	de->d_namelen = cpu_to_le16(strlen(name));
	de->d_type = DT_REG;
	memcpy(de->d_name, name, strlen(name));
	de->d_hash = cpu_to_le32(pkernfs_name_hash(name, strlen(name)));
	pkernfs_dirent_set_crc(de);
}

TEST(dirent_record_checks)
{
	struct pkernfs_dirent de;
	const char *why = "";

	mkdirent(&de, "vm0.ram");
	EXPECT_EQ(pkernfs_dirent_check(&de, &why), 0);
	mkdirent(&de, "a/b");
	EXPECT_EQ(pkernfs_dirent_check(&de, &why), -EFSCORRUPTED);
	mkdirent(&de, "..");
	EXPECT_EQ(pkernfs_dirent_check(&de, &why), -EFSCORRUPTED);
	mkdirent(&de, "ok");
	de.d_hash ^= cpu_to_le32(1);
	pkernfs_dirent_set_crc(&de);
	EXPECT_EQ(pkernfs_dirent_check(&de, &why), -EFSCORRUPTED);
	EXPECT(strstr(why, "hash") != NULL);
	mkdirent(&de, "ok");
	de.d_name[0] = 'O';				/* torn name */
	EXPECT_EQ(pkernfs_dirent_check(&de, &why), -EFSCORRUPTED);
}

TEST(extent_record_checks)
{
	struct pkernfs_extent ex;
	struct pkernfs_super *sb;
	const char *why = "";
	uint64_t first;
	void *img;

	sb = fresh(&img, 64 * MiB);
	first = roff(sb, PKERNFS_R_DATA) >> 21;
	memset(&ex, 0, sizeof(ex));
	ex.e_ino = cpu_to_le64(2);
	ex.e_start = cpu_to_le64(first);
	ex.e_len = cpu_to_le32(32 - first);
	pkernfs_extent_set_crc(&ex);
	EXPECT_EQ(pkernfs_extent_check(sb, &ex, &why), 0);
	ex.e_len = cpu_to_le32(32 - first + 1);		/* past the end */
	pkernfs_extent_set_crc(&ex);
	EXPECT_EQ(pkernfs_extent_check(sb, &ex, &why), -EFSCORRUPTED);
	ex.e_start = cpu_to_le64(first - 1);		/* into the kernel area */
	ex.e_len = cpu_to_le32(1);
	pkernfs_extent_set_crc(&ex);
	EXPECT_EQ(pkernfs_extent_check(sb, &ex, &why), -EFSCORRUPTED);
	free(img);
}

TEST(kdir_and_journal_checks)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_kdir_entry ke;
	struct pkernfs_super *sb;
	const char *why = "";
	uint64_t jlen;
	void *img;

	sb = fresh(&img, 64 * MiB);
	memset(&ke, 0, sizeof(ke));
	ke.k_npages = cpu_to_le64(4);
	strcpy((char *)ke.k_name, "intel-iommu/dmar0");
	pkernfs_kdir_set_crc(&ke);
	EXPECT_EQ(pkernfs_kdir_check(sb, &ke, &why), 0);
	ke.k_start = cpu_to_le64(le64_to_cpu(sb->s_regions[PKERNFS_R_KERNEL].len) / 4096);
	pkernfs_kdir_set_crc(&ke);
	EXPECT_EQ(pkernfs_kdir_check(sb, &ke, &why), -EFSCORRUPTED);

	jh = (void *)((char *)img + roff(sb, PKERNFS_R_JOURNAL));
	jlen = le64_to_cpu(sb->s_regions[PKERNFS_R_JOURNAL].len);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_bytes = cpu_to_le32(16);
	pkernfs_journal_set_crc(jh);
	EXPECT_EQ(pkernfs_journal_check(jh, jlen, &why), 0);
	((unsigned char *)(jh + 1))[3] ^= 0x40;		/* torn payload */
	EXPECT_EQ(pkernfs_journal_check(jh, jlen, &why), -EFSCORRUPTED);
	jh->j_bytes = cpu_to_le32(jlen);
	pkernfs_journal_set_crc(jh);
	EXPECT_EQ(pkernfs_journal_check(jh, jlen, &why), -EFSCORRUPTED);
	free(img);
}

/* An extent is never longer than one bitmap block covers: freeing it would overrun. */
TEST(extent_longer_than_a_bitmap_block)
{
	const uint64_t size = 512 * MiB;
	struct pkernfs_mkfs_params p = { .au_shift = 12, .time = 1 };
	static struct pkernfs_super sb;
	struct pkernfs_extent ex;
	const char *why = "";
	uint64_t first;
	void *img = calloc(1, size);

	EXPECT_EQ(pkernfs_format(img, size, &p, &sb, &why), 0);
	first = roff(&sb, PKERNFS_R_DATA) >> 12;
	memset(&ex, 0, sizeof(ex));
	ex.e_ino = cpu_to_le64(2);
	ex.e_start = cpu_to_le64(first);
	ex.e_len = cpu_to_le32(PKERNFS_BITS_PER_BMAP);
	pkernfs_extent_set_crc(&ex);
	EXPECT_EQ(pkernfs_extent_check(&sb, &ex, &why), 0);
	ex.e_len = cpu_to_le32(PKERNFS_BITS_PER_BMAP + 1);
	pkernfs_extent_set_crc(&ex);
	EXPECT_EQ(pkernfs_extent_check(&sb, &ex, &why), -EFSCORRUPTED);
	EXPECT(strstr(why, "bitmap block") != NULL);
	free(img);
}

/* The states a crash can leave the journal head in, as mount sees them. */
TEST(journal_state_after_a_crash)
{
	struct pkernfs_journal_head *jh;
	struct pkernfs_super *sb;
	const char *why = "";
	uint64_t jlen;
	void *img;

	sb = fresh(&img, 64 * MiB);
	jh = (void *)((char *)img + roff(sb, PKERNFS_R_JOURNAL));
	jlen = le64_to_cpu(sb->s_regions[PKERNFS_R_JOURNAL].len);
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), PKERNFS_JS_CLEAN);

	/* Committed and whole: replay. */
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(1);
	jh->j_bytes = cpu_to_le32(16);
	pkernfs_journal_set_crc(jh);
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), PKERNFS_JS_REPLAY);
	/* Committed but torn: drop. */
	((unsigned char *)(jh + 1))[0] ^= 1;
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), PKERNFS_JS_TORN);
	/* Emptied, but the crash came before the crc was updated: stale, not damage. */
	jh->j_state = cpu_to_le32(PKERNFS_J_EMPTY);
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), PKERNFS_JS_STALE);
	jh->j_nrec = 0;
	jh->j_bytes = 0;
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), PKERNFS_JS_STALE);
	pkernfs_journal_set_crc(jh);
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), PKERNFS_JS_CLEAN);
	/* Not a journal head at all. */
	jh->j_magic ^= cpu_to_le32(1);
	EXPECT_EQ(pkernfs_journal_state(jh, jlen, &why), -EFSCORRUPTED);
	free(img);
}

/* A committed transaction with one record image; returns its image. */
static void *one_record_txn(void *img, struct pkernfs_super *sb, uint16_t table, uint64_t index,
			    uint32_t len)
{
	struct pkernfs_journal_head *jh = (void *)((char *)img + roff(sb, PKERNFS_R_JOURNAL));
	struct pkernfs_journal_rec *jr = (void *)(jh + 1);

	jr->jr_table = cpu_to_le16(table);
	jr->jr_len = cpu_to_le32(len);
	jr->jr_index = cpu_to_le64(index);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(1);
	jh->j_bytes = cpu_to_le32(sizeof(*jr) + len);
	return jr + 1;
}

static int apply(void *img, struct pkernfs_super *sb)
{
	struct pkernfs_journal_head *jh = (void *)((char *)img + roff(sb, PKERNFS_R_JOURNAL));

	pkernfs_journal_set_crc(jh);
	return pkernfs_journal_apply(img, jh, NULL);
}

/* Replay may change a superblock's state, never its geometry. */
TEST(journal_replay_keeps_the_geometry)
{
	struct pkernfs_super *sb, *im, before;
	void *img;

	sb = fresh(&img, 64 * MiB);
	before = *sb;
	im = one_record_txn(img, sb, PKERNFS_T_SUPER, 0, sizeof(*sb));
	*im = *sb;
	im->s_mount_count = cpu_to_le64(7);
	pkernfs_super_set_crc(im);
	EXPECT_EQ(apply(img, sb), 1);
	EXPECT_EQ(le64_to_cpu(sb->s_mount_count), 7);

	/* A doubled device, a moved table, another AU size: refused, nothing applied. */
	*sb = before;
	*im = before;
	im->s_nr_aus = cpu_to_le64(2 * le64_to_cpu(before.s_nr_aus));
	im->s_size = cpu_to_le64(2 * le64_to_cpu(before.s_size));
	pkernfs_super_set_crc(im);
	EXPECT_EQ(apply(img, sb), -EFSCORRUPTED);
	EXPECT(!memcmp(sb, &before, sizeof(before)));
	*im = before;
	im->s_regions[PKERNFS_R_INODES].count = cpu_to_le32(1u << 20);
	pkernfs_super_set_crc(im);
	EXPECT_EQ(apply(img, sb), -EFSCORRUPTED);
	*im = before;
	im->s_au_shift = cpu_to_le32(12);
	pkernfs_super_set_crc(im);
	EXPECT_EQ(apply(img, sb), -EFSCORRUPTED);
	/* An image whose own crc fails was not written by a commit. */
	*im = before;
	im->s_mount_count = cpu_to_le64(9);
	EXPECT_EQ(apply(img, sb), -EFSCORRUPTED);
	EXPECT(!memcmp(sb, &before, sizeof(before)));
	free(img);
}

/* Record images must carry their crc, or be a freed (all-zero) slot. */
TEST(journal_replay_checks_record_crcs)
{
	struct pkernfs_super *sb;
	struct pkernfs_extent *ex;
	void *img;

	sb = fresh(&img, 64 * MiB);
	ex = one_record_txn(img, sb, PKERNFS_T_EXTENT, 3, sizeof(*ex));
	memset(ex, 0, sizeof(*ex));
	EXPECT_EQ(apply(img, sb), 1);
	ex->e_ino = cpu_to_le64(2);
	ex->e_len = cpu_to_le32(1);
	EXPECT_EQ(apply(img, sb), -EFSCORRUPTED);
	pkernfs_extent_set_crc(ex);
	EXPECT_EQ(apply(img, sb), 1);
	free(img);
}

TEST(bad_page_list)
{
	struct pkernfs_super *sb, copy;
	uint64_t data, pages = 64 * MiB / 4096;
	const char *why = "";
	void *img;

	sb = fresh(&img, 64 * MiB);
	data = roff(sb, PKERNFS_R_DATA) / 4096;
	EXPECT_EQ(pkernfs_bad_region(sb, 0), PKERNFS_NR_REGIONS);
	EXPECT_EQ(pkernfs_bad_region(sb, roff(sb, PKERNFS_R_INODES) / 4096), PKERNFS_R_INODES);
	EXPECT_EQ(pkernfs_bad_region(sb, roff(sb, PKERNFS_R_KERNEL) / 4096), PKERNFS_R_KERNEL);
	EXPECT_EQ(pkernfs_bad_region(sb, data), PKERNFS_R_DATA);
	EXPECT_EQ(pkernfs_bad_region(sb, pages), -1);

	copy = *sb;
	/* Added in order, once, and flagged INCOMPAT. */
	EXPECT_EQ(pkernfs_bad_add(&copy, data + 9, PKERNFS_BAD_DATA), 1);
	EXPECT_EQ(pkernfs_bad_add(&copy, data + 3, PKERNFS_BAD_FREE), 1);
	EXPECT_EQ(pkernfs_bad_add(&copy, data + 9, PKERNFS_BAD_DATA), 0);
	EXPECT_EQ(le32_to_cpu(copy.s_nr_bad), 2);
	EXPECT_EQ(le64_to_cpu(copy.s_bad[0].b_page), data + 3);
	EXPECT(le32_to_cpu(copy.s_feature_incompat) & PKERNFS_FEATURE_INCOMPAT_BADPAGES);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), 0);

	/* A kernel that does not know the flag must not mount it. */
	copy.s_feature_incompat = cpu_to_le32(0x80);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EOPNOTSUPP);

	/* List and flag must agree; entries sorted, inside, of a kind. */
	copy = *sb;
	EXPECT_EQ(pkernfs_bad_add(&copy, data, PKERNFS_BAD_DATA), 1);
	copy.s_feature_incompat = 0;
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EFSCORRUPTED);
	EXPECT(strstr(why, "flag") != NULL);

	copy = *sb;
	EXPECT_EQ(pkernfs_bad_add(&copy, data, PKERNFS_BAD_DATA), 1);
	copy.s_bad[0].b_page = cpu_to_le64(pages);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EFSCORRUPTED);

	copy = *sb;
	EXPECT_EQ(pkernfs_bad_add(&copy, data, PKERNFS_BAD_DATA), 1);
	copy.s_bad[0].b_kind = cpu_to_le16(9);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), -EFSCORRUPTED);

	copy = *sb;
	for (uint64_t i = 0; i < PKERNFS_BAD_MAX; i++)
		EXPECT_EQ(pkernfs_bad_add(&copy, data + 2 * i, PKERNFS_BAD_DATA), 1);
	EXPECT_EQ(pkernfs_bad_add(&copy, data + 1, PKERNFS_BAD_DATA), -ENOSPC);
	pkernfs_super_set_crc(&copy);
	EXPECT_EQ(pkernfs_super_check(&copy, 64 * MiB, &why), 0);
	free(img);
}
