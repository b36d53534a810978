// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-race: threads that read a pkernfs file while others change its
 * extent map, for the VM tests. A reader must only ever see what the file
 * holds (its pattern) or zeros (a hole, or a range cut away and written
 * back); never another file's bytes, nor the pattern of another offset.
 * A kernel that reads an extent freed under it shows up here as a wrong
 * byte, or on a KASAN kernel as a report in the console.
 *
 *   pkt-race append-read FILE ITER [SEED]
 *        one thread appends ITER 4 KiB blocks with pwrite() (with 4 KiB AUs
 *        each append allocates and merges into the previous extent, freeing
 *        it); another pread()s the newest blocks and small pieces anywhere
 *        below EOF, fsync()s and seeks to the hole at EOF.
 *   pkt-race fault-holes FILE NTHREADS ITER [SEED]
 *        ITER pages per thread, in rounds of up to 2048: a sparse file of
 *        NTHREADS * 2048 pages; thread t write-faults pages t, t + NTHREADS,
 *        ... through one shared mapping, so neighbours are allocated (and
 *        merged) by different threads at once; then every byte is checked
 *        through the mapping and read(), and the file is cut to nothing.
 *   pkt-race read-truncate FILE ITER [SEED]
 *   pkt-race read-punch FILE ITER [SEED]
 *        ITER times: cut FILE (1 MiB) down with ftruncate(), or punch a hole
 *        in it, and write the pattern back (at once, or backwards a block
 *        at a time so freed AUs return at other offsets); meanwhile one
 *        thread read()s and mmap-reads it and another rewrites FILE.other
 *        with 0xee a block at a time. An AU freed under the reader and
 *        reused shows up as 0xee or as the pattern of another offset.
 *
 * SEED defaults to one taken from the clock; it is printed either way.
 * Loops are bounded by iteration counts, never by time.
 * Exit status: 0 nothing wrong seen, 1 a wrong byte (or a call failed
 * unexpectedly), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>

#define BLK		4096u
#define FOREIGN		0xeeu		/* every byte of the other file */
#define CUT_SIZE	(1u << 20)	/* the file cut and rewritten */
#define OTHER_SIZE	(1u << 20)

static uint64_t seed;
static atomic_int stop;		/* a thread saw something wrong, or all is done */
static atomic_int bad;

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The file's byte at @off: 0x01..0x7f, so never a hole's zero nor the other
 * file's FOREIGN, and different at different offsets.
 */
static void fill_pat(uint8_t *buf, uint64_t off, size_t len)
{
	uint64_t word = 0, w = UINT64_MAX;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (o >> 3 != w) {
			w = o >> 3;
			word = mix(seed ^ w);
		}
		buf[i] = ((word >> ((o & 7) * 8)) & 0x7f) | 1;
	}
}

/* Index of the first byte of @got that is neither 0 nor @want's, or -1. */
static long check(const uint8_t *got, const uint8_t *want, size_t len)
{
	static const uint8_t zero[BLK];
	size_t off, i, n;

	/* Whole blocks of pattern or of zeros are the common case: memcmp. */
	for (off = 0; off < len; off += n) {
		n = len - off < BLK ? len - off : BLK;
		if (!memcmp(got + off, want + off, n) || !memcmp(got + off, zero, n))
			continue;
		for (i = off; i < off + n; i++)
			if (got[i] && got[i] != want[i])
				return i;
	}
	return -1;
}

static void report(const char *who, uint64_t off, uint8_t got, uint8_t want,
		   unsigned long pass)
{
	/* One report is enough: later ones are echoes of the same damage. */
	if (atomic_exchange(&bad, 1))
		return;
	atomic_store(&stop, 1);
	fprintf(stderr, "%s: WRONG byte 0x%02x at offset %" PRIu64 " (want 0x%02x or 0)%s, pass %lu, seed %" PRIu64 "\n",
		who, got, off, want, got == FOREIGN ? ": the other file's byte" : "",
		pass, seed);
	printf("WRONG %s offset %" PRIu64 " got 0x%02x want 0x%02x\n", who, off, got, want);
}

