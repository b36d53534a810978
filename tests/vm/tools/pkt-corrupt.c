// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-corrupt: damage one pkernfs structure on purpose, for the bad-input
 * tests. It finds structures with the shared format code, so the damage
 * lands exactly where meant.
 *
 *   pkt-corrupt DEV SIZE WHAT
 *
 * DEV is a device dax node or an image file, SIZE its size in bytes.
 * WHAT: magic | sb-crc | major | incompat | root-inode | dirent | extent |
 *       bitmap | journal-torn | foreign
 *   or, with every crc recomputed so that only the kernel's semantic checks
 *   can catch them:
 *       huge-extent         an orphan file with one extent longer than a
 *                           bitmap block covers (needs a 4 KiB-AU image)
 *       journal-geometry    a committed transaction whose superblock image
 *                           doubles the device size
 *       journal-empty-torn  an EMPTY head with a stale crc (not damage)
 *       rocompat            an unknown read-only-compatible feature bit
 *       kdir-live           a live kernel-area entry in kdir slot 0
 *       kdir-clear          every kdir slot zeroed (undoes kdir-live)
 *       dup-name            a second name, equal to a first, in one directory
 *       isize-big           a file's size past the largest file (s_maxbytes)
 *       no-hwm              the high-water marks dropped (RO_COMPAT_HWM
 *                           cleared): a mount reads every slot again, as
 *                           format 1.1 did; for the mount benchmark
 *       past-hwm            a bad checksum in the free inode slot at the
 *                           inode table's high-water mark, which a mount
 *                           does not read
 *       old-writer          what a kernel of format 1.0 or 1.1 leaves when
 *                           it writes past the marks (a rollback that
 *                           remounted read-write): the marks back at their
 *                           floor, the journal's sequence moved on and its
 *                           j_hwm_seq left behind
 *       pending-tail        not damage: a committed, unapplied transaction
 *                           (a crash after the commit) appending one AU to
 *                           the first file, its extent in the first slot
 *                           past the extent table's high-water mark and
 *                           the mark raised over it, as a kernel's append
 *                           that took a slot there commits it
 *   or prints, in decimal: print-kernel-off | print-data-off
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pkernfs_user.h"
#include "format.h"

static uint64_t roff(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].off);
}

static uint32_t rcount(const struct pkernfs_super *sb, int r)
{
	return le32_to_cpu(sb->s_regions[r].count);
}

/* More AUs than one bitmap block covers (PKERNFS_BITS_PER_BMAP = 32704). */
#define HUGE_AUS	40000u

static struct pkernfs_inode *itab(uint8_t *b, const struct pkernfs_super *sb)
{
	return (void *)(b + roff(sb, PKERNFS_R_INODES));
}

static struct pkernfs_dirent *dtab(uint8_t *b, const struct pkernfs_super *sb)
{
	return (void *)(b + roff(sb, PKERNFS_R_DIRENTS));
}

static struct pkernfs_bmap_block *bmap(uint8_t *b, const struct pkernfs_super *sb,
				       uint64_t au)
{
	return (void *)(b + roff(sb, PKERNFS_R_BITMAP) +
			au / PKERNFS_BITS_PER_BMAP * PKERNFS_BLOCK_SIZE);
}

static int au_used(uint8_t *b, const struct pkernfs_super *sb, uint64_t au)
{
	uint64_t bit = au % PKERNFS_BITS_PER_BMAP;

	return bmap(b, sb, au)->b_bits[bit / 8] >> (bit % 8) & 1;
}

static int inode_used(const struct pkernfs_inode *di)
{
	return le16_to_cpu(di->i_flags) & PKERNFS_INODE_USED;
}

/*
 * First free run of HUGE_AUS data AUs, preferring one that spans three
 * bitmap blocks: freeing it is what overruns a two-block assumption.
 */
