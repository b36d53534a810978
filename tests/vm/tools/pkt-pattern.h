/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seeded 4 KiB pattern the edu DMA tests move around: pkt-edu and
 * pkt-vmm write and check each other's, so they share this one.
 */
#ifndef PKT_PATTERN_H
#define PKT_PATTERN_H

#include <stdint.h>

#define PKT_PAGE	4096
/*
 * The DMA tests move 2 KiB: QEMU 7.2's edu refuses (hw_error, the VM
 * dies) a transfer that ends at the end of its 4 KiB buffer.
 */
#define PKT_XFER	2048

static inline void pkt_pattern(uint8_t *p, unsigned long seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	int i;

	for (i = 0; i < PKT_PAGE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

#endif
