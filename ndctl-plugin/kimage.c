// SPDX-License-Identifier: GPL-2.0-only
/*
 * What kexec-check learns from the next kernel: the pkernfs format note in
 * its image (does it mount today's images?) and its command line.
 *
 * The note is a string the filesystem keeps in its read-only data (see
 * fs/pkernfs/super.c). It is searched for in a bzImage's payload (gzip,
 * xz or zstd, as the x86 boot protocol's payload_offset/length give it),
 * in a compressed file as a whole (a .ko.xz), or in the raw bytes (a
 * vmlinux or a .ko).
 */
#define _GNU_SOURCE
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "kimage.h"
#include "pkernfs_user.h"
#include "size.h"

#define OUT_MAX (512u << 20)	/* no kernel is bigger, decompressed */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int grow(struct buf *o)
{
	size_t cap = o->cap ? o->cap * 2 : 16u << 20;
	uint8_t *p;

	if (cap > OUT_MAX)
		return -1;
	p = realloc(o->p, cap);
	if (!p)
		return -1;
	o->p = p;
	o->cap = cap;
	return 0;
}

static int gunzip(const uint8_t *in, size_t len, struct buf *o)
{
	z_stream zs = { 0 };
	int rc = Z_OK;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -1;
	zs.next_in = (uint8_t *)in;
	zs.avail_in = len;
	while (rc == Z_OK) {
		if (o->len == o->cap && grow(o))
			break;
		zs.next_out = o->p + o->len;
		zs.avail_out = o->cap - o->len;
		rc = inflate(&zs, Z_NO_FLUSH);
		o->len = o->cap - zs.avail_out;
	}
	inflateEnd(&zs);
	/* A bzImage's payload may carry trailing bytes after the stream. */
	return rc == Z_STREAM_END || rc == Z_BUF_ERROR ? 0 : -1;
}

