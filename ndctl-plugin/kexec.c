// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfsctl kexec-check: would a kexec now keep every pkernfs?
 *
 * For each dax device holding a pkernfs it checks that the next kernel
 * will find the same memory in the same way (an NFIT from firmware, or a
 * memmap= on the next command line), that the next kernel mounts the
 * image's format (the note fs/pkernfs/super.c leaves in the kernel), and
 * that nothing is in a state the next mount would drop (damage, unlinked
 * files still open). Then it prints the kexec command line to use.
 *
 * Exit: 0 ready, 1 not ready (reasons printed), 2 could not check.
 */
#define _GNU_SOURCE
#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fsck.h"
#include "kimage.h"
#include "pkernfsctl.h"
#include "size.h"

struct kcheck {
	struct json_object *checks;
	int failed;
	int json;
};

static void verdict(struct kcheck *k, int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void verdict(struct kcheck *k, int ok, const char *what, const char *fmt, ...)
{
	struct json_object *j;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ok)
		k->failed++;
	if (!k->json) {
		printf("%-4s %-10s %s\n", ok ? "ok" : "FAIL", what, msg);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "check", json_object_new_string(what));
	json_object_object_add(j, "ok", json_object_new_boolean(ok));
	json_object_object_add(j, "detail", json_object_new_string(msg));
	json_object_array_add(k->checks, j);
}

static char *slurp_cmdline(void)
{
	static char buf[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *p;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !st.st_size) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	*buf = p;
	*len = st.st_size;
	return 0;
}

static void check_kernel(struct kcheck *k, const char *kernel, const char *module,
			 struct kimage_note *note, int *have_note)
{
	const char *src = module ? module : kernel;
	uint8_t *img;
	size_t len;

	*have_note = 0;
	if (module && access(kernel, R_OK)) {
		verdict(k, 0, "kernel", "cannot read %s: %s", kernel, strerror(errno));
		return;
	}
	if (read_file(src, &img, &len)) {
		verdict(k, 0, "kernel", "cannot read %s: %s", src, strerror(errno));
		return;
	}
	if (kimage_find_note(img, len, note)) {
		verdict(k, 0, "kernel", "%s: %s", src, note->why);
	} else {
		*have_note = 1;
		verdict(k, 1, "kernel", "%s (%s%s%s) mounts pkernfs format %u.x, incompat 0x%x",
			src, note->container, note->compression ? ", " : "",
			note->compression ? note->compression : "", note->major, note->incompat);
	}
	munmap(img, len);
}

#define PKERNFS_PMEM_PROVIDER "pkernfs-pmem-region"	/* drivers/dax/pkernfs/pmem_region.h */
#define MAX_TABLES 16

/* ACPI tables this kernel took from its initrd ("ACPI: Table Upgrade: ..."). */
static int upgraded_tables(char ids[][24], int max)
{
	int len = klogctl(10, NULL, 0), n = 0;
	char *log, *p;

	if (len <= 0 || !(log = malloc(len + 1)))
		return 0;
	len = klogctl(3, log, len);
	log[len > 0 ? len : 0] = 0;
	for (p = log; n < max && (p = strstr(p, "Table Upgrade: ")); p++) {
		char *b = strchr(p, '['), *e = b ? strchr(b, ']') : NULL;

		if (b && e && e - b - 1 < 24) {
			memcpy(ids[n], b + 1, e - b - 1);
			ids[n][e - b - 1] = 0;
			acpi_id_normalize(ids[n]);
			n++;
		}
	}
	free(log);
	return n;
}

