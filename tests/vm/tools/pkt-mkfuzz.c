// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-mkfuzz: generated, damaged pkernfs images for the mount fuzz case
 * (tests/vm/cases/pkernfs-mountfuzz.sh). Everything about an image follows
 * from its seed, so any image the kernel trips on can be made again.
 *
 *   pkt-mkfuzz DEV SIZE SEED
 *	Write image SEED over DEV (a device dax node or an image file) of
 *	SIZE bytes and print one line saying what was built and damaged.
 *   pkt-mkfuzz --run DAX FIRST COUNT MNT [--no-mmap] [--no-remount]
 *	In the guest, for each seed FIRST..FIRST+COUNT-1: hand DAX (dax0.0)
 *	to device_dax, write the image through /dev/DAX, hand it to
 *	dax_pkernfs, mount it on MNT; then either the mount was refused with
 *	a pkernfs kernel message, or the whole tree is walked (every entry
 *	stat'ed, every regular file read to its end, symlinks read, statfs)
 *	and unmounted. One result line per seed; exit 1 if any seed failed.
 *   pkt-mkfuzz --selftest FILE SIZE COUNT [FIRST]
 *	On the host: every seed twice into FILE, same bytes both times; the
 *	undamaged image of every seed checks clean with the shared fsck.
 *
 * An image: pkernfs_format() with a seeded AU size (4K, 64K, 2M), table
 * sizes and kernel area; a tree of directories, files with extents (their
 * AUs marked in the bitmap), symlinks, device nodes, fifos, sockets, hard
 * links, orphans and kernel-area entries; sometimes a committed journal
 * transaction. All of that valid: the shared fsck finds it clean. Then
 * damage: either one of the structured kinds below, aimed at a field the
 * kernel relies on with every crc recomputed so the semantic checks are
 * what stands in the way, or random bytes in random metadata records,
 * crcs recomputed nine times in ten.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fsck.h"

/* --- seeded randomness: splitmix64, the same on every host --- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static int chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* --- the image being built --- */

struct fz {
	uint8_t *b;
	uint64_t dev_size;	/* bytes mapped */
	struct pkernfs_super *sb;
	struct rng r;
	uint64_t seed;
	uint32_t shift;
	uint64_t au, nr_aus, first_data;
	uint32_t ni, nd, ne, nb, nk;
	uint64_t kpages;
	uint64_t off[PKERNFS_NR_REGIONS], jlen;	/* the layout as formatted */
	uint32_t cnt[PKERNFS_NR_REGIONS], rsz[PKERNFS_NR_REGIONS];
	/* what the tree holds, for aiming damage */
	uint32_t *names, *subdirs;	/* per inode */
	uint32_t *dirs, ndirs, *files, nfiles, *syms, nsyms, *specs, nspecs;
	uint32_t *orphans, norphans;
	uint32_t *dslots, ndslots, *eslots, neslots;
	uint32_t kused;
	int journal;		/* a committed transaction is in the journal */
	uint32_t applied;	/* bit n: damages[n] was applied */
	char desc[768];
	size_t dlen;
};

static void note(struct fz *f, const char *fmt, ...)
{
	va_list ap;

	if (f->dlen >= sizeof(f->desc) - 2)
		return;
	f->desc[f->dlen++] = ' ';
	va_start(ap, fmt);
	f->dlen += vsnprintf(f->desc + f->dlen, sizeof(f->desc) - f->dlen, fmt, ap);
	va_end(ap);
	if (f->dlen >= sizeof(f->desc))
		f->dlen = sizeof(f->desc) - 1;
}

/* Where a region is as formatted: damage to the superblock moves nothing here. */
static uint64_t roff(struct fz *f, int r)
{
	return f->off[r];
}

static struct pkernfs_inode *it(struct fz *f, uint64_t n)
{
	return (struct pkernfs_inode *)(f->b + roff(f, PKERNFS_R_INODES)) + n;
}

static struct pkernfs_dirent *de(struct fz *f, uint64_t n)
{
	return (struct pkernfs_dirent *)(f->b + roff(f, PKERNFS_R_DIRENTS)) + n;
}

static struct pkernfs_extent *ex(struct fz *f, uint64_t n)
{
	return (struct pkernfs_extent *)(f->b + roff(f, PKERNFS_R_EXTENTS)) + n;
}

static struct pkernfs_bmap_block *bm(struct fz *f, uint64_t n)
{
	return (struct pkernfs_bmap_block *)(f->b + roff(f, PKERNFS_R_BITMAP) +
					     n * PKERNFS_BLOCK_SIZE);
}

static struct pkernfs_kdir_entry *kd(struct fz *f, uint64_t n)
{
	return (struct pkernfs_kdir_entry *)(f->b + roff(f, PKERNFS_R_KDIR)) + n;
}

static struct pkernfs_journal_head *jh(struct fz *f)
{
	return (struct pkernfs_journal_head *)(f->b + roff(f, PKERNFS_R_JOURNAL));
}

static int all_zero(const void *p, size_t len)
{
	const uint8_t *c = p;

	while (len--)
		if (*c++)
			return 0;
	return 1;
}

static int au_used(struct fz *f, uint64_t au)
{
	struct pkernfs_bmap_block *bb = bm(f, au / PKERNFS_BITS_PER_BMAP);
	uint64_t bit = au % PKERNFS_BITS_PER_BMAP;

	return (bb->b_bits[bit / 8] >> (bit % 8)) & 1;
}

static void au_set(struct fz *f, uint64_t au, int used)
{
	struct pkernfs_bmap_block *bb = bm(f, au / PKERNFS_BITS_PER_BMAP);
	uint64_t bit = au % PKERNFS_BITS_PER_BMAP;

	if (used)
		bb->b_bits[bit / 8] |= 1u << (bit % 8);
	else
		bb->b_bits[bit / 8] &= ~(1u << (bit % 8));
}

static void au_mark(struct fz *f, uint64_t au, int used)
{
	au_set(f, au, used);
	pkernfs_bmap_set_crc(bm(f, au / PKERNFS_BITS_PER_BMAP));
}

/* Mark AUs [start, start + len) as far as the bitmap reaches; crcs once. */
static void mark_range(struct fz *f, uint64_t start, uint64_t len, int used)
{
	uint64_t au, end = (uint64_t)f->nb * PKERNFS_BITS_PER_BMAP, blk;

	if (start >= end)
		return;
	if (len > end - start)
		len = end - start;
	for (au = start; au < start + len; au++)
		au_set(f, au, used);
	for (blk = start / PKERNFS_BITS_PER_BMAP; len && blk <= (start + len - 1) / PKERNFS_BITS_PER_BMAP;
	     blk++)
		pkernfs_bmap_set_crc(bm(f, blk));
}

/* A run of free data AUs of up to @want, found from a seeded place. */
static uint64_t alloc_aus(struct fz *f, uint64_t want, uint64_t *start)
{
	uint64_t span = f->nr_aus - f->first_data, i, au, got;

	if (!span)
		return 0;
	au = f->first_data + below(&f->r, span);
	for (i = 0; i < span; i++, au++) {
		if (au >= f->nr_aus)
			au = f->first_data;
		if (au_used(f, au))
			continue;
		for (got = 0; got < want && au + got < f->nr_aus && !au_used(f, au + got); got++)
			;
		*start = au;
		mark_range(f, au, got, 1);
		return got;
	}
	return 0;
}

static uint32_t alloc_ino(struct fz *f)
{
	uint32_t i;

	for (i = PKERNFS_ROOT_INO + 1; i < f->ni; i++)
		if (!(le16_to_cpu(it(f, i)->i_flags) & PKERNFS_INODE_USED))
			return i;
	return 0;
}

/* Dirent and extent slots are taken from a seeded place, so they spread. */
static int64_t alloc_dslot(struct fz *f)
{
	uint32_t i, s = below(&f->r, f->nd);

	for (i = 0; i < f->nd; i++, s = (s + 1) % f->nd)
		if (all_zero(de(f, s), sizeof(struct pkernfs_dirent)))
			return s;
	return -1;
}

static int64_t alloc_eslot(struct fz *f)
{
	uint32_t i, s = chance(&f->r, 50) ? 0 : below(&f->r, f->ne);

	for (i = 0; i < f->ne; i++, s = (s + 1) % f->ne)
		if (all_zero(ex(f, s), sizeof(struct pkernfs_extent)))
			return s;
	return -1;
}

static void push(uint32_t *list, uint32_t *n, uint32_t cap, uint32_t v)
{
	if (*n < cap)
		list[(*n)++] = v;
}

static void drop(uint32_t *list, uint32_t *n, uint32_t v)
{
	uint32_t i;

	for (i = 0; i < *n; i++) {
		if (list[i] == v) {
			list[i] = list[--*n];
			return;
		}
	}
}

static uint32_t pick(struct fz *f, const uint32_t *list, uint32_t n)
{
	return list[below(&f->r, n)];
}

static void set_times(struct fz *f, struct pkernfs_inode *di)
{
	uint64_t t = 1500000000ULL + below(&f->r, 300000000ULL);

	di->i_atime = cpu_to_le64(t + below(&f->r, 1000));
	di->i_mtime = cpu_to_le64(t);
	di->i_ctime = cpu_to_le64(t + 1);
	di->i_btime = cpu_to_le64(t - below(&f->r, 1000));
	di->i_atime_ns = cpu_to_le32(below(&f->r, 1000000000u));
	di->i_mtime_ns = cpu_to_le32(below(&f->r, 1000000000u));
	di->i_ctime_ns = cpu_to_le32(below(&f->r, 1000000000u));
	di->i_btime_ns = cpu_to_le32(below(&f->r, 1000000000u));
}

/* A used inode record; nlink is set by finish_inodes(). */
static void mk_inode(struct fz *f, uint32_t n, uint16_t mode, uint64_t size, uint32_t parent)
{
	struct pkernfs_inode *di = it(f, n);
	uint32_t gen = le32_to_cpu(di->i_gen) + 1 + below(&f->r, 3);

	memset(di, 0, sizeof(*di));
	di->i_ino = cpu_to_le64(n);
	di->i_gen = cpu_to_le32(gen);
	di->i_mode = cpu_to_le16(mode);
	di->i_flags = cpu_to_le16(PKERNFS_INODE_USED);
	di->i_uid = cpu_to_le32(chance(&f->r, 70) ? 0 : below(&f->r, 70000));
	di->i_gid = cpu_to_le32(chance(&f->r, 70) ? 0 : below(&f->r, 70000));
	di->i_size = cpu_to_le64(size);
	di->i_parent = cpu_to_le64(parent);
	set_times(f, di);
	pkernfs_inode_set_crc(di);
}

static void fix_dirent(struct pkernfs_dirent *d)
{
	uint32_t len = le16_to_cpu(d->d_namelen);

	if (len <= PKERNFS_NAME_LEN)
		d->d_hash = cpu_to_le32(pkernfs_name_hash(d->d_name, len));
	pkernfs_dirent_set_crc(d);
}

static void mk_dirent(struct fz *f, uint32_t slot, uint32_t parent, uint32_t child,
		      const char *name, uint32_t len)
{
	struct pkernfs_dirent *d = de(f, slot);

	memset(d, 0, sizeof(*d));
	d->d_parent = cpu_to_le64(parent);
	d->d_ino = cpu_to_le64(child);
	d->d_parent_gen = it(f, parent)->i_gen;
	d->d_ino_gen = it(f, child)->i_gen;
	d->d_type = IFTODT(le16_to_cpu(it(f, child)->i_mode));
	d->d_namelen = cpu_to_le16(len);
	memcpy(d->d_name, name, len);
	fix_dirent(d);
}

static int name_taken(struct fz *f, uint32_t parent, const char *name, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < f->ndslots; i++) {
		struct pkernfs_dirent *d = de(f, f->dslots[i]);

		if (le64_to_cpu(d->d_parent) == parent && le16_to_cpu(d->d_namelen) == len &&
		    !memcmp(d->d_name, name, len))
			return 1;
	}
	return 0;
}

/* A fresh name in @parent: mostly short, sometimes the longest allowed. */
static uint32_t mk_name(struct fz *f, uint32_t parent, char *name, const char *prefix)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+ =~#";
	uint32_t len, i, tries;

	for (tries = 0; tries < 100; tries++) {
		if (chance(&f->r, 70)) {
			len = snprintf(name, PKERNFS_NAME_LEN + 1, "%s%" PRIu64, prefix,
				       below(&f->r, 1000));
		} else {
			len = chance(&f->r, 20) ? PKERNFS_NAME_LEN : 1 + below(&f->r, 40);
			for (i = 0; i < len; i++)
				name[i] = chance(&f->r, 3) ? (char)(0x80 + below(&f->r, 0x80)) :
					  cs[below(&f->r, sizeof(cs) - 1)];
			name[len] = 0;
			if ((len == 1 && name[0] == '.') ||
			    (len == 2 && name[0] == '.' && name[1] == '.'))
				continue;
		}
		if (!name_taken(f, parent, name, len))
			return len;
	}
	return 0;
}

/* Name inode @child in @parent; 0 if the table is full. */
static int link_name(struct fz *f, uint32_t parent, uint32_t child, const char *prefix)
{
	char name[PKERNFS_NAME_LEN + 1];
	int64_t slot = alloc_dslot(f);
	uint32_t len;

	if (slot < 0)
		return 0;
	len = mk_name(f, parent, name, prefix);
	if (!len)
		return 0;
	mk_dirent(f, slot, parent, child, name, len);
	push(f->dslots, &f->ndslots, f->nd, slot);
	f->names[child]++;
	if (S_ISDIR(le16_to_cpu(it(f, child)->i_mode)))
		f->subdirs[parent]++;
	return 1;
}

