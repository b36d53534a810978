// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the extent logic in extent.c: allocation, merging,
 * cutting and splitting, and the refusal to free memory a pin still
 * references. Included at the end of extent.c (as ext4's mballoc-test.c
 * is), so the static functions are reachable. The image is a 4 MiB physically
 * contiguous allocation with 4 KiB AUs, so the pages are real pages.
 */
#include <kunit/test.h>

#define ET_ORDER	10
#define ET_SIZE		(PAGE_SIZE << ET_ORDER)

struct et_fs {
	struct page *pages;
	struct pkernfs_region region;
	struct pkernfs_sb_info sbi;
	struct pkernfs_super sb;
	struct super_block vsb;
	struct pkernfs_inode_info pi;
};

static struct et_fs *et_setup(struct kunit *test)
{
	struct pkernfs_mkfs_params p = { .au_shift = PAGE_SHIFT, .time = 1 };
	const char *why = NULL;
	struct et_fs *fs;

	fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs);
	fs->pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, ET_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, fs->pages);
	/* Each page idle at refcount 1, as a ZONE_DEVICE page is. */
	split_page(fs->pages, ET_ORDER);
	fs->region.phys = PFN_PHYS(page_to_pfn(fs->pages));
	fs->region.size = ET_SIZE;
	fs->sbi.region = &fs->region;
	fs->sbi.base = page_address(fs->pages);
	fs->sbi.size = ET_SIZE;
	fs->sbi.source = "kunit-extents";
	mutex_init(&fs->sbi.lock);
	KUNIT_ASSERT_EQ(test, pkernfs_format(fs->sbi.base, ET_SIZE, &p, &fs->sb, &why), 0);
	fs->sbi.dsb = (struct pkernfs_super *)fs->sbi.base;
	pkernfs_geometry(&fs->sbi);
	fs->sbi.au_used = bitmap_zalloc(fs->sbi.nr_aus, GFP_KERNEL);
	fs->sbi.extent_used = bitmap_zalloc(fs->sbi.nr_extents, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs->sbi.au_used);
	KUNIT_ASSERT_NOT_NULL(test, fs->sbi.extent_used);
	bitmap_set(fs->sbi.au_used, 0, fs->sbi.data_first_au);
	fs->sbi.free_aus = fs->sbi.nr_aus - fs->sbi.data_first_au;
	fs->sbi.ino_used = bitmap_zalloc(fs->sbi.nr_inodes, GFP_KERNEL);
	fs->sbi.dirent_used = bitmap_zalloc(fs->sbi.nr_dirents, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs->sbi.ino_used);
	KUNIT_ASSERT_NOT_NULL(test, fs->sbi.dirent_used);
	fs->sbi.slot_used[PKERNFS_HWM_INODES] = fs->sbi.ino_used;
	fs->sbi.slot_used[PKERNFS_HWM_DIRENTS] = fs->sbi.dirent_used;
	fs->sbi.slot_used[PKERNFS_HWM_EXTENTS] = fs->sbi.extent_used;

	fs->vsb.s_fs_info = &fs->sbi;
	pkernfs_init_extents(&fs->pi, &fs->sbi);
	fs->pi.gen = 1;
	fs->pi.vfs_inode.i_sb = &fs->vsb;
	fs->pi.vfs_inode.i_ino = 5;
	return fs;
}

static void et_teardown(struct et_fs *fs)
{
	unsigned long i;

	pkernfs_destroy_extents(&fs->pi.vfs_inode);
	bitmap_free(fs->sbi.au_used);
	bitmap_free(fs->sbi.extent_used);
	bitmap_free(fs->sbi.ino_used);
	bitmap_free(fs->sbi.dirent_used);
	for (i = 0; i < 1UL << ET_ORDER; i++)
		__free_page(fs->pages + i);
}

static u32 et_count_exts(struct et_fs *fs)
{
	struct pkernfs_ext *ext;
	unsigned long idx = 0;
	u32 n = 0;

	mt_for_each(&fs->pi.extents, ext, idx, ULONG_MAX)
		n++;
	return n;
}

/* Media and memory agree: every extent record matches the in-memory map. */
static void et_expect_consistent(struct kunit *test, struct et_fs *fs)
{
	struct pkernfs_sb_info *sbi = &fs->sbi;
	u32 i, used = 0;
	const char *why;

	for (i = 0; i < sbi->nr_extents; i++) {
		struct pkernfs_extent *e = &sbi->etab[i];
		struct pkernfs_ext *ext;

		KUNIT_EXPECT_EQ(test, pkernfs_extent_check(sbi->dsb, e, &why), 0);
		if (!le64_to_cpu(e->e_ino)) {
			KUNIT_EXPECT_FALSE(test, test_bit(i, sbi->extent_used));
			continue;
		}
		used++;
		ext = mtree_load(&fs->pi.extents, le32_to_cpu(e->e_lblk));
		KUNIT_ASSERT_NOT_NULL(test, ext);
		KUNIT_EXPECT_EQ(test, ext->slot, i);
		KUNIT_EXPECT_EQ(test, ext->len, le32_to_cpu(e->e_len));
		KUNIT_EXPECT_EQ(test, ext->start, le64_to_cpu(e->e_start));
	}
	KUNIT_EXPECT_EQ(test, used, et_count_exts(fs));
}

