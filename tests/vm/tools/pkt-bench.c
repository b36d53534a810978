// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-bench: the measurements behind make bench, run in the guest. Each
 * prints one line of figures on stdout; tests/vm/bench/bench.sh repeats
 * them, takes medians and names the peers. No judgement here.
 *
 *   pkt-bench fault THREADS LEN PATH[@OFF]...
 *	Map LEN of each PATH shared and write one byte per 4 KiB page.
 *	With one PATH the THREADS split it; with several, thread i takes
 *	PATH i. Prints seconds and MiB/s.
 *   pkt-bench rw read|write PATH LEN IOSIZE
 *	Sequential pread/pwrite of LEN in IOSIZE calls. Prints MiB/s.
 *   pkt-bench memcpy read|write PATH LEN IOSIZE
 *	The same bytes moved with memcpy to or from a prefaulted shared
 *	mapping of PATH: the bandwidth limit. Prints MiB/s.
 *   pkt-bench meta DIR N flat|tree
 *	Create, stat, rename and unlink N files, in DIR or in DIR/d<k>
 *	(100 files a directory). Prints ops/s of each phase.
 *   pkt-bench stall DIR FILE LEN
 *	Time create+unlink pairs in DIR while another thread fallocates LEN
 *	of FILE. Prints the fallocate's seconds, the pairs done, their
 *	median and worst latency, and the time a fallocate of one block
 *	(statfs f_bsize: pkernfs's AU) takes alone, in microseconds. With
 *	two CPUs or more the two threads run on CPUs of their own, so a
 *	create waits only for what the filesystem makes it wait for.
 *   pkt-bench mkfiles DIR N
 *	Create N empty files in DIR/m<k> (1,000 a directory).
 *   pkt-bench fsync PATH LEN RANGE
 *	Dirty every page of LEN of PATH through a shared mapping, then time
 *	msync() of its first RANGE bytes, and of all of LEN (after dirtying
 *	it again). Prints both in seconds.
 *   pkt-bench mount SRC DIR TYPE [OPTIONS]
 *	Time one mount(2). Prints seconds.
 *   pkt-bench tsc-save PATH
 *	Write the TSC and the wall clock into the first 16 bytes of PATH's
 *	first 2 MiB (a shared mapping) and flush them.
 *   pkt-bench tsc-since PATH
 *	Seconds since tsc-save, on the TSC (its rate measured here against
 *	CLOCK_MONOTONIC), and on the wall clock as a cross-check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "size.h"

#define MAX_THREADS 8
#define PG 4096ULL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "pkt-bench: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	exit(1);
}

static uint64_t size_arg(const char *s)
{
	uint64_t v;

	if (parse_size(s, &v)) {
		fprintf(stderr, "pkt-bench: bad size '%s'\n", s);
		exit(2);
	}
	return v;
}

/* PATH[@OFF], mapped shared for LEN bytes. */
static char *map_path(const char *spec, uint64_t len, int prot)
{
	char path[256];
	const char *at = strchr(spec, '@');
	uint64_t off = 0;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%.*s", at ? (int)(at - spec) : (int)strlen(spec), spec);
	if (at)
		off = size_arg(at + 1);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die("open", path);
	p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		die("mmap", path);
	close(fd);
	return p;
}

struct toucher {
	pthread_t tid;
	volatile char *p;
	uint64_t len;
	pthread_barrier_t *go;
};

static void *touch_thread(void *arg)
{
	struct toucher *t = arg;
	uint64_t o;

	pthread_barrier_wait(t->go);
	for (o = 0; o < t->len; o += PG)
		t->p[o] = 1;
	return NULL;
}

static int cmd_fault(int argc, char **argv)
{
	struct toucher t[MAX_THREADS];
	pthread_barrier_t go;
	int nthr, npath, i;
	uint64_t len, share;
	char *maps[MAX_THREADS];
	double t0, dt;

	if (argc < 5)
		return 2;
	nthr = atoi(argv[2]);
	len = size_arg(argv[3]);
	npath = argc - 4;
	if (nthr < 1 || nthr > MAX_THREADS || npath > MAX_THREADS ||
	    (npath > 1 && npath != nthr))
		return 2;
	for (i = 0; i < npath; i++)
		maps[i] = map_path(argv[4 + i], len, PROT_READ | PROT_WRITE);
	share = npath > 1 ? len : len / nthr / PG * PG;
	pthread_barrier_init(&go, NULL, nthr + 1);
	for (i = 0; i < nthr; i++) {
		t[i].p = npath > 1 ? maps[i] : maps[0] + (uint64_t)i * share;
		t[i].len = share;
		t[i].go = &go;
		if (pthread_create(&t[i].tid, NULL, touch_thread, &t[i]))
			die("pthread_create", NULL);
	}
	t0 = now();
	pthread_barrier_wait(&go);
	for (i = 0; i < nthr; i++)
		pthread_join(t[i].tid, NULL);
	dt = now() - t0;
	printf("%.6f %.1f\n", dt, (double)share * nthr / dt / (1 << 20));
	for (i = 0; i < npath; i++)
		munmap(maps[i], len);
	return 0;
}

