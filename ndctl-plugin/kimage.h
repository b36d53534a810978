/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PKERNFSCTL_KIMAGE_H
#define PKERNFSCTL_KIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Must match the string fs/pkernfs/super.c builds. */
#define PKERNFS_NOTE_TAG "PKERNFS_FORMAT_NOTE"
/* And drivers/iommu/intel/pkernfs/'s: the handover it adopts. */
#define PKERNFS_IOMMU_NOTE_TAG "PKERNFS_IOMMU_NOTE"

/**
 * struct kimage_note - what a kernel image says about the format it mounts
 * @major: the format major it mounts
 * @minor: the newest minor it knows
 * @incompat: the incompatible features it supports
 * @container: "bzImage" or "raw"
 * @compression: "gzip", "xz", "zstd", or NULL if none
 * @iommu_handover: the newest IOMMU handover version it adopts, 0 if none
 * @iommu_oldest: the oldest it adopts (a note without "oldest=": the newest)
 * @cmdline_max: a bzImage's longest command line, its NUL counted
 *	(boot protocol cmdline_size); 0 if not known
 * @why: on failure, the reason
 */
struct kimage_note {
	unsigned int major, minor;
	unsigned int incompat;
	unsigned int iommu_handover, iommu_oldest;
	unsigned int cmdline_max;
	const char *container;
	const char *compression;
	const char *why;
};

int kimage_find_note(const uint8_t *img, size_t len, struct kimage_note *n);
int kimage_supports(const struct kimage_note *n, unsigned int major, uint32_t incompat);
int cmdline_has_memmap(const char *cmdline, uint64_t start, uint64_t size);
int cmdline_reserves(const char *cmdline, uint64_t start, uint64_t size);
void acpi_id_normalize(char *id);
int initrd_acpi_tables(const uint8_t *buf, size_t len, char ids[][24], int max);

#endif
