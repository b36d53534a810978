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
	/*
	 * The current version, its first leaf at pkvtd_inject_pa and the
	 * recorded data area widened over it: an old kernel's word that only
	 * the mount's own superblock can refute (pkernfs_dma_guard()).
	 */
	PK_INJECT_AT,
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

static void pk_inject_leaf(struct intel_iommu *iommu, struct pkvtd_handover *h)
{
	struct pk_first f = { .pw = { .table = pk_first_table, .leaf = pk_first_leaf } };
	struct context_entry ce = pkvtd_rec_context(&h->dev[0]);
	u64 pa = context_address_root(&ce), size, len, pool, end;
	int aw = context_address_width(&ce);
	phys_addr_t data;

	/* Scalable mode: the record names the PASID directory. */
	if (sm_supported(iommu)) {
		struct pasid_dir_entry *dir = pkernfs_kroot_page_va(pkvtd_pool, pa);
		struct pasid_entry *pe = pkernfs_kroot_page_va(pkvtd_pool,
							       dir[0].val & PDE_PFN_MASK);

		pa = pasid_get_slptr(pe);
		aw = pasid_get_address_width(pe);
	}
	if (pkvtd_pgtable_walk(&f.pw, pa, agaw_to_level(aw), 0) != 1)
		return;
	pkernfs_kroot_data_range(pkvtd_pool, &data, &len);
	pool = pkernfs_kroot_phys(pkvtd_pool);
	end = pool + ((u64)pkernfs_kroot_npages(pkvtd_pool) << PAGE_SHIFT);
	size = level_size(f.level) << VTD_PAGE_SHIFT;
	if (data < 2 * size)
		return;
	pa = ALIGN_DOWN(pkvtd_inject == PK_INJECT_V1_META ? data - size : pkvtd_inject_pa, size);
	while (pa < end && pool < pa + size) {
		if (pa < size)
			return;
		pa -= size;
	}
	f.pte->val = (f.pte->val & ~(VTD_PAGE_MASK & GENMASK_ULL(51, 0))) | pa;
	pkvtd_flush_page(iommu, PTR_ALIGN_DOWN(f.pte, PAGE_SIZE));
	pr_info("inject: the first leaf of %02x:%02x.%d's table now maps %#llx\n", h->dev[0].bus,
		PCI_SLOT(h->dev[0].devfn), PCI_FUNC(h->dev[0].devfn), pa);
	if (pkvtd_inject == PK_INJECT_AT) {
		u64 data_end = max(data + len, pa + size);

		data = min(data, pa);
		h->data_phys = cpu_to_le64(data);
		h->data_len = cpu_to_le64(data_end - data);
	}
}

/* PK_INJECT_DID0: the first device's domain id becomes 0. */
static void pk_inject_did0(struct intel_iommu *iommu, struct pkvtd_handover *h,
			   struct root_entry *root)
{
	struct context_entry *ce;
	struct context_entry rec = pkvtd_rec_context(&h->dev[0]);
	struct pasid_dir_entry *dir;
	struct pasid_entry *pe;

	if (sm_supported(iommu)) {
		dir = pkernfs_kroot_page_va(pkvtd_pool, context_address_root(&rec));
		pe = pkernfs_kroot_page_va(pkvtd_pool, dir[0].val & PDE_PFN_MASK);
		pasid_set_domain_id(pe, 0);
		pkvtd_flush_page(iommu, pe);
		return;
	}
	ce = pkernfs_kroot_page_va(pkvtd_pool, root_entry_lctp(&root[h->dev[0].bus]));
	ce[h->dev[0].devfn].hi &= ~PKVTD_CTX_HI_DID;
	h->dev[0].ctx_hi = cpu_to_le64(ce[h->dev[0].devfn].hi);
}

void pkvtd_inject_before_crc(struct intel_iommu *iommu, struct pkvtd_handover *h,
			     struct root_entry *root, u32 n)
{
	if (pkvtd_inject == PK_INJECT_VERSION)
		h->version = cpu_to_le16(PKVTD_VERSION_SM + 1);
	if (pkvtd_inject == PK_INJECT_REGBASE)
		h->reg_phys = cpu_to_le64(iommu->reg_phys + PAGE_SIZE);
	if (pkvtd_inject == PK_INJECT_DID0)
		pk_inject_did0(iommu, h, root);
	if (pkvtd_inject == PK_INJECT_DATA)
		h->data_len = cpu_to_le64(PAGE_SIZE);
	if (pkvtd_inject == PK_INJECT_V1_META || pkvtd_inject == PK_INJECT_V1_AT ||
	    pkvtd_inject == PK_INJECT_AT)
		pk_inject_leaf(iommu, h);
	if (pkvtd_inject >= PK_INJECT_V1 && pkvtd_inject <= PK_INJECT_V1_AT) {
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
 * leaf into metadata, 8 and a leaf at inject_pa, 9 a leaf at inject_pa
 * inside a widened data area.
 */
void pkvtd_inject_debugfs(struct dentry *dir)
{
	debugfs_create_u32("inject", 0600, dir, &pkvtd_inject);
	debugfs_create_x64("inject_pa", 0600, dir, &pkvtd_inject_pa);
}
