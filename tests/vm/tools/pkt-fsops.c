// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-fsops: the filesystem calls busybox cannot make, for the VM tests.
 *
 *   pkt-fsops rename2 OLD NEW [noreplace|exchange]
 *   pkt-fsops falloc FILE alloc|keep|punch OFFSET LENGTH
 *   pkt-fsops seek FILE OFFSET data|hole        prints the offset, or ENXIO
 *   pkt-fsops pin FILE LENGTH CMD [unmap]       mmap FILE, pin it with
 *        io_uring_register_buffers (FOLL_LONGTERM), run CMD with sh -c while
 *        pinned, print CMD's exit status; exit 3 if the pin is refused.
 *        With "unmap" the mapping and the file are closed before CMD runs,
 *        so only the pin references the pages.
 *   pkt-fsops map FILE LENGTH CMD               mmap FILE and write all of it,
 *        run CMD while mapped, then touch the last byte again and print
 *        "last-byte ok" or "last-byte sigbus"
 *   pkt-fsops statfs PATH                       f_type bsize blocks bfree files ffree
 *   pkt-fsops threads FILE N MB                 N threads fault and write MB
 *        each through one shared mapping, and N more write() beside them
 *   pkt-fsops romap FILE LENGTH [CMD OFFSET...]  open FILE read-only, map it
 *        PROT_READ and read every page: "pages N nonzero M"; then run CMD
 *        with sh -c while mapped ("cmd-status S") and print the byte at each
 *        OFFSET as the same mapping now sees it: "byte OFFSET 0xNN"
 *   pkt-fsops poke FILE OFFSET BYTE             store BYTE at OFFSET through a
 *        4 KiB shared mapping
 *   pkt-fsops touch FILE MAPLEN OFFSET r|w      map MAPLEN of FILE and read or
 *        write the byte at OFFSET: "ok" or "sigbus"
 *   pkt-fsops chunkmap FILE LENGTH CMD          put a marker at both ends of
 *        every 2 MiB of FILE with pwrite(), map LENGTH, read the first byte
 *        (one fault, as huge as the file allows), run CMD while mapped, then
 *        read every marker through the same mapping and print the 2 MiB
 *        chunks, run-length coded, as data (markers), zero, sigbus or bad
 *   pkt-fsops cfr SRC DST LEN                   copy_file_range() LEN bytes into
 *        DST (created or truncated): "copied N"
 *   pkt-fsops sendfile SRC DST LEN              the same with sendfile()
 *   pkt-fsops as UID GID CMD [ARG...]           run CMD as UID:GID, no groups
 *
 * Exit status: 0 success, 1 the call failed (errno name printed), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <liburing.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "size.h"

/* A size with an optional K, M or G suffix; 0 if it is not one. */
static unsigned long long size_arg(const char *s)
{
	uint64_t v;

	return parse_size(s, &v) ? 0 : v;
}

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	printf("%s\n", strerrorname_np(errno));
	return 1;
}

static int do_rename2(int argc, char **argv)
{
	unsigned int flags = 0;

	if (argc == 5 && !strcmp(argv[4], "noreplace"))
		flags = RENAME_NOREPLACE;
	else if (argc == 5 && !strcmp(argv[4], "exchange"))
		flags = RENAME_EXCHANGE;
	else if (argc != 4)
		return 2;
	if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags))
		return fail("renameat2");
	return 0;
}

static int do_falloc(int argc, char **argv)
{
	int fd, mode;

	if (argc != 6)
		return 2;
	if (!strcmp(argv[3], "alloc"))
		mode = 0;
	else if (!strcmp(argv[3], "keep"))
		mode = FALLOC_FL_KEEP_SIZE;
	else if (!strcmp(argv[3], "punch"))
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	else
		return 2;
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return fail("open");
	if (fallocate(fd, mode, size_arg(argv[4]), size_arg(argv[5])))
		return fail("fallocate");
	return close(fd) ? fail("close") : 0;
}

