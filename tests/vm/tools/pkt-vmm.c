// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-vmm: what a VMM does to keep a passthrough device's DMA going
 * through a live update, with iommufd and the VFIO cdev, on QEMU's edu
 * device. Guest RAM is a pkernfs file mapped shared.
 *
 *   pkt-vmm persist BDF FILE LEN IOVA STATE [options]
 *	bind BDF's VFIO cdev to /dev/iommu (IOMMU_GET_HW_INFO must report
 *	IOMMU_HW_CAP_DMA_PRESERVE), map FILE's first LEN bytes at IOVA in an
 *	IOAS, IOMMU_HWPT_ALLOC it with IOMMU_HWPT_ALLOC_PRESERVE, save the
 *	kernel's token in the file STATE (as a VMM saves its state), attach,
 *	and DMA both ways (file page 0 -> edu -> page 1)
 *   pkt-vmm restore BDF FILE LEN IOVA STATE NEWSTATE [options]
 *	after kexec: bind (no reset), map FILE again at IOVA in a new IOAS,
 *	IOMMU_HWPT_ALLOC with IOMMU_HWPT_DATA_RESTORE of the token in STATE
 *	(or STATE itself if it is a number), save the new token in NEWSTATE,
 *	attach (the handed-over tables are taken over in place), DMA both
 *	ways (page 0 -> page 2)
 *
 * options:
 *   --plain		HWPT_ALLOC instead of PERSIST (the control), attached
 *			before the map, so the map pins at once
 *   --anon		map anonymous memory instead of FILE (must be refused)
 *   --pkfd PATH	the pkernfs_fd argument (default FILE)
 *   --seed N		the pattern of the round trip (default 1)
 *   --kexec PAGE	then start an edu DMA to file page PAGE and kexec at
 *			once, with every fd still open
 *   --expect-master	fail if bus mastering is off when the cdev is opened
 *   --upgrade		persist: start on an ordinary HWPT, DMA, then PERSIST a
 *			new HWPT from the same IOAS and attach it (replaced in
 *			place), as for a VM already running
 *   --unmark		at the end, IOMMU_OPTION_HWPT_PRESERVE 0: not handed over
 *   --ro		map FILE read-only (opened O_RDONLY, PROT_READ)
 *   --drop-priv		just before PERSIST, with every fd open and guest RAM
 *			mapped, become uid and gid 65534 (a VMM handed its
 *			fds by a privileged manager)
 *   --drop-cap		likewise, but stay uid 0 and drop CAP_SYS_ADMIN only
 *			(a container's root)
 *   --drop-early	drop privilege (as chosen above) before the VFIO cdev
 *			is bound rather than just before PERSIST
 *   --userns		likewise, but move into a new user namespace, where
 *			it holds every capability of that namespace only;
 *			exits 77 if the kernel has no user namespaces
 *   --map-after FILE2@IOVA2
 *			persist: once the persistent HWPT is attached, map
 *			FILE2's first LEN bytes at IOVA2 too (IOAS_MAP after
 *			PERSIST), and DMA page 0 -> edu -> FILE2's page 1
 *   --attach-other BDF2	restore: first try to attach the restoring HWPT to
 *			BDF2 (bound to vfio-pci, on the same iommufd), which
 *			the last kernel did not hand over under that token:
 *			it must be refused
 *   --restore-twice	restore: destroy the first restoring HWPT before
 *			attaching it, and allocate it again (the device still
 *			walks the old tables meanwhile)
 *
 *   pkt-vmm info BDF
 *	bind BDF's VFIO cdev and print what IOMMU_GET_HW_INFO says
 *
 * Kernels of format 1.1 and 1.2 had private ioctls instead
 * (IOMMU_HWPT_PKERNFS_*, numbers 0xb0-0xb2 of iommufd's type): where
 * IOMMU_HWPT_ALLOC refuses IOMMU_HWPT_ALLOC_PRESERVE with EOPNOTSUPP this
 * VMM uses those, with a token of its own, so that it works on both sides
 * of an upgrade or a rollback.
 *
 * Exit: 0, or 1 with the failing step and its errno on stderr; a refused
 * ioctl prints "refused: STEP: ERRNAME" and exits 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/iommufd.h>
#include <linux/reboot.h>
#include <linux/vfio.h>
#include "pkt-pattern.h"

#define PAGE		PKT_PAGE
#define XFER		PKT_XFER
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_BUF		0x40000

static int iommufd = -1, devfd = -1, expect_master;
static volatile uint8_t *bar;
static uint8_t *ram;

static void die(const char *step)
{
	fprintf(stderr, "pkt-vmm: %s: %s\n", step, strerror(errno));
	exit(1);
}

static void refused(const char *step)
{
	printf("refused: %s: %s (%d)\n", step, strerror(errno), errno);
	exit(3);
}

static void reg(unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(bar + off) = v;
}

/* wait: 0 start only, 1 start and wait, 2 only wait for the one running */
static int edu_dma(uint64_t src, uint64_t dst, int to_ram, int wait)
{
	int i;

	if (wait != 2) {
		reg(EDU_DMA_SRC, src);
		reg(EDU_DMA_DST, dst);
		reg(EDU_DMA_CNT, XFER);
		reg(EDU_DMA_CMD, 1 | (to_ram ? 2 : 0));
	}
	for (i = 0; wait && i < 500; i++) {
		if (!(*(volatile uint64_t *)(bar + EDU_DMA_CMD) & 1))
			return 0;
		usleep(10000);
	}
	return wait ? -1 : 0;
}

/* file page 0 (pattern) -> edu -> page @dst; 0 if the pattern arrived */
static int round_trip(uint64_t iova, unsigned int dst, unsigned long seed)
{
	uint8_t want[PAGE];

	pkt_pattern(want, seed);
	memcpy(ram, want, PAGE);
	if (edu_dma(iova, EDU_BUF, 0, 1) || edu_dma(EDU_BUF, iova + dst * PAGE, 1, 1)) {
		fprintf(stderr, "pkt-vmm: edu DMA timed out\n");
		return 1;
	}
	if (memcmp(ram + dst * PAGE, want, XFER)) {
		fprintf(stderr, "pkt-vmm: DMA round trip to page %u: pattern %lu missing\n",
			dst, seed);
		return 1;
	}
	printf("DMA both ways: page 0 -> edu -> page %u, pattern %lu\n", dst, seed);
	return 0;
}

/* As a guest driver would: memory decoding and bus mastering on. */
static void set_master(void)
{
	struct vfio_region_info ci = { .argsz = sizeof(ci), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t cmd;

	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &ci))
		die("VFIO_DEVICE_GET_REGION_INFO (config)");
	if (pread(devfd, &cmd, sizeof(cmd), ci.offset + 4) != sizeof(cmd))
		die("read PCI_COMMAND");
	printf("PCI_COMMAND %#x at open (bus master %s)\n", cmd, cmd & 4 ? "on" : "off");
	if (expect_master && !(cmd & 4)) {
		fprintf(stderr, "pkt-vmm: bus mastering was turned off before the VMM got the device\n");
		exit(1);
	}
	cmd |= 0x6;
	if (pwrite(devfd, &cmd, sizeof(cmd), ci.offset + 4) != sizeof(cmd))
		die("write PCI_COMMAND");
}