/*
 * A thread that an oops killed in the kernel just vanishes: its join
 * returns, but it never got to say it finished.
 */
static void check_finished(const char *who, atomic_int *finished)
{
	if (atomic_load(finished))
		return;
	fprintf(stderr, "%s thread died without finishing (killed in the kernel? see the console), seed %" PRIu64 "\n",
		who, seed);
	printf("DIED %s\n", who);
	atomic_store(&bad, 1);
	atomic_store(&stop, 1);
}

static int fail(const char *what)
{
	fprintf(stderr, "pkt-race: %s: %s (seed %" PRIu64 ")\n", what, strerror(errno), seed);
	atomic_store(&bad, 1);
	atomic_store(&stop, 1);
	return 1;
}

static uint64_t rnd(uint64_t *s)
{
	*s = mix(*s);
	return *s;
}

/* pwrite() all of it; a short write here is a failure, not a race. */
static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n <= 0)
			return -1;
		buf = (const char *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

/* --- SIGBUS on mmap reads past EOF is legitimate after a truncate --- */

static __thread sigjmp_buf bus_jmp;
static __thread volatile int bus_armed;

static void on_sigbus(int sig)
{
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(bus_jmp, 1);
}

static void catch_sigbus(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* --- append-read --- */

struct append {
	int fd;
	unsigned long iter;
	atomic_ulong len;	/* bytes appended and returned by pwrite() */
	unsigned long reads, small, seeks, syncs, zeros;
	atomic_int writer_done, reader_done;
};

static void *append_writer(void *arg)
{
	struct append *a = arg;
	uint8_t buf[BLK];
	unsigned long i;

	for (i = 0; i < a->iter && !atomic_load(&stop); i++) {
		fill_pat(buf, (uint64_t)i * BLK, BLK);
		if (pwrite_all(a->fd, buf, BLK, (off_t)i * BLK)) {
			fail("append pwrite");
			break;
		}
		atomic_store(&a->len, (i + 1) * BLK);
	}
	atomic_store(&stop, 1);
	atomic_store(&a->writer_done, 1);
	return NULL;
}

static void *append_reader(void *arg)
{
	static uint8_t got[2 * BLK], want[2 * BLK];
	struct append *a = arg;
	uint64_t rs = seed;
	unsigned long pass;
	int j;

	/* At most 4 reads per append: bounded even if the writer stalls. */
	for (pass = 0; pass < 4 * a->iter && !atomic_load(&stop); pass++) {
		uint64_t len = atomic_load(&a->len), off;
		ssize_t n;
		long i;

		if (!len) {
			sched_yield();
			continue;
		}
		/* The newest block, and the next if it was appended meanwhile. */
		off = len - BLK;
		n = pread(a->fd, got, sizeof(got), off);
		if (n < 0) {
			/* EFAULT on a valid buffer: the kernel copied from a bad address. */
			fprintf(stderr, "append-read: pread at %" PRIu64 " below EOF %" PRIu64 "\n",
				off, len);
			fail("pread");
			break;
		}
		if ((uint64_t)n < BLK) {
			fprintf(stderr, "append-read: short read %zd at %" PRIu64 " below EOF %" PRIu64 "\n",
				n, off, len);
			atomic_store(&bad, 1);
			atomic_store(&stop, 1);
			break;
		}
		fill_pat(want, off, n);
		/*
		 * The first block's pwrite() returned before this read began:
		 * exactly the pattern. A block appended meanwhile may still
		 * read as zeros.
		 */
		i = memcmp(got, want, BLK) ? 0 : -1;
		while (i >= 0 && got[i] == want[i])
			i++;
		if (i < 0 && n > BLK) {
			i = check(got + BLK, want + BLK, n - BLK);
			if (i >= 0)
				i += BLK;
			else if (!got[BLK])
				a->zeros++;
		}
		if (i >= 0) {
			report("append-read: pread", off + i, got[i], want[i], pass);
			break;
		}
		a->reads++;
		/*
		 * Small reads anywhere below EOF: with every append merged,
		 * one extent maps the whole file, and each read looks it up
		 * again; the more lookups, the likelier one meets a merge.
		 */
		for (j = 0; j < 16; j++) {
			uint64_t o = rnd(&rs) % len;
			size_t m = len - o < 64 ? len - o : 64;

			if (pread(a->fd, got, m, o) != (ssize_t)m) {
				fprintf(stderr, "append-read: small pread at %" PRIu64 " below EOF %" PRIu64 "\n",
					o, len);
				fail("pread");
				break;
			}
			fill_pat(want, o, m);
			if (memcmp(got, want, m)) {
				for (i = 0; got[i] == want[i]; i++)
					;
				report("append-read: small pread", o + i, got[i], want[i], pass);
				break;
			}
			a->small++;
		}
		if (j < 16)
			break;
		/* fsync and SEEK_HOLE walk the extent map too. */
		if (!(pass % 16)) {
			if (fsync(a->fd)) {
				fail("fsync");
				break;
			}
			a->syncs++;
		}
		if (!(pass % 16) && pass) {
			off_t h = lseek(a->fd, 0, SEEK_HOLE);

			if (h < 0 || (uint64_t)h < len) {
				fprintf(stderr, "append-read: SEEK_HOLE %lld below EOF %" PRIu64 "\n",
					(long long)h, len);
				atomic_store(&bad, 1);
				atomic_store(&stop, 1);
				break;
			}
			a->seeks++;
		}
	}
	atomic_store(&a->reader_done, 1);
	return NULL;
}

static int do_append_read(const char *file, unsigned long iter)
{
	struct append a = { .iter = iter };
	pthread_t w, r;

	a.fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (a.fd < 0)
		return fail("open");
	pthread_create(&r, NULL, append_reader, &a);
	pthread_create(&w, NULL, append_writer, &a);
	pthread_join(w, NULL);
	/* A dead writer never sets stop: do it for it. */
	atomic_store(&stop, 1);
	pthread_join(r, NULL);
	check_finished("append-read: writer", &a.writer_done);
	check_finished("append-read: reader", &a.reader_done);
	printf("append-read: seed %" PRIu64 " appends %lu reads %lu (%lu saw a block being appended as zeros) small reads %lu fsyncs %lu seeks %lu\n",
	       seed, (unsigned long)(atomic_load(&a.len) / BLK), a.reads, a.zeros, a.small,
	       a.syncs, a.seeks);
	/* And the whole file, once nobody changes it. */
	if (!atomic_load(&bad)) {
		static uint8_t got[64 * BLK], want[64 * BLK];
		uint64_t off, len = atomic_load(&a.len);

		for (off = 0; off < len; off += sizeof(got)) {
			size_t n = len - off < sizeof(got) ? len - off : sizeof(got);
			long i;

			if (pread(a.fd, got, n, off) != (ssize_t)n)
				return fail("final pread");
			fill_pat(want, off, n);
			if (memcmp(got, want, n)) {
				for (i = 0; got[i] == want[i]; i++)
					;
				report("append-read: final read", off + i, got[i], want[i], 0);
				break;
			}
		}
	}
	close(a.fd);
	return atomic_load(&bad);
}

/* --- fault-holes --- */

struct holes {
	pthread_t t;
	uint8_t *map;
	unsigned long nthreads, iter, id;
	atomic_ulong *steps;	/* every thread's progress */
	atomic_int finished;
};

#define HOLES_DONE	(ULONG_MAX / 2)

/*
 * Keep the threads within 32 pages of each other, so neighbours fault
 * together. Not a pthread barrier: a thread killed in the kernel must not
 * hang the others, so the wait is bounded.
 */
static void holes_step(struct holes *h, unsigned long s)
{
	unsigned long t, spins;

	atomic_store(&h->steps[h->id], s);
	for (spins = 0; spins < 20000; spins++) {
		for (t = 0; t < h->nthreads; t++)
			if (atomic_load(&h->steps[t]) + 32 < s)
				break;
		if (t == h->nthreads)
			return;
		sched_yield();
	}
}

static void *holes_worker(void *arg)
{
	struct holes *h = arg;
	unsigned long s;

	for (s = 0; s < h->iter; s++) {
		uint64_t pg = s * h->nthreads + h->id;

		/* The first store write-faults the hole. */
		fill_pat(h->map + pg * BLK, pg * BLK, BLK);
		if (!(s % 8))
			holes_step(h, s);
	}
	atomic_store(&h->steps[h->id], HOLES_DONE);
	atomic_store(&h->finished, 1);
	return NULL;
}

/* Pages per thread in one round: the file is cut to nothing between rounds. */
#define HOLES_ROUND	2048ul

/* One round: fault @iter pages per thread into an empty file, check them all. */
static int fault_holes_round(int fd, unsigned long nthreads, unsigned long iter,
			     unsigned long round)
{
	uint64_t size = (uint64_t)nthreads * iter * BLK, off;
	static uint8_t got[64 * BLK], want[64 * BLK];
	atomic_ulong *steps;
	struct holes *h;
	unsigned long t;
	uint8_t *map;

	if (ftruncate(fd, 0) || ftruncate(fd, size))
		return fail("ftruncate");
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap");
	h = calloc(nthreads, sizeof(*h));
	steps = calloc(nthreads, sizeof(*steps));
	if (!h || !steps)
		return fail("calloc");
	for (t = 0; t < nthreads; t++) {
		h[t] = (struct holes){ .map = map, .nthreads = nthreads, .iter = iter,
				       .id = t, .steps = steps };
		pthread_create(&h[t].t, NULL, holes_worker, &h[t]);
	}
	for (t = 0; t < nthreads; t++) {
		pthread_join(h[t].t, NULL);
		check_finished("fault-holes: faulting", &h[t].finished);
	}
	free(h);
	free(steps);
	if (atomic_load(&bad))
		return 1;
	if (msync(map, size, MS_SYNC))
		return fail("msync");
	/* Every page exactly as written: through the mapping, then read(). */
	for (off = 0; off < size; off += sizeof(want)) {
		size_t n = size - off < sizeof(want) ? size - off : sizeof(want);
		size_t i;

		fill_pat(want, off, n);
		if (memcmp(map + off, want, n)) {
			for (i = 0; map[off + i] == want[i]; i++)
				;
			report("fault-holes: mapping", off + i, map[off + i], want[i], round);
			break;
		}
		if (pread(fd, got, n, off) != (ssize_t)n)
			return fail("pread");
		if (memcmp(got, want, n)) {
			for (i = 0; got[i] == want[i]; i++)
				;
			report("fault-holes: read()", off + i, got[i], want[i], round);
			break;
		}
	}
	munmap(map, size);
	return atomic_load(&bad);
}

static int do_fault_holes(const char *file, unsigned long nthreads, unsigned long iter)
{
	unsigned long done = 0, round = 0, n;
	int fd;

	if (!nthreads || !iter)
		return 2;
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("open");
	while (done < iter) {
		n = iter - done < HOLES_ROUND ? iter - done : HOLES_ROUND;
		if (fault_holes_round(fd, nthreads, n, round))
			break;
		done += n;
		round++;
	}
	printf("fault-holes: seed %" PRIu64 " threads %lu: %lu pages faulted and checked in %lu rounds\n",
	       seed, nthreads, nthreads * done, round);
	close(fd);
	return atomic_load(&bad);
}

/* --- read-truncate, read-punch --- */

struct cut {
	int fd;
	const char *other;
	const uint8_t *img;	/* the file's pattern, all CUT_SIZE of it */
	const uint8_t *map;	/* a read-only mapping of it */
	unsigned long iter;
	bool punch;
	unsigned long reads, maps, sigbus, short_reads, rounds, cuts;
	atomic_int reader_done, other_done;
};

/*
 * Copy the mapping page by page; return how much was copied before EOF
 * (SIGBUS). Its own frame, so siglongjmp clobbers nothing of the caller's.
 */
static __attribute__((noinline)) size_t map_read(struct cut *c, uint8_t *buf)
{
	volatile size_t len = 0;

	bus_armed = 1;
	if (sigsetjmp(bus_jmp, 1)) {
		c->sigbus++;
	} else {
		for (; len < CUT_SIZE; len += BLK)
			memcpy(buf + len, c->map + len, BLK);
	}
	bus_armed = 0;
	return len;
}

/* read() all of it, or mmap-read it; check what came back. */
static void *cut_reader(void *arg)
{
	static uint8_t buf[CUT_SIZE];
	struct cut *c = arg;
	unsigned long pass;

	catch_sigbus();
	/* Bounded even if the cutting thread stalls: 64 passes per cut. */
	for (pass = 0; pass < 64 * c->iter + 64 && !atomic_load(&stop); pass++) {
		size_t len;
		long i;

		/* Mostly read(): it takes no lock at all on the broken kernel. */
		if (pass % 4) {
			ssize_t n = pread(c->fd, buf, CUT_SIZE, 0);

			if (n < 0) {
				/* EFAULT on a valid buffer: the kernel copied from a bad address. */
				fail("pread");
				break;
			}
			len = n;
			c->reads++;
			if (len < CUT_SIZE)
				c->short_reads++;
		} else {
			/* Past EOF after a truncate: check what came before. */
			len = map_read(c, buf);
			c->maps++;
		}
		i = check(buf, c->img, len);
		if (i >= 0) {
			report(pass % 4 ? "reader: read()" : "reader: mmap", i, buf[i],
			       c->img[i], pass);
			break;
		}
	}
	atomic_store(&c->reader_done, 1);
	return NULL;
}

/* Keep allocating and filling another file, so freed AUs are reused at once. */
static void *cut_other(void *arg)
{
	static uint8_t buf[OTHER_SIZE];
	struct cut *c = arg;
	unsigned long r;

	memset(buf, FOREIGN, sizeof(buf));
	for (r = 0; r < 16 * c->iter + 16 && !atomic_load(&stop); r++) {
		int fd = open(c->other, O_RDWR | O_CREAT | O_TRUNC, 0644);

		if (fd < 0) {
			fail("open other");
			break;
		}
		/*
		 * A block at a time: each takes the lowest free AU, which is
		 * likely one just freed under the reader.
		 */
		for (size_t off = 0; off < OTHER_SIZE; off += BLK)
			if (pwrite_all(fd, buf + off, BLK, off)) {
				fail("pwrite other");
				break;
			}
		close(fd);
		/* Now and then an unlink: eviction frees too. */
		if (r % 4 == 3 && unlink(c->other)) {
			fail("unlink other");
			break;
		}
		c->rounds++;
	}
	atomic_store(&c->other_done, 1);
	return NULL;
}

static int cut_once(struct cut *c, uint64_t *rs)
{
	uint64_t off, len;

	if (c->punch) {
		/* Whole AUs and parts of AUs, anywhere in the file. */
		off = rnd(rs) % CUT_SIZE;
		len = 1 + rnd(rs) % (CUT_SIZE - off);
		if (rnd(rs) & 1) {
			off &= ~(uint64_t)(BLK - 1);
			len = (len + BLK - 1) & ~(uint64_t)(BLK - 1);
			if (off + len > CUT_SIZE)
				len = CUT_SIZE - off;
		}
		if (fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
			return fail("fallocate punch");
	} else {
		off = rnd(rs) % 4 ? rnd(rs) % CUT_SIZE : 0;
		len = CUT_SIZE - off;
		if (ftruncate(c->fd, off))
			return fail("ftruncate");
	}
	c->cuts++;
	if (rnd(rs) & 1) {
		if (pwrite_all(c->fd, c->img + off, len, off))
			return fail("rewrite");
		return 0;
	}
	/*
	 * Backwards a block at a time: each block's neighbour before it is a
	 * hole, so it takes the lowest free AU, and the AUs just freed come
	 * back at other offsets. A reader still copying from one sees the
	 * pattern of another offset.
	 */
	while (len) {
		uint64_t n = (off + len) % BLK ? (off + len) % BLK : BLK;

		if (n > len)
			n = len;
		if (pwrite_all(c->fd, c->img + off + len - n, n, off + len - n))
			return fail("rewrite");
		len -= n;
	}
	return 0;
}

static int do_cut(const char *file, unsigned long iter, bool punch)
{
	static uint8_t img[CUT_SIZE];
	struct cut c = { .iter = iter, .punch = punch, .img = img };
	char other[4096];
	pthread_t r, o;
	uint64_t rs = seed;
	unsigned long i;
	void *map;

	snprintf(other, sizeof(other), "%s.other", file);
	c.other = other;
	fill_pat(img, 0, CUT_SIZE);
	c.fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (c.fd < 0 || pwrite_all(c.fd, img, CUT_SIZE, 0))
		return fail("create");
	map = mmap(NULL, CUT_SIZE, PROT_READ, MAP_SHARED, c.fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap");
	c.map = map;
	pthread_create(&r, NULL, cut_reader, &c);
	pthread_create(&o, NULL, cut_other, &c);
	for (i = 0; i < iter && !atomic_load(&stop); i++)
		if (cut_once(&c, &rs))
			break;
	atomic_store(&stop, 1);
	pthread_join(r, NULL);
	pthread_join(o, NULL);
	check_finished("reader", &c.reader_done);
	check_finished("other-file writer", &c.other_done);
	printf("%s: seed %" PRIu64 " cuts %lu reads %lu (%lu short) mmap-reads %lu (%lu sigbus) other-file rounds %lu\n",
	       punch ? "read-punch" : "read-truncate", seed, c.cuts, c.reads, c.short_reads,
	       c.maps, c.sigbus, c.rounds);
	munmap(map, CUT_SIZE);
	close(c.fd);
	return atomic_load(&bad);
}

static int usage(void)
{
	fprintf(stderr, "usage: pkt-race append-read FILE ITER [SEED]\n"
			"       pkt-race fault-holes FILE NTHREADS ITER [SEED]\n"
			"       pkt-race read-truncate|read-punch FILE ITER [SEED]\n");
	return 2;
}

static void set_seed(int argc, char **argv, int at)
{
	struct timespec ts;

	if (argc > at) {
		seed = strtoull(argv[at], NULL, 0);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^ getpid();
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 4)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "append-read") && argc <= 5) {
		set_seed(argc, argv, 4);
		rc = do_append_read(argv[2], strtoul(argv[3], NULL, 0));
	} else if (!strcmp(argv[1], "fault-holes") && argc >= 5 && argc <= 6) {
		set_seed(argc, argv, 5);
		rc = do_fault_holes(argv[2], strtoul(argv[3], NULL, 0),
				    strtoul(argv[4], NULL, 0));
	} else if (!strcmp(argv[1], "read-truncate") && argc <= 5) {
		set_seed(argc, argv, 4);
		rc = do_cut(argv[2], strtoul(argv[3], NULL, 0), false);
	} else if (!strcmp(argv[1], "read-punch") && argc <= 5) {
		set_seed(argc, argv, 4);
		rc = do_cut(argv[2], strtoul(argv[3], NULL, 0), true);
	} else {
		return usage();
	}
	if (rc == 2)
		return usage();
	if (rc)
		printf("FAILED (seed %" PRIu64 ")\n", seed);
	return rc;
}
