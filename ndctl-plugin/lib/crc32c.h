/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CRC32C (Castagnoli) for userspace, computed exactly as the kernel's
 * crc32c(): the caller passes the seed (~0 for a fresh sum) and gets the
 * raw register back, with no final inversion. Using the same convention
 * on both sides keeps the on-memory checksums identical.
 */
#ifndef PKERNFS_USER_CRC32C_H
#define PKERNFS_USER_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
