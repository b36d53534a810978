// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs image repair (`pkernfsctl fsck --repair`).
 *
 * Every change is one the kernel could have made itself, so a repaired
 * image is a state the filesystem can reach:
 *   - a committed journal transaction is replayed, a torn one dropped;
 *   - a record failing its checks is cleared (it was unusable already);
 *   - a name between records that disagree is removed;
 *   - a directory with several names keeps its first;
 *   - what the root cannot reach, and files with links but no name, are
 *     linked into /lost+found as "#INO";
 *   - link counts are set from the names;
 *   - the AU bitmap is rebuilt from the metadata regions and the extents.
 * Damage with no safe answer (two extents over one AU, overlapping
 * kernel-area entries, a bad superblock) is left for a human and keeps
 * exit 4. Each pass only clears or rewrites records that are already
 * wrong, so an interrupted repair can be run again.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fsck.h"

struct rimg {
	struct pkernfs_fsck *f;
	uint8_t *b;
	struct pkernfs_super *sb;
	struct pkernfs_inode *it;
	struct pkernfs_dirent *dt;
	struct pkernfs_extent *et;
	struct pkernfs_kdir_entry *kd;
	uint32_t ni, nd, ne, nk, nb;
	uint64_t lost_found;
	unsigned int left;
};

static void say(struct rimg *r, int level, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (level == PKERNFS_FSCK_FIXED)
		r->f->repairs++;
	else
		r->left++;
	if (r->f->report)
		r->f->report(r->f->priv, level, msg);
}