static void tag_au(struct fz *f, uint64_t au, uint32_t ino, uint64_t lblk)
{
	char tag[64];
	int n;

	if ((au + 1) << f->shift > f->dev_size)
		return;
	n = snprintf(tag, sizeof(tag), "pkt-mkfuzz seed=%" PRIu64 " ino=%u lblk=%" PRIu64 "\n",
		     f->seed, ino, lblk);
	memcpy(f->b + (au << f->shift), tag, n);
}

/* Give file @ino an extent of up to @want AUs at @lblk; AUs mapped, or 0. */
static uint64_t add_extent(struct fz *f, uint32_t ino, uint32_t lblk, uint64_t want)
{
	int64_t slot = alloc_eslot(f);
	struct pkernfs_extent *e;
	uint64_t start, got, i;

	if (slot < 0)
		return 0;
	got = alloc_aus(f, want, &start);
	if (!got)
		return 0;
	e = ex(f, slot);
	memset(e, 0, sizeof(*e));
	e->e_ino = cpu_to_le64(ino);
	e->e_ino_gen = it(f, ino)->i_gen;
	e->e_lblk = cpu_to_le32(lblk);
	e->e_len = cpu_to_le32(got);
	e->e_start = cpu_to_le64(start);
	pkernfs_extent_set_crc(e);
	push(f->eslots, &f->neslots, f->ne, slot);
	for (i = 0; i < got; i++)
		tag_au(f, start + i, ino, lblk + i);
	return got;
}

/* A regular file's extents and its size; returns file AUs covered. */
static uint64_t fill_file(struct fz *f, uint32_t ino, unsigned int maxext)
{
	uint64_t lblk = chance(&f->r, 80) ? 0 : below(&f->r, 3), end = 0, got, size;
	unsigned int n = below(&f->r, maxext + 1), i;
	uint64_t avail = f->nr_aus - f->first_data;
	uint64_t maxlen = avail > 64 ? 4 + below(&f->r, 12) : 1 + below(&f->r, 2);

	for (i = 0; i < n; i++) {
		got = add_extent(f, ino, lblk, 1 + below(&f->r, maxlen));
		if (!got)
			break;
		end = lblk + got;
		lblk = end + (chance(&f->r, 30) ? below(&f->r, 3) : 0);
	}
	if (!end)
		size = chance(&f->r, 50) ? 0 : below(&f->r, 3 * f->au);	/* sparse */
	else if (chance(&f->r, 80))
		size = ((end - 1) << f->shift) + 1 + below(&f->r, f->au);
	else
		size = (end << f->shift) + below(&f->r, 4 * f->au);	/* hole at the end */
	it(f, ino)->i_size = cpu_to_le64(size);
	pkernfs_inode_set_crc(it(f, ino));
	return end;
}

static void finish_inode(struct fz *f, uint32_t i)
{
	struct pkernfs_inode *di = it(f, i);

	if (!(le16_to_cpu(di->i_flags) & PKERNFS_INODE_USED))
		return;
	if (S_ISDIR(le16_to_cpu(di->i_mode)))
		di->i_nlink = cpu_to_le32(f->names[i] || i == PKERNFS_ROOT_INO ?
					  2 + f->subdirs[i] : 0);
	else
		di->i_nlink = cpu_to_le32(f->names[i]);
	pkernfs_inode_set_crc(di);
}

static void finish_inodes(struct fz *f)
{
	uint32_t i;

	for (i = 1; i < f->ni; i++)
		finish_inode(f, i);
}

static uint16_t perm(struct fz *f)
{
	return chance(&f->r, 80) ? 0644 : below(&f->r, 07777 + 1);
}

static uint32_t new_node(struct fz *f, uint16_t mode, uint32_t parent, const char *prefix)
{
	uint32_t ino = alloc_ino(f);

	if (!ino)
		return 0;
	mk_inode(f, ino, mode, 0, S_ISDIR(mode) ? parent : 0);
	if (!link_name(f, parent, ino, prefix)) {
		memset(it(f, ino), 0, sizeof(struct pkernfs_inode));
		return 0;
	}
	return ino;
}

static void build_tree(struct fz *f)
{
	unsigned int ndir = below(&f->r, 8), nfile = below(&f->r, 14), nsym = below(&f->r, 4);
	unsigned int nspec = below(&f->r, 4), nlink = below(&f->r, 4), norph = 0, i;
	uint32_t ino, parent;

	f->dirs[f->ndirs++] = PKERNFS_ROOT_INO;
	if (chance(&f->r, 30))
		norph = 1 + below(&f->r, 2);
	for (i = 0; i < ndir; i++) {
		parent = pick(f, f->dirs, f->ndirs);
		ino = new_node(f, S_IFDIR | (chance(&f->r, 80) ? 0755 : perm(f)), parent, "d");
		if (ino)
			push(f->dirs, &f->ndirs, f->ni, ino);
	}
	for (i = 0; i < nfile; i++) {
		ino = new_node(f, S_IFREG | perm(f), pick(f, f->dirs, f->ndirs), "f");
		if (!ino)
			continue;
		push(f->files, &f->nfiles, f->ni, ino);
		fill_file(f, ino, 3);
	}
	for (i = 0; i < nsym; i++) {
		char target[PKERNFS_SYMLINK_INLINE];
		uint32_t len, j;

		ino = new_node(f, S_IFLNK | 0777, pick(f, f->dirs, f->ndirs), "l");
		if (!ino)
			continue;
		push(f->syms, &f->nsyms, f->ni, ino);
		if (chance(&f->r, 50)) {
			len = snprintf(target, sizeof(target), "%sf%" PRIu64,
				       chance(&f->r, 50) ? "../" : "", below(&f->r, 1000));
		} else {
			len = chance(&f->r, 20) ? PKERNFS_SYMLINK_INLINE :
						  1 + below(&f->r, PKERNFS_SYMLINK_INLINE);
			for (j = 0; j < len; j++)
				target[j] = chance(&f->r, 15) ? '/' : 'a' + below(&f->r, 26);
		}
		memcpy(it(f, ino)->i_inline, target, len);
		it(f, ino)->i_size = cpu_to_le64(len);
		pkernfs_inode_set_crc(it(f, ino));
	}
	for (i = 0; i < nspec; i++) {
		static const uint16_t types[] = { S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK };
		uint16_t type = types[below(&f->r, 4)];
		uint32_t major = below(&f->r, 300), minor = below(&f->r, 1 << 20), dev;

		ino = new_node(f, type | perm(f), pick(f, f->dirs, f->ndirs), "s");
		if (!ino)
			continue;
		push(f->specs, &f->nspecs, f->ni, ino);
		if (type == S_IFCHR || type == S_IFBLK) {
			dev = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
			memcpy(it(f, ino)->i_inline, &(uint32_t){ htole32(dev) }, 4);
			pkernfs_inode_set_crc(it(f, ino));
		}
	}
	/* Hard links: more names for files, symlinks and specials. */
	for (i = 0; i < nlink && f->nfiles + f->nsyms + f->nspecs; i++) {
		uint32_t n = below(&f->r, f->nfiles + f->nsyms + f->nspecs);

		ino = n < f->nfiles ? f->files[n] : n < f->nfiles + f->nsyms ?
		      f->syms[n - f->nfiles] : f->specs[n - f->nfiles - f->nsyms];
		link_name(f, pick(f, f->dirs, f->ndirs), ino, "h");
	}
	/* Orphans: in use, no name, no link; mount frees them. */
	for (i = 0; i < norph; i++) {
		ino = alloc_ino(f);
		if (!ino)
			break;
		if (chance(&f->r, 75)) {
			mk_inode(f, ino, S_IFREG | 0600, 0, 0);
			fill_file(f, ino, 2);
		} else {
			mk_inode(f, ino, chance(&f->r, 50) ? S_IFDIR | 0700 : S_IFIFO | 0600, 0,
				 PKERNFS_ROOT_INO);
		}
		push(f->orphans, &f->norphans, f->ni, ino);
	}
	finish_inodes(f);

	/* Kernel-area entries, as the IOMMU code would leave them. */
	if (chance(&f->r, 60) && f->kpages) {
		unsigned int nk = 1 + below(&f->r, 4);
		uint64_t page = 0;

		for (i = 0; i < nk && page < f->kpages; i++) {
			struct pkernfs_kdir_entry *k = kd(f, i * 3 % f->nk);
			uint64_t n = 1 + below(&f->r, f->kpages - page < 8 ? f->kpages - page : 8);

			memset(k, 0, sizeof(*k));
			k->k_start = cpu_to_le64(page);
			k->k_npages = cpu_to_le64(n);
			k->k_cookie = cpu_to_le64(rnd(&f->r));
			snprintf((char *)k->k_name, PKERNFS_KNAME_LEN, "intel-iommu/dmar%u", i);
			pkernfs_kdir_set_crc(k);
			page += n + below(&f->r, 2);
			f->kused++;
		}
	}
}

/* --- journal transactions, made by diffing the tables --- */

struct snap {
	uint8_t *copy;
	uint64_t len;
};

static int snap_take(struct fz *f, struct snap *s)
{
	s->len = roff(f, PKERNFS_R_KERNEL);
	s->copy = malloc(s->len);
	if (!s->copy)
		return -1;
	memcpy(s->copy, f->b, s->len);
	return 0;
}

/* Each table's records, for the diff. */
static const struct {
	uint16_t table;
	int region;
} jtabs[] = {
	{ PKERNFS_T_INODE, PKERNFS_R_INODES },
	{ PKERNFS_T_DIRENT, PKERNFS_R_DIRENTS },
	{ PKERNFS_T_EXTENT, PKERNFS_R_EXTENTS },
	{ PKERNFS_T_BMAP, PKERNFS_R_BITMAP },
	{ PKERNFS_T_KDIR, PKERNFS_R_KDIR },
};

static uint8_t *jappend(struct fz *f, uint32_t *pos, uint16_t table, uint64_t index,
			const void *img, uint32_t len)
{
	struct pkernfs_journal_head *h = jh(f);
	struct pkernfs_journal_rec *jr = (void *)((uint8_t *)(h + 1) + *pos);

	if (sizeof(*h) + *pos + sizeof(*jr) + len > f->jlen)
		return NULL;
	jr->jr_table = cpu_to_le16(table);
	jr->jr_reserved = 0;
	jr->jr_len = cpu_to_le32(len);
	jr->jr_index = cpu_to_le64(index);
	memcpy(jr + 1, img, len);
	*pos += sizeof(*jr) + len;
	h->j_nrec = cpu_to_le32(le32_to_cpu(h->j_nrec) + 1);
	return (uint8_t *)(jr + 1);
}

static void jcommit(struct fz *f, uint32_t bytes)
{
	struct pkernfs_journal_head *h = jh(f);

	h->j_magic = cpu_to_le32(PKERNFS_JOURNAL_MAGIC);
	h->j_seq = cpu_to_le64(le64_to_cpu(h->j_seq) + 1 + below(&f->r, 100));
	h->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
	h->j_bytes = cpu_to_le32(bytes);
	pkernfs_journal_set_crc(h);
}

/*
 * Move every record that changed since @s into a committed transaction;
 * with @keep_new the homes keep the new images too (a commit whose copy
 * home finished but whose head was not yet emptied), else they go back.
 * The super block is compared too. Return: records journaled.
 */
static int snap_commit(struct fz *f, struct snap *s, int keep_new)
{
	struct pkernfs_journal_head *h = jh(f);
	uint32_t pos = le32_to_cpu(h->j_bytes), n = 0;
	unsigned int t;
	uint64_t i;

	if (le32_to_cpu(h->j_state) != PKERNFS_J_COMMITTED) {
		pos = 0;
		h->j_nrec = 0;
	}
	if (memcmp(s->copy, f->b, PKERNFS_BLOCK_SIZE)) {
		if (jappend(f, &pos, PKERNFS_T_SUPER, 0, f->b, PKERNFS_BLOCK_SIZE))
			n++;
		if (!keep_new)
			memcpy(f->b, s->copy, PKERNFS_BLOCK_SIZE);
	}
	for (t = 0; t < sizeof(jtabs) / sizeof(jtabs[0]); t++) {
		int rgn = jtabs[t].region;
		uint32_t rs = f->rsz[rgn];
		uint64_t off = f->off[rgn];

		for (i = 0; i < f->cnt[rgn]; i++, off += rs) {
			if (off + rs > s->len || !memcmp(s->copy + off, f->b + off, rs))
				continue;
			if (jappend(f, &pos, jtabs[t].table, i, f->b + off, rs))
				n++;
			if (!keep_new)
				memcpy(f->b + off, s->copy + off, rs);
		}
	}
	free(s->copy);
	s->copy = NULL;
	if (n) {
		jcommit(f, pos);
		f->journal = 1;
	}
	return n;
}

