// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs image checker: everything the kernel checks at mount, plus the
 * cross checks a mount does not need to make (leaked AUs, the kernel-only
 * area's directory), reported one finding at a time. It only reads;
 * repair.c writes. Shared by `pkernfsctl fsck` and the host unit tests.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"

static void finding(struct pkernfs_fsck *f, int error, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		f->errors++;
	else
		f->notes++;
	if (f->report)
		f->report(f->priv, error, msg);
}

static void check_journal(struct pkernfs_fsck *f, const uint8_t *b,
			  const struct pkernfs_super *sb)
{
	const struct pkernfs_journal_head *jh = (const void *)(b + fsck_roff(sb, PKERNFS_R_JOURNAL));
	const char *why = NULL;

	switch (pkernfs_journal_state(jh, fsck_rlen(sb, PKERNFS_R_JOURNAL), &why)) {
	case PKERNFS_JS_CLEAN:
		break;
	case PKERNFS_JS_STALE:
		finding(f, PKERNFS_FSCK_NOTE, "journal: emptied, but its checksum was not updated; mount rewrites it");
		f->journal_pending = 1;
		break;
	case PKERNFS_JS_TORN:
		finding(f, PKERNFS_FSCK_NOTE, "journal: a transaction torn before its commit; mount drops it");
		f->journal_pending = 1;
		break;
	case PKERNFS_JS_REPLAY:
		if (pkernfs_journal_verify(b, jh) < 0) {
			finding(f, PKERNFS_FSCK_ERROR,
				"journal: committed transaction %llu has a malformed record or changes the geometry",
				(unsigned long long)le64_to_cpu(jh->j_seq));
			break;
		}
		finding(f, PKERNFS_FSCK_NOTE, "journal: committed transaction %llu pending; mount replays it",
			(unsigned long long)le64_to_cpu(jh->j_seq));
		f->journal_pending = 1;
		break;
	default:
		finding(f, PKERNFS_FSCK_ERROR, "journal: %s", why);
		break;
	}
}

struct name_ref {
	uint64_t parent;
	uint32_t hash;
	uint32_t slot;
};

static int cmp_name_ref(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->slot < y->slot ? -1 : (x->slot > y->slot);
}

/* Two names alike in one directory: the kernel refuses the image. */
static void check_duplicates(struct pkernfs_fsck *f, const struct pkernfs_dirent *dt,
			     uint32_t nd, const uint8_t *bad)
{
	struct name_ref *refs = calloc(nd ? nd : 1, sizeof(*refs));
	uint32_t i, n = 0;

	if (!refs) {
		finding(f, PKERNFS_FSCK_ERROR, "out of memory");
		return;
	}
	for (i = 0; i < nd; i++) {
		if (bad[i] || !dt[i].d_parent)
			continue;
		refs[n++] = (struct name_ref){ .parent = le64_to_cpu(dt[i].d_parent),
					       .hash = le32_to_cpu(dt[i].d_hash), .slot = i };
	}
	qsort(refs, n, sizeof(*refs), cmp_name_ref);
	for (i = 1; i < n; i++) {
		const struct pkernfs_dirent *a = &dt[refs[i - 1].slot], *b = &dt[refs[i].slot];

		if (refs[i].parent == refs[i - 1].parent && refs[i].hash == refs[i - 1].hash &&
		    a->d_namelen == b->d_namelen &&
		    !memcmp(a->d_name, b->d_name, le16_to_cpu(a->d_namelen)))
			finding(f, PKERNFS_FSCK_ERROR, "dirent %u: repeats the name of dirent %u in directory %llu",
				refs[i].slot, refs[i - 1].slot, (unsigned long long)refs[i].parent);
	}
	free(refs);
}

/* Names: every dirent valid, pointing between live inodes, all reachable. */
static void check_names(struct pkernfs_fsck *f, const uint8_t *b,
			const struct pkernfs_super *sb, uint32_t *names, uint32_t *subdirs)
{
	const struct pkernfs_inode *it = (const void *)(b + fsck_roff(sb, PKERNFS_R_INODES));
	const struct pkernfs_dirent *dt = (const void *)(b + fsck_roff(sb, PKERNFS_R_DIRENTS));
	uint32_t ni = fsck_rcount(sb, PKERNFS_R_INODES), nd = fsck_rcount(sb, PKERNFS_R_DIRENTS);
	uint8_t *reached = calloc(ni, 1), *bad = calloc(nd, 1);
	const char *why = NULL;
	uint32_t i, changed;

	if (!reached || !bad) {
		finding(f, PKERNFS_FSCK_ERROR, "out of memory");
		goto out;
	}
	for (i = 0; i < nd; i++) {
		const struct pkernfs_dirent *de = &dt[i];
		uint64_t p = le64_to_cpu(de->d_parent), ino = le64_to_cpu(de->d_ino);

		if (pkernfs_dirent_check(de, &why)) {
			finding(f, PKERNFS_FSCK_ERROR, "dirent %u: %s", i, why);
			bad[i] = 1;
			continue;
		}
		if (!p)
			continue;
		if (p >= ni || ino >= ni || !(le16_to_cpu(it[p].i_flags) & PKERNFS_INODE_USED) ||
		    !(le16_to_cpu(it[ino].i_flags) & PKERNFS_INODE_USED) || ino == PKERNFS_ROOT_INO) {
			finding(f, PKERNFS_FSCK_ERROR, "dirent %u: links unused inodes %llu -> %llu", i,
				(unsigned long long)p, (unsigned long long)ino);
			bad[i] = 1;
			continue;
		}
		if (!S_ISDIR(le16_to_cpu(it[p].i_mode)) || it[p].i_gen != de->d_parent_gen ||
		    it[ino].i_gen != de->d_ino_gen) {
			finding(f, PKERNFS_FSCK_ERROR, "dirent %u: parent is not a directory or generations disagree", i);
			bad[i] = 1;
			continue;
		}
		names[ino]++;
		if (de->d_type == DT_DIR)
			subdirs[p]++;
	}
	/* Reachability: grow the set from the root until it stops growing. */
	reached[PKERNFS_ROOT_INO] = 1;
	do {
		changed = 0;
		for (i = 0; i < nd; i++) {
			uint64_t p = le64_to_cpu(dt[i].d_parent), ino = le64_to_cpu(dt[i].d_ino);

			if (!p || bad[i] || !reached[p] || reached[ino])
				continue;
			reached[ino] = 1;
			changed = 1;
		}
	} while (changed);
	for (i = 0; i < nd; i++) {
		uint64_t p = le64_to_cpu(dt[i].d_parent);

		if (p && !bad[i] && !reached[p])
			finding(f, PKERNFS_FSCK_ERROR, "dirent %u: not reachable from the root", i);
	}
	for (i = 1; i < ni; i++)
		if (names[i] > 1 && S_ISDIR(le16_to_cpu(it[i].i_mode)))
			finding(f, PKERNFS_FSCK_ERROR, "inode %u: directory with %u names", i, names[i]);
	check_duplicates(f, dt, nd, bad);
out:
	free(reached);
	free(bad);
}

static void check_links(struct pkernfs_fsck *f, const uint8_t *b,
			const struct pkernfs_super *sb, const uint32_t *names,
			const uint32_t *subdirs)
{
	const struct pkernfs_inode *it = (const void *)(b + fsck_roff(sb, PKERNFS_R_INODES));
	uint32_t i, want, have;

	for (i = 1; i < fsck_rcount(sb, PKERNFS_R_INODES); i++) {
		if (!(le16_to_cpu(it[i].i_flags) & PKERNFS_INODE_USED))
			continue;
		f->inodes++;
		have = le32_to_cpu(it[i].i_nlink);
		if (!names[i] && i != PKERNFS_ROOT_INO) {
			if (!have) {
				finding(f, PKERNFS_FSCK_NOTE, "inode %u: orphan (no links); mount frees it", i);
				f->orphans++;
			}
			else
				finding(f, PKERNFS_FSCK_ERROR, "inode %u: no name but %u links", i, have);
			continue;
		}
		want = S_ISDIR(le16_to_cpu(it[i].i_mode)) ? 2 + subdirs[i] : names[i];
		if (have != want)
			finding(f, PKERNFS_FSCK_ERROR, "inode %u: %u links but %u names", i, have, want);
	}
}

/* Extents against their owners, each other, and the allocation bitmap. */
static void check_space(struct pkernfs_fsck *f, const uint8_t *b,
			const struct pkernfs_super *sb)
{
	const struct pkernfs_inode *it = (const void *)(b + fsck_roff(sb, PKERNFS_R_INODES));
	const struct pkernfs_extent *et = (const void *)(b + fsck_roff(sb, PKERNFS_R_EXTENTS));
	uint64_t nr_aus = le64_to_cpu(sb->s_nr_aus), au, first_data, leaked = 0, unmarked = 0;
	uint32_t shift = le32_to_cpu(sb->s_au_shift), i, nb = fsck_rcount(sb, PKERNFS_R_BITMAP);
	uint8_t *seen = calloc(nr_aus / 8 + 1, 1), *used = calloc(nr_aus / 8 + 1, 1);
	const char *why = NULL;

	if (!seen || !used) {
		finding(f, PKERNFS_FSCK_ERROR, "out of memory");
		goto out;
	}
	first_data = fsck_roff(sb, PKERNFS_R_DATA) >> shift;
	for (i = 0; i < nb; i++) {
		const struct pkernfs_bmap_block *bb =
			(const void *)(b + fsck_roff(sb, PKERNFS_R_BITMAP) + (uint64_t)i * PKERNFS_BLOCK_SIZE);
		uint64_t n;

		if (pkernfs_bmap_check(bb, i, &why)) {
			finding(f, PKERNFS_FSCK_ERROR, "bitmap block %u: %s", i, why);
			continue;
		}
		for (n = 0; n < PKERNFS_BITS_PER_BMAP; n++) {
			au = (uint64_t)i * PKERNFS_BITS_PER_BMAP + n;
			if (au < nr_aus && fsck_bit(bb->b_bits, n))
				fsck_set_bit(used, au);
		}
	}
	for (au = 0; au < first_data; au++) {
		fsck_set_bit(seen, au);
		if (!fsck_bit(used, au)) {
			finding(f, PKERNFS_FSCK_ERROR, "bitmap marks metadata AU %llu free", (unsigned long long)au);
			break;
		}
	}
	for (i = 0; i < fsck_rcount(sb, PKERNFS_R_EXTENTS); i++) {
		const struct pkernfs_extent *e = &et[i];
		uint64_t ino = le64_to_cpu(e->e_ino), start = le64_to_cpu(e->e_start);
		uint32_t len = le32_to_cpu(e->e_len);

		if (pkernfs_extent_check(sb, e, &why)) {
			finding(f, PKERNFS_FSCK_ERROR, "extent %u: %s", i, why);
			continue;
		}
		if (!ino)
			continue;
		f->extents++;
		if (ino >= fsck_rcount(sb, PKERNFS_R_INODES) ||
		    !(le16_to_cpu(it[ino].i_flags) & PKERNFS_INODE_USED) ||
		    it[ino].i_gen != e->e_ino_gen || !S_ISREG(le16_to_cpu(it[ino].i_mode))) {
			finding(f, PKERNFS_FSCK_ERROR, "extent %u: belongs to no file (inode %llu)", i,
				(unsigned long long)ino);
			continue;
		}
		for (au = start; au < start + len; au++) {
			if (fsck_bit(seen, au)) {
				finding(f, PKERNFS_FSCK_ERROR, "extent %u: AU %llu used twice", i,
					(unsigned long long)au);
				break;
			}
			fsck_set_bit(seen, au);
			if (!fsck_bit(used, au))
				unmarked++;
		}
		f->used_aus += len;
	}
	/* An AU with a memory error stays in use, owned by the list. */
	for (i = 0; i < le32_to_cpu(sb->s_nr_bad); i++) {
		uint64_t last;

		for (fsck_bad_aus(sb, i, &au, &last); au <= last; au++) {
			if (au < first_data || au >= nr_aus)
				continue;
			if (!fsck_bit(used, au))
				finding(f, PKERNFS_FSCK_ERROR,
					"AU %llu holds a bad page but is marked free",
					(unsigned long long)au);
			fsck_set_bit(seen, au);
		}
	}
	for (au = first_data; au < nr_aus; au++)
		if (fsck_bit(used, au) && !fsck_bit(seen, au))
			leaked++;
	if (unmarked)
		finding(f, PKERNFS_FSCK_ERROR, "%llu AUs in use by files are marked free in the bitmap",
			(unsigned long long)unmarked);
	if (leaked)
		finding(f, PKERNFS_FSCK_ERROR, "%llu AUs marked used belong to no file (leaked)",
			(unsigned long long)leaked);
out:
	free(seen);
	free(used);
}

/* Each recorded memory error, and what it hit now. */
static void check_bad(struct pkernfs_fsck *f, const uint8_t *b, const struct pkernfs_super *sb)
{
	const struct pkernfs_extent *et = (const void *)(b + fsck_roff(sb, PKERNFS_R_EXTENTS));
	uint32_t shift = le32_to_cpu(sb->s_au_shift), i;
	int64_t k;

	for (i = 0; i < le32_to_cpu(sb->s_nr_bad); i++) {
		uint64_t page = le64_to_cpu(sb->s_bad[i].b_page), au, last, owner = 0, foff = 0;
		uint32_t count = le32_to_cpu(sb->s_bad[i].b_count);
		int r = pkernfs_bad_region(sb, page);

		f->bad_pages += count;
		if (r != PKERNFS_R_DATA && r != PKERNFS_R_KERNEL) {
			finding(f, PKERNFS_FSCK_ERROR,
				"memory error at page %llu (%u pages) in the %s: the filesystem cannot be mounted",
				(unsigned long long)page, count, pkernfs_region_name(r));
			continue;
		}
		if (r == PKERNFS_R_KERNEL) {
			finding(f, PKERNFS_FSCK_NOTE, "memory error at page %llu (%u pages) in the kernel-only area",
				(unsigned long long)page, count);
			continue;
		}
		/* The first of the range's AUs that a file holds, if any. */
		for (fsck_bad_aus(sb, i, &au, &last); au <= last && !owner; au++) {
			k = fsck_extent_of(et, fsck_rcount(sb, PKERNFS_R_EXTENTS), au);
			if (k == -1)
				continue;
			owner = le64_to_cpu(et[k].e_ino);
			foff = (le32_to_cpu(et[k].e_lblk) + au - le64_to_cpu(et[k].e_start)) << shift;
			if (au == (page * PKERNFS_BLOCK_SIZE) >> shift)
				foff += (page * PKERNFS_BLOCK_SIZE) & ((1ULL << shift) - 1);
		}
		au = (page * PKERNFS_BLOCK_SIZE) >> shift;
		f->bad_in_files += !!owner;
		if (owner)
			finding(f, PKERNFS_FSCK_NOTE,
				"memory error at page %llu (%u pages): inode %llu, bytes %llu-%llu read as EIO",
				(unsigned long long)page, count, (unsigned long long)owner,
				(unsigned long long)foff,
				(unsigned long long)(foff + (uint64_t)count * PKERNFS_BLOCK_SIZE - 1));
		else
			finding(f, PKERNFS_FSCK_NOTE,
				"memory error at page %llu (%u pages): in no file; AU %llu is never allocated",
				(unsigned long long)page, count, (unsigned long long)au);
	}
}

static void check_kdir(struct pkernfs_fsck *f, const uint8_t *b,
		       const struct pkernfs_super *sb)
{
	const struct pkernfs_kdir_entry *kd = (const void *)(b + fsck_roff(sb, PKERNFS_R_KDIR));
	uint32_t i, j, n = fsck_rcount(sb, PKERNFS_R_KDIR);
	const char *why = NULL;

	for (i = 0; i < n; i++) {
		uint64_t s = le64_to_cpu(kd[i].k_start), e = s + le64_to_cpu(kd[i].k_npages);

		if (pkernfs_kdir_check(sb, &kd[i], &why)) {
			finding(f, PKERNFS_FSCK_ERROR, "kernel area entry %u: %s", i, why);
			continue;
		}
		if (!kd[i].k_npages)
			continue;
		f->kernel_pages += le64_to_cpu(kd[i].k_npages);
		for (j = 0; j < i; j++) {
			uint64_t s2 = le64_to_cpu(kd[j].k_start);
			uint64_t e2 = s2 + le64_to_cpu(kd[j].k_npages);

			if (!kd[j].k_npages || pkernfs_kdir_check(sb, &kd[j], &why))
				continue;
			if (s < e2 && s2 < e)
				finding(f, PKERNFS_FSCK_ERROR, "kernel area entries %u and %u overlap", j, i);
			if (!strncmp((const char *)kd[i].k_name, (const char *)kd[j].k_name,
				     PKERNFS_KNAME_LEN))
				finding(f, PKERNFS_FSCK_ERROR, "kernel area entries %u and %u share a name", j, i);
		}
	}
}

/**
 * pkernfs_fsck() - check a whole image
 * @f: options and results; zero the counters before
 * @b: the image, mapped
 * @size: its size
 *
 * Notes (an orphan, a pending journal transaction) are state the kernel
 * resolves at mount, not damage.
 *
 * Return: 0 clean (notes allowed), 4 errors, 8 not a pkernfs image at all;
 * the exit codes of e2fsck.
 */
/*
 * The kernel reads no slot at or past a table's high-water mark: a
 * record in use there would be lost at the next mount.
 */
static void check_hwm(struct pkernfs_fsck *f, const uint8_t *b, const struct pkernfs_super *sb)
{
	static const char *const what[PKERNFS_NR_HWM] = { "inode", "dirent", "extent" };

	const struct pkernfs_journal_head *jh = (const void *)(b + fsck_roff(sb, PKERNFS_R_JOURNAL));

	if ((le32_to_cpu(sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM) &&
	    !pkernfs_hwm_trusted(sb, jh)) {
		finding(f, 0, "high-water marks: kept at transaction %llu, the journal is at %llu (a kernel that does not keep them wrote since): the next mount reads every slot and sets them again",
			(unsigned long long)le64_to_cpu(jh->j_hwm_seq),
			(unsigned long long)le64_to_cpu(jh->j_seq));
		return;
	}
	for (int h = 0; h < PKERNFS_NR_HWM; h++) {
		uint32_t n = pkernfs_hwm_slots(sb, h), hwm = pkernfs_hwm_scan(sb, jh, h);

		for (uint32_t i = hwm; i < n; i++)
			if (pkernfs_slot_in_use(sb, b, h, i))
				finding(f, PKERNFS_FSCK_ERROR,
					"%s %u is in use past the high-water mark %u", what[h], i, hwm);
	}
}

int pkernfs_fsck(struct pkernfs_fsck *f, const uint8_t *b, uint64_t size)
{
	const struct pkernfs_super *sb = (const void *)b;
	uint32_t *names, *subdirs, ni;
	const char *why = NULL;
	int err;

	if (size < PKERNFS_BLOCK_SIZE) {
		finding(f, PKERNFS_FSCK_ERROR, "device smaller than a superblock");
		return 8;
	}
	err = pkernfs_super_check(sb, size, &why);
	if (err) {
		finding(f, PKERNFS_FSCK_ERROR, "superblock: %s", why);
		return le64_to_cpu(sb->s_magic) == PKERNFS_MAGIC ? 4 : 8;
	}
	f->super_ok = 1;
	ni = fsck_rcount(sb, PKERNFS_R_INODES);
	names = calloc(ni, sizeof(*names));
	subdirs = calloc(ni, sizeof(*subdirs));
	if (!names || !subdirs) {
		free(names);
		free(subdirs);
		finding(f, PKERNFS_FSCK_ERROR, "out of memory");
		return 4;
	}
	check_journal(f, b, sb);
	for (uint32_t i = 1; i < ni; i++) {
		const struct pkernfs_inode *di =
			(const void *)(b + fsck_roff(sb, PKERNFS_R_INODES) + (uint64_t)i * sizeof(*di));

		if (pkernfs_inode_check(di, i, &why))
			finding(f, PKERNFS_FSCK_ERROR, "inode %u: %s", i, why);
		else if ((le16_to_cpu(di->i_flags) & PKERNFS_INODE_USED) &&
			 S_ISREG(le16_to_cpu(di->i_mode)) &&
			 le64_to_cpu(di->i_size) > pkernfs_max_file_bytes(le32_to_cpu(sb->s_au_shift)))
			finding(f, PKERNFS_FSCK_ERROR, "inode %u: size %llu is past the largest file", i,
				(unsigned long long)le64_to_cpu(di->i_size));
	}
	check_names(f, b, sb, names, subdirs);
	check_links(f, b, sb, names, subdirs);
	check_space(f, b, sb);
	check_bad(f, b, sb);
	check_kdir(f, b, sb);
	check_hwm(f, b, sb);
	free(names);
	free(subdirs);
	return f->errors ? 4 : 0;
}
