// SPDX-License-Identifier: GPL-2.0-only
#include <mntent.h>
#include <string.h>

#include "mounts.h"

int mounts_find(FILE *table, const char *type, const char *dev, char *where, size_t len)
{
	struct mntent *m;

	/* getmntent() undoes the table's octal escapes and takes any length. */
	while ((m = getmntent(table))) {
		const char *s = strncmp(m->mnt_fsname, "/dev/", 5) ? m->mnt_fsname :
								      m->mnt_fsname + 5;

		if (strcmp(m->mnt_type, type) || strcmp(s, dev))
			continue;
		if (strlen(m->mnt_dir) >= len)
			return -1;
		strcpy(where, m->mnt_dir);
		return 1;
	}
	return 0;
}
