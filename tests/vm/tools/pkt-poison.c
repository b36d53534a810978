// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-poison: inject memory errors into a file's pages and report the
 * signals that come back, for the pkernfs-poison case.
 *
 *   pkt-poison inject PATH OFFSET     map the file, touch the page at
 *                                      OFFSET, madvise(MADV_HWPOISON) it
 *   pkt-poison touch  PATH OFFSET     map the file, read the byte at OFFSET
 *   pkt-poison wait   PATH OFFSET SECS [early]
 *                                      map and touch OFFSET, print "ready",
 *                                      sleep SECS, touch OFFSET again;
 *                                      "early" asks for early kill
 *                                      (PR_MCE_KILL_EARLY): SIGBUS AO then
 *   pkt-poison read   PATH OFFSET LEN pread; print the count or the errno
 *
 * Each prints one line: "sigbus CODE lsb N at OFFSET" (CODE is AR or AO,
 * OFFSET the faulting file offset), "ok", "no signal", or "read N" /
 * "error ENAME".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "size.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

static sigjmp_buf env;
static volatile sig_atomic_t got_code, got_lsb;
static void *volatile got_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_addr = si->si_addr;
	got_lsb = si->si_addr_lsb;
	siglongjmp(env, 1);
}

static char *map_file(const char *path, size_t *len)
{
	struct stat st;
	char *map;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "pkt-poison: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	*len = st.st_size;
	map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "pkt-poison: mmap %s: %s\n", path, strerror(errno));
		exit(2);
	}
	close(fd);
	return map;
}

static void report(char *map)
{
	printf("sigbus %s lsb %d at %#lx\n",
	       got_code == BUS_MCEERR_AR ? "AR" : got_code == BUS_MCEERR_AO ? "AO" : "other",
	       (int)got_lsb, (unsigned long)((char *)got_addr - map));
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	uint64_t off, len;
	volatile char c;
	size_t size;
	char *map;
	int fd;

	if (argc < 4 || parse_size(argv[3], &off)) {
		fprintf(stderr, "usage: pkt-poison inject|touch|wait|read PATH OFFSET ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "read")) {
		char buf[65536];
		ssize_t n;

		if (argc != 5 || parse_size(argv[4], &len) || len > sizeof(buf))
			return 2;
		fd = open(argv[2], O_RDONLY);
		n = fd < 0 ? -1 : pread(fd, buf, len, off);
		if (n < 0)
			printf("error %s\n", strerrorname_np(errno));
		else
			printf("read %zd\n", n);
		return 0;
	}
	sigaction(SIGBUS, &sa, NULL);
	map = map_file(argv[2], &size);
	if (off >= size) {
		fprintf(stderr, "pkt-poison: offset past the end of the file\n");
		return 2;
	}
	if (sigsetjmp(env, 1)) {
		report(map);
		return 0;
	}
	if (!strcmp(argv[1], "inject")) {
		c = map[off];
		if (madvise(map + (off & ~4095ULL), 4096, MADV_HWPOISON)) {
			printf("madvise %s\n", strerrorname_np(errno));
			return 1;
		}
		c = map[off];
		printf("no signal\n");
	} else if (!strcmp(argv[1], "touch")) {
		c = map[off];
		printf("ok\n");
	} else if (!strcmp(argv[1], "wait") && argc >= 5) {
		if (argc == 6 && !strcmp(argv[5], "early") &&
		    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0)) {
			perror("pkt-poison: PR_MCE_KILL");
			return 2;
		}
		c = map[off];
		printf("ready\n");
		fflush(stdout);
		sleep(atoi(argv[4]));
		/* A late-kill mapper learns of the error here, when it touches. */
		c = map[off];
		printf("ok\n");
	} else {
		return 2;
	}
	(void)c;
	return 0;
}