/* A region of pkernfs_pmem_region: reserved again, described again? */
static void check_fw_region(struct kcheck *k, const char *dev, const struct nd_info *nd,
			    const char *cmdline, const char *initrd)
{
	char path[256], ids[MAX_TABLES][24], have[MAX_TABLES][24];
	int acpi, n, m = 0, i, j, missing = 0;
	const char *cur = slurp_cmdline();
	uint8_t *img;
	size_t len;

	if (cur && cmdline_reserves(cur, nd->start, nd->size) &&
	    !cmdline_reserves(cmdline, nd->start, nd->size)) {
		verdict(k, 0, "reserve", "%s: %s is reserved by memmap=%lluM$0x%llx on this "
			"command line, which the next lacks: the next kernel would use it as RAM",
			dev, nd->region, (unsigned long long)(nd->size >> 20),
			(unsigned long long)nd->start);
	} else {
		verdict(k, 1, "reserve", "%s: %s stays reserved (%s)", dev, nd->region,
			cmdline_reserves(cmdline, nd->start, nd->size) ?
			"memmap=...$... on the next command line" : "by the firmware's memory map");
	}
	snprintf(path, sizeof(path), "/sys/bus/nd/devices/%s/../firmware_node", nd->bus);
	acpi = !access(path, F_OK);
	if (!acpi) {
		verdict(k, 1, "describe", "%s: %s comes from a device-tree node; kexec passes the "
			"running device tree on", dev, nd->region);
		return;
	}
	n = upgraded_tables(ids, MAX_TABLES);
	if (!n) {
		verdict(k, 1, "describe", "%s: %s is in an ACPI table from the firmware, which "
			"the next kernel reads again", dev, nd->region);
		return;
	}
	if (!initrd || read_file(initrd, &img, &len)) {
		verdict(k, 0, "describe", "%s: this kernel took ACPI table %s from its initrd; "
			"pass the next one with --initrd so it can be checked", dev, ids[0]);
		return;
	}
	m = initrd_acpi_tables(img, len, have, MAX_TABLES);
	munmap(img, len);
	for (i = 0; i < n; i++) {
		for (j = 0; j < m && strcmp(ids[i], have[j]); j++)
			;
		if (j == m) {
			verdict(k, 0, "describe", "%s: the next initrd lacks ACPI table %s, which this "
				"kernel took from its initrd (kernel/firmware/acpi/)", dev, ids[i]);
			missing++;
		}
	}
	if (!missing)
		verdict(k, 1, "describe", "%s: %s is in ACPI table(s) the next initrd carries "
			"again (%s)", dev, nd->region, ids[0]);
}

/* How will the next kernel find @nd's memory? */
static void check_description(struct kcheck *k, const char *dev, const struct nd_info *nd,
			      const char *cmdline, const char *initrd)
{
	if (!nd->found) {
		verdict(k, 0, "describe", "%s: not on an nvdimm region; nothing tells the next "
			"kernel where it is", dev);
	} else if (!strcmp(nd->provider, "ACPI.NFIT")) {
		verdict(k, 1, "describe", "%s: %s is in the firmware's NFIT, which the next "
			"kernel reads again", dev, nd->region);
	} else if (!strcmp(nd->provider, "e820")) {
		if (cmdline_has_memmap(cmdline, nd->start, nd->size))
			verdict(k, 1, "describe", "%s: %s is memmap=%lluM!0x%llx, and the next "
				"command line has it", dev, nd->region,
				(unsigned long long)(nd->size >> 20),
				(unsigned long long)nd->start);
		else
			verdict(k, 0, "describe", "%s: %s comes from memmap=%lluM!0x%llx, which "
				"the next command line lacks: the next kernel would use it as RAM",
				dev, nd->region, (unsigned long long)(nd->size >> 20),
				(unsigned long long)nd->start);
	} else if (!strcmp(nd->provider, PKERNFS_PMEM_PROVIDER)) {
		check_fw_region(k, dev, nd, cmdline, initrd);
	} else {
		verdict(k, 0, "describe", "%s: %s comes from bus provider '%s', which "
			"kexec-check does not know how to carry over", dev, nd->region,
			nd->provider);
	}
}