static int huge_run(uint8_t *b, const struct pkernfs_super *sb, uint64_t *start)
{
	uint64_t first = roff(sb, PKERNFS_R_DATA) >> le32_to_cpu(sb->s_au_shift);
	uint64_t nr = le64_to_cpu(sb->s_nr_aus), au, k;
	int three;

	for (three = 1; three >= 0; three--) {
		for (au = first; au + HUGE_AUS <= nr; au++) {
			if (three && au % PKERNFS_BITS_PER_BMAP + HUGE_AUS <= 2 * PKERNFS_BITS_PER_BMAP)
				continue;
			for (k = au; k < au + HUGE_AUS && !au_used(b, sb, k); k++)
				;
			if (k == au + HUGE_AUS) {
				*start = au;
				return 0;
			}
			au = k;
		}
	}
	return -1;
}

static int huge_extent(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_extent *et = (void *)(b + roff(sb, PKERNFS_R_EXTENTS));
	struct pkernfs_inode *it = itab(b, sb), *di = NULL;
	struct pkernfs_extent *e = NULL;
	uint64_t start, au;
	uint32_t i;

	if (huge_run(b, sb, &start)) {
		fprintf(stderr, "no free run of %u AUs: format with au=4K\n", HUGE_AUS);
		return 1;
	}
	for (i = PKERNFS_ROOT_INO + 1; i < rcount(sb, PKERNFS_R_INODES) && !di; i++)
		if (!inode_used(&it[i]))
			di = &it[i];
	for (i = 0; i < rcount(sb, PKERNFS_R_EXTENTS) && !e; i++)
		if (!et[i].e_ino)
			e = &et[i];
	if (!di || !e) {
		fprintf(stderr, "no free inode or extent slot\n");
		return 1;
	}
	/* An unlinked file the next mount must free: used, no links, no name. */
	i = (uint32_t)(di - it);
	memset(di, 0, sizeof(*di));
	di->i_gen = cpu_to_le32(7);
	di->i_ino = cpu_to_le64(i);
	di->i_mode = cpu_to_le16(S_IFREG | 0644);
	di->i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	di->i_size = cpu_to_le64((uint64_t)HUGE_AUS << le32_to_cpu(sb->s_au_shift));
	pkernfs_inode_set_crc(di);

	memset(e, 0, sizeof(*e));
	e->e_ino = cpu_to_le64(i);
	e->e_ino_gen = di->i_gen;
	e->e_len = cpu_to_le32(HUGE_AUS);
	e->e_start = cpu_to_le64(start);
	pkernfs_extent_set_crc(e);

	for (au = start; au < start + HUGE_AUS; au++) {
		uint64_t bit = au % PKERNFS_BITS_PER_BMAP;

		bmap(b, sb, au)->b_bits[bit / 8] |= 1u << (bit % 8);
	}
	for (au = start; au < start + HUGE_AUS; au += PKERNFS_BITS_PER_BMAP)
		pkernfs_bmap_set_crc(bmap(b, sb, au));
	pkernfs_bmap_set_crc(bmap(b, sb, start + HUGE_AUS - 1));
	printf("orphan inode %u, extent %u: AUs %llu..%llu\n", i,
	       (uint32_t)(e - et), (unsigned long long)start,
	       (unsigned long long)(start + HUGE_AUS - 1));
	return 0;
}

/* A committed transaction of one superblock image that resizes the device. */
static void journal_geometry(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_journal_head *jh = (void *)(b + roff(sb, PKERNFS_R_JOURNAL));
	struct pkernfs_journal_rec *jr = (void *)(jh + 1);
	struct pkernfs_super *img = (void *)(jr + 1);

	memset(jr, 0, sizeof(*jr));
	jr->jr_table = cpu_to_le16(PKERNFS_T_SUPER);
	jr->jr_len = cpu_to_le32(sizeof(*img));
	memcpy(img, sb, sizeof(*img));
	img->s_size = cpu_to_le64(2 * le64_to_cpu(sb->s_size));
	img->s_nr_aus = cpu_to_le64(2 * le64_to_cpu(sb->s_nr_aus));
	pkernfs_super_set_crc(img);

	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 1);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(1);
	jh->j_bytes = cpu_to_le32(sizeof(*jr) + sizeof(*img));
	pkernfs_journal_set_crc(jh);
}