/* The VFIO cdev of @bdf, open. */
static int open_cdev(const char *bdf)
{
	char path[256], name[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "ls /sys/bus/pci/devices/%s/vfio-dev/ 2>/dev/null", bdf);
	f = popen(path, "r");
	if (!f || !fgets(name, sizeof(name), f)) {
		errno = ENODEV;
		die("no VFIO cdev (is the device bound to vfio-pci?)");
	}
	pclose(f);
	name[strcspn(name, "\n")] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die(path);
	return fd;
}

static void open_device(const char *bdf, uint32_t *dev_id)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };

	devfd = open_cdev(bdf);
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		die("/dev/iommu");
	bind.iommufd = iommufd;
	if (ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		refused("VFIO_DEVICE_BIND_IOMMUFD");
	*dev_id = bind.out_devid;
	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("VFIO_DEVICE_GET_REGION_INFO");
	bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, devfd, ri.offset);
	if (bar == MAP_FAILED)
		die("mmap BAR0");
	set_master();
}

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		die("IOMMU_IOAS_ALLOC");
	return a.out_ioas_id;
}

static int read_only;

static uint8_t *map_file(uint32_t ioas, const char *file, uint64_t len, uint64_t iova,
			 int anon)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = ioas, .length = len, .iova = iova,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 (read_only ? 0 : IOMMU_IOAS_MAP_WRITEABLE),
	};
	uint8_t *p;
	int fd = -1;

	if (!anon) {
		fd = open(file, read_only ? O_RDONLY : O_RDWR);
		if (fd < 0)
			die(file);
	}
	p = mmap(NULL, len, PROT_READ | (read_only ? 0 : PROT_WRITE),
		 anon ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap guest RAM");
	m.user_va = (uintptr_t)p;
	if (ioctl(iommufd, IOMMU_IOAS_MAP, &m))
		refused("IOMMU_IOAS_MAP");
	return p;
}