static void pkernfs_test_extent_merge(struct kunit *test)
{
	struct et_fs *fs = et_setup(test);
	struct inode *inode = &fs->pi.vfs_inode;
	struct pkernfs_ext *ext;
	u64 free0 = fs->sbi.free_aus;

	mutex_lock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, pkernfs_alloc_run(inode, 0, 2), 0);
	/* Appending right after lands next to it physically and merges. */
	KUNIT_EXPECT_EQ(test, pkernfs_alloc_run(inode, 2, 3), 0);
	mutex_unlock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, et_count_exts(fs), 1u);
	ext = mtree_load(&fs->pi.extents, 4);
	KUNIT_ASSERT_NOT_NULL(test, ext);
	KUNIT_EXPECT_EQ(test, ext->lblk, 0u);
	KUNIT_EXPECT_EQ(test, ext->len, 5u);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0 - 5);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)5 << (PAGE_SHIFT - 9));
	et_expect_consistent(test, fs);
	et_teardown(fs);
}

/* A hole in the middle splits one extent into two records. */
static void pkernfs_test_extent_split(struct kunit *test)
{
	struct et_fs *fs = et_setup(test);
	struct inode *inode = &fs->pi.vfs_inode;
	struct pkernfs_ext *ext;
	u64 start, free0 = fs->sbi.free_aus;

	mutex_lock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, pkernfs_alloc_run(inode, 0, 8), 0);
	mutex_unlock(&fs->sbi.lock);
	start = mtree_load(&fs->pi.extents, 0) ? ((struct pkernfs_ext *)
		mtree_load(&fs->pi.extents, 0))->start : 0;
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 3, 5), 0);
	KUNIT_EXPECT_EQ(test, et_count_exts(fs), 2u);
	KUNIT_EXPECT_NULL(test, mtree_load(&fs->pi.extents, 3));
	KUNIT_EXPECT_NULL(test, mtree_load(&fs->pi.extents, 4));
	ext = mtree_load(&fs->pi.extents, 5);
	KUNIT_ASSERT_NOT_NULL(test, ext);
	KUNIT_EXPECT_EQ(test, ext->start, start + 5);
	KUNIT_EXPECT_EQ(test, ext->len, 3u);
	KUNIT_EXPECT_FALSE(test, test_bit(start + 3, fs->sbi.au_used));
	KUNIT_EXPECT_TRUE(test, test_bit(start + 5, fs->sbi.au_used));
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0 - 6);
	et_expect_consistent(test, fs);

	/* Trimming the head and the tail, then everything. */
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 7, 100), 0);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0 - 4);
	et_expect_consistent(test, fs);
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 0, U32_MAX), 0);
	KUNIT_EXPECT_EQ(test, et_count_exts(fs), 0u);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)0);
	et_expect_consistent(test, fs);
	et_teardown(fs);
}

/* A DMA pin blocks the free of its range at once. */
static void pkernfs_test_extent_busy(struct kunit *test)
{
	struct et_fs *fs = et_setup(test);
	struct inode *inode = &fs->pi.vfs_inode;
	struct folio *folio;
	struct pkernfs_ext *ext;
	u64 free0;

	mutex_lock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, pkernfs_alloc_run(inode, 0, 4), 0);
	mutex_unlock(&fs->sbi.lock);
	free0 = fs->sbi.free_aus;
	ext = mtree_load(&fs->pi.extents, 2);
	KUNIT_ASSERT_NOT_NULL(test, ext);
	folio = page_folio(pfn_to_page(PHYS_PFN(pkernfs_au_phys(&fs->sbi, ext->start + 2))));
	/* What pin_user_pages() does to a small folio. */
	folio_ref_add(folio, GUP_PIN_COUNTING_BIAS);
	KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(folio));
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 0, 4), -EBUSY);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0);
	KUNIT_EXPECT_EQ(test, et_count_exts(fs), 1u);
	/* Freeing around the pinned AU is fine. */
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 3, 4), 0);
	folio_ref_sub(folio, GUP_PIN_COUNTING_BIAS);
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0 + 4);
	et_expect_consistent(test, fs);
	et_teardown(fs);
}

struct et_put {
	struct delayed_work work;
	struct page *page;
};

static void et_put_fn(struct work_struct *work)
{
	struct et_put *p = container_of(to_delayed_work(work), struct et_put, work);

	put_page(p->page);
}

/*
 * A transient reference (not a pin) is waited out: the free succeeds
 * once it is dropped; one that is never dropped gives -EBUSY.
 */
