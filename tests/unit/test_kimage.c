// SPDX-License-Identifier: GPL-2.0-only
/*
 * kexec-check's view of the next kernel: the format note found in raw,
 * gzip, xz and zstd images and inside a bzImage built here by the boot
 * protocol's rules; the compatibility rule; memmap= on a command line.
 */
#define UNIT_MAIN
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include "unit.h"
#include "kimage.h"

#define NOTE "PKERNFS_FORMAT_NOTE major=1 minor=3 incompat=0x5u"

/* A fake vmlinux: noise, the note somewhere in the middle, more noise. */
static uint8_t *vmlinux(size_t *len)
{
	uint8_t *p = malloc(1 << 20);
	size_t i;

	for (i = 0; i < (1 << 20); i++)
		p[i] = (uint8_t)(i * 2654435761u >> 13);
	memcpy(p + 700001, NOTE, sizeof(NOTE));
	*len = 1 << 20;
	return p;
}

static uint8_t *gz(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	uint8_t *out = malloc(len + 1024);

	deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (uint8_t *)in;
	zs.avail_in = len;
	zs.next_out = out;
	zs.avail_out = len + 1024;
	deflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static uint8_t *xz(const uint8_t *in, size_t len, size_t *out_len)
{
	uint8_t *out = malloc(len + 4096);

	*out_len = 0;
	lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, in, len, out, out_len, len + 4096);
	return out;
}

static uint8_t *zst(const uint8_t *in, size_t len, size_t *out_len)
{
	uint8_t *out = malloc(ZSTD_compressBound(len));

	*out_len = ZSTD_compress(out, ZSTD_compressBound(len), in, len, 3);
	return out;
}

/* setup_sects 3, so the protected-mode part starts at 2048; payload at +100. */
static uint8_t *bzimage(const uint8_t *payload, size_t plen, size_t *len, uint32_t lie)
{
	size_t off = 4 * 512 + 100;
	uint8_t *p = calloc(1, off + plen + 64);
	uint32_t v;

	p[0x1f1] = 3;
	memcpy(p + 0x202, "HdrS", 4);
	p[0x206] = 0x0f;	/* boot protocol 2.15 */
	p[0x207] = 0x02;
	v = htole32(2047);
	memcpy(p + 0x238, &v, 4);
	v = htole32(100);
	memcpy(p + 0x248, &v, 4);
	v = htole32(plen + lie);
	memcpy(p + 0x24c, &v, 4);
	memcpy(p + off, payload, plen);
	*len = off + plen + 64;
	return p;
}

static void expect_note(int *unit_failed, const uint8_t *img, size_t len,
			const char *container, const char *compression)
{
	struct kimage_note n;

	EXPECT_EQ(kimage_find_note(img, len, &n), 0);
	EXPECT_EQ(n.major, 1);
	EXPECT_EQ(n.minor, 3);
	EXPECT_EQ(n.incompat, 5);
	EXPECT(!strcmp(n.container, container));
	EXPECT(compression ? n.compression && !strcmp(n.compression, compression) :
			     !n.compression);
}

TEST(note_in_raw_and_compressed_images)
{
	uint8_t *raw, *c;
	size_t len, clen;

	raw = vmlinux(&len);
	expect_note(unit_failed, raw, len, "raw", NULL);
	c = gz(raw, len, &clen);
	expect_note(unit_failed, c, clen, "raw", "gzip");
	free(c);
	c = xz(raw, len, &clen);
	expect_note(unit_failed, c, clen, "raw", "xz");
	free(c);
	c = zst(raw, len, &clen);
	expect_note(unit_failed, c, clen, "raw", "zstd");
	free(c);
	free(raw);
}

