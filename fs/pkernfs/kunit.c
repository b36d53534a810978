// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for pkernfs: the format code as the kernel builds it, the AU
 * allocator, and the journal's commit and replay. They run on a vmalloc'd
 * stand-in for the dax region, so they need no device.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/pkernfs.h>
#include <linux/vmalloc.h>
#include "pkernfs.h"

#define KT_SIZE		(64ULL << 20)

struct kt_fs {
	struct pkernfs_region region;
	struct pkernfs_sb_info sbi;
	struct pkernfs_super sb;
};

/* A formatted 64 MiB image, with the geometry a mount would compute. */
static struct kt_fs *kt_setup(struct kunit *test, u64 phys)
{
	struct pkernfs_mkfs_params p = { .time = 1 };
	const char *why = NULL;
	struct kt_fs *fs;

	fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs);
	fs->sbi.base = vmalloc(KT_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, fs->sbi.base);
	fs->region.phys = phys;
	fs->region.size = KT_SIZE;
	fs->sbi.region = &fs->region;
	fs->sbi.size = KT_SIZE;
	fs->sbi.source = "kunit";
	mutex_init(&fs->sbi.lock);
	KUNIT_ASSERT_EQ(test, pkernfs_format(fs->sbi.base, KT_SIZE, &p, &fs->sb, &why), 0);
	fs->sbi.dsb = (struct pkernfs_super *)fs->sbi.base;
	pkernfs_geometry(&fs->sbi);
	fs->sbi.au_used = bitmap_zalloc(fs->sbi.nr_aus, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs->sbi.au_used);
	bitmap_set(fs->sbi.au_used, 0, fs->sbi.data_first_au);
	fs->sbi.free_aus = fs->sbi.nr_aus - fs->sbi.data_first_au;
	return fs;
}

static void kt_teardown(struct kt_fs *fs)
{
	bitmap_free(fs->sbi.au_used);
	vfree(fs->sbi.base);
}

static void pkernfs_test_format_checks(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	const char *why = NULL;

	KUNIT_EXPECT_EQ(test, pkernfs_super_check(fs->sbi.dsb, KT_SIZE, &why), 0);
	KUNIT_EXPECT_EQ(test, pkernfs_inode_check(&fs->sbi.itab[PKERNFS_ROOT_INO],
						  PKERNFS_ROOT_INO, &why), 0);
	fs->sbi.dsb->s_label[0] ^= 1;
	KUNIT_EXPECT_EQ(test, pkernfs_super_check(fs->sbi.dsb, KT_SIZE, &why), -EFSCORRUPTED);
	kt_teardown(fs);
}

/* A request of 2 MiB or more starts on a physical 2 MiB boundary when one is free. */
static void pkernfs_test_alloc_aligned(struct kunit *test)
{
	struct kt_fs *fs;
	u64 start, got;
	int err;

	/* AUs of 2 MiB: every AU is PMD aligned; ask for a 1 GiB-class run. */
	fs = kt_setup(test, 0);
	mutex_lock(&fs->sbi.lock);
	err = pkernfs_alloc_aus(&fs->sbi, 4, 0, &start, &got);
	mutex_unlock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, got, 4ULL);
	KUNIT_EXPECT_GE(test, start, fs->sbi.data_first_au);
	kt_teardown(fs);
}

/* When no run is long enough, the longest one is handed out. */
static void pkernfs_test_alloc_fragmented(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	u64 au, start, got;
	int err;

	/* Leave only every other AU free, and one run of three. */
	for (au = fs->sbi.data_first_au; au < fs->sbi.nr_aus; au += 2)
		__set_bit(au, fs->sbi.au_used);
	au = fs->sbi.nr_aus - 4;
	bitmap_clear(fs->sbi.au_used, au, 3);
	__set_bit(au - 1, fs->sbi.au_used);
	__set_bit(au + 3, fs->sbi.au_used);
	mutex_lock(&fs->sbi.lock);
	err = pkernfs_alloc_aus(&fs->sbi, 8, 0, &start, &got);
	mutex_unlock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, got, 3ULL);
	KUNIT_EXPECT_EQ(test, start, au);
	kt_teardown(fs);
}

