/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel IOMMU state kept in pkernfs's kernel-only area across kexec.
 *
 * The hooks iommu.c and pasid.c call, and the handover page format. See
 * pkernfs/ and Documentation/filesystems/pkernfs.rst.
 */
#ifndef _INTEL_PKERNFS_IOMMU_H
#define _INTEL_PKERNFS_IOMMU_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/types.h>

#include "iommu.h"
#include "../iommu-pages.h"

/* "PKVTDHO1" read as a little-endian u64. */
#define PKVTD_MAGIC		0x314f484454564b50ULL
/*
 * 2: the data area is recorded; every leaf must lie in it. Legacy mode
 * still writes version 2, so a kernel that reads no further takes it.
 */
#define PKVTD_VERSION		2
/*
 * 3: scalable mode (PKVTD_FLAG_SCALABLE), version 2's layout. The context
 * entries are scalable mode's, each naming a one-page PASID directory and
 * one PASID table of the pool that hold the RID_PASID entry only.
 */
#define PKVTD_VERSION_SM	3
#define PKVTD_FLAG_SCALABLE	BIT(0)
/*
 * 1 (format 1.1 kernels): no @data_phys and @data_len, the device records
 * start right after @reserved. Still adopted; see pk_handover_from_v1().
 */
#define PKVTD_VERSION_1		1
/* The pool root's cookie: the layout of what this file keeps there. */
#define PKVTD_POOL_COOKIE	(PKVTD_MAGIC ^ PKVTD_VERSION)
/* Version 1 made pools of the same layout under its own cookie. */
#define PKVTD_POOL_COOKIE_1	(PKVTD_MAGIC ^ PKVTD_VERSION_1)
#define PKVTD_POOL_NAME		"intel-iommu"
/*
 * Pages 2n and 2n + 1 of the pool are the handover header and the root
 * table of the IOMMU with seq_id n: the next kernel finds the header one
 * page below the root table the hardware still points at.
 */
#define PKVTD_MAX_UNITS		8
#define PKVTD_RESERVED_PAGES	(2 * PKVTD_MAX_UNITS)
#define PKVTD_MIN_POOL_PAGES	(PKVTD_RESERVED_PAGES + 16)
/* A pool larger than this is not one a kernel made: refused unread. */
#define PKVTD_MAX_POOL_PAGES	BIT(18)

/**
 * struct pkvtd_dev - one preserved device's context, as handed over
 * @token: the owner's token for the device's domain
 * @ctx_lo: the context entry as handed over, low quadword
 * @ctx_hi: high quadword (legacy mode: domain id, address width)
 * @bus: PCI bus
 * @devfn: PCI device and function
 * @reserved: zero
 */
struct pkvtd_dev {
	__le64 token;
	__le64 ctx_lo;
	__le64 ctx_hi;
	__u8 bus;
	__u8 devfn;
	__u8 reserved[6];
};

/**
 * struct pkvtd_handover - what one IOMMU unit hands to the next kernel
 * @magic: PKVTD_MAGIC
 * @crc: crc32c of the 4 KiB page with this field zero
 * @version: PKVTD_VERSION or PKVTD_VERSION_SM, checked before @crc
 * @flags: PKVTD_FLAG_SCALABLE in version 3, else zero
 * @reg_phys: the unit's register base (its DRHD)
 * @root_phys: the root table, the page after this one
 * @pool_phys: the pkernfs pool every table page comes from
 * @pool_pages: its size
 * @cap: the unit's capability register
 * @ecap: its extended capability register
 * @generation: handovers so far in this chain of kexecs
 * @nr_dev: entries in @dev
 * @reserved: zero
 * @data_phys: the pkernfs data area every leaf must translate into
 * @data_len: its length
 * @dev: the preserved devices
 */
struct pkvtd_handover {
	__le64 magic;
	__le32 crc;
	__le16 version;
	__le16 flags;
	__le64 reg_phys;
	__le64 root_phys;
	__le64 pool_phys;
	__le64 pool_pages;
	__le64 cap;
	__le64 ecap;
	__le64 generation;
	__le32 nr_dev;
	__le32 reserved;
	__le64 data_phys;
	__le64 data_len;
	struct pkvtd_dev dev[];
};

