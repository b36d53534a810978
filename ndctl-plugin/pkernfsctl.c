// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfsctl: manage pkernfs namespaces, in the style of ndctl and daxctl.
 *
 *   pkernfsctl create [--region R] [--size S] [--align 2M|1G] [--name N] [--mkfs] [--enable]
 *                                             a devdax namespace, through libndctl
 *   pkernfsctl list [-j]                      dax devices and their pkernfs state
 *   pkernfsctl enable DEV                     bind DEV to dax_pkernfs
 *   pkernfsctl disable DEV                    give DEV back to device_dax
 *   pkernfsctl mkfs [-f] [--au SIZE] [--inodes N] [--kernel-area SIZE] DEV|--image FILE
 *   pkernfsctl fsck [-j] DEV|--image FILE     check; exit 0 clean, 4 errors, 8 not pkernfs
 *   pkernfsctl info [-j] DEV|--image FILE     the superblock and counters
 *
 * DEV is a dax device name ("dax0.0"). mkfs, fsck and info read it through
 * /dev/DEV, so it must be bound to device_dax (pkernfsctl disable).
 * Every subcommand takes --help and -v.
 */
#define _GNU_SOURCE
#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "fsck.h"
#include "mounts.h"
#include "pkernfsctl.h"
#include "size.h"

int verbose;

int err(const char *fmt, ...)
{
	va_list ap;

	fputs("pkernfsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int read_sysfs_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Is DEV mounted as pkernfs? Then nothing may take it from the filesystem:
 * a mount point too long to print still counts as mounted.
 */
int dev_mounted(const char *dev, char *where, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "r");
	int found;

	if (!f)
		return 0;
	found = mounts_find(f, "pkernfs", dev, where, len);
	endmntent(f);
	if (found < 0)
		snprintf(where, len, "(a mount point too long to show)");
	return found != 0;
}

const char *dev_driver(const char *dev, char *buf, size_t len)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), DAX_BUS "/devices/%s/driver", dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return NULL;
	link[n] = 0;
	if (strlen(strrchr(link, '/') ? strrchr(link, '/') + 1 : link) >= len)
		return NULL;
	strcpy(buf, strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return buf;
}

/*
 * A device bound to dax_pkernfs has no /dev/DEV; its driver offers the
 * metadata (not the data) as a read-only sysfs file. Read it into an
 * anonymous mapping the size of the device, so offsets stay the same.
 */
static int open_snapshot(struct target *t, const char *dev, int quiet)
{
	char path[256];
	ssize_t n;
	uint64_t off = 0;

	snprintf(path, sizeof(path), DAX_BUS "/devices/%s/pkernfs_metadata", dev);
	t->fd = open(path, O_RDONLY);
	if (t->fd < 0)
		return quiet ? 1 : err("open %s: %s", path, strerror(errno));
	t->map = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		      MAP_NORESERVE, -1, 0);
	if (t->map == MAP_FAILED)
		return quiet ? 1 : err("mmap %llu bytes: %s", (unsigned long long)t->size,
				       strerror(errno));
	while (off < t->size && (n = pread(t->fd, t->map + off, 1 << 20, off)) > 0)
		off += n;
	t->snapshot = 1;
	return 0;
}

/* Map DEV (through /dev/DEV) or an image file; see TARGET_*. */
int open_target(struct target *t, const char *dev, const char *image, int flags)
{
	int rw = flags & TARGET_RW, quiet = flags & TARGET_QUIET;
	char path[256], drv[64];
	struct stat st;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (image) {
		t->name = image;
		snprintf(path, sizeof(path), "%s", image);
	} else {
		t->name = dev;
		snprintf(path, sizeof(path), DAX_BUS "/devices/%s/size", dev);
		if (read_sysfs_u64(path, &t->size))
			return quiet ? 1 : err("%s: no such dax device", dev);
		if (!dev_driver(dev, drv, sizeof(drv)))
			return quiet ? 1 : err("%s is bound to no driver", dev);
		if (!strcmp(drv, "dax_pkernfs") && !rw)
			return open_snapshot(t, dev, quiet);
		if (strcmp(drv, "device_dax"))
			return quiet ? 1 : err("%s is bound to %s; run 'pkernfsctl disable %s' first",
					       dev, drv, dev);
		snprintf(path, sizeof(path), "/dev/%s", dev);
	}
	t->fd = open(path, rw ? O_RDWR : O_RDONLY);
	if (t->fd < 0)
		return quiet ? 1 : err("open %s: %s", path, strerror(errno));
	if (image) {
		if (fstat(t->fd, &st))
			return quiet ? 1 : err("stat %s: %s", path, strerror(errno));
		t->size = st.st_size;
	}
	if (!t->size)
		return quiet ? 1 : err("%s is empty", path);
	t->map = mmap(NULL, t->size, rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
		      t->fd, 0);
	if (t->map == MAP_FAILED)
		return quiet ? 1 : err("mmap %s: %s", path, strerror(errno));
	return 0;
}

void close_target(struct target *t)
{
	if (t->map && t->map != MAP_FAILED)
		munmap(t->map, t->size);
	if (t->fd >= 0)
		close(t->fd);
}

