/* SPDX-License-Identifier: GPL-2.0-only */
/* What pkernfsctl's subcommands, spread over a few files, share. */
#ifndef PKERNFSCTL_H
#define PKERNFSCTL_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct ndctl_ctx;

#define DAX_BUS "/sys/bus/dax"

extern int verbose;

int err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_json(struct json_object *j, int compact);
int read_sysfs_u64(const char *path, uint64_t *v);
int write_sysfs(const char *path, const char *val);

/* A dax device or image file, mapped. */
struct target {
	const char *name;
	uint64_t size;
	uint8_t *map;
	int fd;
	int snapshot;	/* read through the driver's metadata attribute */
};

#define TARGET_RW	0x1	/* map writable; the device must be on device_dax */
#define TARGET_QUIET	0x2	/* no messages: the caller decides what to say */
int open_target(struct target *t, const char *dev, const char *image, int flags);
void close_target(struct target *t);

const char *dev_driver(const char *dev, char *buf, size_t len);
int dev_mounted(const char *dev, char *where, size_t len);

/* Where a dax device comes from, as libndctl sees it. */
struct nd_info {
	char region[32];
	char ns[32];
	char provider[32];
	char bus[32];
	uint64_t start, size;	/* the region's physical range */
	int found;
};
void nd_lookup(struct ndctl_ctx *ctx, int dax_region_id, struct nd_info *nd);

int cmd_kexec_check(int argc, char **argv);

#endif