/* Is @word one of the space-separated words of @cmdline? */
static int cmdline_has_word(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = strstr(cmdline, word); p; p = strstr(p + 1, word))
		if ((p == cmdline || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return 1;
	return 0;
}

#define CLAIM "dax.pkernfs="

/*
 * Parse the dax.pkernfs= list at @p as the kernel does (bus.c in patch
 * 0002): up to 8 hex addresses, comma-separated, all of it valid or nothing
 * claimed. Returns -1 if malformed, else whether @start is in it.
 */
static int claim_list_has(const char *p, unsigned long long start)
{
	unsigned long long a;
	int n = 0, found = 0;
	char *end;

	while (*p && *p != ' ') {
		errno = 0;
		a = strtoull(p, &end, 16);
		if (end == p || errno || ++n > 8 || (*end && *end != ',' && *end != ' '))
			return -1;
		found |= a == start;
		p = *end == ',' ? end + 1 : end;
	}
	return found;
}

/*
 * Will the next kernel bind @dev to pkernfs as it appears (the last valid
 * dax.pkernfs= word wins)? Advice, unless the list is malformed: without
 * it the device is still found, after device_dax's probe and unbind.
 */
static void check_claim(struct kcheck *k, const char *dev, unsigned long long start,
			const char *cmdline)
{
	const char *p;
	int claimed = 0, r;

	for (p = strstr(cmdline, CLAIM); p; p = strstr(p + 1, CLAIM)) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		r = claim_list_has(p + strlen(CLAIM), start);
		if (r < 0) {
			verdict(k, 0, "claim", "the next command line's %s list is malformed "
				"(up to 8 addresses, comma-separated): that kernel refuses it",
				CLAIM);
			return;
		}
		claimed = r;
	}
	if (claimed)
		verdict(k, 1, "claim", "%s: the next kernel binds it to pkernfs at boot (%s0x%llx)",
			dev, CLAIM, start);
	else
		verdict(k, 1, "claim", "%s: add %s0x%llx to the next command line to bind it at "
			"boot, without device_dax's probe and unbind", dev, CLAIM, start);
}

/*
 * IOMMU state in the kernel-only area (drivers/iommu/intel/pkernfs/
 * keeps its pool there while persistent domains exist): the next kernel
 * adopts it only when asked to, on its command line. Returns whether @dev
 * holds such state.
 */
static int check_iommu(struct kcheck *k, const char *dev, const struct pkernfs_super *sb,
		       const uint8_t *map, const char *cmdline)
{
	const struct pkernfs_kdir_entry *kd = (const void *)(map + fsck_roff(sb, PKERNFS_R_KDIR));
	uint32_t i, n = fsck_rcount(sb, PKERNFS_R_KDIR);

	for (i = 0; i < n; i++) {
		if (!le64_to_cpu(kd[i].k_npages) ||
		    strncmp((const char *)kd[i].k_name, "intel-iommu", sizeof(kd[i].k_name)))
			continue;
		if (cmdline_has_word(cmdline, "pkernfs_iommu.liveupdate=1"))
			verdict(k, 1, "iommu", "%s: holds IOMMU tables of persistent domains, and "
				"the next command line asks to adopt them", dev);
		else
			verdict(k, 0, "iommu", "%s: holds IOMMU tables of persistent domains; the "
				"next command line lacks pkernfs_iommu.liveupdate=1, so their "
				"devices' DMA would stop at the kexec", dev);
		return 1;
	}
	return 0;
}

/*
 * Recorded memory errors survive the kexec with the image. One in the
 * IOMMU table pool makes this kernel stop the preserved devices at kexec
 * instead of handing the tables over, so it fails the check.
 */
