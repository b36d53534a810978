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

static int find_note(const uint8_t *p, size_t len, struct kimage_note *n)
{
	static const char tag[] = PKERNFS_NOTE_TAG;
	const uint8_t *at = memmem(p, len, tag, sizeof(tag) - 1);
	char s[128];
	size_t room;

	if (!at)
		return -1;
	room = p + len - at;
	memcpy(s, at, room < sizeof(s) - 1 ? room : sizeof(s) - 1);
	s[room < sizeof(s) - 1 ? room : sizeof(s) - 1] = 0;
	if (sscanf(s, PKERNFS_NOTE_TAG " major=%u minor=%u incompat=%x",
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
		uint32_t off, plen;
		uint64_t start;

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
 * cmdline_has_memmap() - is a legacy pmem range on a kernel command line?
 * @cmdline: the command line
 * @start: physical start of the range
 * @size: its bytes
 *
 * Several memmap= options, and comma-separated lists in one, both count.
 *
 * Return: 1 if memmap=SIZE!START names exactly [@start, @start + @size).
 */
int cmdline_has_memmap(const char *cmdline, uint64_t start, uint64_t size)
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
			char *bang = strchr(ent, '!');
			uint64_t s, a;

			if (!bang)
				continue;
			*bang = 0;
			if (!parse_size(ent, &s) && !parse_size(bang + 1, &a) && s == size &&
			    a == start)
				found = 1;
		}
	}
	free(copy);
	return found;
}