TEST(note_in_bzimage_payload)
{
	uint8_t *raw, *c, *bz;
	size_t len, clen, blen;
	struct kimage_note n;

	raw = vmlinux(&len);
	c = gz(raw, len, &clen);
	bz = bzimage(c, clen, &blen, 0);
	expect_note(unit_failed, bz, blen, "bzImage", "gzip");
	EXPECT_EQ(kimage_find_note(bz, blen, &n), 0);
	EXPECT_EQ(n.cmdline_max, 2047);
	/* Before protocol 2.06 the loader only warns: not known. */
	bz[0x206] = 0x05;
	EXPECT_EQ(kimage_find_note(bz, blen, &n), 0);
	EXPECT_EQ(n.cmdline_max, 0);
	free(bz);
	/* A payload length pointing past the end of the file is refused. */
	bz = bzimage(c, clen, &blen, 1 << 20);
	EXPECT_EQ(kimage_find_note(bz, blen, &n), -1);
	EXPECT(strstr(n.why, "outside"));
	free(bz);
	free(c);
	c = zst(raw, len, &clen);
	bz = bzimage(c, clen, &blen, 0);
	expect_note(unit_failed, bz, blen, "bzImage", "zstd");
	free(bz);
	free(c);
	free(raw);
}

TEST(no_note_and_broken_streams)
{
	uint8_t *raw, *c;
	size_t len, clen;
	struct kimage_note n;

	raw = vmlinux(&len);
	memset(raw + 700001, 'x', 8);	/* break the tag */
	EXPECT_EQ(kimage_find_note(raw, len, &n), -1);
	EXPECT(strstr(n.why, "no pkernfs format note"));
	free(raw);

	raw = vmlinux(&len);
	c = gz(raw, len, &clen);
	memset(c + 20, 0xff, 64);	/* a corrupt deflate stream */
	EXPECT_EQ(kimage_find_note(c, clen, &n), -1);
	free(c);
	free(raw);
}

/* The IOMMU handover note, read alongside the format note or without it. */
TEST(iommu_handover_note)
{
	static const char iommu[] = "PKERNFS_IOMMU_NOTE handover=2 modes=legacy";
	struct kimage_note n;
	uint8_t *raw, *c;
	size_t len, clen;

	raw = vmlinux(&len);
	EXPECT_EQ(kimage_find_note(raw, len, &n), 0);
	EXPECT_EQ(n.iommu_handover, 0);		/* none: a kernel without it */
	memcpy(raw + 300007, iommu, sizeof(iommu));
	c = xz(raw, len, &clen);
	EXPECT_EQ(kimage_find_note(c, clen, &n), 0);
	EXPECT_EQ(n.iommu_handover, 2);
	EXPECT_EQ(n.major, 1);
	free(c);
	/* Without the format note the handover version is still known. */
	memset(raw + 700001, 'x', 8);
	EXPECT_EQ(kimage_find_note(raw, len, &n), -1);
	EXPECT_EQ(n.iommu_handover, 2);
	EXPECT_EQ(n.iommu_oldest, 2);	/* no oldest=: only its own */
	/* A kernel that adopts older versions too says from which. */
	memcpy(raw + 300007, "PKERNFS_IOMMU_NOTE handover=3 oldest=1 modes=legacy", 52);
	kimage_find_note(raw, len, &n);
	EXPECT_EQ(n.iommu_handover, 3);
	EXPECT_EQ(n.iommu_oldest, 1);
	/* An oldest newer than the newest, or none, is no note. */
	memcpy(raw + 300007, "PKERNFS_IOMMU_NOTE handover=2 oldest=3 modes=legacy", 52);
	kimage_find_note(raw, len, &n);
	EXPECT_EQ(n.iommu_handover, 0);
	memcpy(raw + 300007, "PKERNFS_IOMMU_NOTE handover=2 oldest=0 modes=legacy", 52);
	kimage_find_note(raw, len, &n);
	EXPECT_EQ(n.iommu_handover, 0);
	/* A tag without a number is no note. */
	memcpy(raw + 300007, "PKERNFS_IOMMU_NOTE handover=x", 29);
	kimage_find_note(raw, len, &n);
	EXPECT_EQ(n.iommu_handover, 0);
	free(raw);
}

TEST(compatibility_rule)
{
	struct kimage_note n = { .major = 1, .minor = 0, .incompat = 0x3 };

	EXPECT_EQ(kimage_supports(&n, 1, 0), 1);
	EXPECT_EQ(kimage_supports(&n, 1, 0x2), 1);
	EXPECT_EQ(kimage_supports(&n, 1, 0x4), 0);	/* unknown incompat feature */
	EXPECT_EQ(kimage_supports(&n, 2, 0), 0);	/* newer major */
}