static void check_memory(struct kcheck *k, const char *dev, const struct pkernfs_super *sb,
			 const uint8_t *map)
{
	const struct pkernfs_kdir_entry *kd = (const void *)(map + fsck_roff(sb, PKERNFS_R_KDIR));
	uint64_t karea = fsck_roff(sb, PKERNFS_R_KERNEL) / PKERNFS_BLOCK_SIZE, pages = 0;
	uint32_t i, j, nk = fsck_rcount(sb, PKERNFS_R_KDIR);

	for (i = 0; i < le32_to_cpu(sb->s_nr_bad) && i < PKERNFS_BAD_MAX; i++) {
		uint64_t page = le64_to_cpu(sb->s_bad[i].b_page);
		uint64_t n = le32_to_cpu(sb->s_bad[i].b_count);

		pages += n;
		if (pkernfs_bad_region(sb, page) != PKERNFS_R_KERNEL)
			continue;
		for (j = 0; j < nk; j++) {
			uint64_t s = le64_to_cpu(kd[j].k_start), e = s + le64_to_cpu(kd[j].k_npages);

			if (s == e || page + n <= karea + s || page >= karea + e ||
			    strncmp((const char *)kd[j].k_name, "intel-iommu", sizeof(kd[j].k_name)))
				continue;
			verdict(k, 0, "memory", "%s: a memory error hit the IOMMU table pool (page "
				"%llu): at kexec its preserved devices are stopped, not handed over",
				dev, (unsigned long long)page);
			return;
		}
	}
	if (pages)
		verdict(k, 1, "memory", "%s: %llu pages with memory errors are recorded and stay "
			"so; file ranges on them read as EIO (fsck --repair --drop-bad makes "
			"them holes)", dev, (unsigned long long)pages);
}

#define IOMMU_PARAMS "/sys/module/pkernfs_iommu/parameters/"

/*
 * Would the image take this kernel's IOMMU handover? Checked when IOMMU
 * state exists or --arm asks; an image without the note (a kernel without
 * pkernfs, a rollback) or with another version would leave the preserved
 * devices to be stopped at kexec.
 */
static void check_handover(struct kcheck *k, const char *kernel, const struct kimage_note *note,
			   const char *cmdline, int arm, int state)
{
	uint64_t ours;

	if (read_sysfs_u64(IOMMU_PARAMS "handover_version", &ours)) {
		verdict(k, 0, "iommu", "this kernel has no IOMMU handover (%s)%s",
			IOMMU_PARAMS "handover_version", arm ? ": nothing to arm" : "");
		return;
	}
	if (!note->iommu_handover)
		verdict(k, 0, "iommu", "%s: no IOMMU handover note: it cannot adopt the IOMMU "
			"state, and preserved devices would be stopped at kexec", kernel);
	else if (ours < note->iommu_oldest || ours > note->iommu_handover)
		verdict(k, 0, "iommu", "%s adopts IOMMU handover versions %u to %u; this kernel "
			"writes version %llu: preserved devices would be stopped at kexec", kernel,
			note->iommu_oldest, note->iommu_handover, (unsigned long long)ours);
	else
		verdict(k, 1, "iommu", "%s adopts IOMMU handover versions %u to %u, this kernel's "
			"%llu among them", kernel, note->iommu_oldest, note->iommu_handover,
			(unsigned long long)ours);
	/* With state, check_iommu() has said it already. */
	if (arm && !state && !cmdline_has_word(cmdline, "pkernfs_iommu.liveupdate=1"))
		verdict(k, 0, "iommu", "the next command line lacks pkernfs_iommu.liveupdate=1");
}

/*
 * --arm: let this kernel hand its IOMMU state to the loaded image at
 * kexec, only when every check passed; unarmed, shutdown stops every
 * preserved device instead.
 */
static void arm_handover(struct kcheck *k)
{
	int rc;

	if (k->failed) {
		verdict(k, 0, "arm", "not armed: at kexec the preserved devices will be stopped");
		write_sysfs(IOMMU_PARAMS "armed", "0");
		return;
	}
	rc = write_sysfs(IOMMU_PARAMS "armed", "1");
	if (rc)
		verdict(k, 0, "arm", "cannot arm the handover (%s): is the next kernel loaded "
			"(kexec -l)?", strerror(-rc));
	else
		verdict(k, 1, "arm", "armed: at kexec the loaded image takes over the preserved "
			"devices' translation");
}

