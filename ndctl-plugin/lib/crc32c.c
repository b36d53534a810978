// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table-driven CRC32C, reflected polynomial 0x82f63b78. Slicing is not
 * worth it here: mkfs and fsck checksum metadata, not data.
 */
#include "crc32c.h"

static uint32_t crc32c_table[256];

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0);
		crc32c_table[i] = c;
	}
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc32c_table[1])
		crc32c_init();
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}
