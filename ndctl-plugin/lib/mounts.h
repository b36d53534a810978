/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PKERNFS_USER_MOUNTS_H
#define PKERNFS_USER_MOUNTS_H

#include <stddef.h>
#include <stdio.h>

/*
 * Find the mount of filesystem @type whose source is @dev ("dax0.0" or
 * "/dev/dax0.0") in a mount table (/proc/mounts format). Copies its mount
 * point, unescaped, to @where. Return: 1 found, 0 not, -1 the mount point
 * does not fit in @len.
 */
int mounts_find(FILE *table, const char *type, const char *dev, char *where, size_t len);

#endif