/* Stage record @index of @table in @jh's transaction; returns its image. */
static void *jt_add(struct pkernfs_journal_head *jh, uint16_t table, uint64_t index,
		    const void *image, uint32_t len)
{
	uint32_t bytes = le32_to_cpu(jh->j_bytes);
	struct pkernfs_journal_rec *jr = (void *)((uint8_t *)(jh + 1) + bytes);

	memset(jr, 0, sizeof(*jr));
	jr->jr_table = cpu_to_le16(table);
	jr->jr_len = cpu_to_le32(len);
	jr->jr_index = cpu_to_le64(index);
	memcpy(jr + 1, image, len);
	jh->j_bytes = cpu_to_le32(bytes + sizeof(*jr) + len);
	jh->j_nrec = cpu_to_le32(le32_to_cpu(jh->j_nrec) + 1);
	return jr + 1;
}

static int pending_tail(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_journal_head *jh = (void *)(b + roff(sb, PKERNFS_R_JOURNAL));
	struct pkernfs_extent *et = (void *)(b + roff(sb, PKERNFS_R_EXTENTS)), ne;
	uint32_t shift = le32_to_cpu(sb->s_au_shift), ne_nr = rcount(sb, PKERNFS_R_EXTENTS);
	uint32_t slot = le32_to_cpu(sb->s_hwm[PKERNFS_HWM_EXTENTS]), end = 0, i;
	uint64_t ino = 0, au, bit, nr = le64_to_cpu(sb->s_nr_aus);
	struct pkernfs_bmap_block blk;
	struct pkernfs_inode di;
	struct pkernfs_super img;

	for (i = 0; i < ne_nr && !ino; i++)
		ino = le64_to_cpu(et[i].e_ino);
	if (!ino || slot >= ne_nr || et[slot].e_ino) {
		fprintf(stderr, "pending-tail: no file, or no free slot at the mark\n");
		return 1;
	}
	for (i = 0; i < ne_nr; i++)
		if (le64_to_cpu(et[i].e_ino) == ino &&
		    le32_to_cpu(et[i].e_lblk) + le32_to_cpu(et[i].e_len) > end)
			end = le32_to_cpu(et[i].e_lblk) + le32_to_cpu(et[i].e_len);
	for (au = roff(sb, PKERNFS_R_DATA) >> shift; au < nr && au_used(b, sb, au); au++)
		;
	if (au == nr) {
		fprintf(stderr, "pending-tail: no free AU\n");
		return 1;
	}
	memset(&ne, 0, sizeof(ne));
	ne.e_ino = cpu_to_le64(ino);
	ne.e_ino_gen = itab(b, sb)[ino].i_gen;
	ne.e_lblk = cpu_to_le32(end);
	ne.e_len = cpu_to_le32(1);
	ne.e_start = cpu_to_le64(au);
	pkernfs_extent_set_crc(&ne);
	di = itab(b, sb)[ino];
	di.i_size = cpu_to_le64((uint64_t)(end + 1) << shift);
	pkernfs_inode_set_crc(&di);
	blk = *bmap(b, sb, au);
	bit = au % PKERNFS_BITS_PER_BMAP;
	blk.b_bits[bit / 8] |= 1u << (bit % 8);
	pkernfs_bmap_set_crc(&blk);
	img = *sb;
	img.s_hwm[PKERNFS_HWM_EXTENTS] = cpu_to_le32(slot + PKERNFS_HWM_STEP < ne_nr ?
						     slot + PKERNFS_HWM_STEP : ne_nr);
	pkernfs_super_set_crc(&img);

	jh->j_nrec = 0;
	jh->j_bytes = 0;
	jt_add(jh, PKERNFS_T_SUPER, 0, &img, sizeof(img));
	jt_add(jh, PKERNFS_T_EXTENT, slot, &ne, sizeof(ne));
	jt_add(jh, PKERNFS_T_INODE, ino, &di, sizeof(di));
	jt_add(jh, PKERNFS_T_BMAP, au / PKERNFS_BITS_PER_BMAP, &blk, sizeof(blk));
	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 1);
	jh->j_hwm_seq = jh->j_seq;
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	pkernfs_journal_set_crc(jh);
	printf("inode %llu: AU %llu at block %u, extent slot %u\n", (unsigned long long)ino,
	       (unsigned long long)au, end, slot);
	return 0;
}