static char *io_buffer(uint64_t size)
{
	char *buf = aligned_alloc(PG, size);

	if (!buf)
		die("malloc", NULL);
	memset(buf, 0x5a, size);
	return buf;
}

/*
 * Sequential bandwidth: pread/pwrite of IOSIZE, or (@copy) memcpy to or
 * from a prefaulted shared mapping, the limit the syscalls are held to.
 */
static int cmd_rw(int argc, char **argv, bool copy)
{
	uint64_t len, io, o;
	char *buf, *map = NULL;
	double t0, dt;
	int fd = -1;
	bool rd;

	if (argc != 6)
		return 2;
	rd = !strcmp(argv[2], "read");
	len = size_arg(argv[4]);
	io = size_arg(argv[5]);
	buf = io_buffer(io);
	if (copy) {
		map = map_path(argv[3], len, PROT_READ | PROT_WRITE);
		for (o = 0; o < len; o += PG)	/* faults are not what this measures */
			((volatile char *)map)[o] = 0;
	} else {
		fd = open(argv[3], rd ? O_RDONLY : O_WRONLY);
		if (fd < 0)
			die("open", argv[3]);
	}
	t0 = now();
	for (o = 0; o < len; o += io) {
		if (copy && rd)
			memcpy(buf, map + o, io);
		else if (copy)
			memcpy(map + o, buf, io);
		else if ((rd ? pread(fd, buf, io, o) : pwrite(fd, buf, io, o)) != (ssize_t)io)
			die(rd ? "pread" : "pwrite", argv[3]);
	}
	dt = now() - t0;
	if (fd >= 0)
		close(fd);
	printf("%.1f\n", (double)len / dt / (1 << 20));
	return 0;
}

static void meta_name(char *out, size_t sz, const char *dir, bool tree, int i, char tag)
{
	if (tree)
		snprintf(out, sz, "%s/d%d/%c%d", dir, i / 100, tag, i);
	else
		snprintf(out, sz, "%s/%c%d", dir, tag, i);
}

static int cmd_meta(int argc, char **argv)
{
	char a[512], b[512];
	struct stat st;
	double t[5];
	bool tree;
	int n, i, fd;

	if (argc != 5)
		return 2;
	n = atoi(argv[3]);
	tree = !strcmp(argv[4], "tree");
	if (tree) {
		for (i = 0; i < n; i += 100) {
			snprintf(a, sizeof(a), "%s/d%d", argv[2], i / 100);
			if (mkdir(a, 0755))
				die("mkdir", a);
		}
	}
	t[0] = now();
	for (i = 0; i < n; i++) {
		meta_name(a, sizeof(a), argv[2], tree, i, 'f');
		fd = open(a, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0)
			die("create", a);
		close(fd);
	}
	t[1] = now();
	for (i = 0; i < n; i++) {
		meta_name(a, sizeof(a), argv[2], tree, i, 'f');
		if (stat(a, &st))
			die("stat", a);
	}
	t[2] = now();
	for (i = 0; i < n; i++) {
		meta_name(a, sizeof(a), argv[2], tree, i, 'f');
		meta_name(b, sizeof(b), argv[2], tree, i, 'r');
		if (rename(a, b))
			die("rename", a);
	}
	t[3] = now();
	for (i = 0; i < n; i++) {
		meta_name(b, sizeof(b), argv[2], tree, i, 'r');
		if (unlink(b))
			die("unlink", b);
	}
	t[4] = now();
	printf("%.0f %.0f %.0f %.0f\n", n / (t[1] - t[0]), n / (t[2] - t[1]),
	       n / (t[3] - t[2]), n / (t[4] - t[3]));
	for (i = 0; tree && i < n; i += 100) {
		snprintf(a, sizeof(a), "%s/d%d", argv[2], i / 100);
		rmdir(a);
	}
	return 0;
}

struct stall {
	const char *file;
	uint64_t len;
	volatile int done;
	double secs;
	int err;
};

