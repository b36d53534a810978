// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-mem: write, verify and checksum a deterministic pattern through a
 * shared mmap of a file or a device dax node. The VM tests use it to show
 * that memory contents survive a kexec.
 *
 *   pkt-mem fill   PATH OFFSET LENGTH SEED    write the pattern, print its sum
 *   pkt-mem verify PATH OFFSET LENGTH SEED    compare, print the sum; exit 1 on mismatch
 *   pkt-mem sum    PATH OFFSET LENGTH         print the sum of what is there
 *   pkt-mem note   PATH OFFSET LENGTH [TEXT]  store TEXT (NUL-terminated) there,
 *                                             or print what is stored
 *   pkt-mem touch  PATH OFFSET LENGTH         write one byte per 4 KiB page of a
 *                                             fresh mapping; print the time taken
 *
 * OFFSET and LENGTH take K, M and G suffixes. For device dax they must be
 * multiples of the device alignment, which the kernel enforces on mmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "size.h"

/*
 * Device dax has no fsync (msync says EINVAL): its stores are in memory
 * already. Files are synced so the test also covers the fs's fsync.
 */
static int sync_map(int fd, void *map, uint64_t len)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (msync(map, len, MS_SYNC)) {
		fprintf(stderr, "pkt-mem: msync: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* splitmix64 of the word's absolute index: any word can be checked alone. */
static uint64_t pattern(uint64_t seed, uint64_t index)
{
	uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* FNV-1a over 64-bit words: cheap, and order-sensitive. */
static uint64_t sum_words(const uint64_t *w, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t i;

	for (i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int usage(void)
{
	fprintf(stderr, "usage: pkt-mem fill|verify PATH OFFSET LENGTH SEED\n"
			"       pkt-mem sum PATH OFFSET LENGTH\n"
			"       pkt-mem note PATH OFFSET LENGTH [TEXT]\n");
	return 2;
}

/* A small text record kept in the memory under test, read back after kexec. */
static int note(int argc, char **argv)
{
	uint64_t off, len;
	size_t tlen;
	char *map;
	int fd;

	if ((argc != 5 && argc != 6) || parse_size(argv[3], &off) ||
	    parse_size(argv[4], &len) || !len)
		return usage();
	fd = open(argv[2], argc == 6 ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "pkt-mem: open %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	map = mmap(NULL, len, argc == 6 ? PROT_READ | PROT_WRITE : PROT_READ,
		   MAP_SHARED, fd, off);
	if (map == MAP_FAILED) {
		fprintf(stderr, "pkt-mem: mmap %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	if (argc == 6) {
		tlen = strlen(argv[5]);
		if (tlen >= len) {
			fprintf(stderr, "pkt-mem: note longer than %" PRIu64 "\n", len);
			return 2;
		}
		memcpy(map, argv[5], tlen + 1);
		if (sync_map(fd, map, len))
			return 2;
	} else {
		if (!memchr(map, 0, len)) {
			fprintf(stderr, "pkt-mem: no note there\n");
			return 1;
		}
		fputs(map, stdout);
		putchar('\n');
	}
	munmap(map, len);
	close(fd);
	return 0;
}

/* First-touch cost of a mapping: the bench's fault-rate figure. */
static int touch(int argc, char **argv)
{
	struct timespec t0, t1;
	uint64_t off, len, i;
	volatile char *map;
	double s;
	int fd;

	if (argc != 5 || parse_size(argv[3], &off) || parse_size(argv[4], &len) || !len)
		return usage();
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "pkt-mem: open %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (map == MAP_FAILED) {
		fprintf(stderr, "pkt-mem: mmap: %s\n", strerror(errno));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < len; i += 4096)
		map[i] = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.3f s, %.0f MiB/s\n", s, len / 1048576.0 / s);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t off, len, seed = 0, n, i, base;
	const char *cmd, *path;
	uint64_t *w;
	int fd, writing;
	void *map;

	if (argc < 5)
		return usage();
	cmd = argv[1];
	path = argv[2];
	if (!strcmp(cmd, "note"))
		return note(argc, argv);
	if (!strcmp(cmd, "touch"))
		return touch(argc, argv);
	writing = !strcmp(cmd, "fill");
	if (!writing && strcmp(cmd, "verify") && strcmp(cmd, "sum"))
		return usage();
	if (strcmp(cmd, "sum") && argc != 6)
		return usage();
	if (parse_size(argv[3], &off) || parse_size(argv[4], &len) ||
	    (argc == 6 && parse_size(argv[5], &seed))) {
		fprintf(stderr, "pkt-mem: bad number\n");
		return 2;
	}
	if (!len || (off | len) & 7) {
		fprintf(stderr, "pkt-mem: offset and length must be non-zero multiples of 8\n");
		return 2;
	}
	fd = open(path, writing ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "pkt-mem: open %s: %s\n", path, strerror(errno));
		return 2;
	}
	map = mmap(NULL, len, writing ? PROT_READ | PROT_WRITE : PROT_READ,
		   MAP_SHARED, fd, off);
	if (map == MAP_FAILED) {
		fprintf(stderr, "pkt-mem: mmap %s at %" PRIu64 " len %" PRIu64 ": %s\n",
			path, off, len, strerror(errno));
		return 2;
	}
	w = map;
	n = len / 8;
	base = off / 8;
	if (writing) {
		for (i = 0; i < n; i++)
			w[i] = pattern(seed, base + i);
		if (sync_map(fd, map, len))
			return 2;
	} else if (!strcmp(cmd, "verify")) {
		for (i = 0; i < n; i++) {
			if (w[i] != pattern(seed, base + i)) {
				fprintf(stderr, "pkt-mem: mismatch at byte %" PRIu64
					": %016" PRIx64 " != %016" PRIx64 "\n",
					off + i * 8, w[i], pattern(seed, base + i));
				return 1;
			}
		}
	}
	printf("%016" PRIx64 "\n", sum_words(w, n));
	munmap(map, len);
	close(fd);
	return 0;
}
