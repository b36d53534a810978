// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the image parser and the checker: a formatted
 * image (64 KiB AUs) holding a small tree (two directories, files, a hard
 * link, extents), damaged by the input (5-byte records: a 32-bit offset
 * into the metadata and a byte to XOR there), then checked and repaired.
 * Any crash, sanitizer report or hang is a bug in format.c, fsck.c or
 * repair.c; so is a repair that does not converge: a second --repair must
 * find nothing to do, and "repaired" (1) must leave a clean image.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"
#include "img.h"

#define IMG_SIZE (8u << 20)

static uint8_t *base, *work;
static uint64_t meta_len;

/* /d/f (2 AUs, also /d/e/f2), /d/e/g (1 AU); so repair has a tree to mend. */
static void build_tree(struct img *m)
{
	uint64_t first = roff(m, PKERNFS_R_DATA) >> le32_to_cpu(m->sb->s_au_shift);
	struct pkernfs_fsck f = { 0 };

	mkinode(m, 2, S_IFDIR | 0755, 3);
	mkinode(m, 3, S_IFREG | 0644, 2);
	mkinode(m, 4, S_IFDIR | 0755, 2);
	mkinode(m, 5, S_IFREG | 0600, 1);
	ino(m, 1)->i_nlink = cpu_to_le32(3);
	pkernfs_inode_set_crc(ino(m, 1));
	mkname(m, 0, 1, 2, "d", DT_DIR);
	mkname(m, 1, 2, 3, "f", DT_REG);
	mkname(m, 2, 2, 4, "e", DT_DIR);
	mkname(m, 3, 4, 5, "g", DT_REG);
	mkname(m, 4, 4, 3, "f2", DT_REG);
	ext(m, 0)->e_ino = cpu_to_le64(3);
	ext(m, 0)->e_ino_gen = ino(m, 3)->i_gen;
	ext(m, 0)->e_start = cpu_to_le64(first);
	ext(m, 0)->e_len = cpu_to_le32(2);
	pkernfs_extent_set_crc(ext(m, 0));
	ext(m, 1)->e_ino = cpu_to_le64(5);
	ext(m, 1)->e_ino_gen = ino(m, 5)->i_gen;
	ext(m, 1)->e_start = cpu_to_le64(first + 4);
	ext(m, 1)->e_len = cpu_to_le32(1);
	pkernfs_extent_set_crc(ext(m, 1));
	mark(m, first, 1);
	mark(m, first + 1, 1);
	mark(m, first + 4, 1);
	/* The starting point must be clean, or the fuzzer learns nothing. */
	if (pkernfs_fsck(&f, m->b, IMG_SIZE) || f.notes)
		abort();
}

static void setup(void)
{
	struct pkernfs_mkfs_params p = { .au_shift = 16, .nr_inodes = 64, .time = 1 };
	static struct pkernfs_super sb;
	struct img m;
	const char *why;

	base = calloc(1, IMG_SIZE);
	work = calloc(1, IMG_SIZE);
	if (!base || !work || pkernfs_format(base, IMG_SIZE, &p, &sb, &why))
		abort();
	m.b = base;
	m.sb = (void *)base;
	build_tree(&m);
	meta_len = le64_to_cpu(sb.s_regions[PKERNFS_R_DATA].off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkernfs_fsck f = { 0 };
	size_t i;

	if (!base)
		setup();
	memcpy(work, base, meta_len);
	for (i = 0; i + 5 <= size; i += 5) {
		uint32_t off;

		memcpy(&off, data + i, 4);
		work[off % meta_len] ^= data[i + 4];
	}
	pkernfs_fsck(&f, work, IMG_SIZE);
	memset(&f, 0, sizeof(f));
	if (pkernfs_fsck_repair(&f, work, IMG_SIZE) == 1) {
		memset(&f, 0, sizeof(f));
		if (pkernfs_fsck(&f, work, IMG_SIZE))
			abort();
	}
	memset(&f, 0, sizeof(f));
	pkernfs_fsck_repair(&f, work, IMG_SIZE);
	if (f.repairs)
		abort();
	return 0;
}
