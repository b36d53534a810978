/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by pmem_region.c and its KUnit test. */
#ifndef _PKERNFS_PMEM_REGION_H
#define _PKERNFS_PMEM_REGION_H

/* The nvdimm bus provider name: what `ndctl list -B` and kexec-check see. */
#define PKERNFS_PMEM_PROVIDER	"pkernfs-pmem-region"
#define PKERNFS_PMEM_DRV_NAME	"pkernfs_pmem_region"

#include <linux/types.h>

struct device;
struct nd_region;

struct nd_region *pkernfs_pmem_region_of(struct device *dev, unsigned int i);
#if IS_ENABLED(CONFIG_KUNIT)
int pkernfs_pmem_read_align(struct device *dev, u64 *align);
#endif

#endif