static void pkernfs_test_alloc_enospc(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	u64 start, got;
	int err;

	bitmap_fill(fs->sbi.au_used, fs->sbi.nr_aus);
	fs->sbi.free_aus = 0;
	mutex_lock(&fs->sbi.lock);
	err = pkernfs_alloc_aus(&fs->sbi, 1, 0, &start, &got);
	mutex_unlock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, err, -ENOSPC);
	kt_teardown(fs);
}

/* pkernfs_set_aus() changes the media bitmap only through the transaction. */
static void pkernfs_test_set_aus_txn(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	struct pkernfs_bmap_block *bb = (struct pkernfs_bmap_block *)fs->sbi.bmap;
	u64 au = fs->sbi.data_first_au + 1;
	const char *why = NULL;

	mutex_lock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, pkernfs_set_aus(&fs->sbi, au, 2, true), 0);
	KUNIT_EXPECT_FALSE(test, bb->b_bits[au / 8] & (1u << (au % 8)));
	pkernfs_txn_commit(&fs->sbi);
	mutex_unlock(&fs->sbi.lock);
	KUNIT_EXPECT_TRUE(test, bb->b_bits[au / 8] & (1u << (au % 8)));
	KUNIT_EXPECT_TRUE(test, test_bit(au + 1, fs->sbi.au_used));
	KUNIT_EXPECT_EQ(test, pkernfs_bmap_check(bb, 0, &why), 0);
	kt_teardown(fs);
}

/*
 * A crash after the commit but before the copy home: replay must finish
 * the transaction. A crash before the commit: replay must drop it.
 */
static void pkernfs_test_journal_replay(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	struct pkernfs_sb_info *sbi = &fs->sbi;
	struct pkernfs_journal_head *jh = sbi->jhead;
	struct pkernfs_inode *img;
	const char *why = NULL;

	mutex_lock(&sbi->lock);
	img = pkernfs_txn_add(sbi, PKERNFS_T_INODE, PKERNFS_ROOT_INO);
	KUNIT_ASSERT_FALSE(test, IS_ERR(img));
	img->i_uid = cpu_to_le32(4242);
	pkernfs_inode_set_crc(img);
	/* Commit by hand, as pkernfs_txn_commit() does, but stop before applying. */
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(sbi->txn.nrec);
	jh->j_bytes = cpu_to_le32(sbi->txn.bytes);
	pkernfs_journal_set_crc(jh);
	pkernfs_txn_abort(sbi);
	mutex_unlock(&sbi->lock);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(sbi->itab[PKERNFS_ROOT_INO].i_uid), 0u);

	KUNIT_EXPECT_EQ(test, pkernfs_journal_replay(sbi, false), 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(sbi->itab[PKERNFS_ROOT_INO].i_uid), 4242u);
	KUNIT_EXPECT_EQ(test, pkernfs_inode_check(&sbi->itab[PKERNFS_ROOT_INO],
						  PKERNFS_ROOT_INO, &why), 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(jh->j_state), (u32)PKERNFS_J_EMPTY);

	/* Torn: committed head, payload changed after the crc was taken. */
	mutex_lock(&sbi->lock);
	img = pkernfs_txn_add(sbi, PKERNFS_T_INODE, PKERNFS_ROOT_INO);
	img->i_uid = cpu_to_le32(7);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(sbi->txn.nrec);
	jh->j_bytes = cpu_to_le32(sbi->txn.bytes);
	pkernfs_journal_set_crc(jh);
	img->i_uid = cpu_to_le32(8);
	pkernfs_txn_abort(sbi);
	mutex_unlock(&sbi->lock);
	KUNIT_EXPECT_EQ(test, pkernfs_journal_replay(sbi, false), 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(sbi->itab[PKERNFS_ROOT_INO].i_uid), 4242u);
	kt_teardown(fs);
}