/* A valid committed transaction: one operation the kernel could have cut short. */
static void journal_txn(struct fz *f)
{
	int keep = chance(&f->r, 40), kind = below(&f->r, 5), n;
	struct snap s;
	uint32_t ino, parent;
	const char *what = "none";

	if (snap_take(f, &s))
		return;
	parent = pick(f, f->dirs, f->ndirs);
	switch (kind) {
	case 0:		/* create a file with data */
		ino = new_node(f, S_IFREG | 0644, parent, "j");
		if (ino) {
			fill_file(f, ino, 2);
			finish_inode(f, ino);
			finish_inode(f, parent);
			push(f->files, &f->nfiles, f->ni, ino);
		}
		what = "create";
		break;
	case 1:		/* mkdir */
		ino = new_node(f, S_IFDIR | 0755, parent, "jd");
		if (ino) {
			finish_inode(f, ino);
			finish_inode(f, parent);
			push(f->dirs, &f->ndirs, f->ni, ino);
		}
		what = "mkdir";
		break;
	case 2:		/* unlink a file: the last name goes, it becomes an orphan */
		if (f->nfiles) {
			uint32_t i;

			ino = pick(f, f->files, f->nfiles);
			for (i = 0; i < f->ndslots; i++) {
				if (le64_to_cpu(de(f, f->dslots[i])->d_ino) == ino) {
					memset(de(f, f->dslots[i]), 0, sizeof(struct pkernfs_dirent));
					f->dslots[i] = f->dslots[--f->ndslots];
					f->names[ino]--;
					break;
				}
			}
			finish_inode(f, ino);
			if (!f->names[ino]) {
				drop(f->files, &f->nfiles, ino);
				push(f->orphans, &f->norphans, f->ni, ino);
			}
		}
		what = "unlink";
		break;
	case 3:		/* the mount-time super update */
		f->sb->s_mount_count = cpu_to_le64(le64_to_cpu(f->sb->s_mount_count) + 1);
		f->sb->s_mount_time = cpu_to_le64(1700000000ULL + below(&f->r, 1000000));
		f->sb->s_state = 0;
		pkernfs_super_set_crc(f->sb);
		what = "super";
		break;
	default:	/* a file grows */
		if (f->nfiles) {
			ino = pick(f, f->files, f->nfiles);
			n = add_extent(f, ino, 200 + below(&f->r, 100), 1 + below(&f->r, 2));
			if (n) {
				it(f, ino)->i_size = cpu_to_le64((uint64_t)(300 + 2) << f->shift);
				pkernfs_inode_set_crc(it(f, ino));
			}
		}
		what = "grow";
		break;
	}
	n = snap_commit(f, &s, keep);
	note(f, "journal=%s/%d%s", what, n, keep ? "/applied" : "");
}

/* --- building: format, tree, journal --- */

static const uint32_t shifts[] = { 12, 16, 21 };

static int build(struct fz *f, uint8_t *b, uint64_t dev_size, uint64_t seed)
{
	static const uint64_t inode_counts[] = { 64, 96, 200, 512, 1024 };
	struct pkernfs_mkfs_params p = { 0 };
	static struct pkernfs_super sbuf;
	uint64_t fs_size = dev_size, i;
	const char *why = NULL;
	int err;

	memset(f, 0, sizeof(*f));
	f->b = b;
	f->dev_size = dev_size;
	f->seed = seed;
	f->r.s = seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	p.au_shift = shifts[below(&f->r, 3)];
	p.nr_inodes = inode_counts[below(&f->r, 5)];
	p.nr_dirents = chance(&f->r, 50) ? 0 : p.nr_inodes * (1 + below(&f->r, 3));
	p.journal_bytes = chance(&f->r, 80) ? 0 : (100 + below(&f->r, 400)) << 10;
	if (chance(&f->r, 20))
		p.kernel_bytes = (1 + below(&f->r, 3)) << p.au_shift;
	p.time = 1600000000ULL + below(&f->r, 100000000);
	for (i = 0; i < sizeof(p.uuid); i++)
		p.uuid[i] = rnd(&f->r);
	snprintf(p.label, sizeof(p.label), "fuzz%" PRIu64, seed);
	/* Sometimes the filesystem covers less than the device. */
	if (chance(&f->r, 20))
		fs_size = dev_size / 2 + below(&f->r, dev_size / 2);
	err = pkernfs_format(b, fs_size, &p, &sbuf, &why);
	if (err && fs_size != dev_size) {
		fs_size = dev_size;
		err = pkernfs_format(b, fs_size, &p, &sbuf, &why);
	}
	if (err) {
		fprintf(stderr, "pkt-mkfuzz: seed %" PRIu64 ": format: %s\n", seed, why);
		return -1;
	}
	f->sb = (struct pkernfs_super *)b;
	for (i = 0; i < PKERNFS_NR_REGIONS; i++) {
		f->off[i] = le64_to_cpu(f->sb->s_regions[i].off);
		f->cnt[i] = le32_to_cpu(f->sb->s_regions[i].count);
		f->rsz[i] = le32_to_cpu(f->sb->s_regions[i].rec_size);
	}
	f->jlen = le64_to_cpu(f->sb->s_regions[PKERNFS_R_JOURNAL].len);
	f->shift = le32_to_cpu(f->sb->s_au_shift);
	f->au = 1ULL << f->shift;
	f->nr_aus = le64_to_cpu(f->sb->s_nr_aus);
	f->first_data = roff(f, PKERNFS_R_DATA) >> f->shift;
	f->ni = le32_to_cpu(f->sb->s_regions[PKERNFS_R_INODES].count);
	f->nd = le32_to_cpu(f->sb->s_regions[PKERNFS_R_DIRENTS].count);
	f->ne = le32_to_cpu(f->sb->s_regions[PKERNFS_R_EXTENTS].count);
	f->nb = le32_to_cpu(f->sb->s_regions[PKERNFS_R_BITMAP].count);
	f->nk = le32_to_cpu(f->sb->s_regions[PKERNFS_R_KDIR].count);
	f->kpages = le64_to_cpu(f->sb->s_regions[PKERNFS_R_KERNEL].len) >> PKERNFS_BLOCK_SHIFT;
	f->dlen = snprintf(f->desc, sizeof(f->desc), "seed=%" PRIu64 " au=%s inodes=%u dirents=%u",
			   seed, f->shift == 12 ? "4K" : f->shift == 16 ? "64K" : "2M",
			   f->ni, f->nd);
	if (fs_size != dev_size)
		note(f, "fs=%" PRIu64 "M/%" PRIu64 "M", fs_size >> 20, dev_size >> 20);
	f->names = calloc(f->ni, sizeof(uint32_t));
	f->subdirs = calloc(f->ni, sizeof(uint32_t));
	f->dirs = calloc(f->ni, sizeof(uint32_t));
	f->files = calloc(f->ni, sizeof(uint32_t));
	f->syms = calloc(f->ni, sizeof(uint32_t));
	f->specs = calloc(f->ni, sizeof(uint32_t));
	f->orphans = calloc(f->ni, sizeof(uint32_t));
	f->dslots = calloc(f->nd, sizeof(uint32_t));
	f->eslots = calloc(f->ne, sizeof(uint32_t));
	if (!f->names || !f->subdirs || !f->dirs || !f->files || !f->syms || !f->specs ||
	    !f->orphans || !f->dslots || !f->eslots) {
		fprintf(stderr, "pkt-mkfuzz: out of memory\n");
		return -1;
	}
	build_tree(f);
	note(f, "tree=%ud/%uf/%ul/%us/%uo/%ue", f->ndirs, f->nfiles, f->nsyms, f->nspecs,
	     f->norphans, f->neslots);
	return 0;
}

static void release(struct fz *f)
{
	free(f->names);
	free(f->subdirs);
	free(f->dirs);
	free(f->files);
	free(f->syms);
	free(f->specs);
	free(f->orphans);
	free(f->dslots);
	free(f->eslots);
}

/* --- damage --- */

/* Integers a field is likely to be checked against. */
static uint64_t interesting(struct fz *f)
{
	const uint64_t v[] = {
		0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff,
		PKERNFS_BITS_PER_BMAP, PKERNFS_BITS_PER_BMAP + 1, PKERNFS_BITS_PER_BMAP - 1,
		0x7fffffff, 0x80000000ULL, 0xffffffffULL, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL, f->nr_aus, f->nr_aus - 1, f->nr_aus + 1,
		f->first_data, f->first_data - 1, f->ni, f->ni - 1, f->nd, f->ne, f->dev_size,
		f->dev_size >> 12, f->au, (0x100000000ULL << f->shift), f->kpages,
	};

	return v[below(&f->r, sizeof(v) / sizeof(v[0]))] + (chance(&f->r, 10) ? below(&f->r, 5) : 0);
}

static void put(void *p, unsigned int width, uint64_t v)
{
	uint8_t *c = p;
	unsigned int i;

	for (i = 0; i < width; i++)
		c[i] = v >> (8 * i);
}

/* 1..16 byte changes in [p, p + len): flips, random bytes, integers. */
static void scribble(struct fz *f, uint8_t *p, uint32_t len, uint32_t hot)
{
	unsigned int n = 1 + below(&f->r, chance(&f->r, 50) ? 3 : 16), i;

	for (i = 0; i < n; i++) {
		/* Most records keep their fields in the first bytes. */
		uint32_t off = below(&f->r, hot && chance(&f->r, 80) ? hot : len);

		switch (below(&f->r, 4)) {
		case 0:
			p[off] ^= 1u << below(&f->r, 8);
			break;
		case 1:
			p[off] = rnd(&f->r);
			break;
		case 2: {
			unsigned int w = 1u << below(&f->r, 4);

			off &= ~(w - 1);
			if (off + w > len)
				off = 0;
			put(p + off, w, interesting(f));
			break;
		}
		default:
			p[off] = chance(&f->r, 50) ? 0 : 0xff;
			break;
		}
	}
}

static void fix_crc(uint16_t table, void *rec)
{
	switch (table) {
	case PKERNFS_T_SUPER:
		pkernfs_super_set_crc(rec);
		break;
	case PKERNFS_T_INODE:
		pkernfs_inode_set_crc(rec);
		break;
	case PKERNFS_T_DIRENT:
		fix_dirent(rec);
		break;
	case PKERNFS_T_EXTENT:
		pkernfs_extent_set_crc(rec);
		break;
	case PKERNFS_T_BMAP:
		pkernfs_bmap_set_crc(rec);
		break;
	case PKERNFS_T_KDIR:
		pkernfs_kdir_set_crc(rec);
		break;
	}
}

/* The records of a committed transaction, for damage aimed at one of them. */
static struct pkernfs_journal_rec *jrec(struct fz *f, uint32_t n)
{
	struct pkernfs_journal_head *h = jh(f);
	uint32_t pos = 0, i;
	struct pkernfs_journal_rec *jr = NULL;

	for (i = 0; i <= n && i < le32_to_cpu(h->j_nrec); i++) {
		jr = (void *)((uint8_t *)(h + 1) + pos);
		pos += sizeof(*jr) + le32_to_cpu(jr->jr_len);
	}
	return jr;
}

/* The head's crc over its payload; a payload longer than the region fails anyway. */
static void jfix(struct fz *f)
{
	struct pkernfs_journal_head *h = jh(f);
	if (le32_to_cpu(h->j_bytes) <= f->jlen - sizeof(*h))
		pkernfs_journal_set_crc(h);
}

/* Random bytes in random records; their crcs made right again, mostly. */
static void dmg_random(struct fz *f)
{
	unsigned int nrec = 1 + below(&f->r, chance(&f->r, 70) ? 1 : 3), i;
	int fix = chance(&f->r, 90), hash = chance(&f->r, 80);

	note(f, "damage=random%s", fix ? "" : "/crc-stale");
	for (i = 0; i < nrec; i++) {
		unsigned int what = below(&f->r, 100);
		uint32_t n;

		if (what < 10) {
			scribble(f, f->b, PKERNFS_BLOCK_SIZE, 328);
			if (fix)
				pkernfs_super_set_crc(f->sb);
			note(f, "super");
		} else if (what < 20) {
			struct pkernfs_journal_head *h = jh(f);
			uint32_t bytes = le32_to_cpu(h->j_bytes);

			if (f->journal && chance(&f->r, 60) && bytes) {
				struct pkernfs_journal_rec *jr = jrec(f, below(&f->r, le32_to_cpu(h->j_nrec)));
				uint32_t len = le32_to_cpu(jr->jr_len);

				if (chance(&f->r, 30)) {
					scribble(f, (uint8_t *)jr, sizeof(*jr), 0);
					note(f, "journal-rec-head");
				} else {
					scribble(f, (uint8_t *)(jr + 1), len, len > 328 ? 328 : 0);
					if (fix && hash)
						fix_crc(le16_to_cpu(jr->jr_table), jr + 1);
					note(f, "journal-rec-image/%u", le16_to_cpu(jr->jr_table));
				}
			} else {
				scribble(f, (uint8_t *)h, sizeof(*h), 0);
				note(f, "journal-head");
			}
			if (fix)
				jfix(f);
		} else if (what < 40) {
			n = chance(&f->r, 80) && f->ndirs + f->nfiles > 1 ?
			    (chance(&f->r, 50) ? pick(f, f->dirs, f->ndirs) :
			     f->nfiles ? pick(f, f->files, f->nfiles) : 1) : below(&f->r, f->ni);
			scribble(f, (uint8_t *)it(f, n), sizeof(struct pkernfs_inode), 96);
			if (fix)
				pkernfs_inode_set_crc(it(f, n));
			note(f, "inode=%u", n);
		} else if (what < 60) {
			n = chance(&f->r, 80) && f->ndslots ? pick(f, f->dslots, f->ndslots) :
			    below(&f->r, f->nd);
			scribble(f, (uint8_t *)de(f, n), sizeof(struct pkernfs_dirent), 64);
			if (fix) {
				if (hash)
					fix_dirent(de(f, n));
				else
					pkernfs_dirent_set_crc(de(f, n));
			}
			note(f, "dirent=%u", n);
		} else if (what < 80) {
			n = chance(&f->r, 80) && f->neslots ? pick(f, f->eslots, f->neslots) :
			    below(&f->r, f->ne);
			scribble(f, (uint8_t *)ex(f, n), sizeof(struct pkernfs_extent), 0);
			if (fix)
				pkernfs_extent_set_crc(ex(f, n));
			note(f, "extent=%u", n);
		} else if (what < 92) {
			n = below(&f->r, f->nb);
			/* The header and the bytes that cover the device's AUs. */
			scribble(f, (uint8_t *)bm(f, n), PKERNFS_BLOCK_SIZE,
				 PKERNFS_BMAP_HDR + (f->nr_aus + 7) / 8 < PKERNFS_BLOCK_SIZE ?
				 PKERNFS_BMAP_HDR + (f->nr_aus + 7) / 8 : 0);
			if (fix)
				pkernfs_bmap_set_crc(bm(f, n));
			note(f, "bitmap=%u", n);
		} else {
			n = below(&f->r, f->kused && chance(&f->r, 70) ? f->kused * 3 : f->nk) % f->nk;
			scribble(f, (uint8_t *)kd(f, n), sizeof(struct pkernfs_kdir_entry), 0);
			if (fix)
				pkernfs_kdir_set_crc(kd(f, n));
			note(f, "kdir=%u", n);
		}
	}
}