#define PKVTD_MAX_DEVS	((4096 - sizeof(struct pkvtd_handover)) / sizeof(struct pkvtd_dev))

static_assert(sizeof(struct pkvtd_dev) == 32);
static_assert(sizeof(struct pkvtd_handover) == 96);
/* Where version 1's device records start. */
#define PKVTD_V1_DEV_OFFSET	offsetof(struct pkvtd_handover, data_phys)
static_assert(PKVTD_V1_DEV_OFFSET == 80);
static_assert((4096 - PKVTD_V1_DEV_OFFSET) / sizeof(struct pkvtd_dev) >= PKVTD_MAX_DEVS);

#ifdef CONFIG_INTEL_IOMMU_PKERNFS
bool pkernfs_iommu_adopt_unit(struct intel_iommu *iommu);
bool pkernfs_iommu_handover(struct intel_iommu *iommu);
void pkernfs_iommu_fail_closed(struct intel_iommu *iommu, const char *why);
void *pkernfs_iommu_table_alloc(struct dmar_domain *domain, phys_addr_t *phys);
void pkernfs_iommu_table_free(struct dmar_domain *domain, void *va);
void pkernfs_iommu_defer_frees(struct dmar_domain *domain, bool begin);
bool pkernfs_iommu_gather(struct dmar_domain *domain, int level, u64 pa,
			  struct list_head *freelist);
void pkernfs_iommu_gather_free(struct dmar_domain *domain, struct list_head *freelist);
void pkernfs_iommu_tagged(struct dmar_domain *domain);
void pkernfs_iommu_domain_exit(struct dmar_domain *domain);
void pkernfs_iommu_pick_did(struct dmar_domain *domain, struct intel_iommu *iommu,
			    int *did);
bool pkernfs_iommu_did_kept(struct intel_iommu *iommu, u16 did);
void pkernfs_iommu_release_device(struct device_domain_info *info);
void pkernfs_iommu_context_torn(struct intel_iommu *iommu, u8 bus, u8 devfn);
bool pkernfs_iommu_agaw_refuse(struct dmar_domain *domain, struct intel_iommu *iommu);
int pkernfs_iommu_link(struct dmar_domain *domain, struct device_domain_info *info);
void pkernfs_iommu_unlink(struct dmar_domain *domain, struct device_domain_info *info);
bool pkernfs_iommu_keep_context(struct dmar_domain *domain, struct intel_iommu *iommu,
				struct context_entry *context, u8 bus, u8 devfn, u16 did);
int pkernfs_iommu_map_refuse(struct dmar_domain *domain, phys_addr_t hpa, size_t size);
int pkernfs_iommu_replace(struct iommu_domain *domain, struct device *dev);
bool pkernfs_iommu_keep_sm_context(struct dmar_domain *domain, struct device *dev);
void pkernfs_iommu_sm_adopt(struct dmar_domain *domain, struct device *dev);
int pkernfs_iommu_preserve(struct iommu_domain *domain, struct super_block *sb, u64 token);
int pkernfs_iommu_unpreserve(struct iommu_domain *domain);
struct iommu_domain *pkernfs_iommu_restore_domain(struct device *dev, struct super_block *sb,
						  u64 token);
int pkernfs_iommu_inherit(struct iommu_domain *domain, struct device *dev, u64 token);
bool pkernfs_iommu_can_preserve(struct device *dev);
bool pkernfs_iommu_dma_preserved(struct device *dev);
bool pkernfs_iommu_dma_inherited(struct device *dev);

/*
 * intel_iommu_map() on a persistent domain: only pkernfs file memory may
 * be mapped, or the next kernel's DMA would reach memory it reuses. This
 * sees every page that reaches the tables, whoever pinned it. Inline: on
 * a map of one page a call costs more than the check.
 */