/* A transaction holds at most PKERNFS_TXN_MAX records, then says ENOSPC. */
static void pkernfs_test_txn_full(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	void *img = NULL;
	int i;

	mutex_lock(&fs->sbi.lock);
	for (i = 0; i <= PKERNFS_TXN_MAX; i++)
		img = pkernfs_txn_add(&fs->sbi, PKERNFS_T_EXTENT, i);
	KUNIT_EXPECT_EQ(test, PTR_ERR(img), -ENOSPC);
	/* The same record twice is one record. */
	pkernfs_txn_abort(&fs->sbi);
	KUNIT_EXPECT_PTR_EQ(test, pkernfs_txn_add(&fs->sbi, PKERNFS_T_EXTENT, 3),
			    pkernfs_txn_add(&fs->sbi, PKERNFS_T_EXTENT, 3));
	KUNIT_EXPECT_EQ(test, fs->sbi.txn.nrec, 1u);
	pkernfs_txn_abort(&fs->sbi);
	mutex_unlock(&fs->sbi.lock);
	kt_teardown(fs);
}

/*
 * Kernel-area roots: create, pool exhaustion, adopt with the cookie,
 * rebuild by claims, release. The phys base is arbitrary: nothing maps it.
 */
static void pkernfs_test_kroot(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0x100000000ULL);
	struct pkernfs_sb_info *sbi = &fs->sbi;
	struct pkernfs_kroot *a, *b;
	phys_addr_t pa, first, p2;
	unsigned long n = 0;
	void *va;

	KUNIT_ASSERT_EQ(test, pkernfs_kdir_validate(sbi), 0);
	a = pkernfs_kroot_create_sbi(sbi, "kunit/a", 0xa11ce, 8);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_create_sbi(sbi, "kunit/a", 1, 1)), -EEXIST);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_create_sbi(sbi, "", 1, 1)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_create_sbi(sbi, "kunit/huge", 1, 1UL << 40)),
			-ENOSPC);
	b = pkernfs_kroot_create_sbi(sbi, "kunit/b", 0xb0b, 4);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), 2);
	/* Laid side by side, never overlapping. */
	KUNIT_EXPECT_FALSE(test, pkernfs_kroot_contains(a, pkernfs_kroot_phys(b)));
	KUNIT_EXPECT_FALSE(test, pkernfs_kroot_contains(b, pkernfs_kroot_phys(a) + 7 * PAGE_SIZE));

	/* The pool hands out each page once, zeroed, then nothing. */
	first = 0;
	while ((va = pkernfs_kroot_page_alloc(a, &pa))) {
		KUNIT_EXPECT_TRUE(test, pkernfs_kroot_contains(a, pa));
		KUNIT_EXPECT_PTR_EQ(test, va, pkernfs_kroot_page_va(a, pa));
		KUNIT_EXPECT_TRUE(test, !memchr_inv(va, 0, PAGE_SIZE));
		memset(va, 0x5a, PAGE_SIZE);
		if (!n)
			first = pa;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 8ul);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_free_pages(a), 0ul);
	pkernfs_kroot_page_free(a, first + 3 * PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, pkernfs_kroot_page_alloc(a, &p2));
	KUNIT_EXPECT_EQ(test, p2, first + 3 * PAGE_SIZE);

	/* Reserved pages: kept from plain allocations, not from their user. */
	pkernfs_kroot_page_free(a, first + 3 * PAGE_SIZE);
	pkernfs_kroot_page_free(a, first + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserve(a, 3, false), -ENOSPC);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserve(a, 1, false), 0);
	KUNIT_EXPECT_NOT_NULL(test, pkernfs_kroot_page_alloc(a, &p2));
	KUNIT_EXPECT_NULL(test, pkernfs_kroot_page_alloc(a, &pa));
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserve(a, 1, false), -ENOSPC);
	/* Past the free pages, for a caller about to free some. */
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserve(a, 2, true), 0);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserved_pages(a), 3ul);
	KUNIT_EXPECT_NOT_NULL(test, pkernfs_kroot_page_alloc_reserved(a, &pa));
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserved_pages(a), 2ul);
	KUNIT_EXPECT_NULL(test, pkernfs_kroot_page_alloc_reserved(a, &pa));
	pkernfs_kroot_unreserve(a, 2);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_reserved_pages(a), 0ul);

	/* "Kexec": drop the handle; the entry stays on media. */
	pkernfs_kroot_put(a);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_adopt_sbi(sbi, "kunit/a", 0xbad)),
			-EKEYREJECTED);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_adopt_sbi(sbi, "kunit/none", 0)), -ENOENT);
	a = pkernfs_kroot_adopt_sbi(sbi, "kunit/a", 0xa11ce);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_adopt_sbi(sbi, "kunit/a", 0xa11ce)), -EBUSY);
	/* Closed until rebuilt. */
	KUNIT_EXPECT_NULL(test, pkernfs_kroot_page_alloc(a, &pa));
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_claim(a, first + PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_claim(a, first + PAGE_SIZE), -EEXIST);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_claim(a, first + 8 * PAGE_SIZE), -ERANGE);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_claim(a, first + 1), -ERANGE);
	pkernfs_kroot_ready(a);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_claim(a, first), -EBUSY);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_free_pages(a), 7ul);
	n = 0;
	while ((va = pkernfs_kroot_page_alloc(a, &pa))) {
		KUNIT_EXPECT_NE(test, pa, first + PAGE_SIZE);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 7ul);

	/* An owner of a newer layout gives it its cookie: adopted by that one only. */
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_recookie_sbi(sbi, a, 0xa11cf), 0);
	pkernfs_kroot_put(a);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_adopt_sbi(sbi, "kunit/a", 0xa11ce)),
			-EKEYREJECTED);
	a = pkernfs_kroot_adopt_sbi(sbi, "kunit/a", 0xa11cf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), 2);
	pkernfs_kroot_ready(a);

	KUNIT_EXPECT_EQ(test, pkernfs_kroot_release(a), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pkernfs_kroot_adopt_sbi(sbi, "kunit/a", 0xa11ce)), -ENOENT);
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), 1);
	KUNIT_EXPECT_EQ(test, pkernfs_kroot_release(b), 0);
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), 0);
	kt_teardown(fs);
}