static void map_ram(uint32_t ioas, const char *file, uint64_t len, uint64_t iova, int anon)
{
	ram = map_file(ioas, file, len, iova, anon);
}

/* IOAS_MAP after PERSIST: @file2 at @iova2 reaches the persistent domain too. */
static int map_after(uint32_t ioas, const char *spec, uint64_t len, uint64_t iova,
		     unsigned long seed)
{
	char file2[256], *at;
	uint64_t iova2;
	uint8_t *ram2;

	snprintf(file2, sizeof(file2), "%s", spec);
	at = strrchr(file2, '@');
	if (!at) {
		fprintf(stderr, "pkt-vmm: --map-after FILE2@IOVA2\n");
		return 1;
	}
	*at = 0;
	iova2 = strtoull(at + 1, NULL, 0);
	ram2 = map_file(ioas, file2, len, iova2, 0);
	if (edu_dma(iova, EDU_BUF, 0, 1) || edu_dma(EDU_BUF, iova2 + PAGE, 1, 1) ||
	    memcmp(ram2 + PAGE, ram, XFER)) {
		fprintf(stderr, "pkt-vmm: DMA to %s (IOVA %#llx) did not land\n", file2,
			(unsigned long long)iova2 + PAGE);
		return 1;
	}
	printf("mapped %s at %#llx after PERSIST: DMA page 0 -> edu -> its page 1, pattern %lu\n",
	       file2, (unsigned long long)iova2, seed);
	return 0;
}

static int drop_mode;	/* 'd' uid 65534, 'c' no CAP_SYS_ADMIN, 'n' user namespace */

static void drop_privilege(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	static int dropped;

	if (dropped++)
		return;
	switch (drop_mode) {
	case 'd':
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			die("become uid 65534");
		break;
	case 'c':
		if (syscall(SYS_capget, &h, d))
			die("capget");
		d[0].effective &= ~(1u << CAP_SYS_ADMIN);
		d[0].permitted &= ~(1u << CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &h, d))
			die("capset without CAP_SYS_ADMIN");
		break;
	case 'n':
		if (unshare(CLONE_NEWUSER)) {
			if (errno == EINVAL) {
				printf("skip: this kernel has no user namespaces (CONFIG_USER_NS)\n");
				exit(77);
			}
			die("unshare(CLONE_NEWUSER)");
		}
		break;
	default:
		return;
	}
	printf("dropped privilege (%s), uid %d\n", drop_mode == 'd' ? "uid 65534" :
	       drop_mode == 'c' ? "no CAP_SYS_ADMIN" : "new user namespace", (int)getuid());
}

/* The 1.1/1.2 kernels' uAPI, for a VMM that must run on them too. */
struct legacy_hwpt {
	uint32_t size, flags, dev_id, pt_id;
	int32_t pkernfs_fd;
	uint32_t out_hwpt_id;
	uint64_t token;
};

struct legacy_unmark {
	uint32_t size, flags, hwpt_id, reserved;
};

#define LEGACY_PERSIST	_IO(';', 0xb0)
#define LEGACY_RESTORE	_IO(';', 0xb1)
#define LEGACY_UNMARK	_IO(';', 0xb2)

static int legacy;		/* the running kernel has only the old ioctls */
static uint32_t legacy_restored;	/* its restored HWPT, replaced and destroyed */

static uint32_t legacy_persist(uint32_t dev_id, uint32_t ioas, int pkfd, uint64_t *token)
{
	struct legacy_hwpt p = {
		.size = sizeof(p), .dev_id = dev_id, .pt_id = ioas, .pkernfs_fd = pkfd,
	};

	/* Tokens were the caller's then. */
	if (getentropy(&p.token, sizeof(p.token)))
		die("getentropy");
	p.token |= 1;
	if (ioctl(iommufd, LEGACY_PERSIST, &p))
		refused("IOMMU_HWPT_PKERNFS_PERSIST");
	*token = p.token;
	return p.out_hwpt_id;
}