TEST(memmap_on_cmdline)
{
	const uint64_t G = 1ULL << 30, M = 1ULL << 20;

	EXPECT_EQ(cmdline_has_memmap("console=ttyS0 memmap=256M!1G quiet", G, 256 * M), 1);
	EXPECT_EQ(cmdline_has_memmap("memmap=256M!0x40000000", G, 256 * M), 1);
	EXPECT_EQ(cmdline_has_memmap("memmap=1G!4G,256M!1G", G, 256 * M), 1);
	EXPECT_EQ(cmdline_has_memmap("memmap=1G!4G memmap=256M!1G", G, 256 * M), 1);
	EXPECT_EQ(cmdline_has_memmap("memmap=128M!1G", G, 256 * M), 0);	/* smaller */
	EXPECT_EQ(cmdline_has_memmap("memmap=256M$1G", G, 256 * M), 0);	/* reserved, not pmem */
	EXPECT_EQ(cmdline_has_memmap("xmemmap=256M!1G", G, 256 * M), 0);
	EXPECT_EQ(cmdline_has_memmap("", G, 256 * M), 0);
}

TEST(reserved_on_cmdline)
{
	const uint64_t M = 1ULL << 20;

	EXPECT_EQ(cmdline_reserves("memmap=256M$0x50000000", 0x50000000, 256 * M), 1);
	EXPECT_EQ(cmdline_reserves("memmap=512M$0x40000000", 0x50000000, 256 * M), 1);
	EXPECT_EQ(cmdline_reserves("memmap=128M$0x50000000", 0x50000000, 256 * M), 0);
	EXPECT_EQ(cmdline_reserves("memmap=256M!0x50000000", 0x50000000, 256 * M), 0);
	EXPECT_EQ(cmdline_reserves("a memmap=1G!4G,256M$0x50000000 b", 0x50000000, 256 * M), 1);
}

/* One newc entry; returns the new end. */
static size_t cpio_add(uint8_t *buf, size_t pos, const char *name, const void *data,
		       size_t len)
{
	size_t nlen = strlen(name) + 1;

	pos += sprintf((char *)buf + pos, "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08zx%08x",
		       1, 0100644, 0, 0, 1, 0, len, 0, 0, 0, 0, nlen, 0);
	memcpy(buf + pos, name, nlen);
	pos = (pos + nlen + 3) & ~(size_t)3;
	memcpy(buf + pos, data, len);
	return (pos + len + 3) & ~(size_t)3;
}

TEST(acpi_tables_in_initrd)
{
	uint8_t *buf = calloc(1, 8192), table[64] = { 0 };
	char ids[4][24];
	size_t pos = 0;

	memcpy(table, "SSDT", 4);
	memcpy(table + 10, "PKERNF", 6);
	memcpy(table + 16, "PKRNFS  ", 8);
	pos = cpio_add(buf, pos, "kernel/firmware/acpi/pkernfs-ssdt.aml", table, sizeof(table));
	pos = cpio_add(buf, pos, "init", "#!/bin/sh\n", 10);
	pos = cpio_add(buf, pos, "TRAILER!!!", "", 0);
	pos += 512;	/* zero padding, then a second archive */
	memcpy(table, "DSDT", 4);
	pos = cpio_add(buf, pos, "kernel/firmware/acpi/x.aml", table, sizeof(table));
	pos = cpio_add(buf, pos, "kernel/firmware/other.aml", table, sizeof(table));
	EXPECT_EQ(initrd_acpi_tables(buf, pos, ids, 4), 2);
	EXPECT(!strcmp(ids[0], "SSDT-PKERNF-PKRNFS"));
	EXPECT(!strcmp(ids[1], "DSDT-PKERNF-PKRNFS"));
	/* Not cpio at all (a compressed initrd): nothing. */
	memset(buf, 0x1f, 16);
	EXPECT_EQ(initrd_acpi_tables(buf, pos, ids, 4), 0);
	free(buf);
}

TEST(acpi_id_as_the_kernel_prints_it)
{
	char id[24] = "SSDT-PKERNF-  PKRNFS";

	acpi_id_normalize(id);
	EXPECT(!strcmp(id, "SSDT-PKERNF-PKRNFS"));
}