void print_json(struct json_object *j, int compact)
{
	puts(json_object_to_json_string_ext(j, compact ? JSON_C_TO_STRING_PLAIN :
					    JSON_C_TO_STRING_PRETTY));
	json_object_put(j);
}

/* The image subcommands' options; each takes only those it names. */
struct opts {
	const char *image;
	int json, force, help, repair, drop_bad;
	uint64_t au, inodes, kernel_area;
	uint32_t level;		/* PKERNFS_LEVEL(minor), 0 if not given */
};

enum {
	OPT_JSON = 1 << 0,
	OPT_FORCE = 1 << 1,
	OPT_AU = 1 << 2,
	OPT_INODES = 1 << 3,
	OPT_KAREA = 1 << 4,
	OPT_REPAIR = 1 << 5,
	OPT_LEVEL = 1 << 6,
	OPT_DROP_BAD = 1 << 8,
	OPT_ALWAYS = 1 << 7,	/* --image, --verbose, --help */
};

static const struct {
	struct option lo;
	const char *shortopt;
	unsigned int bit;
} opt_table[] = {
	{ { "image", required_argument, NULL, 'i' }, "i:", OPT_ALWAYS },
	{ { "verbose", no_argument, NULL, 'v' }, "v", OPT_ALWAYS },
	{ { "help", no_argument, NULL, 'h' }, "h", OPT_ALWAYS },
	{ { "json", no_argument, NULL, 'j' }, "j", OPT_JSON },
	{ { "force", no_argument, NULL, 'f' }, "f", OPT_FORCE },
	{ { "au", required_argument, NULL, 'a' }, "a:", OPT_AU },
	{ { "inodes", required_argument, NULL, 'n' }, "n:", OPT_INODES },
	{ { "kernel-area", required_argument, NULL, 'k' }, "k:", OPT_KAREA },
	{ { "repair", no_argument, NULL, 'r' }, "r", OPT_REPAIR },
	{ { "level", required_argument, NULL, 'L' }, "L:", OPT_LEVEL },
	/* Long only: it gives up data, so it is never typed by accident. */
	{ { "drop-bad", no_argument, NULL, 'D' }, "", OPT_DROP_BAD },
};
#define NR_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))

/* getopt over the options in @allowed: any other is refused as unknown. */
static int parse_opts(int argc, char **argv, unsigned int allowed, struct opts *o,
		      const char *usage, const char **dev)
{
	struct option lo[NR_OPTS + 1] = { 0 };
	char shortopts[2 * NR_OPTS + 1] = "";
	unsigned int major, minor, i, n = 0;
	char junk;
	int c;

	for (i = 0; i < NR_OPTS; i++) {
		if (!(opt_table[i].bit & (allowed | OPT_ALWAYS)))
			continue;
		lo[n++] = opt_table[i].lo;
		strcat(shortopts, opt_table[i].shortopt);
	}
	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->image = optarg; break;
		case 'j': o->json = 1; break;
		case 'f': o->force = 1; break;
		case 'r': o->repair = 1; break;
		case 'D': o->drop_bad = 1; break;
		case 'v': verbose = 1; break;
		case 'h': printf("usage: %s\n", usage); exit(0);
		case 'a':
			if (parse_size(optarg, &o->au))
				return err("--au %s: not a size", optarg);
			break;
		case 'n':
			if (parse_size(optarg, &o->inodes))
				return err("--inodes %s: not a number", optarg);
			break;
		case 'k':
			if (parse_size(optarg, &o->kernel_area))
				return err("--kernel-area %s: not a size", optarg);
			break;
		case 'L':
			if (sscanf(optarg, "%u.%u%c", &major, &minor, &junk) != 2 ||
			    major != PKERNFS_MAJOR || minor > PKERNFS_MINOR)
				return err("--level %s: a format level from %u.0 to %u.%u",
					   optarg, PKERNFS_MAJOR, PKERNFS_MAJOR, PKERNFS_MINOR);
			o->level = PKERNFS_LEVEL(minor);
			break;
		default:
			fprintf(stderr, "usage: %s\n", usage);
			return 1;
		}
	}
	*dev = optind < argc ? argv[optind] : NULL;
	if (optind + 1 < argc)
		return err("unexpected argument '%s'\nusage: %s", argv[optind + 1], usage);
	if (!*dev == !o->image)
		return err("name a dax device or an --image, not both or neither\nusage: %s",
			   usage);
	return 0;
}