/*
 * Emptying stores the state and counts before the crc: a crash between
 * leaves an EMPTY head still carrying the crc of the committed one.
 */
static void journal_empty_torn(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_journal_head *jh = (void *)(b + roff(sb, PKERNFS_R_JOURNAL));
	struct pkernfs_journal_rec *jr = (void *)(jh + 1);

	memset(jr, 0, sizeof(*jr));
	jr->jr_table = cpu_to_le16(PKERNFS_T_SUPER);
	jr->jr_len = cpu_to_le32(sizeof(*sb));
	memcpy(jr + 1, sb, sizeof(*sb));
	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 1);
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(1);
	jh->j_bytes = cpu_to_le32(sizeof(*jr) + sizeof(*sb));
	pkernfs_journal_set_crc(jh);
	jh->j_state = cpu_to_le32(PKERNFS_J_EMPTY);
	jh->j_nrec = 0;
	jh->j_bytes = 0;
}

static void kdir_live(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_kdir_entry *ke = (void *)(b + roff(sb, PKERNFS_R_KDIR));

	memset(ke, 0, sizeof(*ke));
	ke->k_npages = cpu_to_le64(1);
	strcpy((char *)ke->k_name, "intel-iommu/test");
	pkernfs_kdir_set_crc(ke);
}

/*
 * Name B's inode with A's name in A's directory, in a free slot, and give
 * it the extra link: only the repeated name is wrong.
 */
static int dup_name(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_dirent *dt = dtab(b, sb), *a = NULL, *bb = NULL, *c = NULL;
	uint32_t n = rcount(sb, PKERNFS_R_DIRENTS), i, j;
	struct pkernfs_inode *di;

	for (i = 0; i < n && !bb; i++) {
		if (!dt[i].d_parent || dt[i].d_type != DT_REG)
			continue;
		for (j = i + 1; j < n && !bb; j++) {
			if (dt[j].d_parent == dt[i].d_parent && dt[j].d_type == DT_REG &&
			    dt[j].d_ino != dt[i].d_ino) {
				a = &dt[i];
				bb = &dt[j];
			}
		}
	}
	for (i = 0; i < n && !c; i++)
		if (!dt[i].d_parent)
			c = &dt[i];
	if (!bb || !c) {
		fprintf(stderr, "need two files in one directory and a free dirent\n");
		return 1;
	}
	*c = *a;
	c->d_ino = bb->d_ino;
	c->d_ino_gen = bb->d_ino_gen;
	pkernfs_dirent_set_crc(c);
	di = &itab(b, sb)[le64_to_cpu(bb->d_ino)];
	di->i_nlink = cpu_to_le32(le32_to_cpu(di->i_nlink) + 1);
	pkernfs_inode_set_crc(di);
	printf("dirent %u repeats dirent %u's name for inode %llu\n", (uint32_t)(c - dt),
	       (uint32_t)(a - dt), (unsigned long long)le64_to_cpu(bb->d_ino));
	return 0;
}