static void fixed(struct rimg *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fixed(struct rimg *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(r, PKERNFS_FSCK_FIXED, fmt, ap);
	va_end(ap);
}

/* A repair asked for that could not be made: the run ends with exit 4. */
static void unfixed(struct rimg *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void unfixed(struct rimg *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(r, PKERNFS_FSCK_ERROR, fmt, ap);
	va_end(ap);
}

static void rimg_init(struct rimg *r, struct pkernfs_fsck *f, uint8_t *b)
{
	r->f = f;
	r->b = b;
	r->sb = (void *)b;
	r->it = (void *)(b + fsck_roff(r->sb, PKERNFS_R_INODES));
	r->dt = (void *)(b + fsck_roff(r->sb, PKERNFS_R_DIRENTS));
	r->et = (void *)(b + fsck_roff(r->sb, PKERNFS_R_EXTENTS));
	r->kd = (void *)(b + fsck_roff(r->sb, PKERNFS_R_KDIR));
	r->ni = fsck_rcount(r->sb, PKERNFS_R_INODES);
	r->nd = fsck_rcount(r->sb, PKERNFS_R_DIRENTS);
	r->ne = fsck_rcount(r->sb, PKERNFS_R_EXTENTS);
	r->nk = fsck_rcount(r->sb, PKERNFS_R_KDIR);
	r->nb = fsck_rcount(r->sb, PKERNFS_R_BITMAP);
	r->lost_found = 0;
	r->left = 0;
}

static int used(const struct rimg *r, uint64_t ino)
{
	return ino && ino < r->ni && (le16_to_cpu(r->it[ino].i_flags) & PKERNFS_INODE_USED);
}

static uint16_t mode_of(const struct rimg *r, uint64_t ino)
{
	return le16_to_cpu(r->it[ino].i_mode);
}

static void journal_empty(struct pkernfs_journal_head *jh)
{
	jh->j_magic = cpu_to_le32(PKERNFS_JOURNAL_MAGIC);
	jh->j_state = cpu_to_le32(PKERNFS_J_EMPTY);
	jh->j_nrec = 0;
	jh->j_bytes = 0;
	jh->j_pad = 0;
	memset(jh->j_reserved, 0, sizeof(jh->j_reserved));
	pkernfs_journal_set_crc(jh);
}

/* As mount does: replay a committed transaction, drop a torn one. */
static void repair_journal(struct rimg *r)
{
	struct pkernfs_journal_head *jh =
		(void *)(r->b + fsck_roff(r->sb, PKERNFS_R_JOURNAL));
	const char *why = NULL;
	int n;

	switch (pkernfs_journal_state(jh, fsck_rlen(r->sb, PKERNFS_R_JOURNAL), &why)) {
	case PKERNFS_JS_CLEAN:
		return;
	case PKERNFS_JS_STALE:
		fixed(r, "journal: rewrote a head whose emptying was cut short");
		goto empty;
	case PKERNFS_JS_TORN:
		fixed(r, "journal: dropped a transaction torn before its commit");
		goto empty;
	case PKERNFS_JS_REPLAY:
		break;
	default:
		fixed(r, "journal: %s; reset it to empty", why);
		goto empty;
	}
	n = pkernfs_journal_apply(r->b, jh, NULL);
	if (n < 0)
		fixed(r, "journal: committed transaction has a malformed record or changes the geometry; dropped it");
	else
		fixed(r, "journal: replayed transaction %llu (%d records)",
		      (unsigned long long)le64_to_cpu(jh->j_seq), n);
empty:
	journal_empty(jh);
}

/* Records that fail their own checks: clear them, they are unusable. */
static void repair_records(struct rimg *r)
{
	const char *why = NULL;
	uint32_t i;

	for (i = 1; i < r->ni; i++) {
		if (!pkernfs_inode_check(&r->it[i], i, &why))
			continue;
		fixed(r, "inode %u: %s; cleared", i, why);
		memset(&r->it[i], 0, sizeof(r->it[i]));
	}
	for (i = 0; i < r->nd; i++) {
		if (!pkernfs_dirent_check(&r->dt[i], &why))
			continue;
		fixed(r, "dirent %u: %s; cleared", i, why);
		memset(&r->dt[i], 0, sizeof(r->dt[i]));
	}
	for (i = 0; i < r->ne; i++) {
		uint64_t ino = le64_to_cpu(r->et[i].e_ino);

		if (pkernfs_extent_check(r->sb, &r->et[i], &why)) {
			fixed(r, "extent %u: %s; cleared", i, why);
		} else if (ino && (!used(r, ino) || r->it[ino].i_gen != r->et[i].e_ino_gen ||
				   !S_ISREG(mode_of(r, ino)))) {
			fixed(r, "extent %u: belongs to no file; freed", i);
		} else {
			continue;
		}
		memset(&r->et[i], 0, sizeof(r->et[i]));
	}
	for (i = 0; i < r->nk; i++) {
		if (!pkernfs_kdir_check(r->sb, &r->kd[i], &why))
			continue;
		fixed(r, "kernel area entry %u: %s; cleared", i, why);
		memset(&r->kd[i], 0, sizeof(r->kd[i]));
	}
}

/* A root that fails its checks is rebuilt, keeping the generation its names carry. */
static void repair_root(struct rimg *r)
{
	struct pkernfs_inode *di = &r->it[PKERNFS_ROOT_INO];
	uint32_t i, gen = 1;

	if (used(r, PKERNFS_ROOT_INO) && S_ISDIR(mode_of(r, PKERNFS_ROOT_INO)))
		return;
	for (i = 0; i < r->nd; i++)
		if (le64_to_cpu(r->dt[i].d_parent) == PKERNFS_ROOT_INO) {
			gen = le32_to_cpu(r->dt[i].d_parent_gen);
			break;
		}
	memset(di, 0, sizeof(*di));
	di->i_ino = cpu_to_le64(PKERNFS_ROOT_INO);
	di->i_gen = cpu_to_le32(gen);
	di->i_mode = cpu_to_le16(S_IFDIR | 0755);
	di->i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	di->i_nlink = cpu_to_le32(2);
	di->i_parent = cpu_to_le64(PKERNFS_ROOT_INO);
	pkernfs_inode_set_crc(di);
	fixed(r, "root directory was lost; rebuilt it empty");
}

/* Names must join two live inodes of the generations they recorded. */
static void repair_names(struct rimg *r)
{
	uint8_t *named = calloc(r->ni, 1);
	uint32_t i;

	for (i = 0; i < r->nd; i++) {
		struct pkernfs_dirent *de = &r->dt[i];
		uint64_t p = le64_to_cpu(de->d_parent), ino = le64_to_cpu(de->d_ino);

		if (!p)
			continue;
		if (!used(r, p) || !used(r, ino) || ino == PKERNFS_ROOT_INO ||
		    !S_ISDIR(mode_of(r, p)) || r->it[p].i_gen != de->d_parent_gen ||
		    r->it[ino].i_gen != de->d_ino_gen) {
			fixed(r, "dirent %u: joins records that disagree; removed", i);
			memset(de, 0, sizeof(*de));
			continue;
		}
		if (S_ISDIR(mode_of(r, ino)) && named && named[ino]) {
			fixed(r, "dirent %u: second name of directory %llu; removed", i,
			      (unsigned long long)ino);
			memset(de, 0, sizeof(*de));
			continue;
		}
		if (named)
			named[ino] = 1;
	}
	free(named);
}

/* Mark what the root reaches; @reached has r->ni bytes. */
static void reach(const struct rimg *r, uint8_t *reached)
{
	uint32_t i, changed;

	memset(reached, 0, r->ni);
	reached[PKERNFS_ROOT_INO] = 1;
	do {
		changed = 0;
		for (i = 0; i < r->nd; i++) {
			uint64_t p = le64_to_cpu(r->dt[i].d_parent), ino = le64_to_cpu(r->dt[i].d_ino);

			if (p && reached[p] && !reached[ino]) {
				reached[ino] = 1;
				changed = 1;
			}
		}
	} while (changed);
}

static int name_taken(const struct rimg *r, uint64_t dir, const char *name)
{
	size_t len = strlen(name);
	uint32_t i;

	for (i = 0; i < r->nd; i++)
		if (le64_to_cpu(r->dt[i].d_parent) == dir &&
		    le16_to_cpu(r->dt[i].d_namelen) == len && !memcmp(r->dt[i].d_name, name, len))
			return 1;
	return 0;
}

static int add_name(struct rimg *r, uint64_t dir, uint64_t ino, const char *name)
{
	struct pkernfs_dirent *de = NULL;
	size_t len = strlen(name);
	uint32_t i;

	for (i = 0; i < r->nd && !de; i++)
		if (!le64_to_cpu(r->dt[i].d_parent))
			de = &r->dt[i];
	if (!de)
		return -1;
	memset(de, 0, sizeof(*de));
	de->d_parent = cpu_to_le64(dir);
	de->d_ino = cpu_to_le64(ino);
	de->d_parent_gen = r->it[dir].i_gen;
	de->d_ino_gen = r->it[ino].i_gen;
	de->d_namelen = cpu_to_le16(len);
	de->d_type = (mode_of(r, ino) & S_IFMT) >> 12;
	memcpy(de->d_name, name, len);
	de->d_hash = cpu_to_le32(pkernfs_name_hash(name, len));
	pkernfs_dirent_set_crc(de);
	return 0;
}

/* /lost+found, made on first use; 0 if there is no room for it. */
static uint64_t lost_found(struct rimg *r)
{
	struct pkernfs_inode *di;
	uint32_t i;

	if (r->lost_found)
		return r->lost_found;
	for (i = 0; i < r->nd; i++) {
		const struct pkernfs_dirent *de = &r->dt[i];
		uint64_t ino = le64_to_cpu(de->d_ino);

		if (le64_to_cpu(de->d_parent) == PKERNFS_ROOT_INO &&
		    le16_to_cpu(de->d_namelen) == 10 && !memcmp(de->d_name, "lost+found", 10) &&
		    S_ISDIR(mode_of(r, ino)))
			return r->lost_found = ino;
	}
	for (i = 2; i < r->ni; i++)
		if (!used(r, i))
			break;
	if (i == r->ni || name_taken(r, PKERNFS_ROOT_INO, "lost+found"))
		return 0;
	di = &r->it[i];
	memset(di, 0, sizeof(*di));
	di->i_ino = cpu_to_le64(i);
	di->i_gen = cpu_to_le32(1);
	di->i_mode = cpu_to_le16(S_IFDIR | 0700);
	di->i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	di->i_nlink = cpu_to_le32(2);
	di->i_parent = cpu_to_le64(PKERNFS_ROOT_INO);
	di->i_atime = di->i_mtime = di->i_ctime = di->i_btime = cpu_to_le64(time(NULL));
	pkernfs_inode_set_crc(di);
	if (add_name(r, PKERNFS_ROOT_INO, i, "lost+found")) {
		memset(di, 0, sizeof(*di));
		return 0;
	}
	fixed(r, "created /lost+found (inode %u)", i);
	return r->lost_found = i;
}

/* Move @ino, unreachable or nameless, into /lost+found as "#INO". */
static int adopt(struct rimg *r, uint64_t ino)
{
	uint64_t lf = lost_found(r);
	char name[32];
	uint32_t i, n = 0;

	if (!lf)
		return -1;
	snprintf(name, sizeof(name), "#%llu", (unsigned long long)ino);
	while (name_taken(r, lf, name))
		snprintf(name, sizeof(name), "#%llu.%u", (unsigned long long)ino, ++n);
	/* Its old names all sit in directories the root cannot reach. */
	for (i = 0; i < r->nd; i++)
		if (le64_to_cpu(r->dt[i].d_ino) == ino && le64_to_cpu(r->dt[i].d_parent))
			memset(&r->dt[i], 0, sizeof(r->dt[i]));
	if (add_name(r, lf, ino, name))
		return -1;
	if (S_ISDIR(mode_of(r, ino))) {
		r->it[ino].i_parent = cpu_to_le64(lf);
		pkernfs_inode_set_crc(&r->it[ino]);
	}
	fixed(r, "inode %llu: unreachable; moved to /lost+found/%s",
	      (unsigned long long)ino, name);
	return 0;
}

/* An emptied directory with nlink 0 is an orphan mount frees; with names in it, it is not. */
static int has_children(const struct rimg *r, uint64_t dir)
{
	uint32_t i;

	for (i = 0; i < r->nd; i++)
		if (le64_to_cpu(r->dt[i].d_parent) == dir)
			return 1;
	return 0;
}

static void repair_tree(struct rimg *r)
{
	uint8_t *reached = malloc(r->ni), *has_name = calloc(r->ni, 1);
	uint64_t i;
	int again = 1;

	if (!reached || !has_name)
		goto out;
	/* Directories first: adopting one brings its whole subtree back. */
	while (again) {
		again = 0;
		reach(r, reached);
		for (i = 2; i < r->ni && !again; i++) {
			if (used(r, i) && !reached[i] && S_ISDIR(mode_of(r, i)) &&
			    (le32_to_cpu(r->it[i].i_nlink) || has_children(r, i))) {
				if (adopt(r, i))
					goto out;
				again = 1;
			}
		}
	}
	for (i = 0; i < r->nd; i++)
		if (le64_to_cpu(r->dt[i].d_parent))
			has_name[le64_to_cpu(r->dt[i].d_ino)] = 1;
	/* Files with links but no name; nlink 0 is an orphan mount frees. */
	for (i = 2; i < r->ni; i++)
		if (used(r, i) && !reached[i] && !has_name[i] &&
		    !S_ISDIR(mode_of(r, i)) && le32_to_cpu(r->it[i].i_nlink))
			if (adopt(r, i))
				goto out;
out:
	free(reached);
	free(has_name);
}

static void repair_links(struct rimg *r)
{
	uint32_t *names = calloc(r->ni, sizeof(*names)), *subdirs = calloc(r->ni, sizeof(*subdirs));
	uint32_t i, want;

	if (!names || !subdirs)
		goto out;
	for (i = 0; i < r->nd; i++) {
		uint64_t p = le64_to_cpu(r->dt[i].d_parent), ino = le64_to_cpu(r->dt[i].d_ino);

		if (!p)
			continue;
		names[ino]++;
		if (S_ISDIR(mode_of(r, ino)))
			subdirs[p]++;
	}
	for (i = 1; i < r->ni; i++) {
		struct pkernfs_inode *di = &r->it[i];

		if (!used(r, i) || (!names[i] && i != PKERNFS_ROOT_INO))
			continue;
		want = S_ISDIR(le16_to_cpu(di->i_mode)) ? 2 + subdirs[i] : names[i];
		if (le32_to_cpu(di->i_nlink) == want)
			continue;
		fixed(r, "inode %u: link count %u, set to %u", i, le32_to_cpu(di->i_nlink), want);
		di->i_nlink = cpu_to_le32(want);
		pkernfs_inode_set_crc(di);
	}
out:
	free(names);
	free(subdirs);
}

/*
 * The bitmap is derived state: metadata AUs, every extent, and the AUs
 * holding a bad page (never to be allocated). Left alone when two extents
 * share an AU, since then no bitmap is right.
 */
static void repair_bitmap(struct rimg *r)
{
	uint64_t nr_aus = le64_to_cpu(r->sb->s_nr_aus), au, changed = 0;
	uint64_t first = fsck_roff(r->sb, PKERNFS_R_DATA) >> le32_to_cpu(r->sb->s_au_shift);
	uint8_t *want = calloc(nr_aus / 8 + 1, 1);
	uint32_t i;

	if (!want)
		return;
	for (au = 0; au < first; au++)
		fsck_set_bit(want, au);
	for (i = 0; i < le32_to_cpu(r->sb->s_nr_bad) && i < PKERNFS_BAD_MAX; i++) {
		uint64_t last;

		for (fsck_bad_aus(r->sb, i, &au, &last); au < nr_aus && au <= last; au++)
			fsck_set_bit(want, au);
	}
	for (i = 0; i < r->ne; i++) {
		uint64_t start = le64_to_cpu(r->et[i].e_start);

		if (!le64_to_cpu(r->et[i].e_ino))
			continue;
		for (au = start; au < start + le32_to_cpu(r->et[i].e_len); au++) {
			if (fsck_bit(want, au))
				goto out;
			fsck_set_bit(want, au);
		}
	}
	for (i = 0; i < r->nb; i++) {
		struct pkernfs_bmap_block *bb = (void *)(r->b + fsck_roff(r->sb, PKERNFS_R_BITMAP) +
							 (uint64_t)i * PKERNFS_BLOCK_SIZE);
		struct pkernfs_bmap_block nb;
		uint64_t n;

		memset(&nb, 0, sizeof(nb));
		nb.b_index = cpu_to_le32(i);
		for (n = 0; n < PKERNFS_BITS_PER_BMAP; n++) {
			au = (uint64_t)i * PKERNFS_BITS_PER_BMAP + n;
			if (au < nr_aus && fsck_bit(want, au))
				fsck_set_bit(nb.b_bits, n);
		}
		pkernfs_bmap_set_crc(&nb);
		if (memcmp(bb, &nb, sizeof(nb))) {
			*bb = nb;
			changed++;
		}
	}
	if (changed)
		fixed(r, "AU bitmap: rebuilt %llu block(s) from the extents",
		      (unsigned long long)changed);
out:
	free(want);
}

/*
 * A change of several records goes through the journal, as the kernel
 * commits one, so an interrupted repair leaves it whole or absent.
 */
struct rtx {
	struct pkernfs_journal_head *jh;
	uint64_t room;
	uint32_t nrec, bytes;
};

static void rtx_begin(struct rimg *r, struct rtx *t)
{
	t->jh = (void *)(r->b + fsck_roff(r->sb, PKERNFS_R_JOURNAL));
	t->room = fsck_rlen(r->sb, PKERNFS_R_JOURNAL) - sizeof(*t->jh);
	t->nrec = 0;
	t->bytes = 0;
}

/* Stage record @index of @table; @image has its crc set (or is a zeroed slot). */
static int rtx_add(struct rtx *t, uint16_t table, uint64_t index, const void *image, uint32_t len)
{
	struct pkernfs_journal_rec *jr = (void *)((uint8_t *)(t->jh + 1) + t->bytes);

	if (t->bytes + sizeof(*jr) + len > t->room)
		return -1;
	jr->jr_table = cpu_to_le16(table);
	jr->jr_reserved = 0;
	jr->jr_len = cpu_to_le32(len);
	jr->jr_index = cpu_to_le64(index);
	memcpy(jr + 1, image, len);
	t->bytes += sizeof(*jr) + len;
	t->nrec++;
	return 0;
}

/* Write back a range of the mapping before the next step depends on it. */
static void flush(void *addr, size_t len)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)addr & ~(pg - 1);

	msync((void *)a, (uintptr_t)addr + len - a, MS_SYNC);
}