static int do_seek(int argc, char **argv)
{
	off_t r;
	int fd;

	if (argc != 5)
		return 2;
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return fail("open");
	r = lseek(fd, strtoll(argv[3], NULL, 0),
		  !strcmp(argv[4], "data") ? SEEK_DATA : SEEK_HOLE);
	if (r < 0)
		return fail("lseek");
	printf("%lld\n", (long long)r);
	return 0;
}

static int do_pin(int argc, char **argv)
{
	struct io_uring ring;
	struct iovec iov;
	size_t len;
	int fd, ret, st;
	char *p;

	if (argc != 5 && argc != 6)
		return 2;
	len = size_arg(argv[3]);
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return fail("open");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	memset(p, 0x5a, len);
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret < 0) {
		errno = -ret;
		return fail("io_uring_queue_init");
	}
	iov.iov_base = p;
	iov.iov_len = len;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret < 0) {
		errno = -ret;
		fail("io_uring_register_buffers");
		return 3;
	}
	if (argc == 6) {
		munmap(p, len);
		close(fd);
	}
	fflush(stdout);
	st = system(argv[4]);
	printf("pinned-cmd-status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 255);
	io_uring_unregister_buffers(&ring);
	io_uring_queue_exit(&ring);
	if (argc == 5) {
		munmap(p, len);
		close(fd);
	}
	return 0;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig __attribute__((unused)))
{
	siglongjmp(bus_jmp, 1);
}

static int do_map(int argc, char **argv)
{
	volatile char *p;
	size_t len;
	int fd, st;

	if (argc != 5)
		return 2;
	len = size_arg(argv[3]);
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return fail("open");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	memset((char *)p, 0x6b, len);
	fflush(stdout);
	st = system(argv[4]);
	printf("mapped-cmd-status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 255);
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(bus_jmp, 1)) {
		printf("last-byte sigbus\n");
	} else {
		p[len - 1] = 1;
		printf("last-byte ok\n");
	}
	return 0;
}

static int do_statfs(int argc, char **argv)
{
	struct statfs s;

	if (argc != 3)
		return 2;
	if (statfs(argv[2], &s))
		return fail("statfs");
	printf("%#lx %ld %lu %lu %lu %lu\n", (unsigned long)s.f_type, (long)s.f_bsize,
	       (unsigned long)s.f_blocks, (unsigned long)s.f_bfree,
	       (unsigned long)s.f_files, (unsigned long)s.f_ffree);
	return 0;
}

struct worker {
	pthread_t t;
	char *map;
	int fd;
	size_t off, len;
	int id, err;
};

static void *fault_worker(void *arg)
{
	struct worker *w = arg;
	size_t i;

	for (i = 0; i < w->len; i += 4096)
		w->map[w->off + i] = (char)(w->id + i / 4096);
	return NULL;
}

static void *write_worker(void *arg)
{
	struct worker *w = arg;
	char buf[65536];
	size_t i;

	memset(buf, w->id, sizeof(buf));
	for (i = 0; i < w->len; i += sizeof(buf))
		if (pwrite(w->fd, buf, sizeof(buf), w->off + i) != sizeof(buf))
			w->err = errno;
	return NULL;
}