static int cmd_mkfs(int argc, char **argv)
{
	const char *usage = "pkernfsctl mkfs [-f] [--au SIZE] [--inodes N] "
			    "[--kernel-area SIZE] [--level X.Y] DEV|--image FILE";
	struct pkernfs_mkfs_params p = { 0 };
	struct pkernfs_super *sb;
	const char *dev, *why = NULL;
	struct target t;
	struct opts o;
	uuid_t u;
	int rc;

	if (parse_opts(argc, argv, OPT_FORCE | OPT_AU | OPT_INODES | OPT_KAREA | OPT_LEVEL, &o, usage, &dev))
		return 1;
	if (o.au && (o.au & (o.au - 1)))
		return err("--au must be a power of two");
	p.au_shift = o.au ? __builtin_ctzll(o.au) : 0;
	p.nr_inodes = o.inodes;
	p.kernel_bytes = o.kernel_area;
	p.level = o.level;
	p.time = time(NULL);
	uuid_generate(u);
	memcpy(p.uuid, u, sizeof(p.uuid));
	if (open_target(&t, dev, o.image, 1))
		return 1;
	/* Never overwrite what does not look blank, unless told to. */
	if (!o.force) {
		const struct pkernfs_super *old = (const void *)t.map;
		uint64_t i;

		if (le64_to_cpu(old->s_magic) == PKERNFS_MAGIC) {
			close_target(&t);
			return err("%s already holds a pkernfs; use -f to overwrite it", t.name);
		}
		for (i = 0; i < 65536 && i < t.size; i++) {
			if (t.map[i]) {
				close_target(&t);
				return err("%s is not blank (data in its first 64 KiB); use -f",
					   t.name);
			}
		}
	}
	sb = calloc(1, sizeof(*sb));
	rc = sb ? pkernfs_format(t.map, t.size, &p, sb, &why) : -ENOMEM;
	if (rc) {
		close_target(&t);
		free(sb);
		return err("%s: cannot format: %s", t.name, why ? why : strerror(-rc));
	}
	msync(t.map, t.size, MS_SYNC);
	if (verbose)
		fprintf(stderr, "pkernfsctl: %s: %llu AUs of %u KiB\n", t.name,
			(unsigned long long)le64_to_cpu(sb->s_nr_aus),
			1u << (le32_to_cpu(sb->s_au_shift) - 10));
	fprintf(stderr, "pkernfsctl: formatted %s: %llu MiB\n", t.name,
		(unsigned long long)(t.size >> 20));
	free(sb);
	close_target(&t);
	return 0;
}

struct report {
	struct json_object *list;
	int quiet;
};

static void report_finding(void *priv, int error, const char *msg)
{
	struct report *r = priv;

	static const char *const level[] = {
		[PKERNFS_FSCK_NOTE] = "note",
		[PKERNFS_FSCK_ERROR] = "error",
		[PKERNFS_FSCK_FIXED] = "fixed",
	};
	struct json_object *j;

	if (!r->list) {
		printf("%s: %s\n", level[error], msg);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "level", json_object_new_string(level[error]));
	json_object_object_add(j, "msg", json_object_new_string(msg));
	json_object_array_add(r->list, j);
}

static int cmd_fsck(int argc, char **argv)
{
	const char *usage = "pkernfsctl fsck [-j] [--repair [--drop-bad]] DEV|--image FILE";
	struct report r = { 0 };
	struct pkernfs_fsck f = { 0 };
	struct json_object *j;
	struct target t;
	const char *dev;
	struct opts o;
	int rc;

	char where[256];
	int rw;

	if (parse_opts(argc, argv, OPT_JSON | OPT_REPAIR | OPT_DROP_BAD, &o, usage, &dev))
		return 8;
	if (o.drop_bad && !o.repair) {
		err("--drop-bad is a repair: give it with --repair");
		return 8;
	}
	if (o.repair && dev && dev_mounted(dev, where, sizeof(where))) {
		err("%s is mounted on %s; unmount it before --repair", dev, where);
		return 8;
	}
	rw = o.repair ? TARGET_RW : 0;
	if (open_target(&t, dev, o.image, rw))
		return 8;
	if (t.snapshot)
		fprintf(stderr, "pkernfsctl: %s is held by dax_pkernfs: checking a snapshot "
			"of its metadata%s\n", dev,
			dev_mounted(dev, where, sizeof(where)) ? " taken while mounted" : "");
	if (o.json)
		r.list = json_object_new_array();
	f.report = report_finding;
	f.priv = &r;
	f.drop_bad = o.drop_bad;
	rc = o.repair ? pkernfs_fsck_repair(&f, t.map, t.size) : pkernfs_fsck(&f, t.map, t.size);
	if (o.repair && f.repairs)
		msync(t.map, t.size, MS_SYNC);
	if (o.json) {
		j = json_object_new_object();
		json_object_object_add(j, "dev", json_object_new_string(t.name));
		json_object_object_add(j, "clean", json_object_new_boolean(rc == 0));
		json_object_object_add(j, "exit", json_object_new_int(rc));
		json_object_object_add(j, "errors", json_object_new_int(f.errors));
		json_object_object_add(j, "notes", json_object_new_int(f.notes));
		json_object_object_add(j, "repairs", json_object_new_int(f.repairs));
		json_object_object_add(j, "inodes", json_object_new_int64(f.inodes));
		json_object_object_add(j, "extents", json_object_new_int64(f.extents));
		json_object_object_add(j, "used_aus", json_object_new_int64(f.used_aus));
		json_object_object_add(j, "kernel_pages", json_object_new_int64(f.kernel_pages));
		json_object_object_add(j, "findings", r.list);
		print_json(j, 0);
	} else {
		printf("%s: %s, %u errors, %u notes, %u repairs; %llu inodes, %llu extents, "
		       "%llu AUs used\n", t.name,
		       rc == 0 ? "clean" : rc == 1 ? "REPAIRED" : rc == 8 ? "not a pkernfs" : "DAMAGED",
		       f.errors, f.notes, f.repairs, (unsigned long long)f.inodes,
		       (unsigned long long)f.extents, (unsigned long long)f.used_aus);
	}
	close_target(&t);
	return rc;
}