/* A used extent slot, or -1. */
static int64_t some_extent(struct fz *f)
{
	return f->neslots ? (int64_t)pick(f, f->eslots, f->neslots) : -1;
}

static uint32_t any_file(struct fz *f)
{
	return f->nfiles ? pick(f, f->files, f->nfiles) : 0;
}

static int dmg_ext_len(struct fz *f)
{
	int64_t s = some_extent(f);
	struct pkernfs_extent *e;
	uint64_t start, len;

	if (s < 0)
		return -1;
	e = ex(f, s);
	start = le64_to_cpu(e->e_start);
	switch (below(&f->r, 6)) {
	case 0:
		len = PKERNFS_BITS_PER_BMAP + 1 + below(&f->r, 3 * PKERNFS_BITS_PER_BMAP);
		break;
	case 1:
		len = f->nr_aus - start + 1;
		break;
	case 2:
		len = 0xffffffffu - below(&f->r, 3);
		break;
	case 3:
		len = 0;
		break;
	case 4:
		len = f->nr_aus;
		break;
	default:
		len = (uint32_t)rnd(&f->r);
		break;
	}
	e->e_len = cpu_to_le32(len);
	if (chance(&f->r, 50))
		mark_range(f, start, len, 1);
	pkernfs_extent_set_crc(e);
	note(f, "damage=extent-huge-len rec=%" PRId64 " len=%" PRIu64, s, len);
	return 0;
}

/* Grow an extent over every free AU after it, bitmap and size to match: valid. */
static int dmg_ext_grow(struct fz *f)
{
	int64_t s = some_extent(f);
	struct pkernfs_extent *e;
	uint64_t start, len, ino;

	if (s < 0)
		return -1;
	e = ex(f, s);
	start = le64_to_cpu(e->e_start);
	len = le32_to_cpu(e->e_len);
	while (start + len < f->nr_aus && !au_used(f, start + len))
		au_mark(f, start + len++, 1);
	e->e_len = cpu_to_le32(len);
	pkernfs_extent_set_crc(e);
	ino = le64_to_cpu(e->e_ino);
	if (ino < f->ni && chance(&f->r, 70)) {
		it(f, ino)->i_size = cpu_to_le64(((uint64_t)le32_to_cpu(e->e_lblk) + len) << f->shift);
		pkernfs_inode_set_crc(it(f, ino));
	}
	note(f, "damage=extent-grow rec=%" PRId64 " len=%" PRIu64, s, len);
	return 0;
}

static int dmg_ext_start(struct fz *f)
{
	int64_t s = some_extent(f);
	struct pkernfs_extent *e;
	uint64_t start;
	const char *v;

	if (s < 0)
		return -1;
	e = ex(f, s);
	switch (below(&f->r, 5)) {
	case 0:
		start = below(&f->r, f->first_data);
		v = "in-metadata";
		break;
	case 1:
		start = f->nr_aus - below(&f->r, 2);
		v = "at-end";
		break;
	case 2:
		start = f->nr_aus + below(&f->r, 1000000);
		v = "past-end";
		break;
	case 3:
		start = ~0ULL - below(&f->r, 4);
		v = "wraps";
		break;
	default:
		start = (uint64_t)f->first_data - 1;
		v = "before-data";
		break;
	}
	e->e_start = cpu_to_le64(start);
	pkernfs_extent_set_crc(e);
	note(f, "damage=extent-start-%s rec=%" PRId64 " start=%#" PRIx64, v, s, start);
	return 0;
}

/* A second extent over AUs another extent (same file or another) maps. */
static int dmg_ext_overlap(struct fz *f)
{
	int64_t s = some_extent(f), t;
	struct pkernfs_extent *e, *n;
	int same = chance(&f->r, 50);
	uint32_t ino;

	if (s < 0 || (t = alloc_eslot(f)) < 0)
		return -1;
	e = ex(f, s);
	ino = same ? le64_to_cpu(e->e_ino) : any_file(f);
	if (!ino || ino >= f->ni)
		return -1;
	n = ex(f, t);
	*n = *e;
	n->e_ino = cpu_to_le64(ino);
	n->e_ino_gen = it(f, ino)->i_gen;
	if (same && chance(&f->r, 50)) {
		/* Logical overlap: other AUs at the same file offsets. */
		uint64_t start;
		uint64_t got = alloc_aus(f, le32_to_cpu(e->e_len), &start);

		if (!got)
			return -1;
		n->e_start = cpu_to_le64(start);
		n->e_len = cpu_to_le32(got);
		n->e_lblk = cpu_to_le32(le32_to_cpu(e->e_lblk) + below(&f->r, got));
		note(f, "damage=extent-overlap-lblk rec=%" PRId64 "/%" PRId64, s, t);
	} else {
		n->e_lblk = cpu_to_le32(le32_to_cpu(e->e_lblk) + 1000 + below(&f->r, 1000));
		if (chance(&f->r, 50) && le32_to_cpu(e->e_len) > 1) {
			n->e_start = cpu_to_le64(le64_to_cpu(e->e_start) + 1);
			n->e_len = cpu_to_le32(le32_to_cpu(e->e_len) - 1 + below(&f->r, 3));
		}
		note(f, "damage=extent-overlap-%s rec=%" PRId64 "/%" PRId64, same ? "one-file" : "two-files",
		     s, t);
	}
	pkernfs_extent_set_crc(n);
	push(f->eslots, &f->neslots, f->ne, t);
	return 0;
}

/* An extent owned by what is no regular file, or by no inode at all. */
static int dmg_ext_owner(struct fz *f)
{
	int64_t s = some_extent(f);
	struct pkernfs_extent *e;
	uint64_t ino;
	const char *v;

	if (s < 0)
		return -1;
	e = ex(f, s);
	switch (below(&f->r, 7)) {
	case 0:
		ino = pick(f, f->dirs, f->ndirs);
		v = "dir";
		break;
	case 1:
		if (!f->nsyms)
			return -1;
		ino = pick(f, f->syms, f->nsyms);
		v = "symlink";
		break;
	case 2:
		if (!f->nspecs)
			return -1;
		ino = pick(f, f->specs, f->nspecs);
		v = "special";
		break;
	case 3:
		ino = f->ni + below(&f->r, 3);
		v = "out-of-range";
		break;
	case 4:
		ino = ~0ULL - below(&f->r, 2);
		v = "huge";
		break;
	case 5:
		ino = alloc_ino(f);
		v = "unused";
		break;
	default:
		ino = le64_to_cpu(e->e_ino);
		e->e_ino_gen = cpu_to_le32(le32_to_cpu(e->e_ino_gen) + (chance(&f->r, 50) ? 1 : -1));
		pkernfs_extent_set_crc(e);
		note(f, "damage=extent-wrong-gen rec=%" PRId64, s);
		return 0;
	}
	e->e_ino = cpu_to_le64(ino);
	if (ino < f->ni)
		e->e_ino_gen = it(f, ino)->i_gen;
	pkernfs_extent_set_crc(e);
	note(f, "damage=extent-owner-%s rec=%" PRId64 " ino=%" PRIu64, v, s, ino);
	return 0;
}

/* Extents at the top of the 32-bit file AU space, the file's size past them. */
static int dmg_ext_lblk(struct fz *f)
{
	int64_t s = some_extent(f);
	struct pkernfs_extent *e;
	uint64_t lblk, ino, len;
	int v = below(&f->r, 3);

	if (s < 0)
		return -1;
	e = ex(f, s);
	len = le32_to_cpu(e->e_len);
	lblk = v == 0 ? 0xffffffffULL - len : v == 1 ? 0x100000000ULL - len : 0xffffffffULL;
	e->e_lblk = cpu_to_le32((uint32_t)lblk);
	pkernfs_extent_set_crc(e);
	ino = le64_to_cpu(e->e_ino);
	if (ino < f->ni && chance(&f->r, 70)) {
		it(f, ino)->i_size = cpu_to_le64((lblk + len + below(&f->r, 2)) << f->shift);
		pkernfs_inode_set_crc(it(f, ino));
	}
	note(f, "damage=extent-lblk-overflow rec=%" PRId64 " lblk=%#" PRIx64, s, lblk);
	return 0;
}

/* Bits of the allocation bitmap wrong, crc right. */
static int dmg_bitmap(struct fz *f)
{
	int64_t s;
	uint64_t au;
	const char *v;

	switch (below(&f->r, 5)) {
	case 0:
		if ((s = some_extent(f)) < 0)
			return -1;
		au = le64_to_cpu(ex(f, s)->e_start) + below(&f->r, le32_to_cpu(ex(f, s)->e_len));
		au_mark(f, au, 0);
		v = "extent-au-free";
		break;
	case 1:
		au = f->first_data + below(&f->r, f->nr_aus - f->first_data);
		au_mark(f, au, 1);
		v = "leak";
		break;
	case 2:
		au = below(&f->r, f->first_data);
		au_mark(f, au, 0);
		v = "metadata-free";
		break;
	case 3:
		au = f->nr_aus + below(&f->r, (uint64_t)f->nb * PKERNFS_BITS_PER_BMAP - f->nr_aus);
		if (au < (uint64_t)f->nb * PKERNFS_BITS_PER_BMAP)
			au_mark(f, au, 1);
		v = "past-end";
		break;
	default:
		au = below(&f->r, f->nb);
		bm(f, au)->b_index = cpu_to_le32(le32_to_cpu(bm(f, au)->b_index) + 1);
		pkernfs_bmap_set_crc(bm(f, au));
		v = "index";
		break;
	}
	note(f, "damage=bitmap-%s au=%" PRIu64, v, au);
	return 0;
}

static int dmg_kdir(struct fz *f)
{
	struct pkernfs_kdir_entry *k = kd(f, below(&f->r, f->nk));
	const char *v;

	if (all_zero(k, sizeof(*k)) || chance(&f->r, 30)) {
		memset(k, 0, sizeof(*k));
		strcpy((char *)k->k_name, "fuzz");
		k->k_npages = cpu_to_le64(1);
	}
	switch (below(&f->r, 6)) {
	case 0:		/* over entry 0's pages */
		k->k_start = kd(f, 0)->k_start;
		k->k_npages = cpu_to_le64(1 + below(&f->r, 4));
		v = "overlap";
		break;
	case 1:
		k->k_start = cpu_to_le64(f->kpages - below(&f->r, 2));
		v = "start-at-end";
		break;
	case 2:
		k->k_npages = cpu_to_le64(~0ULL - below(&f->r, 2));
		v = "npages-huge";
		break;
	case 3:
		k->k_start = cpu_to_le64(~0ULL);
		k->k_npages = cpu_to_le64(2);
		v = "wraps";
		break;
	case 4:
		memset(k->k_name, 'k', sizeof(k->k_name));
		v = "name-unterminated";
		break;
	default:
		k->k_flags = cpu_to_le32(rnd(&f->r));
		k->k_npages = cpu_to_le64(f->kpages + 1);
		v = "flags-and-size";
		break;
	}
	pkernfs_kdir_set_crc(k);
	note(f, "damage=kdir-%s", v);
	return 0;
}

/* A used dirent slot, or -1. */
static int64_t some_name(struct fz *f)
{
	return f->ndslots ? (int64_t)pick(f, f->dslots, f->ndslots) : -1;
}

/* Fix the names count and nlink of @ino after the damage changed its names. */
static void relink(struct fz *f, uint32_t ino)
{
	if (ino && ino < f->ni)
		finish_inode(f, ino);
}

/* The same name twice in one directory. */
static int dmg_dup_name(struct fz *f)
{
	int64_t s = some_name(f), t = alloc_dslot(f);
	struct pkernfs_dirent *d, *n;
	uint32_t ino;
	int other = chance(&f->r, 40);

	if (s < 0 || t < 0)
		return -1;
	d = de(f, s);
	n = de(f, t);
	*n = *d;
	ino = le64_to_cpu(d->d_ino);
	if (other || S_ISDIR(le16_to_cpu(it(f, ino)->i_mode))) {
		/* Another inode under the same name. */
		uint32_t o = alloc_ino(f);

		if (!o)
			return -1;
		mk_inode(f, o, chance(&f->r, 50) ? S_IFREG | 0644 : S_IFDIR | 0755, 0,
			 le64_to_cpu(d->d_parent));
		n->d_ino = cpu_to_le64(o);
		n->d_ino_gen = it(f, o)->i_gen;
		n->d_type = IFTODT(le16_to_cpu(it(f, o)->i_mode));
		f->names[o]++;
		if (S_ISDIR(le16_to_cpu(it(f, o)->i_mode)))
			f->subdirs[le64_to_cpu(d->d_parent)]++;
		relink(f, o);
		relink(f, le64_to_cpu(d->d_parent));
		ino = o;
	} else {
		f->names[ino]++;
		relink(f, ino);
	}
	fix_dirent(n);
	push(f->dslots, &f->ndslots, f->nd, t);
	note(f, "damage=dirent-duplicate rec=%" PRId64 "/%" PRId64 " ino=%u", s, t, ino);
	return 0;
}

