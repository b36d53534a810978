// SPDX-License-Identifier: GPL-2.0-only
/*
 * mounts_find(): pkernfsctl refuses to unbind, repair or rebind a device
 * it finds mounted, so a mount it misses loses data.
 */
#define UNIT_MAIN
#include "unit.h"
#include "mounts.h"

static FILE *table(const char *text)
{
	return fmemopen((void *)text, strlen(text), "r");
}

TEST(mounts_found_by_name_or_path)
{
	char where[64];
	FILE *f = table("sysfs /sys sysfs rw 0 0\n"
			"/dev/dax1.0 /mnt/b pkernfs rw 0 0\n"
			"dax0.0 /mnt/a pkernfs rw 0 0\n");

	EXPECT_EQ(mounts_find(f, "pkernfs", "dax0.0", where, sizeof(where)), 1);
	EXPECT(!strcmp(where, "/mnt/a"));
	rewind(f);
	EXPECT_EQ(mounts_find(f, "pkernfs", "dax1.0", where, sizeof(where)), 1);
	EXPECT(!strcmp(where, "/mnt/b"));
	rewind(f);
	EXPECT_EQ(mounts_find(f, "pkernfs", "dax2.0", where, sizeof(where)), 0);
	rewind(f);
	EXPECT_EQ(mounts_find(f, "ext4", "dax0.0", where, sizeof(where)), 0);
	fclose(f);
}

/* The kernel writes a space in a mount point as \040. */
TEST(mounts_escaped_mount_point)
{
	char where[64];
	FILE *f = table("dax0.0 /mnt/vm\\040ram pkernfs rw 0 0\n");

	EXPECT_EQ(mounts_find(f, "pkernfs", "dax0.0", where, sizeof(where)), 1);
	EXPECT(!strcmp(where, "/mnt/vm ram"));
	fclose(f);
}

/*
 * A mount point longer than a fixed field: a scanf of %255s split it and
 * read the rest as the type, and the mount was missed.
 */
TEST(mounts_long_mount_point)
{
	char line[1024], where[512], dir[400];
	FILE *f;

	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = 0;
	snprintf(line, sizeof(line), "dax0.0 %s pkernfs rw 0 0\n", dir);
	f = table(line);
	EXPECT_EQ(mounts_find(f, "pkernfs", "dax0.0", where, sizeof(where)), 1);
	EXPECT(!strcmp(where, dir));
	rewind(f);
	/* Too long for the caller's buffer: said, not truncated. */
	EXPECT_EQ(mounts_find(f, "pkernfs", "dax0.0", where, 64), -1);
	fclose(f);
}
