/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PKERNFS_USER_SIZE_H
#define PKERNFS_USER_SIZE_H

#include <stdint.h>

/* A byte count with an optional K, M or G suffix. Return: 0, or -1. */
int parse_size(const char *s, uint64_t *out);

#endif