static int cmd_upgrade(int argc, char **argv)
{
	const char *usage = "pkernfsctl upgrade --level X.Y DEV|--image FILE";
	struct report r = { 0 };
	struct pkernfs_fsck f = { 0 };
	struct target t;
	const char *dev;
	char where[256];
	struct opts o;
	int rc;

	if (parse_opts(argc, argv, OPT_LEVEL, &o, usage, &dev))
		return 8;
	if (!o.level) {
		err("upgrade needs --level\nusage: %s", usage);
		return 8;
	}
	if (dev && dev_mounted(dev, where, sizeof(where))) {
		err("%s is mounted on %s; unmount it before upgrade", dev, where);
		return 8;
	}
	if (open_target(&t, dev, o.image, TARGET_RW))
		return 8;
	f.report = report_finding;
	f.priv = &r;
	rc = pkernfs_upgrade(&f, t.map, t.size, o.level - 1);
	if (!rc)
		msync(t.map, t.size, MS_SYNC);
	if (rc == 8)
		err("%s: not a pkernfs image", t.name);
	close_target(&t);
	return rc;
}

static struct json_object *super_json(const struct pkernfs_super *sb)
{
	struct json_object *j = json_object_new_object();
	char uuid[40], ver[16], label[PKERNFS_LABEL_LEN + 1];

	uuid_unparse(sb->s_uuid, uuid);
	snprintf(ver, sizeof(ver), "%u.%u", le16_to_cpu(sb->s_major), le16_to_cpu(sb->s_minor));
	memcpy(label, sb->s_label, PKERNFS_LABEL_LEN);
	label[PKERNFS_LABEL_LEN] = 0;
	json_object_object_add(j, "version", json_object_new_string(ver));
	json_object_object_add(j, "uuid", json_object_new_string(uuid));
	json_object_object_add(j, "label", json_object_new_string(label));
	json_object_object_add(j, "size", json_object_new_int64(le64_to_cpu(sb->s_size)));
	json_object_object_add(j, "au", json_object_new_int64(1LL << le32_to_cpu(sb->s_au_shift)));
	json_object_object_add(j, "aus", json_object_new_int64(le64_to_cpu(sb->s_nr_aus)));
	json_object_object_add(j, "inodes",
			       json_object_new_int64(le32_to_cpu(sb->s_regions[PKERNFS_R_INODES].count)));
	json_object_object_add(j, "kernel_area",
			       json_object_new_int64(le64_to_cpu(sb->s_regions[PKERNFS_R_KERNEL].len)));
	json_object_object_add(j, "feature_compat",
			       json_object_new_int64(le32_to_cpu(sb->s_feature_compat)));
	json_object_object_add(j, "feature_incompat",
			       json_object_new_int64(le32_to_cpu(sb->s_feature_incompat)));
	json_object_object_add(j, "feature_ro_compat",
			       json_object_new_int64(le32_to_cpu(sb->s_feature_ro_compat)));
	json_object_object_add(j, "clean_unmount",
			       json_object_new_boolean(le32_to_cpu(sb->s_state) & PKERNFS_STATE_CLEAN));
	json_object_object_add(j, "mount_count", json_object_new_int64(le64_to_cpu(sb->s_mount_count)));
	return j;
}

/* The kernel-only area's named roots, with the cookie each owner adopts by. */
static struct json_object *kroots_json(const struct pkernfs_super *sb, const uint8_t *b)
{
	const struct pkernfs_kdir_entry *k =
		(const void *)(b + le64_to_cpu(sb->s_regions[PKERNFS_R_KDIR].off));
	uint32_t i, n = le32_to_cpu(sb->s_regions[PKERNFS_R_KDIR].count);
	struct json_object *a = json_object_new_array();
	char name[PKERNFS_KNAME_LEN + 1], cookie[24];

	for (i = 0; i < n; i++) {
		struct json_object *r;

		if (!le64_to_cpu(k[i].k_npages))
			continue;
		r = json_object_new_object();
		memcpy(name, k[i].k_name, PKERNFS_KNAME_LEN);
		name[PKERNFS_KNAME_LEN] = 0;
		snprintf(cookie, sizeof(cookie), "%#llx",
			 (unsigned long long)le64_to_cpu(k[i].k_cookie));
		json_object_object_add(r, "name", json_object_new_string(name));
		json_object_object_add(r, "pages", json_object_new_int64(le64_to_cpu(k[i].k_npages)));
		json_object_object_add(r, "cookie", json_object_new_string(cookie));
		json_object_array_add(a, r);
	}
	return a;
}

/* Where each table lives: what info -j dumps, and what tests damage. */
static struct json_object *regions_json(const struct pkernfs_super *sb, const uint8_t *b)
{
	const struct pkernfs_journal_head *jh =
		(const void *)(b + le64_to_cpu(sb->s_regions[PKERNFS_R_JOURNAL].off));
	static const char *const names[PKERNFS_NR_REGIONS] = {
		"journal", "inodes", "dirents", "extents", "bitmap", "kdir", "kernel", "data",
	};
	struct json_object *j = json_object_new_object();
	int i;