/* One byte past 2^32 AUs: no 32-bit file AU index reaches it. */
static int isize_big(uint8_t *b, struct pkernfs_super *sb)
{
	struct pkernfs_inode *it = itab(b, sb);
	uint32_t i;

	for (i = PKERNFS_ROOT_INO + 1; i < rcount(sb, PKERNFS_R_INODES); i++) {
		if (!inode_used(&it[i]) || !S_ISREG(le16_to_cpu(it[i].i_mode)) ||
		    !it[i].i_nlink)
			continue;
		it[i].i_size = cpu_to_le64((1ULL << (32 + le32_to_cpu(sb->s_au_shift))) + 1);
		pkernfs_inode_set_crc(&it[i]);
		printf("inode %u: size %llu\n", i, (unsigned long long)le64_to_cpu(it[i].i_size));
		return 0;
	}
	fprintf(stderr, "no regular file to damage\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct pkernfs_super *sb;
	const char *what;
	uint64_t size;
	uint32_t i;
	uint8_t *b;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: pkt-corrupt DEV SIZE WHAT\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 0);
	what = argv[3];
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sb = (struct pkernfs_super *)b;

	/* The semantic kinds and the prints trust the geometry: check it first. */
	if (!strncmp(what, "print-", 6) || !strcmp(what, "huge-extent") ||
	    !strcmp(what, "journal-geometry") || !strcmp(what, "journal-empty-torn") ||
	    !strncmp(what, "kdir-", 5) ||
	    !strcmp(what, "rocompat") || !strcmp(what, "dup-name") ||
	    !strcmp(what, "isize-big") || !strcmp(what, "past-hwm") || !strcmp(what, "no-hwm") ||
	    !strcmp(what, "old-writer") || !strcmp(what, "pending-tail")) {
		const char *why = NULL;
		int err = pkernfs_super_check(sb, size, &why);

		if (err && err != -EROFS) {
			fprintf(stderr, "not a usable pkernfs image: %s\n", why);
			return 1;
		}
	}

	if (!strcmp(what, "magic")) {
		sb->s_magic ^= cpu_to_le64(1);
	} else if (!strcmp(what, "sb-crc")) {
		sb->s_label[5] ^= 0x20;
	} else if (!strcmp(what, "major")) {
		sb->s_major = cpu_to_le16(PKERNFS_MAJOR + 1);
		pkernfs_super_set_crc(sb);
	} else if (!strcmp(what, "incompat")) {
		sb->s_feature_incompat |= cpu_to_le32(0x80000000u);
		pkernfs_super_set_crc(sb);
	} else if (!strcmp(what, "root-inode")) {
		struct pkernfs_inode *it = (void *)(b + roff(sb, PKERNFS_R_INODES));

		it[PKERNFS_ROOT_INO].i_uid ^= cpu_to_le32(1);
	} else if (!strcmp(what, "dirent") || !strcmp(what, "extent")) {
		int dirent = !strcmp(what, "dirent");
		int r = dirent ? PKERNFS_R_DIRENTS : PKERNFS_R_EXTENTS;
		uint32_t sz = dirent ? sizeof(struct pkernfs_dirent) :
				       sizeof(struct pkernfs_extent);
		uint8_t *t = b + roff(sb, r);

		for (i = 0; i < rcount(sb, r); i++) {
			uint8_t *rec = t + (uint64_t)i * sz;

			if (dirent ? ((struct pkernfs_dirent *)rec)->d_parent :
				     ((struct pkernfs_extent *)rec)->e_ino) {
				rec[sz - 1 - (dirent ? 200 : 0)] ^= 0x4;
				break;
			}
		}
		if (i == rcount(sb, r)) {
			fprintf(stderr, "no used %s to damage\n", what);
			return 1;
		}
	} else if (!strcmp(what, "bitmap")) {
		struct pkernfs_bmap_block *bb = (void *)(b + roff(sb, PKERNFS_R_BITMAP));

		bb->b_bits[100] ^= 0x10;
	} else if (!strcmp(what, "journal-torn")) {
		struct pkernfs_journal_head *jh = (void *)(b + roff(sb, PKERNFS_R_JOURNAL));

		/* A committed head whose payload no longer matches its crc. */
		jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
		jh->j_nrec = cpu_to_le32(1);
		jh->j_bytes = cpu_to_le32(16);
		pkernfs_journal_set_crc(jh);
		((uint8_t *)(jh + 1))[0] ^= 1;
	} else if (!strcmp(what, "foreign")) {
		for (i = 0; i < 4096; i++)
			b[i] = (uint8_t)(i * 37 + 11);
	} else if (!strcmp(what, "huge-extent")) {
		if (huge_extent(b, sb))
			return 1;
	} else if (!strcmp(what, "journal-geometry")) {
		journal_geometry(b, sb);
	} else if (!strcmp(what, "pending-tail")) {
		if (pending_tail(b, sb))
			return 1;
	} else if (!strcmp(what, "journal-empty-torn")) {
		journal_empty_torn(b, sb);
	} else if (!strcmp(what, "no-hwm")) {
		sb->s_feature_ro_compat &= ~cpu_to_le32(PKERNFS_FEATURE_RO_COMPAT_HWM);
		memset(sb->s_hwm, 0, sizeof(sb->s_hwm));
		pkernfs_super_set_crc(sb);
	} else if (!strcmp(what, "past-hwm")) {
		uint32_t hwm = pkernfs_hwm_scan(sb, (void *)(b + roff(sb, PKERNFS_R_JOURNAL)),
						PKERNFS_HWM_INODES);
		struct pkernfs_inode *di;

		if (hwm >= rcount(sb, PKERNFS_R_INODES)) {
			fprintf(stderr, "the inode table has no slot past its high-water mark\n");
			return 1;
		}
		di = (struct pkernfs_inode *)(b + roff(sb, PKERNFS_R_INODES)) + hwm;
		di->i_crc ^= cpu_to_le32(0x5a5a);
		printf("%u\n", hwm);
	} else if (!strcmp(what, "old-writer")) {
		struct pkernfs_journal_head *jh = (void *)(b + roff(sb, PKERNFS_R_JOURNAL));
		int h;

		for (h = 0; h < PKERNFS_NR_HWM; h++) {
			uint32_t n = pkernfs_hwm_slots(sb, h);

			sb->s_hwm[h] = cpu_to_le32(n < PKERNFS_HWM_STEP ? n : PKERNFS_HWM_STEP);
		}
		pkernfs_super_set_crc(sb);
		jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 3);
		pkernfs_journal_set_crc(jh);
		printf("journal at %llu, marks kept at %llu\n",
		       (unsigned long long)le64_to_cpu(jh->j_seq),
		       (unsigned long long)le64_to_cpu(jh->j_hwm_seq));
	} else if (!strcmp(what, "rocompat")) {
		sb->s_feature_ro_compat |= cpu_to_le32(0x80000000u);
		pkernfs_super_set_crc(sb);
	} else if (!strcmp(what, "kdir-live")) {
		kdir_live(b, sb);
	} else if (!strcmp(what, "kdir-clear")) {
		memset(b + roff(sb, PKERNFS_R_KDIR), 0,
		       le64_to_cpu(sb->s_regions[PKERNFS_R_KDIR].len));
	} else if (!strcmp(what, "dup-name")) {
		if (dup_name(b, sb))
			return 1;
	} else if (!strcmp(what, "isize-big")) {
		if (isize_big(b, sb))
			return 1;
	} else if (!strcmp(what, "print-kernel-off")) {
		printf("%llu\n", (unsigned long long)roff(sb, PKERNFS_R_KERNEL));
	} else if (!strcmp(what, "print-data-off")) {
		printf("%llu\n", (unsigned long long)roff(sb, PKERNFS_R_DATA));
	} else {
		fprintf(stderr, "unknown damage %s\n", what);
		return 2;
	}
	munmap(b, size);
	close(fd);
	return 0;
}