/* Half the threads fault in their slice of a mapping, half write() theirs. */
static int do_threads(int argc, char **argv)
{
	int n, fd, i, bad = 0;
	size_t mb, slice, total;
	struct worker *w;
	char *map;

	if (argc != 5)
		return 2;
	n = atoi(argv[3]);
	mb = size_arg(argv[4]);
	slice = mb << 20;
	total = slice * 2 * n;
	fd = open(argv[2], O_RDWR | O_CREAT, 0644);
	if (fd < 0 || ftruncate(fd, total))
		return fail("open/ftruncate");
	map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap");
	w = calloc(2 * n, sizeof(*w));
	for (i = 0; i < 2 * n; i++) {
		w[i] = (struct worker){ .map = map, .fd = fd, .off = i * slice,
					.len = slice, .id = i + 1 };
		pthread_create(&w[i].t, NULL, i < n ? fault_worker : write_worker, &w[i]);
	}
	for (i = 0; i < 2 * n; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].err)
			bad = 1;
	}
	/* Every byte must be what its owner wrote. */
	for (i = 0; i < 2 * n && !bad; i++) {
		size_t j;

		for (j = 0; j < slice; j += 4096) {
			char want = i < n ? (char)(w[i].id + j / 4096) : (char)w[i].id;

			if (map[w[i].off + j] != want) {
				fprintf(stderr, "thread %d: byte %zu wrong\n", i, j);
				bad = 1;
				break;
			}
		}
	}
	printf("%s\n", bad ? "mismatch" : "ok");
	return bad;
}

/* Read-only: faults through this mapping may only ever read. */
static int do_romap(int argc, char **argv)
{
	size_t len, i, pages = 0, nonzero = 0;
	const volatile uint64_t *w;
	const volatile char *p;
	int fd, st, a;

	if (argc != 4 && argc < 6)
		return 2;
	len = size_arg(argv[3]);
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return fail("open");
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	/* Every word of every page, so a page that is not all zeros is seen. */
	w = (const volatile uint64_t *)p;
	for (i = 0; i < len / 8; i += 512) {
		size_t j;

		for (j = 0; j < 512 && i + j < len / 8; j++)
			if (w[i + j]) {
				nonzero++;
				break;
			}
		pages++;
	}
	printf("pages %zu nonzero %zu\n", pages, nonzero);
	if (argc == 4)
		return 0;
	fflush(stdout);
	st = system(argv[4]);
	printf("cmd-status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 255);
	for (a = 5; a < argc; a++)
		printf("byte %s 0x%02x\n", argv[a], (unsigned char)p[size_arg(argv[a])]);
	return 0;
}

static int do_poke(int argc, char **argv)
{
	unsigned long long off;
	char *p;
	int fd;

	if (argc != 5)
		return 2;
	off = strtoull(argv[3], NULL, 0);
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return fail("open");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off & ~4095ULL);
	if (p == MAP_FAILED)
		return fail("mmap");
	p[off & 4095] = (char)strtoul(argv[4], NULL, 0);
	munmap(p, 4096);
	close(fd);
	return 0;
}

static int do_touch(int argc, char **argv)
{
	unsigned long long off;
	volatile char *p;
	size_t len;
	int fd;

	if (argc != 6 || (strcmp(argv[5], "r") && strcmp(argv[5], "w")))
		return 2;
	len = size_arg(argv[3]);
	off = strtoull(argv[4], NULL, 0);
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return fail("open");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(bus_jmp, 1)) {
		printf("sigbus\n");
	} else {
		if (argv[5][0] == 'w')
			p[off] = 1;
		else
			(void)p[off];
		printf("ok\n");
	}
	return 0;
}

#define CHUNK	(2UL << 20)

static unsigned char chunk_marker(size_t c)
{
	return 0x80 | (c & 0x7f);
}

/* What chunk @c holds as seen through @p: 'd'ata, 'z'ero, 's'igbus, 'b'ad. */
static char chunk_state(const volatile unsigned char *p, size_t c)
{
	unsigned char lo, hi;

	if (sigsetjmp(bus_jmp, 1))
		return 's';
	lo = p[c * CHUNK];
	hi = p[c * CHUNK + CHUNK - 1];
	if (lo == chunk_marker(c) && hi == chunk_marker(c))
		return 'd';
	if (!lo && !hi)
		return 'z';
	return 'b';
}

