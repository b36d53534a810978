// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the image parser and the checker: a freshly
 * formatted image (64 KiB AUs), damaged by the input (5-byte records: a 32-bit offset
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

#define IMG_SIZE (8u << 20)

static uint8_t *base, *work;
static uint64_t meta_len;

static void setup(void)
{
	struct pkernfs_mkfs_params p = { .au_shift = 16, .nr_inodes = 64, .time = 1 };
	static struct pkernfs_super sb;
	const char *why;

	base = calloc(1, IMG_SIZE);
	work = calloc(1, IMG_SIZE);
	if (!base || !work || pkernfs_format(base, IMG_SIZE, &p, &sb, &why))
		abort();
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