/* Is directory @a inside directory @b's subtree (or @b itself)? */
static int dir_under(struct fz *f, uint32_t a, uint32_t b)
{
	unsigned int hops;

	for (hops = 0; hops < f->ni && a && a != PKERNFS_ROOT_INO; hops++) {
		if (a == b)
			return 1;
		a = le64_to_cpu(it(f, a)->i_parent);
	}
	return a == b;
}

static int64_t name_of(struct fz *f, uint32_t ino)
{
	uint32_t i;

	for (i = 0; i < f->ndslots; i++)
		if (le64_to_cpu(de(f, f->dslots[i])->d_ino) == ino)
			return f->dslots[i];
	return -1;
}

/* A directory moved under itself or its own descendant; link counts agree. */
static int dmg_cycle(struct fz *f)
{
	uint32_t a, b, oldp, i;
	int64_t s;

	if (f->ndirs < 2)
		return -1;
	a = f->dirs[1 + below(&f->r, f->ndirs - 1)];
	s = name_of(f, a);
	if (s < 0)
		return -1;
	/* b: a itself, or a directory in a's subtree. */
	b = a;
	for (i = 0; i < f->ndirs; i++)
		if (f->dirs[i] != a && dir_under(f, f->dirs[i], a) && chance(&f->r, 60))
			b = f->dirs[i];
	oldp = le64_to_cpu(de(f, s)->d_parent);
	de(f, s)->d_parent = cpu_to_le64(b);
	de(f, s)->d_parent_gen = it(f, b)->i_gen;
	fix_dirent(de(f, s));
	f->subdirs[oldp]--;
	f->subdirs[b]++;
	it(f, a)->i_parent = cpu_to_le64(b);
	relink(f, oldp);
	relink(f, b);
	note(f, "damage=dir-cycle dir=%u parent=%u%s", a, b, a == b ? " (itself)" : "");
	return 0;
}

/* A directory with a second name. */
static int dmg_dir_two_names(struct fz *f)
{
	uint32_t a, p;

	if (f->ndirs < 2)
		return -1;
	a = f->dirs[1 + below(&f->r, f->ndirs - 1)];
	p = pick(f, f->dirs, f->ndirs);
	if (!link_name(f, p, a, "dd"))
		return -1;
	relink(f, p);
	relink(f, a);
	note(f, "damage=dir-two-names dir=%u in=%u", a, p);
	return 0;
}

static int dmg_dirent_target(struct fz *f)
{
	int64_t s = some_name(f);
	struct pkernfs_dirent *d;
	uint64_t v;
	const char *w;
	int par = chance(&f->r, 30);

	if (s < 0)
		return -1;
	d = de(f, s);
	switch (below(&f->r, 5)) {
	case 0:
		v = alloc_ino(f);
		w = "unused";
		break;
	case 1:
		v = PKERNFS_ROOT_INO;
		w = "root";
		break;
	case 2:
		v = f->ni + below(&f->r, 2);
		w = "out-of-range";
		break;
	case 3:
		v = ~0ULL;
		w = "huge";
		break;
	default:
		v = f->nfiles ? pick(f, f->files, f->nfiles) : 0;
		w = "a-file";
		break;
	}
	if (par) {
		d->d_parent = cpu_to_le64(v);
		if (v < f->ni)
			d->d_parent_gen = it(f, v)->i_gen;
	} else {
		d->d_ino = cpu_to_le64(v);
		if (v < f->ni) {
			d->d_ino_gen = it(f, v)->i_gen;
			if (chance(&f->r, 70) && le16_to_cpu(it(f, v)->i_mode))
				d->d_type = IFTODT(le16_to_cpu(it(f, v)->i_mode));
		}
	}
	fix_dirent(d);
	note(f, "damage=dirent-%s-%s rec=%" PRId64, par ? "parent" : "target", w, s);
	return 0;
}

static int dmg_dirent_field(struct fz *f)
{
	int64_t s = some_name(f);
	struct pkernfs_dirent *d;
	const char *w;
	uint32_t len;

	if (s < 0)
		return -1;
	d = de(f, s);
	len = le16_to_cpu(d->d_namelen);
	switch (below(&f->r, 8)) {
	case 0:
		d->d_type = below(&f->r, 16);
		w = "type";
		break;
	case 1:
		d->d_parent_gen = cpu_to_le32(le32_to_cpu(d->d_parent_gen) + 1);
		w = "parent-gen";
		break;
	case 2:
		d->d_ino_gen = cpu_to_le32(le32_to_cpu(d->d_ino_gen) - 1);
		w = "ino-gen";
		break;
	case 3:
		d->d_namelen = cpu_to_le16(chance(&f->r, 50) ? 0 : 256 + below(&f->r, 0xff00));
		w = "namelen";
		break;
	case 4:
		d->d_name[below(&f->r, len)] = chance(&f->r, 50) ? '/' : 0;
		w = "name-char";
		break;
	case 5:
		d->d_namelen = cpu_to_le16(1 + below(&f->r, 2));
		d->d_name[0] = '.';
		d->d_name[1] = '.';
		w = "name-dots";
		break;
	case 6:		/* longer than it was: the rest of the slot joins the name */
		memset(d->d_name + len, 'x' + below(&f->r, 2), PKERNFS_NAME_LEN - len);
		d->d_namelen = cpu_to_le16(PKERNFS_NAME_LEN);
		w = "name-long";
		break;
	default:
		d->d_reserved0 = rnd(&f->r);
		d->d_reserved[below(&f->r, sizeof(d->d_reserved))] = rnd(&f->r);
		w = "reserved";
		break;
	}
	fix_dirent(d);
	note(f, "damage=dirent-%s rec=%" PRId64, w, s);
	return 0;
}

static uint32_t any_used_inode(struct fz *f)
{
	uint32_t n = below(&f->r, f->ndirs + f->nfiles + f->nsyms + f->nspecs + f->norphans);

	if (n < f->ndirs)
		return f->dirs[n];
	n -= f->ndirs;
	if (n < f->nfiles)
		return f->files[n];
	n -= f->nfiles;
	if (n < f->nsyms)
		return f->syms[n];
	n -= f->nsyms;
	if (n < f->nspecs)
		return f->specs[n];
	return f->orphans[n - f->nspecs];
}

static int dmg_nlink(struct fz *f)
{
	uint32_t ino = any_used_inode(f), v = le32_to_cpu(it(f, ino)->i_nlink);
	const char *w;

	switch (below(&f->r, 5)) {
	case 0:
		v++;
		w = "plus-one";
		break;
	case 1:
		v--;
		w = "minus-one";
		break;
	case 2:
		v = 0;
		w = "zero";
		break;
	case 3:
		v = 0xffffffffu - below(&f->r, 2);
		w = "huge";
		break;
	default:
		v = 0x80000000u;
		w = "sign";
		break;
	}
	it(f, ino)->i_nlink = cpu_to_le32(v);
	pkernfs_inode_set_crc(it(f, ino));
	note(f, "damage=nlink-%s ino=%u", w, ino);
	return 0;
}

static int dmg_size(struct fz *f)
{
	uint32_t ino;
	uint64_t v;

	if (f->nfiles && chance(&f->r, 75))
		ino = pick(f, f->files, f->nfiles);
	else
		ino = any_used_inode(f);
	switch (below(&f->r, 7)) {
	case 0:
		v = (0x100000000ULL << f->shift) + below(&f->r, f->au);
		break;
	case 1:
		v = (0x100000001ULL << f->shift) + below(&f->r, 3 * f->au);
		break;
	case 2:
		v = 0x7fffffffffffffffULL - below(&f->r, 2);
		break;
	case 3:
		v = ~0ULL - below(&f->r, 4096);
		break;
	case 4:
		v = (0xffffffffULL << f->shift) + below(&f->r, f->au);
		break;
	case 5:
		v = 1ULL << (40 + below(&f->r, 23));
		break;
	default:
		v = f->dev_size + below(&f->r, f->dev_size);
		break;
	}
	it(f, ino)->i_size = cpu_to_le64(v);
	pkernfs_inode_set_crc(it(f, ino));
	note(f, "damage=isize-huge ino=%u size=%#" PRIx64, ino, v);
	return 0;
}

static int dmg_symlink(struct fz *f)
{
	uint32_t ino;
	uint64_t v;
	struct pkernfs_inode *di;

	if (!f->nsyms)
		return -1;
	ino = pick(f, f->syms, f->nsyms);
	di = it(f, ino);
	switch (below(&f->r, 5)) {
	case 0:
		v = 0;
		break;
	case 1:
		v = PKERNFS_SYMLINK_INLINE + 1 + below(&f->r, 100);
		break;
	case 2:
		v = 1ULL << (32 + below(&f->r, 31));
		break;
	case 3:		/* full, no NUL anywhere */
		v = PKERNFS_SYMLINK_INLINE;
		memset(di->i_inline, 'a' + below(&f->r, 26), PKERNFS_SYMLINK_INLINE);
		break;
	default:	/* a NUL inside the target */
		v = 2 + below(&f->r, PKERNFS_SYMLINK_INLINE - 1);
		di->i_inline[below(&f->r, v)] = 0;
		break;
	}
	di->i_size = cpu_to_le64(v);
	pkernfs_inode_set_crc(di);
	note(f, "damage=symlink-size ino=%u size=%" PRIu64, ino, v);
	return 0;
}

/* An inode's type or other fields changed; its names follow or do not. */
static int dmg_inode(struct fz *f)
{
	static const uint16_t types[] = { S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK,
					  S_IFIFO, S_IFSOCK, 0, 0xf000, 0x3000 };
	uint32_t ino = chance(&f->r, 10) ? PKERNFS_ROOT_INO : any_used_inode(f), i;
	struct pkernfs_inode *di = it(f, ino);
	uint16_t mode = le16_to_cpu(di->i_mode);
	const char *w;

	switch (below(&f->r, 7)) {
	case 0: {
		uint16_t t = types[below(&f->r, sizeof(types) / sizeof(types[0]))];

		di->i_mode = cpu_to_le16(t | (mode & 07777));
		if (t == S_IFLNK && (!le64_to_cpu(di->i_size) ||
				     le64_to_cpu(di->i_size) > PKERNFS_SYMLINK_INLINE))
			di->i_size = cpu_to_le64(1 + below(&f->r, PKERNFS_SYMLINK_INLINE));
		/* Mostly the names follow, so the type check alone does not catch it. */
		if (chance(&f->r, 70)) {
			for (i = 0; i < f->ndslots; i++) {
				struct pkernfs_dirent *d = de(f, f->dslots[i]);

				if (le64_to_cpu(d->d_ino) == ino) {
					d->d_type = IFTODT(t);
					fix_dirent(d);
				}
			}
		}
		w = "type";
		break;
	}
	case 1:
		di->i_atime_ns = cpu_to_le32(1000000000u + below(&f->r, 3000000000u));
		w = "nsec";
		break;
	case 2:
		di->i_ino = cpu_to_le64(ino + 1);
		w = "ino";
		break;
	case 3:
		di->i_flags = cpu_to_le16(chance(&f->r, 50) ? 0 : 1 | (2 << below(&f->r, 15)));
		w = "flags";
		break;
	case 4:
		di->i_gen = cpu_to_le32(le32_to_cpu(di->i_gen) + 1);
		w = "gen";
		break;
	case 5:
		di->i_atime = cpu_to_le64(0x8000000000000000ULL + below(&f->r, 2));
		di->i_mtime = cpu_to_le64(0x7fffffffffffffffULL);
		di->i_ctime = cpu_to_le64(~0ULL);
		w = "times";
		break;
	default:
		di->i_uid = cpu_to_le32(~0u);
		di->i_gid = cpu_to_le32(~0u);
		di->i_mode = cpu_to_le16((mode & S_IFMT) | 07777);
		di->i_parent = cpu_to_le64(rnd(&f->r));
		w = "owner-parent";
		break;
	}
	pkernfs_inode_set_crc(di);
	note(f, "damage=inode-%s ino=%u", w, ino);
	return 0;
}