/* A VMM's saved state: the token, as the kernel made it. */
static void save_token(const char *state, uint64_t token)
{
	FILE *f = fopen(state, "w");

	if (!f || fprintf(f, "%#llx\n", (unsigned long long)token) < 0 || fclose(f))
		die(state);
}

static uint64_t load_token(const char *state)
{
	unsigned long long token;
	FILE *f;

	if (state[0] >= '0' && state[0] <= '9')
		return strtoull(state, NULL, 0);
	f = fopen(state, "r");
	if (!f || fscanf(f, "%llx", &token) != 1)
		die(state);
	fclose(f);
	return token;
}

/* Discovery, as iommufd offers it. */
static void hw_info(uint32_t dev_id)
{
	struct iommu_hw_info h = { .size = sizeof(h), .dev_id = dev_id };

	if (ioctl(iommufd, IOMMU_GET_HW_INFO, &h))
		die("IOMMU_GET_HW_INFO");
	printf("IOMMU_GET_HW_INFO: capabilities %#llx, DMA preserve %s\n",
	       (unsigned long long)h.out_capabilities,
	       h.out_capabilities & IOMMU_HW_CAP_DMA_PRESERVE ? "yes" : "no");
}

/* IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_PRESERVE; restore if @token. */
static uint32_t alloc_preserved(uint32_t dev_id, uint32_t ioas, int pkfd, uint64_t token,
				uint64_t *out_token)
{
	struct iommu_hwpt_preserve p = { .pkernfs_fd = pkfd };
	struct iommu_hwpt_restore r = { .pkernfs_fd = pkfd, .token = token };
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a), .dev_id = dev_id, .pt_id = ioas,
		.flags = IOMMU_HWPT_ALLOC_PRESERVE,
		.data_type = token ? IOMMU_HWPT_DATA_RESTORE : IOMMU_HWPT_DATA_PRESERVE,
		.data_len = token ? sizeof(r) : sizeof(p),
		.data_uptr = token ? (uintptr_t)&r : (uintptr_t)&p,
	};

	if (!legacy && ioctl(iommufd, IOMMU_HWPT_ALLOC, &a)) {
		struct legacy_unmark probe = { .size = sizeof(probe) };
		int err = errno;

		/* Only a kernel that knows the old ioctls: ENOENT for HWPT 0. */
		if (err != EOPNOTSUPP || (!ioctl(iommufd, LEGACY_UNMARK, &probe) ||
					  errno == ENOTTY)) {
			errno = err;
			refused(token ? "IOMMU_HWPT_ALLOC(RESTORE)" : "IOMMU_HWPT_ALLOC(PRESERVE)");
		}
		legacy = 1;
		printf("IOMMU_HWPT_ALLOC_PRESERVE: not supported, the 1.1/1.2 ioctls instead\n");
	}
	if (!legacy) {
		*out_token = token ? r.out_token : p.out_token;
		return a.out_hwpt_id;
	}
	if (token) {
		struct legacy_hwpt lr = {
			.size = sizeof(lr), .dev_id = dev_id, .pt_id = ioas,
			.pkernfs_fd = pkfd, .token = token,
		};
		struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

		/* Wrap the old tables, attach them, then persist a successor. */
		if (ioctl(iommufd, LEGACY_RESTORE, &lr))
			refused("IOMMU_HWPT_PKERNFS_RESTORE");
		at.pt_id = lr.out_hwpt_id;
		if (ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
			die("attach the restored HWPT");
		legacy_restored = lr.out_hwpt_id;
	}
	return legacy_persist(dev_id, ioas, pkfd, out_token);
}

static uint32_t persist(uint32_t dev_id, uint32_t ioas, int pkfd, const char *state, int plain)
{
	struct iommu_hwpt_alloc a = { .size = sizeof(a), .dev_id = dev_id, .pt_id = ioas };
	uint64_t token;
	uint32_t hwpt;

	if (plain) {
		if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &a))
			die("IOMMU_HWPT_ALLOC");
		return a.out_hwpt_id;
	}
	drop_privilege();
	hwpt = alloc_preserved(dev_id, ioas, pkfd, 0, &token);
	save_token(state, token);
	printf("persistent HWPT %u, token %#llx\n", hwpt, (unsigned long long)token);
	return hwpt;
}

