// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-corrupt: damage one pkernfs structure on purpose, for the bad-input
 * tests. It finds structures with the shared format code, so the damage
 * lands exactly where meant.
 *
 *   pkt-corrupt DEV SIZE WHAT
 *
 * DEV is a device dax node or an image file, SIZE its size in bytes.
 * WHAT: magic | sb-crc | major | incompat | root-inode | dirent | extent |
 *       bitmap | journal-torn | foreign
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pkernfs_user.h"
#include "format.h"

static uint64_t roff(const struct pkernfs_super *sb, int r)
{
	return le64_to_cpu(sb->s_regions[r].off);
}

static uint32_t rcount(const struct pkernfs_super *sb, int r)
{
	return le32_to_cpu(sb->s_regions[r].count);
}

int main(int argc, char **argv)
{
	struct pkernfs_super *sb;
	const char *what;
	uint64_t size;
	uint32_t i;
	uint8_t *b;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: pkt-corrupt DEV SIZE WHAT\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 0);
	what = argv[3];
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sb = (struct pkernfs_super *)b;

	if (!strcmp(what, "magic")) {
		sb->s_magic ^= cpu_to_le64(1);
	} else if (!strcmp(what, "sb-crc")) {
		sb->s_label[5] ^= 0x20;
	} else if (!strcmp(what, "major")) {
		sb->s_major = cpu_to_le16(PKERNFS_MAJOR + 1);
		pkernfs_super_set_crc(sb);
	} else if (!strcmp(what, "incompat")) {
		sb->s_feature_incompat |= cpu_to_le32(0x80000000u);
		pkernfs_super_set_crc(sb);
	} else if (!strcmp(what, "root-inode")) {
		struct pkernfs_inode *it = (void *)(b + roff(sb, PKERNFS_R_INODES));

		it[PKERNFS_ROOT_INO].i_uid ^= cpu_to_le32(1);
	} else if (!strcmp(what, "dirent") || !strcmp(what, "extent")) {
		int dirent = !strcmp(what, "dirent");
		int r = dirent ? PKERNFS_R_DIRENTS : PKERNFS_R_EXTENTS;
		uint32_t sz = dirent ? sizeof(struct pkernfs_dirent) :
				       sizeof(struct pkernfs_extent);
		uint8_t *t = b + roff(sb, r);

		for (i = 0; i < rcount(sb, r); i++) {
			uint8_t *rec = t + (uint64_t)i * sz;

			if (dirent ? ((struct pkernfs_dirent *)rec)->d_parent :
				     ((struct pkernfs_extent *)rec)->e_ino) {
				rec[sz - 1 - (dirent ? 200 : 0)] ^= 0x4;
				break;
			}
		}
		if (i == rcount(sb, r)) {
			fprintf(stderr, "no used %s to damage\n", what);
			return 1;
		}
	} else if (!strcmp(what, "bitmap")) {
		struct pkernfs_bmap_block *bb = (void *)(b + roff(sb, PKERNFS_R_BITMAP));

		bb->b_bits[100] ^= 0x10;
	} else if (!strcmp(what, "journal-torn")) {
		struct pkernfs_journal_head *jh = (void *)(b + roff(sb, PKERNFS_R_JOURNAL));

		/* A committed head whose payload no longer matches its crc. */
		jh->j_state = cpu_to_le32(PKERNFS_J_COMMITTED);
		jh->j_nrec = cpu_to_le32(1);
		jh->j_bytes = cpu_to_le32(16);
		pkernfs_journal_set_crc(jh);
		((uint8_t *)(jh + 1))[0] ^= 1;
	} else if (!strcmp(what, "foreign")) {
		for (i = 0; i < 4096; i++)
			b[i] = (uint8_t)(i * 37 + 11);
	} else {
		fprintf(stderr, "unknown damage %s\n", what);
		return 2;
	}
	munmap(b, size);
	close(fd);
	return 0;
}