/* @t: the device's metadata, already open. */
static void check_image(struct kcheck *k, const char *dev, struct target *t,
			const struct kimage_note *note, int have_note)
{
	const struct pkernfs_super *sb = (const void *)t->map;
	struct pkernfs_fsck f = { 0 };
	unsigned int major, minor;
	uint32_t incompat;
	int rc;

	major = le16_to_cpu(sb->s_major);
	minor = le16_to_cpu(sb->s_minor);
	incompat = le32_to_cpu(sb->s_feature_incompat);
	if (have_note)
		verdict(k, kimage_supports(note, major, incompat), "format",
			"%s: format %u.%u, incompat 0x%x: %s by the next kernel", dev, major,
			minor, incompat,
			kimage_supports(note, major, incompat) ? "mountable" : "NOT mountable");
	rc = pkernfs_fsck(&f, t->map, t->size);
	if (rc)
		verdict(k, 0, "state", "%s: fsck finds %u errors; the next mount may refuse it",
			dev, f.errors);
	else if (f.orphans)
		verdict(k, 0, "state", "%s: %llu unlinked files are still open; the next mount "
			"frees their data", dev, (unsigned long long)f.orphans);
	else
		verdict(k, 1, "state", "%s: clean; %llu inodes, %llu MiB of data, %llu kernel "
			"pages", dev, (unsigned long long)f.inodes,
			(unsigned long long)((f.used_aus << le32_to_cpu(sb->s_au_shift)) >> 20),
			(unsigned long long)f.kernel_pages);
}

