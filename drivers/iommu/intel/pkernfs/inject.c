// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection for tests (CONFIG_INTEL_IOMMU_PKERNFS_FAULT_INJECT):
 * debugfs pkernfs_iommu/inject damages the next handover, so the suite can
 * show the next kernel refusing it.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/debugfs.h>

#include "internal.h"

/* Fault injection for tests: how the next handover is damaged. */
enum {
	PK_INJECT_NONE, PK_INJECT_CRC, PK_INJECT_VERSION, PK_INJECT_REGBASE, PK_INJECT_DID0,
	PK_INJECT_DATA,
	/*
	 * Written as a format 1.1 kernel does: version 1; then one leaf into
	 * metadata; then one leaf at pkvtd_inject_pa (another pkernfs).
	 */
	PK_INJECT_V1, PK_INJECT_V1_META, PK_INJECT_V1_AT,
};

static u32 pkvtd_inject;
static u64 pkvtd_inject_pa;

/*
 * PK_INJECT_V1_META: the first leaf of dev[0]'s table now maps the page
 * (or superpage) below the data area, outside the pool: pkernfs metadata
 * that a version 1 handover cannot be told from data at boot.
 * PK_INJECT_V1_AT: it maps pkvtd_inject_pa instead, for a test that names
 * memory of another pkernfs in the same persistent range.
 */
struct pk_first {
	struct pkvtd_pgwalk pw;
	struct dma_pte *pte;
	int level;
};

static void *pk_first_table(struct pkvtd_pgwalk *pw, u64 pa)
{
	if (!pkernfs_kroot_contains(pkvtd_pool, pa))
		return NULL;
	return pkernfs_kroot_page_va(pkvtd_pool, pa);
}

static int pk_first_leaf(struct pkvtd_pgwalk *pw, struct dma_pte *pte, u64 iova, int level)
{
	struct pk_first *f = container_of(pw, struct pk_first, pw);

	f->pte = pte;
	f->level = level;
	return 1;
}

static void pk_inject_leaf(struct intel_iommu *iommu, const struct pkvtd_handover *h)
{
	struct pk_first f = { .pw = { .table = pk_first_table, .leaf = pk_first_leaf } };
	struct context_entry ce = pkvtd_rec_context(&h->dev[0]);
	u64 pa, size, len, pool, end;
	phys_addr_t data;

	if (pkvtd_pgtable_walk(&f.pw, context_address_root(&ce),
			       agaw_to_level(context_address_width(&ce)), 0) != 1)
		return;
	pkernfs_kroot_data_range(pkvtd_pool, &data, &len);
	pool = pkernfs_kroot_phys(pkvtd_pool);
	end = pool + ((u64)pkernfs_kroot_npages(pkvtd_pool) << PAGE_SHIFT);
	size = level_size(f.level) << VTD_PAGE_SHIFT;
	if (data < 2 * size)
		return;
	pa = ALIGN_DOWN(pkvtd_inject == PK_INJECT_V1_AT ? pkvtd_inject_pa : data - size, size);
	while (pa < end && pool < pa + size) {
		if (pa < size)
			return;
		pa -= size;
	}
	f.pte->val = (f.pte->val & ~(VTD_PAGE_MASK & GENMASK_ULL(51, 0))) | pa;
	pkvtd_flush_page(iommu, PTR_ALIGN_DOWN(f.pte, PAGE_SIZE));
	pr_info("inject: the first leaf of %02x:%02x.%d's table now maps %#llx\n", h->dev[0].bus,
		PCI_SLOT(h->dev[0].devfn), PCI_FUNC(h->dev[0].devfn), pa);
}

/* PK_INJECT_DID0: the first device's domain id becomes 0. */
static void pk_inject_did0(struct intel_iommu *iommu, struct pkvtd_handover *h,
			   struct root_entry *root)
{
	struct context_entry *ce;

	ce = pkernfs_kroot_page_va(pkvtd_pool, root_entry_lctp(&root[h->dev[0].bus]));
	ce[h->dev[0].devfn].hi &= ~PKVTD_CTX_HI_DID;
	h->dev[0].ctx_hi = cpu_to_le64(ce[h->dev[0].devfn].hi);
}

void pkvtd_inject_before_crc(struct intel_iommu *iommu, struct pkvtd_handover *h,
			     struct root_entry *root, u32 n)
{
	if (pkvtd_inject == PK_INJECT_VERSION)
		h->version = cpu_to_le16(PKVTD_VERSION + 1);
	if (pkvtd_inject == PK_INJECT_REGBASE)
		h->reg_phys = cpu_to_le64(iommu->reg_phys + PAGE_SIZE);
	if (pkvtd_inject == PK_INJECT_DID0)
		pk_inject_did0(iommu, h, root);
	if (pkvtd_inject == PK_INJECT_DATA)
		h->data_len = cpu_to_le64(PAGE_SIZE);
	if (pkvtd_inject == PK_INJECT_V1_META || pkvtd_inject == PK_INJECT_V1_AT)
		pk_inject_leaf(iommu, h);
	if (pkvtd_inject >= PK_INJECT_V1) {
		memmove((u8 *)h + PKVTD_V1_DEV_OFFSET, h->dev, n * sizeof(*h->dev));
		memset((u8 *)h + PKVTD_V1_DEV_OFFSET + n * sizeof(*h->dev), 0,
		       sizeof(h->data_phys) + sizeof(h->data_len));
		h->version = cpu_to_le16(PKVTD_VERSION_1);
	}
}

void pkvtd_inject_after_crc(struct pkvtd_handover *h)
{
	if (pkvtd_inject == PK_INJECT_CRC)
		h->dev[0].token ^= cpu_to_le64(1);
}

/*
 * 1 crc, 2 version, 3 regs, 4 did 0, 5 data area, 6 version 1, 7 and a
 * leaf into metadata, 8 and a leaf at inject_pa.
 */
void pkvtd_inject_debugfs(struct dentry *dir)
{
	debugfs_create_u32("inject", 0600, dir, &pkvtd_inject);
	debugfs_create_x64("inject_pa", 0600, dir, &pkvtd_inject_pa);
}
