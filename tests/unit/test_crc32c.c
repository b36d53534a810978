// SPDX-License-Identifier: GPL-2.0-only
/* The userspace crc32c must agree with the kernel's crc32c() bit for bit. */
#define UNIT_MAIN
#include "unit.h"
#include "crc32c.h"

/* RFC 3720 B.4 check value: the finalised (inverted) sum of "123456789". */
TEST(crc32c_check_value)
{
	EXPECT_EQ(~crc32c(~0u, "123456789", 9), 0xe3069283u);
}

/* RFC 3720 B.4: 32 bytes of zeros, and of 0xff. */
TEST(crc32c_rfc3720_vectors)
{
	unsigned char buf[32];

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(~crc32c(~0u, buf, sizeof(buf)), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	EXPECT_EQ(~crc32c(~0u, buf, sizeof(buf)), 0x62a8ab43u);
}

/* Summing in pieces equals summing at once: the format sums structs in parts. */
TEST(crc32c_incremental)
{
	const char *s = "pkernfs keeps guest memory across kexec";
	size_t n = strlen(s), k;

	for (k = 0; k <= n; k++)
		EXPECT_EQ(crc32c(crc32c(~0u, s, k), s + k, n - k), crc32c(~0u, s, n));
}

/* A zero-length update leaves the register alone. */
TEST(crc32c_empty)
{
	EXPECT_EQ(crc32c(0x12345678u, "", 0), 0x12345678u);
}
