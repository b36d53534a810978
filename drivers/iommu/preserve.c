// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommu core's side of DMA kept through a kexec live update: callers
 * (iommufd, in-kernel users) ask here, drivers answer through their ops,
 * and at kexec the core blocks every group no device preserves.
 */
#define pr_fmt(fmt) "iommu: " fmt

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/iommu-preserve.h>
#include <linux/pci.h>

#include "iommu-priv.h"

/**
 * iommu_domain_preserve() - keep a paging domain's DMA going through kexec
 * @domain: an empty paging domain, attached to nothing yet
 * @store: the pkernfs superblock whose kernel-only area holds its tables
 * @token: non-zero name under which the next kernel restores it
 *
 * The domain's page tables come from @store from now on, and devices
 * attached to it keep translating through a kexec the driver's handover is
 * armed for. It may only map memory of @store's files.
 *
 * Return: 0, -EOPNOTSUPP if the domain's driver cannot preserve, or the
 * driver's errno (see its @preserve op).
 */
int iommu_domain_preserve(struct iommu_domain *domain, struct super_block *store, u64 token)
{
	if (!domain->ops->preserve)
		return -EOPNOTSUPP;
	if (!token)
		return -EINVAL;
	return domain->ops->preserve(domain, store, token);
}
EXPORT_SYMBOL_GPL(iommu_domain_preserve);

/**
 * iommu_domain_unpreserve() - stop handing a domain over at kexec
 * @domain: a domain from iommu_domain_preserve() or iommu_domain_restore()
 *
 * It goes on translating; its tables go back to the store when it is freed.
 *
 * Return: 0, -EOPNOTSUPP, or -EINVAL if it is not preserved.
 */
int iommu_domain_unpreserve(struct iommu_domain *domain)
{
	if (!domain->ops->unpreserve)
		return -EOPNOTSUPP;
	return domain->ops->unpreserve(domain);
}
EXPORT_SYMBOL_GPL(iommu_domain_unpreserve);

/**
 * iommu_domain_restore() - take back the DMA a previous kernel handed over
 * @dev: the device whose translation was kept through the kexec
 * @store: the mounted pkernfs holding the tables
 * @token: the token the domain was preserved under
 *
 * Return: a paging domain that translates exactly what the handed-over one
 * did, still preserved, to be attached to @dev; or ERR_PTR: -EOPNOTSUPP if
 * @dev's IOMMU cannot restore, else the driver's errno (its
 * @restore_domain op).
 */
struct iommu_domain *iommu_domain_restore(struct device *dev, struct super_block *store,
					  u64 token)
{
	const struct iommu_ops *ops;

	if (!dev->iommu || !dev->iommu->iommu_dev)
		return ERR_PTR(-ENODEV);
	ops = dev_iommu_ops(dev);
	if (!ops->restore_domain)
		return ERR_PTR(-EOPNOTSUPP);
	return ops->restore_domain(dev, store, token);
}
EXPORT_SYMBOL_GPL(iommu_domain_restore);

/**
 * iommu_domain_inherit() - take over a handed-over translation in place
 * @domain: a preserved paging domain, filled, not yet attached to @dev
 * @dev: the device whose DMA a previous kernel handed over under @token
 * @token: the token it was preserved under
 *
 * Restore by allocation: instead of wrapping the handed-over tables,
 * a new domain built from what the caller maps now takes them over when
 * it is attached to @dev, without a window in which DMA faults. Checked
 * here and again at attach: @domain must translate every IOVA the
 * handed-over tables do, to the same memory with the same rights.
 *
 * Return: 0, -EOPNOTSUPP, -EADDRNOTAVAIL (@domain lacks or changes a
 * handed-over translation), or the errors of iommu_domain_restore().
 */
int iommu_domain_inherit(struct iommu_domain *domain, struct device *dev, u64 token)
{
	if (!domain->ops->inherit)
		return -EOPNOTSUPP;
	return domain->ops->inherit(domain, dev, token);
}
EXPORT_SYMBOL_GPL(iommu_domain_inherit);

static int iommu_dma_preserved_below(struct pci_dev *pdev, void *data)
{
	bool *found = data;

	if (!pci_is_bridge(pdev) && device_iommu_dma_preserved(&pdev->dev))
		*found = true;
	return *found;
}

/**
 * device_iommu_dma_preserved() - is @dev's DMA to go on through this kexec?
 * @dev: a device; a PCI bridge counts if a device below it qualifies
 *
 * Shutdown leaves such a device, and the bridges its DMA passes, bus
 * mastering; every other device is stopped and its group blocked.
 *
 * Return: true if @dev is attached to a preserved domain and its IOMMU's
 * handover is armed for the loaded kexec image.
 */
bool device_iommu_dma_preserved(struct device *dev)
{
	bool found = false;

	if (dev_is_pci(dev) && pci_is_bridge(to_pci_dev(dev))) {
		if (to_pci_dev(dev)->subordinate)
			pci_walk_bus(to_pci_dev(dev)->subordinate,
				     iommu_dma_preserved_below, &found);
		return found;
	}
	/* dev->iommu lives as long as the device is probed: the caller's. */
	if (!dev->iommu || !dev->iommu->iommu_dev)
		return false;
	return dev_iommu_ops(dev)->dma_preserved &&
	       dev_iommu_ops(dev)->dma_preserved(dev);
}
EXPORT_SYMBOL_GPL(device_iommu_dma_preserved);

/**
 * device_iommu_dma_inherited() - does @dev DMA through a previous kernel's
 * translation?
 * @dev: a device
 *
 * True from boot until a domain is restored for it: its driver must then
 * neither reset it nor turn its bus mastering off, and the core does not
 * attach its default domain.
 *
 * Return: true if @dev's IOMMU adopted a handed-over translation for it
 * that no restore has taken yet.
 */
bool device_iommu_dma_inherited(struct device *dev)
{
	if (!dev->iommu || !dev->iommu->iommu_dev)
		return false;
	return dev_iommu_ops(dev)->dma_inherited &&
	       dev_iommu_ops(dev)->dma_inherited(dev);
}
EXPORT_SYMBOL_GPL(device_iommu_dma_inherited);

/**
 * iommu_preserve_kexec() - decide, at kexec, which groups keep translating
 *
 * Called by kernel_kexec() after device shutdown and before the IOMMU
 * drivers' own shutdown: the core, not each driver, blocks every group
 * whose DMA no device preserves.
 */
void iommu_preserve_kexec(void)
{
	unsigned int kept, blocked;

	blocked = iommu_block_unpreserved(&kept);
	if (kept)
		pr_info("kexec: %u IOMMU groups keep their DMA, %u blocked\n", kept, blocked);
}