	for (i = 0; i < PKERNFS_NR_REGIONS; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "offset", json_object_new_int64(
			le64_to_cpu(sb->s_regions[i].off)));
		json_object_object_add(r, "length", json_object_new_int64(
			le64_to_cpu(sb->s_regions[i].len)));
		json_object_object_add(r, "count", json_object_new_int64(
			le32_to_cpu(sb->s_regions[i].count)));
		json_object_object_add(r, "record_size", json_object_new_int64(
			le32_to_cpu(sb->s_regions[i].rec_size)));
		/* How far a mount reads the table (its high-water mark). */
		if (i == PKERNFS_R_INODES || i == PKERNFS_R_DIRENTS || i == PKERNFS_R_EXTENTS)
			json_object_object_add(r, "scanned", json_object_new_int64(
				pkernfs_hwm_scan(sb, jh, i == PKERNFS_R_INODES ? PKERNFS_HWM_INODES :
						 i == PKERNFS_R_DIRENTS ? PKERNFS_HWM_DIRENTS :
						 PKERNFS_HWM_EXTENTS)));
		json_object_object_add(j, names[i], r);
	}
	return j;
}

static int cmd_info(int argc, char **argv)
{
	const char *usage = "pkernfsctl info [-j] DEV|--image FILE";
	struct pkernfs_fsck f = { 0 };
	const struct pkernfs_super *sb;
	const char *dev, *why = NULL;
	struct json_object *j;
	struct target t;
	struct opts o;

	if (parse_opts(argc, argv, OPT_JSON, &o, usage, &dev))
		return 1;
	if (open_target(&t, dev, o.image, 0))
		return 1;
	sb = (const void *)t.map;
	if (pkernfs_super_check(sb, t.size, &why)) {
		close_target(&t);
		return err("%s: %s", t.name, why);
	}
	pkernfs_fsck(&f, t.map, t.size);
	j = super_json(sb);
	json_object_object_add(j, "dev", json_object_new_string(t.name));
	json_object_object_add(j, "inodes_used", json_object_new_int64(f.inodes));
	json_object_object_add(j, "aus_used", json_object_new_int64(f.used_aus));
	json_object_object_add(j, "kernel_pages_used", json_object_new_int64(f.kernel_pages));
	json_object_object_add(j, "orphans", json_object_new_int64(f.orphans));
	json_object_object_add(j, "bad_pages", json_object_new_int64(f.bad_pages));
	json_object_object_add(j, "regions", regions_json(sb, t.map));
	json_object_object_add(j, "kernel_roots", kroots_json(sb, t.map));
	print_json(j, o.json);
	close_target(&t);
	return 0;
}

/**
 * nd_lookup() - the nvdimm region, namespace and bus behind a dax region
 * @ctx: libndctl
 * @dax_region_id: daxctl_region_get_id() of the dax device's region
 * @nd: filled in; nd->found is 0 if no ndctl dax claims it (hmem, say)
 */
void nd_lookup(struct ndctl_ctx *ctx, int dax_region_id, struct nd_info *nd)
{
	struct ndctl_region *region;
	struct ndctl_bus *bus;
	struct ndctl_dax *dax;

	memset(nd, 0, sizeof(*nd));
	ndctl_bus_foreach(ctx, bus) {
		ndctl_region_foreach(bus, region) {
			ndctl_dax_foreach(region, dax) {
				struct daxctl_region *dr = ndctl_dax_get_daxctl_region(dax);
				struct ndctl_namespace *ndns = ndctl_dax_get_namespace(dax);

				if (!dr || !ndns || daxctl_region_get_id(dr) != dax_region_id)
					continue;
				snprintf(nd->region, sizeof(nd->region), "%s",
					 ndctl_region_get_devname(region));
				snprintf(nd->ns, sizeof(nd->ns), "%s",
					 ndctl_namespace_get_devname(ndns));
				snprintf(nd->provider, sizeof(nd->provider), "%s",
					 ndctl_bus_get_provider(bus));
				snprintf(nd->bus, sizeof(nd->bus), "%s",
					 ndctl_bus_get_devname(bus));
				nd->start = ndctl_region_get_resource(region);
				nd->size = ndctl_region_get_size(region);
				nd->found = 1;
				return;
			}
		}
	}
}

/* The pkernfs on a device, if any: format, features, usage, the kernel area. */
static struct json_object *pkernfs_json(const char *dev)
{
	struct pkernfs_fsck f = { 0 };
	const struct pkernfs_super *sb;
	const char *why = NULL;
	struct json_object *j;
	struct target t;
	uint64_t au;

	if (open_target(&t, dev, NULL, TARGET_QUIET))
		return NULL;
	sb = (const void *)t.map;
	if (pkernfs_super_check(sb, t.size, &why)) {
		close_target(&t);
		return NULL;
	}
	pkernfs_fsck(&f, t.map, t.size);
	j = super_json(sb);
	au = 1ULL << le32_to_cpu(sb->s_au_shift);
	json_object_object_add(j, "inodes_used", json_object_new_int64(f.inodes));
	json_object_object_add(j, "data_bytes", json_object_new_int64(
		le64_to_cpu(sb->s_regions[PKERNFS_R_DATA].len)));
	json_object_object_add(j, "used_bytes", json_object_new_int64(f.used_aus * au));
	json_object_object_add(j, "kernel_pages_used", json_object_new_int64(f.kernel_pages));
	json_object_object_add(j, "kernel_area_in_use", json_object_new_boolean(f.kernel_pages > 0));
	json_object_object_add(j, "orphans", json_object_new_int64(f.orphans));
	json_object_object_add(j, "clean", json_object_new_boolean(!f.errors));
	close_target(&t);
	return j;
}