/* Orphans with extents: valid ones, and ones that are not. */
static int dmg_orphan(struct fz *f)
{
	uint32_t ino = alloc_ino(f), i, n;
	uint64_t start, got;
	const char *w;

	if (!ino)
		return -1;
	switch (below(&f->r, 5)) {
	case 0:
		mk_inode(f, ino, S_IFREG | 0600, 0, 0);
		fill_file(f, ino, 3);
		w = "valid";
		break;
	case 1:		/* extents over the same file offsets */
		mk_inode(f, ino, S_IFREG | 0600, 0, 0);
		for (i = 0, n = 2 + below(&f->r, 2); i < n; i++)
			add_extent(f, ino, below(&f->r, 2), 1 + below(&f->r, 3));
		w = "lblk-overlap";
		break;
	case 2:		/* a directory or a fifo with extents */
		mk_inode(f, ino, chance(&f->r, 50) ? S_IFDIR | 0700 : S_IFIFO | 0600, 0, 1);
		add_extent(f, ino, 0, 1 + below(&f->r, 2));
		w = "not-a-file";
		break;
	case 3:		/* one long extent: every free AU from a place on */
		mk_inode(f, ino, S_IFREG | 0600, 0, 0);
		got = alloc_aus(f, f->nr_aus, &start);
		if (got) {
			int64_t s = alloc_eslot(f);

			if (s >= 0) {
				struct pkernfs_extent *e = ex(f, s);

				memset(e, 0, sizeof(*e));
				e->e_ino = cpu_to_le64(ino);
				e->e_ino_gen = it(f, ino)->i_gen;
				e->e_len = cpu_to_le32(got);
				e->e_start = cpu_to_le64(start);
				pkernfs_extent_set_crc(e);
				push(f->eslots, &f->neslots, f->ne, s);
			}
		}
		w = "long-extent";
		break;
	default:	/* shares an AU with a named file */
		mk_inode(f, ino, S_IFREG | 0600, 0, 0);
		if (!add_extent(f, ino, 0, 1))
			return -1;
		if (f->neslots > 1) {
			struct pkernfs_extent *e = ex(f, f->eslots[f->neslots - 1]);

			e->e_start = ex(f, f->eslots[0])->e_start;
			pkernfs_extent_set_crc(e);
		}
		w = "shared-au";
		break;
	}
	it(f, ino)->i_nlink = 0;
	pkernfs_inode_set_crc(it(f, ino));
	push(f->orphans, &f->norphans, f->ni, ino);
	note(f, "damage=orphan-%s ino=%u", w, ino);
	return 0;
}

/* Superblock fields changed, crc recomputed. */
static int dmg_super(struct fz *f)
{
	struct pkernfs_super *sb = f->sb;
	int r = below(&f->r, PKERNFS_NR_REGIONS);
	struct pkernfs_region_desc *rg = &sb->s_regions[r];
	const char *w;

	switch (below(&f->r, 12)) {
	case 0:
		rg->off = cpu_to_le64(le64_to_cpu(rg->off) + (chance(&f->r, 50) ? 4096 : -4096));
		w = "region-off";
		break;
	case 1:
		rg->len = cpu_to_le64(le64_to_cpu(rg->len) + (chance(&f->r, 50) ? 4096 : -4096));
		w = "region-len";
		break;
	case 2:		/* mostly still fits its region */
		rg->count = cpu_to_le32(chance(&f->r, 70) ?
					le32_to_cpu(rg->count) - 1 - below(&f->r, 8) :
					le32_to_cpu(rg->count) + 1 + below(&f->r, 16));
		w = "region-count";
		break;
	case 3:
		rg->rec_size = cpu_to_le32(le32_to_cpu(rg->rec_size) * 2);
		w = "region-rec-size";
		break;
	case 4:		/* smaller AU, same bytes: passes the geometry checks */
		if (f->shift > 12) {
			uint32_t ns = 12 + below(&f->r, f->shift - 12);

			sb->s_au_shift = cpu_to_le32(ns);
			sb->s_nr_aus = cpu_to_le64(le64_to_cpu(sb->s_size) >> ns);
		} else {
			sb->s_au_shift = cpu_to_le32(16);
		}
		w = "au-shift";
		break;
	case 5:
		sb->s_nr_aus = cpu_to_le64(le64_to_cpu(sb->s_nr_aus) - 1);
		sb->s_size = cpu_to_le64(le64_to_cpu(sb->s_size) - f->au);
		sb->s_regions[PKERNFS_R_DATA].len =
			cpu_to_le64(le64_to_cpu(sb->s_regions[PKERNFS_R_DATA].len) - f->au);
		w = "shrink";
		break;
	case 6:		/* up to the device's end, if the filesystem stops short of it */
		sb->s_nr_aus = cpu_to_le64(f->dev_size >> f->shift);
		sb->s_size = cpu_to_le64((f->dev_size >> f->shift) << f->shift);
		sb->s_regions[PKERNFS_R_DATA].len =
			cpu_to_le64(le64_to_cpu(sb->s_size) - roff(f, PKERNFS_R_DATA));
		w = "grow";
		break;
	case 7:
		sb->s_root_ino = cpu_to_le64(2 + below(&f->r, 3));
		w = "root-ino";
		break;
	case 8:
		sb->s_major = cpu_to_le16(below(&f->r, 3));
		sb->s_minor = cpu_to_le16(rnd(&f->r));
		w = "version";
		break;
	case 9:
		if (chance(&f->r, 50)) {
			sb->s_feature_compat = cpu_to_le32(rnd(&f->r));
			w = "compat";
		} else {
			sb->s_feature_ro_compat = cpu_to_le32(1u << below(&f->r, 32));
			w = "ro-compat";
		}
		break;
	case 10:
		sb->s_state = cpu_to_le32(rnd(&f->r));
		sb->s_mount_count = cpu_to_le64(~0ULL);
		memset(sb->s_label, 0xff, sizeof(sb->s_label));
		w = "state-label";
		break;
	default:	/* the kernel area takes one AU of data */
		sb->s_regions[PKERNFS_R_KERNEL].len =
			cpu_to_le64(le64_to_cpu(sb->s_regions[PKERNFS_R_KERNEL].len) + f->au);
		sb->s_regions[PKERNFS_R_DATA].off =
			cpu_to_le64(le64_to_cpu(sb->s_regions[PKERNFS_R_DATA].off) + f->au);
		sb->s_regions[PKERNFS_R_DATA].len =
			cpu_to_le64(le64_to_cpu(sb->s_regions[PKERNFS_R_DATA].len) - f->au);
		if (chance(&f->r, 50))
			au_mark(f, f->first_data, 1);
		w = "kernel-area";
		break;
	}
	pkernfs_super_set_crc(sb);
	note(f, "damage=super-%s region=%d", w, r);
	return 0;
}

/* An extent of a named file over device AUs [start, start + len); bitmap marked. */
static void put_extent(struct fz *f, uint64_t start, uint64_t len, uint32_t lblk)
{
	int64_t slot = alloc_eslot(f);
	struct pkernfs_extent *e;
	uint32_t ino;

	if (!f->nfiles || slot < 0 || !len)
		return;
	ino = pick(f, f->files, f->nfiles);
	e = ex(f, slot);
	memset(e, 0, sizeof(*e));
	e->e_ino = cpu_to_le64(ino);
	e->e_ino_gen = it(f, ino)->i_gen;
	e->e_lblk = cpu_to_le32(lblk);
	e->e_len = cpu_to_le32(len);
	e->e_start = cpu_to_le64(start);
	pkernfs_extent_set_crc(e);
	push(f->eslots, &f->neslots, f->ne, slot);
	mark_range(f, start, len, 1);
}

/* Append a superblock image to the journal's transaction (or start one). */
static void journal_super_image(struct fz *f, const struct pkernfs_super *img)
{
	struct pkernfs_journal_head *h = jh(f);
	uint32_t pos = 0;

	if (le32_to_cpu(h->j_state) == PKERNFS_J_COMMITTED && f->journal)
		pos = le32_to_cpu(h->j_bytes);
	else
		h->j_nrec = 0;
	if (jappend(f, &pos, PKERNFS_T_SUPER, 0, img, sizeof(*img))) {
		jcommit(f, pos);
		f->journal = 1;
	}
}

/*
 * A committed transaction whose superblock image changes the geometry,
 * crc valid, with records placed as the new geometry would have them:
 * mount replays it after it has sized its bitmaps by the old one.
 */
static int dmg_journal_super(struct fz *f)
{
	static struct pkernfs_super img;
	struct pkernfs_super *sb = f->sb;
	uint64_t new_aus, k, data_aus = f->nr_aus - f->first_data;
	uint32_t ns;
	const char *w;

	memcpy(&img, sb, sizeof(img));
	switch (below(&f->r, 7)) {
	case 0:
	case 1:
		/*
		 * The home superblock shrunk by k AUs, the image the whole
		 * filesystem: files in the tail, past what the bitmaps sized
		 * by the old geometry hold (they are rounded up to longs).
		 */
		k = data_aus / 4 + below(&f->r, data_aus / 2 + 1);
		if (!k || k >= data_aus)
			return -1;
		if (!au_used(f, f->nr_aus - 1))
			put_extent(f, f->nr_aus - 1, 1, 700 + below(&f->r, 100));
		memcpy(&img, sb, sizeof(img));
		sb->s_nr_aus = cpu_to_le64(f->nr_aus - k);
		sb->s_size = cpu_to_le64((f->nr_aus - k) << f->shift);
		sb->s_regions[PKERNFS_R_DATA].len =
			cpu_to_le64(((f->nr_aus - k) << f->shift) - roff(f, PKERNFS_R_DATA));
		pkernfs_super_set_crc(sb);
		w = "grow";
		break;
	case 2:		/* up to the device's end (or one AU past it) */
		new_aus = (f->dev_size >> f->shift) + (chance(&f->r, 15) ? 1 : 0);
		img.s_nr_aus = cpu_to_le64(new_aus);
		img.s_size = cpu_to_le64(new_aus << f->shift);
		img.s_regions[PKERNFS_R_DATA].len =
			cpu_to_le64((new_aus << f->shift) - roff(f, PKERNFS_R_DATA));
		if (new_aus > f->nr_aus && f->nr_aus < (uint64_t)f->nb * PKERNFS_BITS_PER_BMAP)
			put_extent(f, f->nr_aus, 1 + below(&f->r, new_aus - f->nr_aus), 500);
		w = "grow-to-device";
		break;
	case 3:		/* shrink by some AUs */
		new_aus = f->nr_aus - 1 - below(&f->r, data_aus / 2 + 1);
		if (new_aus <= f->first_data)
			new_aus = f->first_data + 1;
		img.s_nr_aus = cpu_to_le64(new_aus);
		img.s_size = cpu_to_le64(new_aus << f->shift);
		img.s_regions[PKERNFS_R_DATA].len =
			cpu_to_le64((new_aus << f->shift) - roff(f, PKERNFS_R_DATA));
		w = "shrink";
		break;
	case 4:		/* a smaller AU over the same bytes, a file where the new units allow */
		if (f->shift == 12)
			return -1;
		ns = chance(&f->r, 50) ? 12 : f->shift - 4;
		new_aus = le64_to_cpu(sb->s_size) >> ns;
		img.s_au_shift = cpu_to_le32(ns);
		img.s_nr_aus = cpu_to_le64(new_aus);
		k = roff(f, PKERNFS_R_DATA) >> ns;	/* first data AU, new units */
		if (new_aus > k + 1) {
			uint64_t start = k + below(&f->r, new_aus - k);

			if (start < (uint64_t)f->nb * PKERNFS_BITS_PER_BMAP)
				put_extent(f, start, 1 + below(&f->r, new_aus - start < 64 ?
								new_aus - start : 64), 0);
		}
		w = "au-shift";
		break;
	case 5: {	/* more records in a table than before, still inside its region */
		int r = PKERNFS_R_INODES + below(&f->r, 5);
		struct pkernfs_region_desc *rg = &img.s_regions[r];
		uint32_t rs = le32_to_cpu(rg->rec_size);

		rg->count = cpu_to_le32(le64_to_cpu(rg->len) / rs);
		if (chance(&f->r, 30))
			rg->count = cpu_to_le32(le32_to_cpu(rg->count) / 2 + 1);
		w = "counts";
		break;
	}
	default:	/* the journal gives up a block and the inode table moves into it */
		img.s_regions[PKERNFS_R_JOURNAL].len =
			cpu_to_le64(f->jlen - PKERNFS_BLOCK_SIZE);
		img.s_regions[PKERNFS_R_INODES].off =
			cpu_to_le64(roff(f, PKERNFS_R_INODES) - PKERNFS_BLOCK_SIZE);
		w = "move-inodes";
		break;
	}
	pkernfs_super_set_crc(&img);
	journal_super_image(f, &img);
	note(f, "damage=journal-super-%s", w);
	return 0;
}

/* A committed transaction with a malformed record; head crc valid. */
static int dmg_journal_rec(struct fz *f)
{
	struct pkernfs_journal_head *h = jh(f);
	struct pkernfs_journal_rec *jr;
	const char *w;
	uint32_t bytes, nrec;

	if (!f->journal) {
		struct snap s;

		/* A transaction of one inode to damage. */
		if (snap_take(f, &s))
			return -1;
		it(f, PKERNFS_ROOT_INO)->i_mtime = cpu_to_le64(1700000000ULL);
		pkernfs_inode_set_crc(it(f, PKERNFS_ROOT_INO));
		if (!snap_commit(f, &s, 0))
			return -1;
	}
	nrec = le32_to_cpu(h->j_nrec);
	bytes = le32_to_cpu(h->j_bytes);
	jr = jrec(f, below(&f->r, nrec));
	switch (below(&f->r, 9)) {
	case 0:
		jr->jr_table = cpu_to_le16(chance(&f->r, 50) ? 0 : 7 + below(&f->r, 0xfff8));
		w = "table";
		break;
	case 1: {
		int t = below(&f->r, 5);

		jr->jr_table = cpu_to_le16(jtabs[t].table);
		jr->jr_index = cpu_to_le64(f->cnt[jtabs[t].region] +
					   below(&f->r, 2));
		w = "index-at-count";
		break;
	}
	case 2:
		jr->jr_index = cpu_to_le64(chance(&f->r, 50) ? ~0ULL : 1ULL << 63);
		w = "index-huge";
		break;
	case 3:
		jr->jr_len = cpu_to_le32(le32_to_cpu(jr->jr_len) + (chance(&f->r, 50) ? 1 : -1));
		w = "len";
		break;
	case 4:
		jr->jr_len = cpu_to_le32(chance(&f->r, 50) ? 0 : 0xffffffffu - below(&f->r, 32));
		w = "len-huge";
		break;
	case 5:
		h->j_nrec = cpu_to_le32(nrec + 1 + below(&f->r, chance(&f->r, 50) ? 3 : 0xfffffff0u));
		w = "nrec";
		break;
	case 6:
		h->j_bytes = cpu_to_le32(bytes - 1 - below(&f->r, bytes < 4096 ? bytes / 2 : 4096));
		w = "bytes-short";
		break;
	case 7:		/* the superblock table with an index */
		jr->jr_table = cpu_to_le16(PKERNFS_T_SUPER);
		jr->jr_index = cpu_to_le64(below(&f->r, 2));
		jr->jr_len = cpu_to_le32(PKERNFS_BLOCK_SIZE);
		w = "as-super";
		break;
	default:	/* j_state unknown, or bytes past the region */
		if (chance(&f->r, 50)) {
			h->j_state = cpu_to_le32(2 + below(&f->r, 10));
			w = "state";
		} else {
			h->j_bytes = cpu_to_le32(f->jlen -
						 sizeof(*h) + 1 + below(&f->r, 64));
			w = "bytes-past-region";
		}
		break;
	}
	jfix(f);
	note(f, "damage=journal-%s", w);
	return 0;
}

