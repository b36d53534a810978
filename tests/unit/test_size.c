// SPDX-License-Identifier: GPL-2.0-only
/* parse_size(): the sizes pkernfsctl takes (--size, --au, --kernel-area). */
#define UNIT_MAIN
#include "unit.h"
#include "size.h"

TEST(size_plain_and_suffixed)
{
	uint64_t v;

	EXPECT_EQ(parse_size("4096", &v), 0);
	EXPECT_EQ(v, 4096);
	EXPECT_EQ(parse_size("0x1000", &v), 0);
	EXPECT_EQ(v, 4096);
	EXPECT_EQ(parse_size("4k", &v), 0);
	EXPECT_EQ(v, 4096);
	EXPECT_EQ(parse_size("2M", &v), 0);
	EXPECT_EQ(v, 2ull << 20);
	EXPECT_EQ(parse_size("1G", &v), 0);
	EXPECT_EQ(v, 1ull << 30);
	/* The largest that fits. */
	EXPECT_EQ(parse_size("17179869183G", &v), 0);
	EXPECT_EQ(v, 17179869183ull << 30);
}

/* A size that does not fit in 64 bits once scaled is refused, not wrapped. */
TEST(size_overflow_refused)
{
	uint64_t v = 7;

	EXPECT_EQ(parse_size("17179869184G", &v), -1);	/* 2^64 */
	EXPECT_EQ(parse_size("18014398509481984K", &v), -1);
	EXPECT_EQ(parse_size("0x100000000000M", &v), -1);
	EXPECT_EQ(parse_size("18446744073709551616", &v), -1);
	EXPECT_EQ(v, 7);
}

/* strtoull() takes a sign; a size has none. */
TEST(size_sign_and_junk_refused)
{
	uint64_t v = 7;

	EXPECT_EQ(parse_size("-1", &v), -1);
	EXPECT_EQ(parse_size("-2M", &v), -1);
	EXPECT_EQ(parse_size(" -2M", &v), -1);
	EXPECT_EQ(parse_size("+2M", &v), -1);
	EXPECT_EQ(parse_size("", &v), -1);
	EXPECT_EQ(parse_size("M", &v), -1);
	EXPECT_EQ(parse_size("2MB", &v), -1);
	EXPECT_EQ(parse_size("2T", &v), -1);
	EXPECT_EQ(parse_size("2 M", &v), -1);
	EXPECT_EQ(v, 7);
}