int cmd_kexec_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "module", required_argument, NULL, 'm' },
		{ "arm", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *usage = "pkernfsctl kexec-check [--kernel IMAGE] [--initrd FILE] "
			    "[--append CMDLINE] [--module KO] [--arm] [-j]";
	const char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *module = NULL;
	struct kcheck k = { 0 };
	struct kimage_note note = { 0 };
	struct daxctl_region *region;
	struct daxctl_ctx *dctx;
	struct ndctl_ctx *nctx;
	struct daxctl_dev *dd;
	struct json_object *j;
	char defkernel[300], cmd[6144];
	int c, have_note, n = 0, arm = 0, iommu_state = 0;
	struct utsname u;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:i:a:m:Ajvh", lo, NULL)) != -1) {
		switch (c) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'a': cmdline = optarg; break;
		case 'm': module = optarg; break;
		case 'A': arm = 1; break;
		case 'j': k.json = 1; break;
		case 'v': verbose = 1; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		default: err("usage: %s", usage); return 2;
		}
	}
	if (optind != argc) {
		err("usage: %s", usage);
		return 2;
	}
	if (!kernel && !uname(&u)) {
		snprintf(defkernel, sizeof(defkernel), "/boot/vmlinuz-%s", u.release);
		kernel = access(defkernel, R_OK) ? "/boot/bzImage" : defkernel;
	}
	if (!cmdline)
		cmdline = slurp_cmdline();
	if (!cmdline) {
		err("cannot read /proc/cmdline; pass --append");
		return 2;
	}
	if (daxctl_new(&dctx) || ndctl_new(&nctx)) {
		err("cannot open libdaxctl/libndctl");
		return 2;
	}
	k.checks = json_object_new_array();

	if (!read_sysfs_u64("/proc/sys/kernel/kexec_load_disabled", &v) && v)
		verdict(&k, 0, "kexec", "kexec_load_disabled is set: this kernel cannot kexec");
	if (initrd && access(initrd, R_OK))
		verdict(&k, 0, "initrd", "cannot read %s: %s", initrd, strerror(errno));
	check_kernel(&k, kernel, module, &note, &have_note);
	/* kexec-tools refuses a longer one with nothing but "Cannot load". */
	if (note.cmdline_max && strlen(cmdline) + 1 > note.cmdline_max)
		verdict(&k, 0, "cmdline", "the next command line is %zu bytes; %s takes at most %u",
			strlen(cmdline), kernel, note.cmdline_max - 1);

	daxctl_region_foreach(dctx, region) {
		daxctl_dev_foreach(region, dd) {
			const char *name = daxctl_dev_get_devname(dd);
			const struct pkernfs_super *sb;
			const char *why = NULL;
			struct nd_info nd;
			int serr;
			struct target t;
			char drv[64];

			if (!daxctl_dev_get_size(dd))
				continue;
			if (open_target(&t, name, NULL, TARGET_QUIET)) {
				if (dev_driver(name, drv, sizeof(drv)) && !strcmp(drv, "dax_pkernfs"))
					verdict(&k, 0, "state", "%s: cannot read its metadata", name);
				continue;
			}
			sb = (const void *)t.map;
			if (le64_to_cpu(sb->s_magic) != PKERNFS_MAGIC) {
				if (t.snapshot)	/* held by dax_pkernfs */
					verdict(&k, 0, "state", "%s: bound to dax_pkernfs but holds "
						"no pkernfs", name);
				close_target(&t);
				continue;
			}
			n++;
			nd_lookup(nctx, daxctl_region_get_id(region), &nd);
			if (verbose)
				fprintf(stderr, "pkernfsctl: %s: %s on %s (provider %s), "
					"0x%llx + 0x%llx\n", name, nd.ns, nd.region, nd.provider,
					(unsigned long long)nd.start, (unsigned long long)nd.size);
			check_description(&k, name, &nd, cmdline, initrd);
			check_image(&k, name, &t, &note, have_note);
			/* Tables are read only where a valid superblock puts them. */
			serr = pkernfs_super_check(sb, t.size, &why);
			if (!serr || serr == -EROFS) {
				iommu_state |= check_iommu(&k, name, sb, t.map, cmdline);
				check_memory(&k, name, sb, t.map);
			}
			check_claim(&k, name, daxctl_dev_get_resource(dd), cmdline);
			close_target(&t);
		}
	}
	if (!n)
		verdict(&k, 1, "devices", "no pkernfs on any dax device: nothing to keep");

	/* Single quotes: memmap=nn$ss must reach kexec as written. */
	snprintf(cmd, sizeof(cmd), "kexec -l %s%s%s --command-line='%s' && kexec -e", kernel,
		 initrd ? " --initrd=" : "", initrd ? initrd : "", cmdline);
	if (strchr(cmdline, '\''))
		verdict(&k, 0, "cmdline", "the command line holds a single quote; quote it yourself");
	if (iommu_state || arm)
		check_handover(&k, kernel, &note, cmdline, arm, iommu_state);
	if (arm)
		arm_handover(&k);
	if (k.json) {
		j = json_object_new_object();
		json_object_object_add(j, "ready", json_object_new_boolean(!k.failed));
		json_object_object_add(j, "pkernfs_devices", json_object_new_int(n));
		json_object_object_add(j, "checks", k.checks);
		if (!k.failed)
			json_object_object_add(j, "command", json_object_new_string(cmd));
		print_json(j, 0);
	} else {
		json_object_put(k.checks);
		if (k.failed)
			printf("NOT READY: %d check(s) failed; do not kexec\n", k.failed);
		else
			printf("ready; run:\n  %s\nthen, in the new kernel, for each device: "
			       "pkernfsctl enable DEV && mount -t pkernfs DEV DIR\n", cmd);
	}
	ndctl_unref(nctx);
	daxctl_unref(dctx);
	return k.failed ? 1 : 0;
}