static void pkernfs_test_extent_transient(struct kunit *test)
{
	struct et_fs *fs = et_setup(test);
	struct inode *inode = &fs->pi.vfs_inode;
	struct et_put put;
	struct pkernfs_ext *ext;
	struct page *page;
	u64 free0;

	mutex_lock(&fs->sbi.lock);
	KUNIT_EXPECT_EQ(test, pkernfs_alloc_run(inode, 0, 2), 0);
	mutex_unlock(&fs->sbi.lock);
	free0 = fs->sbi.free_aus;
	ext = mtree_load(&fs->pi.extents, 1);
	KUNIT_ASSERT_NOT_NULL(test, ext);
	page = pfn_to_page(PHYS_PFN(pkernfs_au_phys(&fs->sbi, ext->start + 1)));

	get_page(page);
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 1, 2), -EBUSY);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0);

	put.page = page;
	INIT_DELAYED_WORK_ONSTACK(&put.work, et_put_fn);
	schedule_delayed_work(&put.work, msecs_to_jiffies(50));
	KUNIT_EXPECT_EQ(test, pkernfs_free_range(inode, 1, 2), 0);
	flush_delayed_work(&put.work);
	destroy_delayed_work_on_stack(&put.work);
	KUNIT_EXPECT_EQ(test, fs->sbi.free_aus, free0 + 1);
	et_expect_consistent(test, fs);
	et_teardown(fs);
}

/*
 * A slot taken at the high-water mark raises it on media at once, in its
 * own transaction; one past what mount checked is checked when taken, and
 * a damaged one (free by the mark) is cleared; the mark comes down to what
 * is in use.
 */
static void pkernfs_test_slot_hwm(struct kunit *test)
{
	struct et_fs *fs = et_setup(test);
	struct pkernfs_sb_info *sbi = &fs->sbi;
	struct pkernfs_super *media = (struct pkernfs_super *)sbi->base;
	u32 nr = sbi->nr_extents, slot, i;

	KUNIT_ASSERT_GT(test, nr, 8u);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(media->s_hwm[PKERNFS_HWM_EXTENTS]),
			min(nr, PKERNFS_HWM_STEP));
	/* As if an earlier mount had lowered it to 2 and checked only those. */
	media->s_hwm[PKERNFS_HWM_EXTENTS] = cpu_to_le32(2);
	sbi->slot_checked[PKERNFS_HWM_EXTENTS] = 2;
	sbi->etab[3].e_crc = cpu_to_le32(0xbad);

	mutex_lock(&sbi->lock);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, pkernfs_take_slot(sbi, PKERNFS_HWM_EXTENTS, 0, &slot), 0);
		KUNIT_EXPECT_EQ(test, slot, i);
		KUNIT_EXPECT_EQ(test, le32_to_cpu(media->s_hwm[PKERNFS_HWM_EXTENTS]), 2u);
	}
	KUNIT_EXPECT_EQ(test, pkernfs_take_slot(sbi, PKERNFS_HWM_EXTENTS, 0, &slot), 0);
	KUNIT_EXPECT_EQ(test, slot, 2u);
	KUNIT_EXPECT_EQ(test, sbi->txn.nrec, 0u);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(media->s_hwm[PKERNFS_HWM_EXTENTS]),
			min(nr, PKERNFS_HWM_STEP));
	KUNIT_EXPECT_EQ(test, pkernfs_super_check(media, ET_SIZE, NULL), 0);
	/* Slot 3 is damaged but free by the mark: cleared, and handed out. */
	KUNIT_EXPECT_EQ(test, pkernfs_take_slot(sbi, PKERNFS_HWM_EXTENTS, 0, &slot), 0);
	KUNIT_EXPECT_EQ(test, slot, 3u);
	KUNIT_EXPECT_EQ(test, sbi->txn.nrec, 0u);
	KUNIT_EXPECT_EQ(test, pkernfs_extent_check(media, &sbi->etab[3], NULL), 0);
	KUNIT_EXPECT_EQ(test, pkernfs_take_slot(sbi, PKERNFS_HWM_EXTENTS, 0, &slot), 0);
	KUNIT_EXPECT_EQ(test, slot, 4u);

	bitmap_zero(sbi->extent_used, nr);
	pkernfs_hwm_lower(sbi, media);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(media->s_hwm[PKERNFS_HWM_EXTENTS]),
			min(nr, PKERNFS_HWM_STEP));
	mutex_unlock(&sbi->lock);
	et_teardown(fs);
}

static struct kunit_case pkernfs_extent_test_cases[] = {
	KUNIT_CASE(pkernfs_test_slot_hwm),
	KUNIT_CASE(pkernfs_test_extent_merge),
	KUNIT_CASE(pkernfs_test_extent_split),
	KUNIT_CASE(pkernfs_test_extent_busy),
	KUNIT_CASE(pkernfs_test_extent_transient),
	{}
};

static struct kunit_suite pkernfs_extent_test_suite = {
	.name = "pkernfs-extents",
	.test_cases = pkernfs_extent_test_cases,
};

kunit_test_suite(pkernfs_extent_test_suite);