/* A valid transaction whose images carry the damage home; crcs valid. */
static int dmg_journal_image(struct fz *f)
{
	struct pkernfs_journal_head *h = jh(f);
	struct pkernfs_journal_rec *jr;
	uint32_t len;

	if (!f->journal)
		journal_txn(f);
	if (!f->journal)
		return -1;
	jr = jrec(f, below(&f->r, le32_to_cpu(h->j_nrec)));
	len = le32_to_cpu(jr->jr_len);
	scribble(f, (uint8_t *)(jr + 1), len, len > 328 ? 328 : 0);
	fix_crc(le16_to_cpu(jr->jr_table), jr + 1);
	jfix(f);
	note(f, "damage=journal-image table=%u", le16_to_cpu(jr->jr_table));
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct fz *f);
} damages[] = {
	{ "extent-huge-len", dmg_ext_len },
	{ "extent-grow", dmg_ext_grow },
	{ "extent-start", dmg_ext_start },
	{ "extent-overlap", dmg_ext_overlap },
	{ "extent-owner", dmg_ext_owner },
	{ "extent-lblk", dmg_ext_lblk },
	{ "bitmap", dmg_bitmap },
	{ "kdir", dmg_kdir },
	{ "dirent-dup", dmg_dup_name },
	{ "dir-cycle", dmg_cycle },
	{ "dir-two-names", dmg_dir_two_names },
	{ "dirent-target", dmg_dirent_target },
	{ "dirent-field", dmg_dirent_field },
	{ "nlink", dmg_nlink },
	{ "isize", dmg_size },
	{ "symlink", dmg_symlink },
	{ "inode", dmg_inode },
	{ "orphan", dmg_orphan },
	{ "super", dmg_super },
	{ "journal-super", dmg_journal_super },
	{ "journal-rec", dmg_journal_rec },
	{ "journal-image", dmg_journal_image },
};
#define NR_DAMAGES (sizeof(damages) / sizeof(damages[0]))

/*
 * Damage the built image. Structured damage most of the time (sometimes
 * two kinds, sometimes random bytes on top), random bytes otherwise, and
 * now and then nothing at all.
 */
static void damage(struct fz *f)
{
	unsigned int roll = below(&f->r, 100), n, i, tries;

	if (roll < 4) {
		note(f, "damage=none");
		return;
	}
	if (roll < 34) {
		dmg_random(f);
		return;
	}
	n = chance(&f->r, 15) ? 2 : 1;
	for (i = 0; i < n; i++) {
		for (tries = 0; tries < 20; tries++) {
			unsigned int d = below(&f->r, NR_DAMAGES);

			if (!damages[d].fn(f)) {
				f->applied |= 1u << d;
				break;
			}
		}
		if (tries == 20)
			dmg_random(f);
	}
	if (chance(&f->r, 15))
		dmg_random(f);
}

/* Build and damage image @seed over @b; the description is in f->desc. */
static int make_image(struct fz *f, uint8_t *b, uint64_t size, uint64_t seed, int undamaged)
{
	if (build(f, b, size, seed))
		return -1;
	if (chance(&f->r, 25))
		journal_txn(f);
	if (!undamaged)
		damage(f);
	return 0;
}

/* --- writing one image: pkt-mkfuzz DEV SIZE SEED --- */

static uint8_t *map_dev(const char *path, uint64_t size, int *fdp)
{
	struct stat st;
	uint8_t *b;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "pkt-mkfuzz: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size < size &&
	    ftruncate(fd, size)) {
		fprintf(stderr, "pkt-mkfuzz: %s: ftruncate: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED) {
		fprintf(stderr, "pkt-mkfuzz: %s: mmap %" PRIu64 ": %s\n", path, size, strerror(errno));
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return b;
}

static int write_image(const char *path, uint64_t size, uint64_t seed, char *desc, size_t dlen)
{
	struct fz f;
	uint8_t *b;
	int fd, err;

	b = map_dev(path, size, &fd);
	if (!b)
		return -1;
	err = make_image(&f, b, size, seed, 0);
	if (!err)
		snprintf(desc, dlen, "%s", f.desc);
	release(&f);
	munmap(b, size);
	close(fd);
	return err;
}

/* --- the guest loop: pkt-mkfuzz --run DAX FIRST COUNT MNT --- */

static const char *dax;
static char daxdev[64], mnt[PATH_MAX];
static int opt_mmap = 1, opt_remount = 1;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sysfs_write(const char *drv, const char *file, const char *val)
{
	char path[256];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/sys/bus/dax/drivers/%s/%s", drv, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int bound_to(const char *drv)
{
	char path[256], link[256];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/driver", dax);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	base = strrchr(link, '/');
	return !strcmp(base ? base + 1 : link, drv);
}

static double t_unbind[2], t_bindto[2];	/* ms spent, [0] device_dax, [1] dax_pkernfs */

/* dax_pkernfs -> device_dax (so /dev/daxX.Y exists), or the other way. */
static int rebind(int to_pkernfs)
{
	const char *from = to_pkernfs ? "device_dax" : "dax_pkernfs";
	const char *to = to_pkernfs ? "dax_pkernfs" : "device_dax";
	double t0 = now_ms(), t1;
	int rc;

	if (bound_to(from) && (rc = sysfs_write(from, "unbind", dax))) {
		printf("FAIL: unbind %s from %s: %s\n", dax, from, strerror(-rc));
		return -1;
	}
	t1 = now_ms();
	t_unbind[!to_pkernfs] += t1 - t0;
	if (!bound_to(to) && (rc = sysfs_write(to, "bind", dax)) && !bound_to(to)) {
		printf("FAIL: bind %s to %s: %s\n", dax, to, strerror(-rc));
		return -1;
	}
	t_bindto[to_pkernfs] += now_ms() - t1;
	return 0;
}

static void kmsg_say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int fd, n;

	/* A fresh open each time: /dev/kmsg rate-limits each open file. */
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(fd, buf, n) < 0) {
		/* nothing to do */
	}
	close(fd);
}

/* What run.sh counts as a kernel report. */
static const char *const report_pats[] = {
	"BUG:", "WARNING:", "Oops", "KASAN", "UBSAN", "general protection fault",
	"Kernel panic", "possible circular locking", "possible recursive locking",
	"inconsistent lock state", "suspicious RCU usage", "DEBUG_LOCKS_WARN",
	"Call Trace:", "blocked for more than", "kmemleak:",
};

static int kmsg_fd = -1;

struct kmsg_seen {
	char pkernfs[256];	/* the first pkernfs line */
	char other[256];	/* the first other line */
	char report[256];	/* the first kernel report line */
	int reports;
};

static void kmsg_start(void)
{
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

/* Read what the kernel logged since kmsg_start(). */
static void kmsg_collect(struct kmsg_seen *k)
{
	char buf[8192], *msg, *end;
	unsigned int i;
	ssize_t n;

	memset(k, 0, sizeof(*k));
	if (kmsg_fd < 0)
		return;
	for (;;) {
		n = read(kmsg_fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten before we read it */
		if (n <= 0)
			break;
		buf[n] = 0;
		msg = strchr(buf, ';');
		msg = msg ? msg + 1 : buf;
		end = strchr(msg, '\n');
		if (end)
			*end = 0;
		if (!strncmp(msg, "pkt-mkfuzz:", 11))
			continue;
		if (strstr(msg, "pkernfs") && !k->pkernfs[0])
			snprintf(k->pkernfs, sizeof(k->pkernfs), "%.200s", msg);
		else if (!k->other[0])
			snprintf(k->other, sizeof(k->other), "%.200s", msg);
		for (i = 0; i < sizeof(report_pats) / sizeof(report_pats[0]); i++) {
			if (strstr(msg, report_pats[i])) {
				if (!k->reports++)
					snprintf(k->report, sizeof(k->report), "%.200s", msg);
				break;
			}
		}
	}
}

/* The walk: nftw has no context pointer, so it lives here. */
static struct walk {
	uint64_t entries, dirs, files, symlinks, specials, errors, bytes, budget;
	uint64_t au, bfree0, bfree1;
	int sigbus, efault;
	char efault_at[320];
} w;
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t in_touch;
static char rbuf[1 << 20];

static void on_sigbus(int sig)
{
	(void)sig;
	if (in_touch)
		siglongjmp(bus_jmp, 1);
	_exit(3);
}

/*
 * read() into our own buffer never fails with EFAULT unless the kernel
 * copied from an address that is not the file's memory.
 */
static void read_error(const char *path, uint64_t off)
{
	w.errors++;
	if (errno == EFAULT && !w.efault++)
		snprintf(w.efault_at, sizeof(w.efault_at), "%.280s at offset %#" PRIx64, path, off);
}

static void pread_at(const char *path, int fd, uint64_t off)
{
	ssize_t n;

	if (off > (uint64_t)LLONG_MAX)
		return;
	n = pread(fd, rbuf, 4096, off);
	if (n < 0)
		read_error(path, off);
	else
		w.bytes += n;
}

/* Map [off, off + len) shared and read one byte per stride; SIGBUS is allowed. */
static void touch_map(int fd, uint64_t off, uint64_t len, uint64_t stride)
{
	volatile uint64_t i;
	volatile uint8_t *m;

	if (off > (uint64_t)LLONG_MAX - len)
		return;
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	if (m == MAP_FAILED) {
		w.errors++;
		return;
	}
	in_touch = 1;
	if (!sigsetjmp(bus_jmp, 1)) {
		for (i = 0; i < len; i += stride)
			(void)m[i];
	} else {
		w.sigbus++;
	}
	in_touch = 0;
	munmap((void *)m, len);
}

static void read_file(const char *path, const struct stat *st)
{
	uint64_t size = st->st_size, want, got = 0, off, au = w.au ? w.au : 4096;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		w.errors++;
		return;
	}
	/* To the end, while the image's read budget lasts; else head and tail. */
	want = (uint64_t)st->st_size <= w.budget ? ~0ULL : (1 << 20);
	while (got < want) {
		n = read(fd, rbuf, sizeof(rbuf));
		if (n < 0) {
			read_error(path, got);
			break;
		}
		if (!n)
			break;
		got += n;
	}
	w.bytes += got;
	w.budget = got > w.budget ? 0 : w.budget - got;
	if (want != ~0ULL && (int64_t)st->st_size > 0) {
		/* The last bytes, and where 32-bit file AU numbers wrap. */
		pread_at(path, fd, size - 1);
		pread_at(path, fd, size > 8192 ? size - 8192 : 0);
		pread_at(path, fd, size / 2);
		for (off = 0xffffffffULL; off <= 0x100000001ULL; off++) {
			if (off * au < size && off * au / au == off) {
				pread_at(path, fd, off * au - 1);
				pread_at(path, fd, off * au);
			}
		}
		pread_at(path, fd, size);
	}
	if (size / au <= 4096) {
		lseek(fd, 0, SEEK_DATA);
		lseek(fd, 0, SEEK_HOLE);
	}
	if (opt_mmap && size) {
		/* A shared read mapping of the first AUs, one touch per stride. */
		uint64_t len = size < 4 * au ? size : 4 * au, last;

		len = (len + 4095) & ~4095ULL;
		if (len > (8u << 20))
			len = 8u << 20;
		touch_map(fd, 0, len, len / 16 > 4096 ? (len / 16) & ~4095ULL : 4096);
		/* The last page, and where 32-bit file AU numbers wrap. */
		last = (size - 1) & ~4095ULL;
		if (last >= len)
			touch_map(fd, last, 4096, 4096);
		if (size / au > 0xffffffffULL && 0x100000000ULL * au / au == 0x100000000ULL)
			touch_map(fd, 0x100000000ULL * au, 4096, 4096);
	}
	close(fd);
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct stat st2;
	char link[PATH_MAX];

	(void)ftw;
	w.entries++;
	if (type == FTW_NS || type == FTW_DNR) {
		w.errors++;
		return 0;
	}
	if (lstat(path, &st2))
		w.errors++;
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		w.dirs++;
		break;
	case S_IFREG:
		w.files++;
		read_file(path, st);
		break;
	case S_IFLNK:
		w.symlinks++;
		if (readlink(path, link, sizeof(link)) < 0)
			w.errors++;
		stat(path, &st2);	/* follows it, wherever it leads */
		break;
	default:
		w.specials++;	/* stat only: opening a fifo or a device is not our business */
		break;
	}
	return 0;
}