/* Mount refuses a directory whose live entries overlap or share a name. */
static void pkernfs_test_kdir_validate(struct kunit *test)
{
	struct kt_fs *fs = kt_setup(test, 0);
	struct pkernfs_sb_info *sbi = &fs->sbi;
	struct pkernfs_kdir_entry *k = sbi->kdir;

	k[0].k_start = cpu_to_le64(0);
	k[0].k_npages = cpu_to_le64(4);
	strscpy(k[0].k_name, "x", sizeof(k[0].k_name));
	pkernfs_kdir_set_crc(&k[0]);
	k[5] = k[0];
	k[5].k_start = cpu_to_le64(3);
	strscpy(k[5].k_name, "y", sizeof(k[5].k_name));
	pkernfs_kdir_set_crc(&k[5]);
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), -EFSCORRUPTED);
	k[5].k_start = cpu_to_le64(4);
	pkernfs_kdir_set_crc(&k[5]);
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), 2);
	strscpy(k[5].k_name, "x", sizeof(k[5].k_name));
	pkernfs_kdir_set_crc(&k[5]);
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), -EFSCORRUPTED);
	k[5].k_cookie = cpu_to_le64(1);	/* crc now stale */
	KUNIT_EXPECT_EQ(test, pkernfs_kdir_validate(sbi), -EFSCORRUPTED);
	kt_teardown(fs);
}

static struct kunit_case pkernfs_test_cases[] = {
	KUNIT_CASE(pkernfs_test_format_checks),
	KUNIT_CASE(pkernfs_test_alloc_aligned),
	KUNIT_CASE(pkernfs_test_alloc_fragmented),
	KUNIT_CASE(pkernfs_test_alloc_enospc),
	KUNIT_CASE(pkernfs_test_set_aus_txn),
	KUNIT_CASE(pkernfs_test_journal_replay),
	KUNIT_CASE(pkernfs_test_txn_full),
	KUNIT_CASE(pkernfs_test_kroot),
	KUNIT_CASE(pkernfs_test_kdir_validate),
	{}
};

static struct kunit_suite pkernfs_test_suite = {
	.name = "pkernfs",
	.test_cases = pkernfs_test_cases,
};

kunit_test_suite(pkernfs_test_suite);
