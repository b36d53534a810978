// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-edu: the userspace half of the edu DMA tests (tests/kmod/pkt_edu.c).
 *
 *   pkt-edu map DEV FILE LEN IOVA PGSIZE   mmap FILE and have the driver pin
 *                                          and map its first LEN bytes
 *   pkt-edu pattern FILE OFF SEED          write a 4 KiB seeded pattern
 *   pkt-edu verify FILE OFF SEED           exit 0 if its first 2 KiB are there
 *   pkt-edu show FILE OFF                  print the first 16 bytes
 *   pkt-edu kexec                          reboot(LINUX_REBOOT_CMD_KEXEC) now
 *
 * DEV is a PCI name such as 0000:00:02.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <unistd.h>
#include <linux/reboot.h>

#include "pkt-pattern.h"

#define PAGE PKT_PAGE
#define XFER PKT_XFER

static void die(const char *what)
{
	fprintf(stderr, "pkt-edu: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int ctl(const char *dev, const char *cmd)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/pkt_edu/%s", dev);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die(path);
	if (write(fd, cmd, strlen(cmd)) < 0) {
		fprintf(stderr, "pkt-edu: '%s': %s\n", cmd, strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t want[PAGE], got[PAGE];
	char cmd[256];
	int fd;

	if (argc == 2 && !strcmp(argv[1], "kexec")) {
		sync();
		reboot(LINUX_REBOOT_CMD_KEXEC);
		die("reboot(KEXEC)");
	}
	if (argc == 7 && !strcmp(argv[1], "map")) {
		unsigned long len = strtoul(argv[4], NULL, 0);
		void *p;

		fd = open(argv[3], O_RDWR);
		if (fd < 0)
			die(argv[3]);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		snprintf(cmd, sizeof(cmd), "map %s %#lx %#lx %s", argv[5], (unsigned long)p,
			 len, argv[6]);
		return ctl(argv[2], cmd);
	}
	if (argc >= 4) {
		off_t off = strtoull(argv[3], NULL, 0);

		fd = open(argv[2], O_RDWR);
		if (fd < 0)
			die(argv[2]);
		if (argc == 5 && !strcmp(argv[1], "pattern")) {
			pkt_pattern(want, strtoul(argv[4], NULL, 0));
			if (pwrite(fd, want, PAGE, off) != PAGE || fsync(fd))
				die("pwrite");
			return 0;
		}
		if (pread(fd, got, PAGE, off) != PAGE)
			die("pread");
		if (argc == 5 && !strcmp(argv[1], "verify")) {
			pkt_pattern(want, strtoul(argv[4], NULL, 0));
			if (!memcmp(want, got, XFER))
				return 0;
			fprintf(stderr, "pkt-edu: %s at %#llx: pattern %s missing (first bytes %02x %02x %02x %02x, want %02x %02x %02x %02x)\n",
				argv[2], (unsigned long long)off, argv[4], got[0], got[1], got[2],
				got[3], want[0], want[1], want[2], want[3]);
			return 1;
		}
		if (argc == 4 && !strcmp(argv[1], "show")) {
			int i;

			for (i = 0; i < 16; i++)
				printf("%02x%s", got[i], i == 15 ? "\n" : " ");
			return 0;
		}
	}
	fprintf(stderr, "usage: see the comment at the top of tests/vm/tools/pkt-edu.c\n");
	return 2;
}