/* A hostile or confused VMM: the restoring HWPT on the wrong device. */
static int attach_other(const char *bdf2, uint32_t hwpt)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = iommufd };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = hwpt };
	int fd = open_cdev(bdf2);

	errno = 0;
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die("VFIO_DEVICE_BIND_IOMMUFD of the other device");
	if (!ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) || errno != ENODEV) {
		fprintf(stderr, "pkt-vmm: the restoring HWPT on %s: %s, not ENODEV\n", bdf2,
			errno ? strerror(errno) : "attached");
		return 1;
	}
	printf("attaching the restoring HWPT to %s: refused: %s\n", bdf2, strerror(errno));
	close(fd);
	return 0;
}

static void attach(uint32_t hwpt, const char *what)
{
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = hwpt };

	if (ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		die(what);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "plain", no_argument, NULL, 'p' },
		{ "anon", no_argument, NULL, 'a' },
		{ "pkfd", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "kexec", required_argument, NULL, 'k' },
		{ "expect-master", no_argument, NULL, 'm' },
		{ "upgrade", no_argument, NULL, 'u' },
		{ "unmark", no_argument, NULL, 'x' },
		{ "restore-twice", no_argument, NULL, 't' },
		{ "attach-other", required_argument, NULL, 'O' },
		{ "ro", no_argument, NULL, 'r' },
		{ "drop-priv", no_argument, NULL, 'd' },
		{ "drop-cap", no_argument, NULL, 'c' },
		{ "userns", no_argument, NULL, 'n' },
		{ "map-after", required_argument, NULL, 'A' },
		{ "drop-early", no_argument, NULL, 'E' },
		{}
	};
	int plain = 0, anon = 0, kexec_page = -1, c, pkfd, restore, upgrade = 0, unmark = 0;
	int twice = 0, drop_early = 0;
	const char *pkpath = NULL, *bdf, *file, *after = NULL, *state, *newstate = NULL;
	const char *other = NULL;
	unsigned long seed = 1;
	uint64_t len, iova, token = 0;
	uint32_t dev_id, ioas, hwpt;

	/* A test reads the steps line by line, up to the kexec. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': plain = 1; break;
		case 'a': anon = 1; break;
		case 'f': pkpath = optarg; break;
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'k': kexec_page = atoi(optarg); break;
		case 'm': expect_master = 1; break;
		case 'u': upgrade = 1; break;
		case 'x': unmark = 1; break;
		case 't': twice = 1; break;
		case 'O': other = optarg; break;
		case 'r': read_only = 1; break;
		case 'd':
		case 'c':
		case 'n': drop_mode = c; break;
		case 'A': after = optarg; break;
		case 'E': drop_early = 1; break;
		default: return 2;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc == 2 && !strcmp(argv[0], "info")) {
		open_device(argv[1], &dev_id);
		hw_info(dev_id);
		return 0;
	}
	restore = argc == 7 && !strcmp(argv[0], "restore");
	if (!restore && !(argc == 6 && !strcmp(argv[0], "persist"))) {
		fprintf(stderr, "usage: see the comment at the top of tests/vm/tools/pkt-vmm.c\n");
		return 2;
	}
	bdf = argv[1];
	file = argv[2];
	len = strtoull(argv[3], NULL, 0);
	iova = strtoull(argv[4], NULL, 0);
	state = argv[5];
	if (restore) {
		token = load_token(state);
		newstate = argv[6];
	}
	pkfd = open(pkpath ? pkpath : file, O_RDONLY);
	if (pkfd < 0)
		die(pkpath ? pkpath : file);

	if (drop_early)
		drop_privilege();
	open_device(bdf, &dev_id);
	hw_info(dev_id);
	ioas = ioas_alloc();
	if (restore) {
		struct iommu_destroy d = { .size = sizeof(d) };
		uint64_t newtoken;
		uint8_t want[PAGE];

		/* The same files at the same IOVAs: the new HWPT must cover the old. */
		map_ram(ioas, file, len, iova, anon);
		hwpt = alloc_preserved(dev_id, ioas, pkfd, token, &newtoken);
		if (twice && !legacy) {
			d.id = hwpt;
			if (ioctl(iommufd, IOMMU_DESTROY, &d))
				die("IOMMU_DESTROY of the unattached restoring HWPT");
			hwpt = alloc_preserved(dev_id, ioas, pkfd, token, &newtoken);
			printf("allocated, destroyed unattached, allocated again\n");
		}
		save_token(newstate, newtoken);
		printf("HWPT %u restores token %#llx, preserved as %#llx\n", hwpt,
		       (unsigned long long)token, (unsigned long long)newtoken);
		if (other && attach_other(other, hwpt))
			return 1;
		/*
		 * A DMA through the handed-over tables, started just before the
		 * attach: it runs after the take-over, through the new domain.
		 */
		pkt_pattern(want, seed + 100);
		memcpy(ram, want, PAGE);
		if (edu_dma(iova, EDU_BUF, 0, 1) || edu_dma(EDU_BUF, iova + 4 * PAGE, 1, 0))
			die("DMA before the take-over");
		attach(hwpt, "attach the restoring HWPT");
		if (legacy_restored) {
			d.id = legacy_restored;
			if (ioctl(iommufd, IOMMU_DESTROY, &d))
				die("IOMMU_DESTROY of the restored HWPT");
			printf("replaced restored HWPT %u in place and destroyed it\n", legacy_restored);
		}
		if (edu_dma(0, 0, 0, 2) || memcmp(ram + 4 * PAGE, want, XFER)) {
			fprintf(stderr, "pkt-vmm: the DMA started before the take-over did not land\n");
			return 1;
		}
		printf("a DMA started before the take-over landed after it (page 4, pattern %lu)\n",
		       seed + 100);
		if (round_trip(iova, 2, seed))
			return 1;
	} else if (upgrade) {
		struct iommu_destroy d = { .size = sizeof(d) };
		uint32_t old = persist(dev_id, ioas, pkfd, state, 1);

		attach(old, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		map_ram(ioas, file, len, iova, anon);
		if (round_trip(iova, 1, seed))
			return 1;
		hwpt = persist(dev_id, ioas, pkfd, state, 0);
		attach(hwpt, "replace the ordinary HWPT by the persistent one");
		d.id = old;
		if (ioctl(iommufd, IOMMU_DESTROY, &d))
			die("IOMMU_DESTROY of the ordinary HWPT");
		printf("replaced HWPT %u by persistent %u and destroyed it\n", old, hwpt);
		if (round_trip(iova, 3, seed))
			return 1;
	} else if (plain) {
		/* Attached first, so the map pins at once (FOLL_LONGTERM). */
		hwpt = persist(dev_id, ioas, pkfd, state, plain);
		attach(hwpt, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		map_ram(ioas, file, len, iova, anon);
		printf("IOMMU_IOAS_MAP pinned %s\n", anon ? "anonymous memory" : file);
		if (round_trip(iova, 1, seed))
			return 1;
	} else {
		map_ram(ioas, file, len, iova, anon);
		hwpt = persist(dev_id, ioas, pkfd, state, plain);
		attach(hwpt, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		if (round_trip(iova, 1, seed))
			return 1;
		if (after && map_after(ioas, after, len, iova, seed))
			return 1;
	}
	if (unmark && legacy) {
		struct legacy_unmark u = { .size = sizeof(u), .hwpt_id = hwpt };

		if (ioctl(iommufd, LEGACY_UNMARK, &u))
			refused("IOMMU_HWPT_PKERNFS_UNMARK");
		printf("HWPT %u unmarked\n", hwpt);
	} else if (unmark) {
		struct iommu_option o = {
			.size = sizeof(o), .option_id = IOMMU_OPTION_HWPT_PRESERVE,
			.op = IOMMU_OPTION_OP_GET, .object_id = hwpt,
		};

		if (ioctl(iommufd, IOMMU_OPTION, &o))
			refused("IOMMU_OPTION_HWPT_PRESERVE get");
		printf("HWPT %u is handed over as %#llx\n", hwpt, (unsigned long long)o.val64);
		o.op = IOMMU_OPTION_OP_SET;
		o.val64 = 0;
		if (ioctl(iommufd, IOMMU_OPTION, &o))
			refused("IOMMU_OPTION_HWPT_PRESERVE set 0");
		o.op = IOMMU_OPTION_OP_GET;
		if (ioctl(iommufd, IOMMU_OPTION, &o) || o.val64)
			die("IOMMU_OPTION_HWPT_PRESERVE still set");
		printf("HWPT %u unmarked\n", hwpt);
	}
	if (kexec_page < 0)
		return 0;
	/* The buffer still holds the pattern: send it to a page never touched. */
	edu_dma(EDU_BUF, iova + (uint64_t)kexec_page * PAGE, 1, 0);
	sync();
	reboot(LINUX_REBOOT_CMD_KEXEC);
	die("reboot(KEXEC)");
}