/* Run the calling thread on @cpu only, if there is such a CPU. */
static void pin_to(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) <= cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *falloc_thread(void *arg)
{
	struct stall *s = arg;
	double t0;
	int fd;

	pin_to(1);
	t0 = now();
	fd = open(s->file, O_CREAT | O_RDWR, 0644);
	if (fd < 0 || fallocate(fd, 0, 0, s->len))
		s->err = errno;
	s->secs = now() - t0;
	if (fd >= 0)
		close(fd);
	s->done = 1;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_stall(int argc, char **argv)
{
	struct stall s = { 0 };
	size_t n = 0, cap = 1 << 16;
	double *lat, t0, au_us;
	struct statfs sfs;
	pthread_t tid;
	char name[512];
	int fd;

	if (argc != 5)
		return 2;
	s.file = argv[3];
	s.len = size_arg(argv[4]);
	lat = malloc(cap * sizeof(*lat));
	if (!lat)
		die("malloc", NULL);
	pin_to(0);
	/* One AU alone: what a create may wait for at most. */
	snprintf(name, sizeof(name), "%s/stall-au", argv[2]);
	fd = open(name, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0 || fstatfs(fd, &sfs))
		die("create", name);
	t0 = now();
	if (fallocate(fd, 0, 0, sfs.f_bsize))
		die("fallocate", name);
	au_us = (now() - t0) * 1e6;
	close(fd);
	unlink(name);

	snprintf(name, sizeof(name), "%s/stall-probe", argv[2]);
	if (pthread_create(&tid, NULL, falloc_thread, &s))
		die("pthread_create", NULL);
	while (!s.done && n < cap) {
		t0 = now();
		fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0)
			die("create", name);
		close(fd);
		if (unlink(name))
			die("unlink", name);
		lat[n++] = (now() - t0) * 1e6;
	}
	pthread_join(tid, NULL);
	if (s.err) {
		errno = s.err;
		die("fallocate", s.file);
	}
	if (!n) {
		fprintf(stderr, "pkt-bench: no create finished during the fallocate\n");
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("%.6f %zu %.0f %.0f %.0f\n", s.secs, n, lat[n / 2], lat[n - 1], au_us);
	return 0;
}

static int cmd_mkfiles(int argc, char **argv)
{
	char name[512];
	int n, i, fd;

	if (argc != 4)
		return 2;
	n = atoi(argv[3]);
	for (i = 0; i < n; i++) {
		if (i % 1000 == 0) {
			snprintf(name, sizeof(name), "%s/m%d", argv[2], i / 1000);
			if (mkdir(name, 0755) && errno != EEXIST)
				die("mkdir", name);
		}
		snprintf(name, sizeof(name), "%s/m%d/%d", argv[2], i / 1000, i);
		fd = open(name, O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			die("create", name);
		close(fd);
	}
	return 0;
}

static void dirty(volatile char *p, uint64_t len)
{
	uint64_t o;

	for (o = 0; o < len; o += PG)
		p[o]++;
}

static int cmd_fsync(int argc, char **argv)
{
	uint64_t len, range;
	double t0, t1, t2;
	char *map;

	if (argc != 5)
		return 2;
	len = size_arg(argv[3]);
	range = size_arg(argv[4]);
	map = map_path(argv[2], len, PROT_READ | PROT_WRITE);
	dirty(map, len);
	t0 = now();
	if (msync(map, range, MS_SYNC))
		die("msync", argv[2]);
	t1 = now();
	dirty(map, len);
	t2 = now();
	if (msync(map, len, MS_SYNC))
		die("msync", argv[2]);
	printf("%.6f %.6f\n", t1 - t0, now() - t2);
	return 0;
}

static int cmd_mount(int argc, char **argv)
{
	double t0;

	if (argc != 5 && argc != 6)
		return 2;
	t0 = now();
	if (mount(argv[2], argv[3], argv[4], 0, argc == 6 ? argv[5] : NULL))
		die("mount", argv[2]);
	printf("%.6f\n", now() - t0);
	return 0;
}

struct tsc_note {
	uint64_t tsc;
	uint64_t wall_ns;
};

static int cmd_tsc(int argc, char **argv, bool save)
{
	struct tsc_note *note;
	struct timespec ts;
	uint64_t tsc, c0, c1;
	double t0, hz;

	if (argc != 3)
		return 2;
	note = (struct tsc_note *)map_path(argv[2], 2 << 20, PROT_READ | PROT_WRITE);
	tsc = __rdtsc();
	clock_gettime(CLOCK_REALTIME, &ts);
	if (save) {
		note->tsc = tsc;
		note->wall_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		msync(note, PG, MS_SYNC);
		return 0;
	}
	/* This kernel's TSC rate, over 200 ms of CLOCK_MONOTONIC. */
	t0 = now();
	c0 = __rdtsc();
	usleep(200000);
	c1 = __rdtsc();
	hz = (c1 - c0) / (now() - t0);
	printf("%.3f %.3f\n", (tsc - note->tsc) / hz,
	       (ts.tv_sec * 1000000000ULL + ts.tv_nsec - note->wall_ns) / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "fault"))
		rc = cmd_fault(argc, argv);
	else if (!strcmp(argv[1], "rw"))
		rc = cmd_rw(argc, argv, false);
	else if (!strcmp(argv[1], "memcpy"))
		rc = cmd_rw(argc, argv, true);
	else if (!strcmp(argv[1], "meta"))
		rc = cmd_meta(argc, argv);
	else if (!strcmp(argv[1], "stall"))
		rc = cmd_stall(argc, argv);
	else if (!strcmp(argv[1], "mkfiles"))
		rc = cmd_mkfiles(argc, argv);
	else if (!strcmp(argv[1], "fsync"))
		rc = cmd_fsync(argc, argv);
	else if (!strcmp(argv[1], "mount"))
		rc = cmd_mount(argc, argv);
	else if (!strcmp(argv[1], "tsc-save"))
		rc = cmd_tsc(argc, argv, true);
	else if (!strcmp(argv[1], "tsc-since"))
		rc = cmd_tsc(argc, argv, false);
	if (rc != 2)
		return rc;
usage:
	fprintf(stderr, "usage: see the comment at the top of tests/vm/tools/pkt-bench.c\n");
	return 2;
}