static struct json_object *dev_json(struct ndctl_ctx *nctx, struct daxctl_region *region,
				    struct daxctl_dev *dd, struct nd_info *nd)
{
	const char *name = daxctl_dev_get_devname(dd);
	struct json_object *j = json_object_new_object(), *pk;
	char drv[64], where[256];

	json_object_object_add(j, "chardev", json_object_new_string(name));
	json_object_object_add(j, "size", json_object_new_int64(daxctl_dev_get_size(dd)));
	json_object_object_add(j, "align", json_object_new_int64(daxctl_dev_get_align(dd)));
	json_object_object_add(j, "region", json_object_new_int(daxctl_region_get_id(region)));
	json_object_object_add(j, "driver", json_object_new_string(
		dev_driver(name, drv, sizeof(drv)) ? drv : "none"));
	nd_lookup(nctx, daxctl_region_get_id(region), nd);
	if (nd->found) {
		json_object_object_add(j, "namespace", json_object_new_string(nd->ns));
		json_object_object_add(j, "provider", json_object_new_string(nd->provider));
	}
	if (dev_mounted(name, where, sizeof(where)))
		json_object_object_add(j, "mountpoint", json_object_new_string(where));
	pk = pkernfs_json(name);
	if (pk)
		json_object_object_add(j, "pkernfs", pk);
	return j;
}

/*
 * Like ndctl list: an array of dax devices, or with -R the regions with
 * their devices nested.
 */
static int cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "regions", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *usage = "pkernfsctl list [-j] [-R]";
	struct json_object *arr, *regions = NULL;
	struct daxctl_region *region;
	struct ndctl_ctx *nctx;
	struct daxctl_ctx *ctx;
	struct daxctl_dev *dd;
	int c, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jRvh", lo, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'R')
			regions = json_object_new_array();
		else if (c == 'v')
			verbose = 1;
		else if (c == 'h')
			return printf("usage: %s\n", usage) < 0;
		else
			return err("usage: %s", usage);
	}
	if (daxctl_new(&ctx))
		return err("cannot open libdaxctl");
	if (ndctl_new(&nctx)) {
		daxctl_unref(ctx);
		return err("cannot open libndctl");
	}
	arr = json_object_new_array();
	daxctl_region_foreach(ctx, region) {
		struct json_object *devs = regions ? json_object_new_array() : arr, *rj;
		struct nd_info nd = { 0 };

		daxctl_dev_foreach(region, dd)
			if (daxctl_dev_get_size(dd))
				json_object_array_add(devs, dev_json(nctx, region, dd, &nd));
		if (!regions)
			continue;
		rj = json_object_new_object();
		json_object_object_add(rj, "dev", json_object_new_string(
			nd.found ? nd.region : daxctl_region_get_devname(region)));
		if (nd.found) {
			json_object_object_add(rj, "provider", json_object_new_string(nd.provider));
			json_object_object_add(rj, "resource", json_object_new_int64(nd.start));
			json_object_object_add(rj, "size", json_object_new_int64(nd.size));
		}
		json_object_object_add(rj, "devices", devs);
		json_object_array_add(regions, rj);
	}
	if (regions) {
		json_object_put(arr);
		arr = regions;
	}
	print_json(arr, json);
	ndctl_unref(nctx);
	daxctl_unref(ctx);
	return 0;
}

/* DEV and the common -v/--help, for enable and disable. */
static int parse_dev(int argc, char **argv, const char *usage, const char **dev)
{
	static const struct option lo[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		if (c == 'v') {
			verbose = 1;
		} else if (c == 'h') {
			printf("usage: %s\n", usage);
			exit(0);
		} else {
			return err("usage: %s", usage);
		}
	}
	if (optind + 1 != argc)
		return err("usage: %s", usage);
	*dev = argv[optind];
	return 0;
}

