/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOMMU domains whose DMA goes on through a kexec live update.
 *
 * The iommu core owns the decision; a driver implements the domain ops
 * @preserve/@unpreserve/@inherit and the iommu ops @restore_domain, @dma_preserved
 * and @dma_inherited (include/linux/iommu.h), and answers
 * IOMMU_CAP_DMA_PRESERVE for the devices its handover can keep.
 * Documentation/filesystems/pkernfs.rst, "IOMMU persistence".
 */
#ifndef _LINUX_IOMMU_PRESERVE_H
#define _LINUX_IOMMU_PRESERVE_H

#include <linux/err.h>
#include <linux/types.h>

struct device;
struct iommu_domain;
struct super_block;

#ifdef CONFIG_IOMMU_DMA_PRESERVE
int iommu_domain_preserve(struct iommu_domain *domain, struct super_block *store,
			  u64 token);
int iommu_domain_unpreserve(struct iommu_domain *domain);
struct iommu_domain *iommu_domain_restore(struct device *dev, struct super_block *store,
					  u64 token);
int iommu_domain_inherit(struct iommu_domain *domain, struct device *dev, u64 token);
bool device_iommu_dma_preserved(struct device *dev);
bool device_iommu_dma_inherited(struct device *dev);
unsigned int iommu_block_unpreserved(unsigned int *kept);
void iommu_preserve_kexec(void);
#else
static inline int iommu_domain_preserve(struct iommu_domain *domain,
					struct super_block *store, u64 token)
{
	return -EOPNOTSUPP;
}

static inline int iommu_domain_unpreserve(struct iommu_domain *domain)
{
	return -EOPNOTSUPP;
}

static inline struct iommu_domain *iommu_domain_restore(struct device *dev,
							struct super_block *store,
							u64 token)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int iommu_domain_inherit(struct iommu_domain *domain, struct device *dev,
				       u64 token)
{
	return -EOPNOTSUPP;
}

static inline bool device_iommu_dma_preserved(struct device *dev)
{
	return false;
}

static inline bool device_iommu_dma_inherited(struct device *dev)
{
	return false;
}

static inline void iommu_preserve_kexec(void)
{
}
#endif

#endif /* _LINUX_IOMMU_PRESERVE_H */