/* Commit, copy home, empty, each step written back: as the kernel does. */
static int rtx_commit(struct rimg *r, struct rtx *t)
{
	struct pkernfs_journal_head *jh = t->jh;
	int trusted = pkernfs_hwm_trusted(r->sb, jh), n;

	flush(jh + 1, t->bytes);
	jh->j_seq = cpu_to_le64(le64_to_cpu(jh->j_seq) + 1);
	if (trusted)
		jh->j_hwm_seq = jh->j_seq;
	jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	jh->j_nrec = cpu_to_le32(t->nrec);
	jh->j_bytes = cpu_to_le32(t->bytes);
	pkernfs_journal_set_crc(jh);
	flush(jh, sizeof(*jh));
	n = pkernfs_journal_apply(r->b, jh, flush);
	journal_empty(jh);
	flush(jh, sizeof(*jh));
	return n < 0 ? -1 : 0;
}

/* The extent holding @au, or -1. */
static int64_t extent_of(const struct rimg *r, uint64_t au)
{
	return fsck_extent_of(r->et, r->ne, au);
}

static int64_t free_extent(const struct rimg *r)
{
	static const struct pkernfs_extent zero;
	uint32_t i;

	for (i = 0; i < r->ne; i++)
		if (!memcmp(&r->et[i], &zero, sizeof(zero)))
			return i;
	return -1;
}