static void walk(void)
{
	struct statfs sfs;

	memset(&w, 0, sizeof(w));
	w.budget = 48u << 20;
	if (statfs(mnt, &sfs)) {
		w.errors++;
	} else {
		w.au = sfs.f_bsize;
		w.bfree0 = w.bfree1 = sfs.f_bfree;
	}
	if (nftw(mnt, visit, 16, FTW_PHYS | FTW_MOUNT))
		w.errors++;
	if (statfs(mnt, &sfs))
		w.errors++;
	else
		w.bfree1 = sfs.f_bfree;
}

struct tally {
	unsigned int images, mounted, refused, remounted, remount_refused, fails, reports;
	unsigned int ro_alloc;
	double t_bind, t_gen, t_mount;
};

/* Mount, walk, unmount; 1 mounted, 0 refused with a message, -1 failure. */
static int mount_walk(uint64_t seed, unsigned long flags, const char *what, char *res, size_t rlen,
		      struct tally *t)
{
	struct kmsg_seen k;
	int err, ret;

	kmsg_start();
	if (mount(dax, mnt, "pkernfs", flags, NULL)) {
		err = errno;
		kmsg_collect(&k);
		if (k.reports) {
			snprintf(res, rlen, "%s: kernel report: %s", what, k.report);
			t->reports += k.reports;
			return -1;
		}
		if (!k.pkernfs[0]) {
			snprintf(res, rlen, "%s: refused (%s) without a pkernfs kernel message%s%s%s",
				 what, strerror(err), k.other[0] ? " (the kernel said only '" : "",
				 k.other, k.other[0] ? "')" : "");
			return -1;
		}
		snprintf(res, rlen, "%s: refused (%s): %s", what, strerror(err), k.pkernfs);
		return 0;
	}
	walk();
	ret = 1;
	if (umount2(mnt, 0)) {
		snprintf(res, rlen, "%s: umount: %s", what, strerror(errno));
		umount2(mnt, MNT_DETACH);
		ret = -1;
	}
	kmsg_collect(&k);
	if (k.reports) {
		snprintf(res, rlen, "%s: kernel report: %s", what, k.report);
		t->reports += k.reports;
		return -1;
	}
	if (w.efault) {
		snprintf(res, rlen, "%s: read() into a valid buffer failed with EFAULT (%d times; %.300s): "
			 "the kernel copied from memory that is not the file's", what, w.efault,
			 w.efault_at);
		return -1;
	}
	/* Not a failure, but worth knowing: reading allocated space on a read-only mount. */
	if ((flags & MS_RDONLY) && w.bfree1 < w.bfree0) {
		t->ro_alloc++;
		printf("NOTE seed=%" PRIu64 ": read-only mount: reading allocated %" PRIu64 " AUs\n",
		       seed, w.bfree0 - w.bfree1);
	}
	if (ret > 0)
		snprintf(res, rlen, "%s: mounted%s, walked %" PRIu64 " entries (%" PRIu64 " dirs, %"
			 PRIu64 " files, %" PRIu64 " symlinks, %" PRIu64 " other), read %" PRIu64
			 " bytes, %" PRIu64 " errors%s", what, flags & MS_RDONLY ? " ro" : "",
			 w.entries, w.dirs, w.files, w.symlinks, w.specials, w.bytes, w.errors,
			 w.sigbus ? ", SIGBUS on mmap" : "");
	return ret;
}

static int run_one(uint64_t seed, struct tally *t)
{
	char desc[1024], res[1024], res2[1024] = "";
	struct rng r = { seed ^ 0x6d6f756e74ULL };
	unsigned long flags = chance(&r, 15) ? MS_RDONLY : 0;
	int remount = opt_remount && chance(&r, 50), rc, rc2 = 1;
	uint64_t size;
	double t0 = now_ms(), t1, t2, t3;
	char path[256];
	FILE *sz;

	if (rebind(0))
		return -2;
	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/size", dax);
	sz = fopen(path, "r");
	if (!sz || fscanf(sz, "%" SCNu64, &size) != 1) {
		printf("FAIL: cannot read %s\n", path);
		return -2;
	}
	fclose(sz);
	t1 = now_ms();
	if (write_image(daxdev, size, seed, desc, sizeof(desc))) {
		printf("FAIL seed=%" PRIu64 ": could not write the image\n", seed);
		return -2;
	}
	t2 = now_ms();
	if (rebind(1))
		return -2;
	t3 = now_ms();
	printf("%s\n", desc);
	fflush(stdout);
	kmsg_say("pkt-mkfuzz: %s\n", desc);
	rc = mount_walk(seed, flags, "mount", res, sizeof(res), t);
	if (rc > 0 && remount) {
		rc2 = mount_walk(seed, flags, "remount", res2, sizeof(res2), t);
		t->remounted++;
		if (rc2 == 0)
			t->remount_refused++;
	}
	t->images++;
	t->t_bind += (t1 - t0) + (t3 - t2);
	t->t_gen += t2 - t1;
	t->t_mount += now_ms() - t3;
	if (rc > 0)
		t->mounted++;
	else if (!rc)
		t->refused++;
	if (rc < 0 || rc2 < 0) {
		t->fails++;
		printf("FAIL seed=%" PRIu64 ": %s%s%s\n", seed, res, res2[0] ? "; " : "", res2);
	} else {
		printf("  seed=%" PRIu64 " %s%s%s (%.0f ms)\n", seed, res, res2[0] ? "; " : "", res2,
		       now_ms() - t0);
	}
	kmsg_say("pkt-mkfuzz: seed=%" PRIu64 " %s\n", seed,
		 rc < 0 || rc2 < 0 ? "FAILED" : rc > 0 ? (rc2 == 0 ? "mounted, remount refused" :
							   "mounted and walked") : "refused");
	fflush(stdout);
	return rc < 0 || rc2 < 0 ? -1 : 0;
}

static int run(const char *dev, uint64_t first, uint64_t count, const char *mp)
{
	struct tally t = { 0 };
	struct sigaction sa = { .sa_handler = on_sigbus };
	uint64_t s;
	double t0 = now_ms();
	int rc;

	dax = dev;
	snprintf(daxdev, sizeof(daxdev), "/dev/%s", dev);
	snprintf(mnt, sizeof(mnt), "%s", mp);
	sigaction(SIGBUS, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* dax_pkernfs binds only devices named to it. */
	rc = sysfs_write("dax_pkernfs", "new_id", dax);
	if (rc && rc != -EEXIST && rc != -EBUSY && rc != -ENODEV) {
		printf("FAIL: new_id %s for dax_pkernfs: %s\n", dax, strerror(-rc));
		return 2;
	}
	for (s = first; s < first + count; s++) {
		rc = run_one(s, &t);
		if (rc == -2) {
			printf("FAIL seed=%" PRIu64 ": the device could not be prepared; stopping\n", s);
			t.fails++;
			break;
		}
	}
	printf("summary seeds=%" PRIu64 "..%" PRIu64 " images=%u mounted=%u refused=%u "
	       "remounted=%u remount_refused=%u ro_alloc=%u kernel_reports=%u fails=%u "
	       "ms_per_image=%.0f (bind %.0f, write %.0f, mount+walk %.0f)\n",
	       first, first + count - 1, t.images, t.mounted, t.refused, t.remounted,
	       t.remount_refused, t.ro_alloc, t.reports, t.fails, t.images ? (now_ms() - t0) / t.images : 0,
	       t.images ? t.t_bind / t.images : 0, t.images ? t.t_gen / t.images : 0,
	       t.images ? t.t_mount / t.images : 0);
	if (t.images)
		printf("timing per image: unbind dax_pkernfs %.0f, bind device_dax %.0f, "
		       "unbind device_dax %.0f, bind dax_pkernfs %.0f ms\n",
		       t_unbind[1] / t.images, t_bindto[0] / t.images, t_unbind[0] / t.images,
		       t_bindto[1] / t.images);
	return t.fails ? 1 : 0;
}

/* --- host self test: pkt-mkfuzz --selftest FILE SIZE COUNT [FIRST] --- */

/* What the generator writes: the metadata and the head of every data AU. */
static uint32_t image_sum(const uint8_t *b, uint64_t size)
{
	const struct pkernfs_super *sb = (const void *)b;
	uint64_t meta = le64_to_cpu(sb->s_regions[PKERNFS_R_KERNEL].off), au;
	uint32_t shift = le32_to_cpu(sb->s_au_shift), crc;

	if (meta > size || shift < 12 || shift > 30)
		meta = size;
	crc = crc32c(~0u, b, meta);
	if (shift >= 12 && shift <= 30)
		for (au = meta >> shift; (au << shift) + 64 <= size; au++)
			crc = crc32c(crc, b + (au << shift), 64);
	return crc;
}

static void clear_heads(uint8_t *b, uint64_t size)
{
	uint64_t off;

	for (off = 0; off + 64 <= size; off += 4096)
		memset(b + off, 0, 64);
}

static int selftest(const char *path, uint64_t size, uint64_t count, uint64_t first)
{
	unsigned int clean = 0, errors = 0, notfs = 0, bad = 0, hist[NR_DAMAGES + 3] = { 0 };
	uint32_t *sums = calloc(count, sizeof(uint32_t));
	uint8_t *b = calloc(1, size);
	struct pkernfs_fsck ck;
	struct fz f;
	uint64_t s;
	unsigned int i;
	int rc, fd;
	uint8_t *m;

	if (!b || !sums)
		return 2;
	for (int pass = 0; pass < 2; pass++) {
		for (s = first; s < first + count; s++) {
			/* The undamaged image must be clean, before and after its journal. */
			clear_heads(b, size);
			if (pass == 0) {
				if (make_image(&f, b, size, s, 1))
					return 2;
				memset(&ck, 0, sizeof(ck));
				rc = pkernfs_fsck(&ck, b, size);
				if (rc || ck.errors) {
					printf("FAIL seed=%" PRIu64 ": undamaged image not clean (fsck %d, %u errors): %s\n",
					       s, rc, ck.errors, f.desc);
					bad++;
				}
				if (f.journal) {
					const struct pkernfs_journal_head *h =
						(const void *)(b + roff(&f, PKERNFS_R_JOURNAL));

					if (pkernfs_journal_apply(b, h, NULL) < 0) {
						printf("FAIL seed=%" PRIu64 ": journal does not apply\n", s);
						bad++;
					}
					memset(&ck, 0, sizeof(ck));
					rc = pkernfs_fsck(&ck, b, size);
					if (rc || ck.errors) {
						printf("FAIL seed=%" PRIu64 ": image after its journal not clean (fsck %d)\n",
						       s, rc);
						bad++;
					}
				}
				release(&f);
				clear_heads(b, size);
			}
			if (make_image(&f, b, size, s, 0))
				return 2;
			if (pass == 0) {
				sums[s - first] = image_sum(b, size);
				memset(&ck, 0, sizeof(ck));
				rc = pkernfs_fsck(&ck, b, size);
				if (rc == 0)
					clean++;
				else if (rc == 4)
					errors++;
				else
					notfs++;
				for (i = 0; i < NR_DAMAGES; i++)
					if (f.applied & (1u << i))
						hist[i]++;
				if (strstr(f.desc, "damage=random"))
					hist[NR_DAMAGES]++;
				if (strstr(f.desc, "damage=none"))
					hist[NR_DAMAGES + 1]++;
				if (strstr(f.desc, "journal="))
					hist[NR_DAMAGES + 2]++;
			} else if (sums[s - first] != image_sum(b, size)) {
				printf("FAIL seed=%" PRIu64 ": not deterministic\n", s);
				bad++;
			}
			release(&f);
		}
	}
	printf("selftest seeds %" PRIu64 "..%" PRIu64 ": fsck clean %u, errors %u, not pkernfs %u; "
	       "%u problems\n", first, first + count - 1, clean, errors, notfs, bad);
	for (i = 0; i < NR_DAMAGES; i++)
		printf("  %-16s %u\n", damages[i].name, hist[i]);
	printf("  %-16s %u\n  %-16s %u\n  %-16s %u\n", "random", hist[NR_DAMAGES], "none",
	       hist[NR_DAMAGES + 1], "(journal txn)", hist[NR_DAMAGES + 2]);
	free(b);
	free(sums);
	/* And through a file mapping, as the guest does. */
	m = map_dev(path, size, &fd);
	if (!m)
		return 2;
	if (make_image(&f, m, size, first, 0))
		bad++;
	release(&f);
	munmap(m, size);
	close(fd);
	return bad ? 1 : 0;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		/* fallthrough */
	case 'M': case 'm':
		v <<= 10;
		/* fallthrough */
	case 'K': case 'k':
		v <<= 10;
	}
	return v;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: pkt-mkfuzz DEV SIZE SEED\n"
		"       pkt-mkfuzz --run DAX FIRST COUNT MNT [--no-mmap] [--no-remount]\n"
		"       pkt-mkfuzz --selftest FILE SIZE COUNT [FIRST]\n");
	return 2;
}

int main(int argc, char **argv)
{
	char desc[1024];
	int i;

	if (argc >= 6 && !strcmp(argv[1], "--run")) {
		for (i = 6; i < argc; i++) {
			if (!strcmp(argv[i], "--no-mmap"))
				opt_mmap = 0;
			else if (!strcmp(argv[i], "--no-remount"))
				opt_remount = 0;
			else
				return usage();
		}
		return run(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), argv[5]);
	}
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "--selftest"))
		return selftest(argv[2], parse_size(argv[3]), strtoull(argv[4], NULL, 0),
				argc == 6 ? strtoull(argv[5], NULL, 0) : 1);
	if (argc != 4 || argv[1][0] == '-')
		return usage();
	if (write_image(argv[1], parse_size(argv[2]), strtoull(argv[3], NULL, 0), desc, sizeof(desc)))
		return 1;
	printf("%s\n", desc);
	return 0;
}