static int unxz(const uint8_t *in, size_t len, struct buf *o)
{
	lzma_stream xs = LZMA_STREAM_INIT;
	lzma_ret rc = LZMA_OK;

	if (lzma_stream_decoder(&xs, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -1;
	xs.next_in = in;
	xs.avail_in = len;
	while (rc == LZMA_OK) {
		if (o->len == o->cap && grow(o))
			break;
		xs.next_out = o->p + o->len;
		xs.avail_out = o->cap - o->len;
		rc = lzma_code(&xs, xs.avail_in ? LZMA_RUN : LZMA_FINISH);
		o->len = o->cap - xs.avail_out;
	}
	lzma_end(&xs);
	return rc == LZMA_STREAM_END || o->len ? 0 : -1;
}

static int unzstd(const uint8_t *in, size_t len, struct buf *o)
{
	ZSTD_DStream *zs = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t rc = 1;

	if (!zs)
		return -1;
	ZSTD_initDStream(zs);
	while (rc && ib.pos < ib.size) {
		ZSTD_outBuffer ob;

		if (o->len == o->cap && grow(o))
			break;
		ob = (ZSTD_outBuffer){ o->p + o->len, o->cap - o->len, 0 };
		rc = ZSTD_decompressStream(zs, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(rc))
			break;
	}
	ZSTD_freeDStream(zs);
	return o->len ? 0 : -1;
}

/* Decompress @in if it starts with a known magic; 1 if it did not. */
static int decompress(const uint8_t *in, size_t len, struct buf *o, const char **kind)
{
	static const uint8_t gz[] = { 0x1f, 0x8b }, xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	static const uint8_t zst[] = { 0x28, 0xb5, 0x2f, 0xfd };

	if (len >= sizeof(gz) && !memcmp(in, gz, sizeof(gz))) {
		*kind = "gzip";
		return gunzip(in, len, o);
	}
	if (len >= sizeof(xz) && !memcmp(in, xz, sizeof(xz))) {
		*kind = "xz";
		return unxz(in, len, o);
	}
	if (len >= sizeof(zst) && !memcmp(in, zst, sizeof(zst))) {
		*kind = "zstd";
		return unzstd(in, len, o);
	}
	return 1;
}

/* The NUL-terminated string at @tag in @p, at most @max - 1 bytes, in @s. */
static int note_string(const uint8_t *p, size_t len, const char *tag, char *s, size_t max)
{
	const uint8_t *at = memmem(p, len, tag, strlen(tag));
	size_t room;

	if (!at)
		return -1;
	room = p + len - at;
	memcpy(s, at, room < max - 1 ? room : max - 1);
	s[room < max - 1 ? room : max - 1] = 0;
	return 0;
}

static int find_note(const uint8_t *p, size_t len, struct kimage_note *n)
{
	const char *old;
	char s[128];

	n->iommu_handover = 0;
	if (!note_string(p, len, PKERNFS_IOMMU_NOTE_TAG " ", s, sizeof(s)) &&
	    sscanf(s, PKERNFS_IOMMU_NOTE_TAG " handover=%u", &n->iommu_handover) != 1)
		n->iommu_handover = 0;
	n->iommu_oldest = n->iommu_handover;
	old = n->iommu_handover ? strstr(s, " oldest=") : NULL;
	if (old && (sscanf(old, " oldest=%u", &n->iommu_oldest) != 1 ||
		    n->iommu_oldest > n->iommu_handover || !n->iommu_oldest))
		n->iommu_handover = n->iommu_oldest = 0;	/* malformed: no note */
	if (note_string(p, len, PKERNFS_NOTE_TAG, s, sizeof(s)) ||
	    sscanf(s, PKERNFS_NOTE_TAG " major=%u minor=%u incompat=%x",
		   &n->major, &n->minor, &n->incompat) != 3)
		return -1;
	return 0;
}

/**
 * kimage_find_note() - the pkernfs format note of a kernel image
 * @img: the file's bytes
 * @len: their number
 * @n: filled in on success; n->container says what was searched
 *
 * Return: 0, or -1 with n->why set.
 */
int kimage_find_note(const uint8_t *img, size_t len, struct kimage_note *n)
{
	struct buf o = { 0 };
	const uint8_t *body = img;
	size_t blen = len;
	const char *kind = NULL;
	int rc;

	memset(n, 0, sizeof(*n));
	n->container = "raw";
	/* x86 boot protocol: "HdrS" at 0x202, payload located at 0x248/0x24c. */
	if (len > 0x250 && !memcmp(img + 0x202, "HdrS", 4)) {
		uint32_t setup = img[0x1f1] ? img[0x1f1] : 4;
		uint32_t off, plen, cmax;
		uint16_t version;
		uint64_t start;

		/*
		 * Boot protocol 2.06 and later say how long a command line may
		 * be; kexec-tools refuses one whose length with its NUL exceeds
		 * that. Before 2.06 it only warns.
		 */
		memcpy(&version, img + 0x206, 2);
		if (le16toh(version) >= 0x206) {
			memcpy(&cmax, img + 0x238, 4);
			n->cmdline_max = le32toh(cmax);
		}
		memcpy(&off, img + 0x248, 4);
		memcpy(&plen, img + 0x24c, 4);
		start = (uint64_t)(setup + 1) * 512 + le32toh(off);
		plen = le32toh(plen);
		if (start + plen > len) {
			n->why = "bzImage payload lies outside the file";
			return -1;
		}
		body = img + start;
		blen = plen;
		n->container = "bzImage";
	}
	rc = decompress(body, blen, &o, &kind);
	if (rc < 0) {
		free(o.p);
		n->why = "cannot decompress the kernel";
		return -1;
	}
	if (!rc) {
		n->compression = kind;
		rc = find_note(o.p, o.len, n);
	} else {
		rc = find_note(body, blen, n);
	}
	free(o.p);
	if (rc)
		n->why = "no pkernfs format note in it (built without CONFIG_PKERNFS_FS?)";
	return rc;
}

/**
 * kimage_supports() - can a kernel with note @n mount an image of this format?
 * @n: the kernel's note
 * @major: the image's s_major
 * @incompat: the image's s_feature_incompat
 *
 * Minor revisions are compatible by definition; incompatible features are
 * the ones a kernel must know.
 *
 * Return: 1 if it can, 0 if not.
 */
int kimage_supports(const struct kimage_note *n, unsigned int major, uint32_t incompat)
{
	return n->major == major && !(incompat & ~n->incompat);
}

/**
 * acpi_id_normalize() - "SIG-OEMID-TABLEID" without padding
 * @id: the id, rewritten in place
 *
 * The kernel prints the fields padded with spaces ("SSDT-PKERNF-  PKRNFS");
 * the table pads them with spaces or NULs. Drop the spaces so both compare.
 */
void acpi_id_normalize(char *id)
{
	char *w = id;

	for (; *id; id++)
		if (*id != ' ')
			*w++ = *id;
	*w = 0;
}

static uint32_t cpio_hex(const uint8_t *p)
{
	char s[9];

	memcpy(s, p, 8);
	s[8] = 0;
	return strtoul(s, NULL, 16);
}

/**
 * initrd_acpi_tables() - ACPI tables an initrd carries for the table upgrade
 * @buf: the initrd
 * @len: its bytes
 * @ids: filled with "SIG-OEMID-TABLEID" of each table found
 * @max: room in @ids
 *
 * What CONFIG_ACPI_TABLE_UPGRADE loads: files under kernel/firmware/acpi/
 * in an uncompressed newc cpio at the start of the initrd (archives may be
 * concatenated; the kernel scans until the data stops being cpio).
 *
 * Return: the number of tables found.
 */
int initrd_acpi_tables(const uint8_t *buf, size_t len, char ids[][24], int max)
{
	static const char dir[] = "kernel/firmware/acpi/";
	size_t pos = 0;
	int n = 0;

	while (pos + 110 <= len && n < max) {
		uint32_t namesize, filesize;
		const char *name;
		size_t data;

		if (memcmp(buf + pos, "070701", 6) && memcmp(buf + pos, "070702", 6)) {
			if (!buf[pos]) {	/* padding between archives */
				pos += 4;
				continue;
			}
			break;
		}
		filesize = cpio_hex(buf + pos + 54);
		namesize = cpio_hex(buf + pos + 94);
		name = (const char *)buf + pos + 110;
		data = (pos + 110 + namesize + 3) & ~(size_t)3;
		if (data > len || filesize > len - data)
			break;
		if (namesize > sizeof(dir) && !strncmp(name, dir, sizeof(dir) - 1) &&
		    filesize >= 36) {
			const uint8_t *t = buf + data;

			/* ACPI table header: Signature[4] ... OEMID[6] at 10, OEM Table ID[8] at 16. */
			snprintf(ids[n], 24, "%.4s-%.6s-%.8s", (const char *)t,
				 (const char *)t + 10, (const char *)t + 16);
			acpi_id_normalize(ids[n]);
			n++;
		}
		pos = (data + filesize + 3) & ~(size_t)3;
	}
	return n;
}

/*
 * The memmap=SIZE<kind>START entries of a command line (several options,
 * and comma-separated lists in one): is there one that names exactly
 * (@exact) or covers [@start, @start + @size)?
 */
static int memmap_scan(const char *cmdline, char kind, uint64_t start, uint64_t size,
		       int exact)
{
	char *copy = strdup(cmdline), *tok, *save = NULL;
	int found = 0;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, " \t\n", &save); tok && !found;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char *ent, *save2 = NULL;

		if (strncmp(tok, "memmap=", 7))
			continue;
		for (ent = strtok_r(tok + 7, ",", &save2); ent && !found;
		     ent = strtok_r(NULL, ",", &save2)) {
			char *sep = strchr(ent, kind);
			uint64_t s, a;

			if (!sep)
				continue;
			*sep = 0;
			if (parse_size(ent, &s) || parse_size(sep + 1, &a))
				continue;
			found = exact ? s == size && a == start :
					a <= start && a + s >= start + size;
		}
	}
	free(copy);
	return found;
}

/**
 * cmdline_has_memmap() - is a legacy pmem range on a kernel command line?
 * @cmdline: the command line
 * @start: physical start of the range
 * @size: its bytes
 *
 * Return: 1 if memmap=SIZE!START names exactly [@start, @start + @size).
 */
int cmdline_has_memmap(const char *cmdline, uint64_t start, uint64_t size)
{
	return memmap_scan(cmdline, '!', start, size, 1);
}

/**
 * cmdline_reserves() - does a memmap=SIZE$START on @cmdline cover a range?
 * @cmdline: a kernel command line
 * @start: physical start
 * @size: bytes
 *
 * Return: 1 if one memmap=nn$ss entry covers all of [@start, @start + @size).
 */
int cmdline_reserves(const char *cmdline, uint64_t start, uint64_t size)
{
	return memmap_scan(cmdline, '$', start, size, 0);
}