static int cmd_enable(int argc, char **argv)
{
	char path[256], drv[64], where[256];
	const char *dev;
	int rc;

	if (parse_dev(argc, argv, "pkernfsctl enable [-v] DEV", &dev))
		return 1;
	snprintf(path, sizeof(path), DAX_BUS "/devices/%s", dev);
	if (access(path, F_OK))
		return err("%s: no such dax device", dev);
	if (dev_driver(dev, drv, sizeof(drv)) && !strcmp(drv, "dax_pkernfs"))
		return 0;
	if (dev_mounted(dev, where, sizeof(where)))
		return err("%s is mounted on %s", dev, where);
	if (dev_driver(dev, drv, sizeof(drv))) {
		snprintf(path, sizeof(path), DAX_BUS "/drivers/%s/unbind", drv);
		rc = write_sysfs(path, dev);
		if (rc)
			return err("%s: unbind from %s: %s", dev, drv, strerror(-rc));
	}
	rc = write_sysfs(DAX_BUS "/drivers/dax_pkernfs/new_id", dev);
	if (rc == -ENOENT)
		return err("dax_pkernfs driver not loaded (CONFIG_DEV_DAX_PKERNFS)");
	if (!dev_driver(dev, drv, sizeof(drv)) || strcmp(drv, "dax_pkernfs"))
		write_sysfs(DAX_BUS "/drivers/dax_pkernfs/bind", dev);
	if (!dev_driver(dev, drv, sizeof(drv)) || strcmp(drv, "dax_pkernfs"))
		return err("%s: dax_pkernfs did not bind it (see dmesg)", dev);
	if (verbose)
		fprintf(stderr, "pkernfsctl: %s bound to dax_pkernfs\n", dev);
	return 0;
}

static int cmd_disable(int argc, char **argv)
{
	char drv[64], where[256];
	const char *dev;

	if (parse_dev(argc, argv, "pkernfsctl disable [-v] DEV", &dev))
		return 1;
	if (dev_mounted(dev, where, sizeof(where)))
		return err("%s is mounted on %s; unmount it first", dev, where);
	if (!dev_driver(dev, drv, sizeof(drv)) || strcmp(drv, "dax_pkernfs"))
		return 0;
	write_sysfs(DAX_BUS "/drivers/dax_pkernfs/remove_id", dev);
	write_sysfs(DAX_BUS "/drivers/dax_pkernfs/unbind", dev);
	write_sysfs(DAX_BUS "/drivers/device_dax/bind", dev);
	if (!dev_driver(dev, drv, sizeof(drv)) || strcmp(drv, "device_dax"))
		return err("%s: device_dax did not take it back", dev);
	if (verbose)
		fprintf(stderr, "pkernfsctl: %s given back to device_dax\n", dev);
	return 0;
}

/* The dax device a just-enabled ndctl_dax created, such as "dax0.0". */
static const char *dax_devname(struct ndctl_dax *dax)
{
	struct daxctl_region *dregion = ndctl_dax_get_daxctl_region(dax);
	struct daxctl_dev *dd;

	if (!dregion)
		return NULL;
	daxctl_dev_foreach(dregion, dd)
		if (daxctl_dev_get_size(dd))
			return daxctl_dev_get_devname(dd);
	return NULL;
}

/* A namespace with capacity that no btt, pfn or dax personality claims. */
static int ns_unclaimed(struct ndctl_namespace *ndns)
{
	return ndctl_namespace_get_size(ndns) && !ndctl_namespace_get_btt(ndns) &&
	       !ndctl_namespace_get_pfn(ndns) && !ndctl_namespace_get_dax(ndns);
}

/*
 * The namespace to turn into devdax: a label-backed region's idle seed,
 * sized here, or a label-less region's single raw namespace, as is.
 */
static struct ndctl_namespace *pick_namespace(struct ndctl_region *region, uint64_t *size,
					      uint64_t align)
{
	struct ndctl_namespace *ndns = ndctl_region_get_namespace_seed(region);
	uint64_t avail = ndctl_region_get_max_available_extent(region);
	uuid_t u;

	if (avail > 0 && ndns) {
		if (!*size)
			*size = avail / align * align;
		if (*size > avail || *size < align) {
			err("%s: %llu bytes asked, %llu available", ndctl_region_get_devname(region),
			    (unsigned long long)*size, (unsigned long long)avail);
			return NULL;
		}
		uuid_generate(u);
		if (ndctl_namespace_set_uuid(ndns, u) || ndctl_namespace_set_size(ndns, *size) ||
		    ndctl_namespace_set_enforce_mode(ndns, NDCTL_NS_MODE_DAX)) {
			err("%s: cannot size %s", ndctl_region_get_devname(region),
			    ndctl_namespace_get_devname(ndns));
			return NULL;
		}
		return ndns;
	}
	/* No labels: the region's one namespace spans it; take it if unused. */
	ndctl_namespace_foreach(region, ndns) {
		if (!ns_unclaimed(ndns))
			continue;
		if (*size && *size != ndctl_namespace_get_size(ndns)) {
			err("%s has no labels: its namespace is the whole region (%llu bytes)",
			    ndctl_region_get_devname(region),
			    (unsigned long long)ndctl_namespace_get_size(ndns));
			return NULL;
		}
		*size = ndctl_namespace_get_size(ndns);
		/* Refuses if the raw namespace is in use (a mounted /dev/pmemN). */
		if (ndctl_namespace_disable_safe(ndns)) {
			err("%s is in use", ndctl_namespace_get_devname(ndns));
			return NULL;
		}
		return ndns;
	}
	err("%s: no free space and no unused namespace", ndctl_region_get_devname(region));
	return NULL;
}

static int cmd_mkfs(int argc, char **argv);

