/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PKERNFSCTL_FSCK_H
#define PKERNFSCTL_FSCK_H

#include <stdint.h>

#include "pkernfs_user.h"
#include "format.h"

/**
 * struct pkernfs_fsck - one check of an image
 * @report: called for each finding; @error is 0 for a note
 * @priv: passed to @report
 * @errors: findings that are damage
 * @notes: findings that mount resolves by itself (orphans, a pending journal)
 * @inodes: inodes in use
 * @extents: extents in use
 * @used_aus: AUs held by files
 * @kernel_pages: pages allocated in the kernel-only area
 */
struct pkernfs_fsck {
	void (*report)(void *priv, int error, const char *msg);
	void *priv;
	unsigned int errors;
	unsigned int notes;
	uint64_t inodes;
	uint64_t extents;
	uint64_t used_aus;
	uint64_t kernel_pages;
};

int pkernfs_fsck(struct pkernfs_fsck *f, const uint8_t *b, uint64_t size);

#endif