static int do_chunkmap(int argc, char **argv)
{
	static const char *const names[] = { ['d'] = "data", ['z'] = "zero",
					     ['s'] = "sigbus", ['b'] = "bad" };
	volatile unsigned char *p;
	size_t len, c, first;
	char prev = 0, cur;
	int fd, st;

	if (argc != 5)
		return 2;
	len = size_arg(argv[3]);
	if (!len || len % CHUNK)
		return 2;
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return fail("open");
	for (c = 0; c < len / CHUNK; c++) {
		unsigned char m = chunk_marker(c);

		if (pwrite(fd, &m, 1, c * CHUNK) != 1 ||
		    pwrite(fd, &m, 1, c * CHUNK + CHUNK - 1) != 1)
			return fail("pwrite");
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	signal(SIGBUS, on_sigbus);
	printf("first-byte %s\n", chunk_state(p, 0) == 'd' ? "ok" : "wrong");
	fflush(stdout);
	st = system(argv[4]);
	printf("mapped-cmd-status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 255);
	first = 0;
	for (c = 0; c <= len / CHUNK; c++) {
		cur = c < len / CHUNK ? chunk_state(p, c) : 0;
		if (c && cur != prev) {
			if (first == c - 1)
				printf("%s:%zu ", names[(int)prev], first);
			else
				printf("%s:%zu-%zu ", names[(int)prev], first, c - 1);
			first = c;
		}
		prev = cur;
	}
	printf("\n");
	return 0;
}

/* DST is created or truncated; copy until LEN or the source ends. */
static int do_copy(int argc, char **argv, bool cfr)
{
	unsigned long long len, done = 0;
	int in, out;

	if (argc != 5)
		return 2;
	len = size_arg(argv[4]);
	in = open(argv[2], O_RDONLY);
	if (in < 0)
		return fail("open source");
	out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return fail("open destination");
	while (done < len) {
		ssize_t n = cfr ? copy_file_range(in, NULL, out, NULL, len - done, 0) :
				  sendfile(out, in, NULL, len - done);

		if (n < 0)
			return fail(cfr ? "copy_file_range" : "sendfile");
		if (!n)
			break;
		done += n;
	}
	printf("copied %llu\n", done);
	if (close(out))
		return fail("close");
	close(in);
	return 0;
}

static int do_as(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	if (setgroups(0, NULL) || setgid(atoi(argv[3])) || setuid(atoi(argv[2])))
		return fail("setgroups/setgid/setuid");
	execvp(argv[4], argv + 4);
	return fail("exec");
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "rename2"))
		rc = do_rename2(argc, argv);
	else if (!strcmp(argv[1], "falloc"))
		rc = do_falloc(argc, argv);
	else if (!strcmp(argv[1], "seek"))
		rc = do_seek(argc, argv);
	else if (!strcmp(argv[1], "pin"))
		rc = do_pin(argc, argv);
	else if (!strcmp(argv[1], "map"))
		rc = do_map(argc, argv);
	else if (!strcmp(argv[1], "statfs"))
		rc = do_statfs(argc, argv);
	else if (!strcmp(argv[1], "threads"))
		rc = do_threads(argc, argv);
	else if (!strcmp(argv[1], "romap"))
		rc = do_romap(argc, argv);
	else if (!strcmp(argv[1], "poke"))
		rc = do_poke(argc, argv);
	else if (!strcmp(argv[1], "touch"))
		rc = do_touch(argc, argv);
	else if (!strcmp(argv[1], "chunkmap"))
		rc = do_chunkmap(argc, argv);
	else if (!strcmp(argv[1], "cfr"))
		rc = do_copy(argc, argv, true);
	else if (!strcmp(argv[1], "sendfile"))
		rc = do_copy(argc, argv, false);
	else if (!strcmp(argv[1], "as"))
		rc = do_as(argc, argv);
	if (rc != 2)
		return rc;
usage:
	fprintf(stderr, "usage: see the comment at the top of pkt-fsops.c\n");
	return 2;
}