/*
 * Split extent @k around @au: @head keeps what is before it (or what is
 * after, when @au is first), @tail what is after it when it is in the
 * middle. Return: 1 if @tail is needed.
 */
static int split_extent(const struct pkernfs_extent *e, uint64_t au,
			struct pkernfs_extent *head, struct pkernfs_extent *tail)
{
	uint32_t len = le32_to_cpu(e->e_len), lblk = le32_to_cpu(e->e_lblk);
	uint32_t off = au - le64_to_cpu(e->e_start);

	*head = *e;
	memset(tail, 0, sizeof(*tail));
	if (len == 1) {
		memset(head, 0, sizeof(*head));
		return 0;
	}
	if (!off) {
		head->e_lblk = cpu_to_le32(lblk + 1);
		head->e_len = cpu_to_le32(len - 1);
		head->e_start = cpu_to_le64(au + 1);
	} else {
		head->e_len = cpu_to_le32(off);
	}
	pkernfs_extent_set_crc(head);
	if (!off || off + 1 == len)
		return 0;
	*tail = *e;
	tail->e_lblk = cpu_to_le32(lblk + off + 1);
	tail->e_len = cpu_to_le32(len - off - 1);
	tail->e_start = cpu_to_le64(au + 1);
	pkernfs_extent_set_crc(tail);
	return 1;
}