static int cmd_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "align", required_argument, NULL, 'a' },
		{ "mkfs", no_argument, NULL, 'm' },
		{ "enable", no_argument, NULL, 'e' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *usage = "pkernfsctl create [--region regionN] [--size SIZE] "
			    "[--align 2M|1G] [--mkfs] [--enable]";
	const char *want_region = NULL, *name;
	uint64_t size = 0, align = 2 << 20, best_avail = 0;
	struct ndctl_region *region, *best = NULL;
	struct ndctl_namespace *ndns;
	struct json_object *j;
	struct ndctl_bus *bus;
	struct ndctl_ctx *ctx;
	struct ndctl_dax *dax;
	int c, do_mkfs = 0, do_enable = 0, rc = 1;
	uuid_t u;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:s:a:mevh", lo, NULL)) != -1) {
		switch (c) {
		case 'r': want_region = optarg; break;
		case 's':
			if (parse_size(optarg, &size))
				return err("--size %s: not a size", optarg);
			break;
		case 'a':
			if (parse_size(optarg, &align) ||
			    (align != (2 << 20) && align != (1ULL << 30)))
				return err("--align must be 2M or 1G");
			break;
		case 'm': do_mkfs = 1; break;
		case 'e': do_enable = 1; break;
		case 'v': verbose = 1; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		default: return err("usage: %s", usage);
		}
	}
	if (optind != argc)
		return err("usage: %s", usage);
	if (size % align)
		return err("--size must be a multiple of --align");
	if (ndctl_new(&ctx))
		return err("cannot open libndctl");
	/* --region, or the pmem region with the most room. */
	ndctl_bus_foreach(ctx, bus) {
		ndctl_region_foreach(bus, region) {
			uint64_t avail = ndctl_region_get_max_available_extent(region);

			if (strcmp(ndctl_region_get_type_name(region), "pmem"))
				continue;
			if (want_region) {
				if (!strcmp(ndctl_region_get_devname(region), want_region))
					best = region;
				continue;
			}
			if (!ndctl_region_get_available_size(region)) {
				ndctl_namespace_foreach(region, ndns)
					if (ns_unclaimed(ndns))
						avail = ndctl_namespace_get_size(ndns);
			}
			if (avail > best_avail) {
				best = region;
				best_avail = avail;
			}
		}
	}
	if (!best) {
		err(want_region ? "no pmem region %s" : "no pmem region with free space",
		    want_region);
		goto out;
	}
	ndns = pick_namespace(best, &size, align);
	if (!ndns)
		goto out;
	dax = ndctl_region_get_dax_seed(best);
	uuid_generate(u);
	if (!dax || ndctl_dax_set_uuid(dax, u) || ndctl_dax_set_location(dax, NDCTL_PFN_LOC_PMEM) ||
	    ndctl_dax_set_align(dax, align) || ndctl_dax_set_namespace(dax, ndns) ||
	    ndctl_dax_enable(dax)) {
		err("%s: cannot set up devdax on %s", ndctl_region_get_devname(best),
		    ndctl_namespace_get_devname(ndns));
		goto out;
	}
	name = dax_devname(dax);
	if (!name) {
		err("%s: devdax enabled but no dax device appeared", ndctl_namespace_get_devname(ndns));
		goto out;
	}
	if (do_mkfs) {
		char *mk[] = { "mkfs", (char *)name, NULL };

		if (cmd_mkfs(2, mk))
			goto out;
	}
	if (do_enable) {
		char *en[] = { "enable", (char *)name, NULL };

		if (cmd_enable(2, en))
			goto out;
	}
	j = json_object_new_object();
	json_object_object_add(j, "dev", json_object_new_string(ndctl_namespace_get_devname(ndns)));
	json_object_object_add(j, "region", json_object_new_string(ndctl_region_get_devname(best)));
	json_object_object_add(j, "mode", json_object_new_string("devdax"));
	json_object_object_add(j, "size", json_object_new_int64(size));
	json_object_object_add(j, "align", json_object_new_int64(align));
	json_object_object_add(j, "chardev", json_object_new_string(name));
	json_object_object_add(j, "pkernfs", json_object_new_boolean(do_mkfs));
	json_object_object_add(j, "enabled", json_object_new_boolean(do_enable));
	print_json(j, 0);
	rc = 0;
out:
	ndctl_unref(ctx);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "create", cmd_create, "make a devdax namespace (libndctl), optionally mkfs and enable" },
	{ "list", cmd_list, "dax devices and their pkernfs state" },
	{ "enable", cmd_enable, "bind a dax device to dax_pkernfs" },
	{ "disable", cmd_disable, "give a dax device back to device_dax" },
	{ "mkfs", cmd_mkfs, "write an empty pkernfs" },
	{ "upgrade", cmd_upgrade, "raise a pkernfs's format level (offline), turning its features on" },
	{ "fsck", cmd_fsck, "check (and --repair) a pkernfs: 0 clean, 1 repaired, 4 errors, 8 not pkernfs" },
	{ "info", cmd_info, "show the superblock and counters" },
	{ "kexec-check", cmd_kexec_check, "would a kexec now keep every pkernfs? prints the command" },
};

static int usage_all(FILE *out)
{
	size_t i;

	fprintf(out, "usage: pkernfsctl COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nSee 'pkernfsctl COMMAND --help'.\n");
	return out == stdout ? 0 : 1;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage_all(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage_all(stdout);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	err("'%s' is not a pkernfsctl command", argv[1]);
	return usage_all(stderr);
}