static inline int pkernfs_iommu_map_check(struct dmar_domain *domain, phys_addr_t hpa,
					  size_t size)
{
	if (likely(hpa >= domain->pk_data && size <= domain->pk_data_len &&
		   hpa - domain->pk_data <= domain->pk_data_len - size))
		return 0;
	return pkernfs_iommu_map_refuse(domain, hpa, size);
}
#else
/* No ops: the iommu core refuses preservation with -EOPNOTSUPP. */
#define pkernfs_iommu_preserve		NULL
#define pkernfs_iommu_unpreserve	NULL
#define pkernfs_iommu_restore_domain	NULL
#define pkernfs_iommu_inherit		NULL
#define pkernfs_iommu_dma_preserved	NULL
#define pkernfs_iommu_dma_inherited	NULL

static inline bool pkernfs_iommu_can_preserve(struct device *dev)
{
	return false;
}

static inline bool pkernfs_iommu_adopt_unit(struct intel_iommu *iommu)
{
	return false;
}

static inline bool pkernfs_iommu_handover(struct intel_iommu *iommu)
{
	return false;
}

static inline void pkernfs_iommu_fail_closed(struct intel_iommu *iommu, const char *why)
{
}

static inline void *pkernfs_iommu_table_alloc(struct dmar_domain *domain, phys_addr_t *phys)
{
	return NULL;
}

static inline void pkernfs_iommu_table_free(struct dmar_domain *domain, void *va)
{
}

static inline void pkernfs_iommu_defer_frees(struct dmar_domain *domain, bool begin)
{
}

static inline bool pkernfs_iommu_gather(struct dmar_domain *domain, int level, u64 pa,
					struct list_head *freelist)
{
	return false;
}

static inline void pkernfs_iommu_gather_free(struct dmar_domain *domain,
					     struct list_head *freelist)
{
}

static inline void pkernfs_iommu_tagged(struct dmar_domain *domain)
{
}

static inline void pkernfs_iommu_domain_exit(struct dmar_domain *domain)
{
}

static inline void pkernfs_iommu_pick_did(struct dmar_domain *domain,
					  struct intel_iommu *iommu, int *did)
{
}

static inline bool pkernfs_iommu_did_kept(struct intel_iommu *iommu, u16 did)
{
	return false;
}

static inline void pkernfs_iommu_release_device(struct device_domain_info *info)
{
}

static inline void pkernfs_iommu_context_torn(struct intel_iommu *iommu, u8 bus, u8 devfn)
{
}

static inline int pkernfs_iommu_link(struct dmar_domain *domain,
				     struct device_domain_info *info)
{
	return 0;
}

static inline void pkernfs_iommu_unlink(struct dmar_domain *domain,
					struct device_domain_info *info)
{
}

static inline bool pkernfs_iommu_agaw_refuse(struct dmar_domain *domain,
					     struct intel_iommu *iommu)
{
	return false;
}

static inline bool pkernfs_iommu_keep_context(struct dmar_domain *domain,
					      struct intel_iommu *iommu,
					      struct context_entry *context,
					      u8 bus, u8 devfn, u16 did)
{
	return false;
}

static inline int pkernfs_iommu_map_check(struct dmar_domain *domain, phys_addr_t hpa,
					  size_t size)
{
	return 0;
}

static inline int pkernfs_iommu_replace(struct iommu_domain *domain, struct device *dev)
{
	return -EOPNOTSUPP;
}

static inline bool pkernfs_iommu_keep_sm_context(struct dmar_domain *domain, struct device *dev)
{
	return false;
}

static inline void pkernfs_iommu_sm_adopt(struct dmar_domain *domain, struct device *dev)
{
}
#endif

/* For iommu.c, after iommu.h: a domain's table pages, pool or page allocator. */
static inline void *dmar_table_alloc(struct dmar_domain *domain, gfp_t gfp)
{
	if (domain->pk)
		return pkernfs_iommu_table_alloc(domain, NULL);
	return iommu_alloc_page_node(domain->nid, gfp);
}

static inline void dmar_table_free(struct dmar_domain *domain, void *va)
{
	if (domain->pk)
		pkernfs_iommu_table_free(domain, va);
	else
		iommu_free_page(va);
}

#endif /* _INTEL_PKERNFS_IOMMU_H */