/* Does any AU of bad entry @k other than @skip still lie in a file? */
static int bad_in_files(const struct rimg *r, const struct pkernfs_super *sb, uint32_t k,
			uint64_t skip)
{
	uint64_t au, last;

	for (fsck_bad_aus(sb, k, &au, &last); au <= last; au++)
		if (au != skip && extent_of(r, au) >= 0)
			return 1;
	return 0;
}

/* Take @au, which holds a bad page, out of its file in one transaction. */
static void drop_au(struct rimg *r, uint64_t au)
{
	uint32_t shift = le32_to_cpu(r->sb->s_au_shift), k;
	struct pkernfs_extent head, tail;
	int64_t ek = extent_of(r, au), slot = -1;
	struct pkernfs_super sb;
	uint64_t ino, foff;
	struct rtx t;

	if (ek < 0)
		return;
	ino = le64_to_cpu(r->et[ek].e_ino);
	foff = (le32_to_cpu(r->et[ek].e_lblk) + au - le64_to_cpu(r->et[ek].e_start)) << shift;
	/* Preserved IOMMU tables may still point a device at it. */
	if (ino < r->ni && (le16_to_cpu(r->it[ino].i_flags) & PKERNFS_INODE_DMA)) {
		unfixed(r, "inode %llu: AU %llu holds a memory error, but the file is held for DMA across kexec; release it first",
			(unsigned long long)ino, (unsigned long long)au);
		return;
	}
	/* One extent slot per AU: a split always finds one free. */
	if (split_extent(&r->et[ek], au, &head, &tail)) {
		slot = free_extent(r);
		if (slot < 0) {
			unfixed(r, "inode %llu: no free extent slot to split extent %lld around AU %llu",
				(unsigned long long)ino, (long long)ek, (unsigned long long)au);
			return;
		}
	}
	sb = *r->sb;
	for (k = 0; k < le32_to_cpu(sb.s_nr_bad) && k < PKERNFS_BAD_MAX; k++)
		if (pkernfs_bad_region(&sb, le64_to_cpu(sb.s_bad[k].b_page)) == PKERNFS_R_DATA &&
		    !bad_in_files(r, &sb, k, au))
			sb.s_bad[k].b_kind = cpu_to_le16(PKERNFS_BAD_FREE);
	/* Mount reads the extent table only up to its mark. */
	if (slot >= 0 && (uint32_t)slot >= le32_to_cpu(sb.s_hwm[PKERNFS_HWM_EXTENTS]) &&
	    (le32_to_cpu(sb.s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM)) {
		uint32_t want = ((uint32_t)slot / PKERNFS_HWM_STEP + 1) * PKERNFS_HWM_STEP;

		sb.s_hwm[PKERNFS_HWM_EXTENTS] = cpu_to_le32(want < r->ne ? want : r->ne);
	}
	pkernfs_super_set_crc(&sb);
	rtx_begin(r, &t);
	if (rtx_add(&t, PKERNFS_T_SUPER, 0, &sb, sizeof(sb)) ||
	    rtx_add(&t, PKERNFS_T_EXTENT, ek, &head, sizeof(head)) ||
	    (slot >= 0 && rtx_add(&t, PKERNFS_T_EXTENT, slot, &tail, sizeof(tail))) ||
	    rtx_commit(r, &t)) {
		unfixed(r, "inode %llu: dropping AU %llu failed in the journal; nothing changed",
			(unsigned long long)ino, (unsigned long long)au);
		return;
	}
	fixed(r, "inode %llu: bytes %llu-%llu (AU %llu, with a memory error) dropped; they read as a hole",
	      (unsigned long long)ino, (unsigned long long)foff,
	      (unsigned long long)(foff + (1ULL << shift) - 1), (unsigned long long)au);
}

/*
 * --drop-bad: take each AU holding a recorded memory error out of its
 * file, so the range reads as a hole instead of EIO. The whole AU goes
 * (extents map AUs), its good pages with it: read them out first. The
 * AU stays in use; an entry none of whose AUs is in a file any more
 * becomes a free-space one.
 */
static void repair_drop_bad(struct rimg *r)
{
	uint64_t au, last;
	uint32_t i;

	for (i = 0; i < le32_to_cpu(r->sb->s_nr_bad) && i < PKERNFS_BAD_MAX; i++) {
		if (pkernfs_bad_region(r->sb, le64_to_cpu(r->sb->s_bad[i].b_page)) != PKERNFS_R_DATA)
			continue;
		for (fsck_bad_aus(r->sb, i, &au, &last); au <= last; au++)
			drop_au(r, au);
	}
}

/* The mark over table @h's last slot in use, in whole steps, as the kernel sets it. */
static uint32_t hwm_over_use(const struct pkernfs_super *sb, const uint8_t *b, uint32_t h)
{
	uint32_t n = pkernfs_hwm_slots(sb, h), i, want;

	for (i = n; i > 0 && !pkernfs_slot_in_use(sb, b, h, i - 1); i--)
		;
	want = (i + PKERNFS_HWM_STEP - 1) / PKERNFS_HWM_STEP * PKERNFS_HWM_STEP;
	want = want ? want : PKERNFS_HWM_STEP;
	return want < n ? want : n;
}

/*
 * Raise each high-water mark over the last slot in use (lost+found's too).
 * Marks a kernel that does not keep them left behind are set anew, and
 * taken as this writer's (j_hwm_seq).
 */
static void repair_hwm(struct rimg *r)
{
	struct pkernfs_journal_head *jh = (void *)(r->b + fsck_roff(r->sb, PKERNFS_R_JOURNAL));
	uint32_t want, h;

	if (!(le32_to_cpu(r->sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM))
		return;
	if (!pkernfs_hwm_trusted(r->sb, jh)) {
		fixed(r, "high-water marks: kept at transaction %llu, the journal at %llu; checked again and taken as current",
		      (unsigned long long)le64_to_cpu(jh->j_hwm_seq),
		      (unsigned long long)le64_to_cpu(jh->j_seq));
		jh->j_hwm_seq = jh->j_seq;
		pkernfs_journal_set_crc(jh);
	}
	for (h = 0; h < PKERNFS_NR_HWM; h++) {
		want = hwm_over_use(r->sb, r->b, h);
		if (want <= le32_to_cpu(r->sb->s_hwm[h]))
			continue;
		fixed(r, "high-water mark %u: %u, raised to %u", h, le32_to_cpu(r->sb->s_hwm[h]), want);
		r->sb->s_hwm[h] = cpu_to_le32(want);
		pkernfs_super_set_crc(r->sb);
	}
}

/**
 * pkernfs_fsck_repair() - check an image and fix what is safely fixable
 * @f: as for pkernfs_fsck(); repairs are reported at PKERNFS_FSCK_FIXED
 * @b: the image, mapped writable
 * @size: its size
 *
 * Return: 0 clean with nothing to do, 1 repaired and now clean, 4 errors
 * remain, 8 not a pkernfs image (untouched).
 */
int pkernfs_fsck_repair(struct pkernfs_fsck *f, uint8_t *b, uint64_t size)
{
	struct pkernfs_fsck quiet = { 0 };
	const char *why = NULL;
	struct rimg r;
	int rc;

	rc = pkernfs_fsck(&quiet, b, size);
	/* Nothing to do, or nothing below works without a superblock. */
	if (rc == 8 || !quiet.super_ok ||
	    (rc == 0 && !quiet.journal_pending && !(f->drop_bad && quiet.bad_in_files)))
		return pkernfs_fsck(f, b, size);
	rimg_init(&r, f, b);
	repair_journal(&r);
	/* A replayed superblock may have moved the tables. */
	if (pkernfs_super_check(r.sb, size, &why))
		return pkernfs_fsck(f, b, size);
	rimg_init(&r, f, b);
	repair_records(&r);
	repair_root(&r);
	repair_names(&r);
	repair_tree(&r);
	repair_links(&r);
	if (f->drop_bad)
		repair_drop_bad(&r);
	repair_bitmap(&r);
	repair_hwm(&r);
	f->errors = f->notes = 0;
	f->inodes = f->extents = f->used_aus = f->kernel_pages = 0;
	f->orphans = f->bad_pages = f->bad_in_files = 0;
	rc = pkernfs_fsck(f, b, size);
	if (r.left) {
		f->errors += r.left;
		return 4;
	}
	return rc ? rc : f->repairs ? 1 : 0;
}

/**
 * pkernfs_upgrade() - raise an image's format level, turning on its features
 * @f: findings go to f->report; the image's counters are left in @f
 * @b: the image, unmounted
 * @size: its size
 * @minor: the new level's minor revision, up to PKERNFS_MINOR
 *
 * Explicit and offline, as tune2fs -O is: what a level brings is never
 * turned on by a mount. Kernels older than the new level then mount the
 * image read-only. The marks of minor 2 are set from the slots in use.
 *
 * Return: 0 done (or nothing to do), 4 refused (not clean, a pending
 * journal, a lower level), 8 not a pkernfs image; the image is untouched
 * unless 0.
 */
int pkernfs_upgrade(struct pkernfs_fsck *f, uint8_t *b, uint64_t size, uint32_t minor)
{
	struct pkernfs_fsck quiet = { 0 };
	struct pkernfs_journal_head *jh;
	struct rimg r;
	uint32_t cur, h;
	int rc;

	rc = pkernfs_fsck(&quiet, b, size);
	if (rc == 8 || !quiet.super_ok)
		return 8;
	rimg_init(&r, f, b);
	cur = le16_to_cpu(r.sb->s_minor);
	if (rc || quiet.journal_pending || minor > PKERNFS_MINOR || minor < cur) {
		const char *why = rc ? "it is not clean: run fsck --repair first" :
				  quiet.journal_pending ? "its journal holds a transaction: mount it once first" :
				  minor > PKERNFS_MINOR ? "this tool writes levels up to its own" :
				  "a level is never lowered: a kernel of the lower level might not know what the image holds";

		char msg[256];

		snprintf(msg, sizeof(msg), "upgrade from %u.%u to %u.%u refused: %s",
			 PKERNFS_MAJOR, cur, PKERNFS_MAJOR, minor, why);
		if (f->report)
			f->report(f->priv, PKERNFS_FSCK_ERROR, msg);
		return 4;
	}
	if (minor == cur)
		return 0;
	jh = (void *)(b + fsck_roff(r.sb, PKERNFS_R_JOURNAL));
	if (minor >= PKERNFS_MINOR_HWM &&
	    !(le32_to_cpu(r.sb->s_feature_ro_compat) & PKERNFS_FEATURE_RO_COMPAT_HWM)) {
		for (h = 0; h < PKERNFS_NR_HWM; h++)
			r.sb->s_hwm[h] = cpu_to_le32(hwm_over_use(r.sb, b, h));
		r.sb->s_feature_ro_compat |= cpu_to_le32(PKERNFS_FEATURE_RO_COMPAT_HWM);
		jh->j_hwm_seq = jh->j_seq;
		pkernfs_journal_set_crc(jh);
	}
	r.sb->s_minor = cpu_to_le16(minor);
	pkernfs_super_set_crc(r.sb);
	fixed(&r, "format level %u.%u -> %u.%u: kernels older than %u.%u now mount it read-only",
	      PKERNFS_MAJOR, cur, PKERNFS_MAJOR, minor, PKERNFS_MAJOR, minor);
	return pkernfs_fsck(&quiet, b, size) ? 4 : 0;
}
