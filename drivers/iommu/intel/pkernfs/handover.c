// SPDX-License-Identifier: GPL-2.0-only
/*
 * At kexec: hand the preserved devices' translation to the next kernel,
 * with translation left on.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/crc32.h>
#include <linux/kexec.h>
#include <linux/libnvdimm.h>

#include "internal.h"

/*
 * The loaded kexec image the handover is armed for. Only an armed kexec
 * keeps preserved devices running; otherwise shutdown stops them, as a
 * target that cannot adopt the state (a kernel without pkernfs, an older
 * handover format) would leave them DMA-ing untranslated. Cleared when
 * that image is freed, so a later load is never armed by accident.
 */
static DEFINE_MUTEX(pk_arm_mutex);
static struct kimage *pk_armed;

bool pkvtd_handover_armed(void)
{
	/* Pointers compared, never followed: the image may be going. */
	struct kimage *armed = READ_ONCE(pk_armed);

	return armed && armed == READ_ONCE(kexec_image);
}

static int pk_arm_set(const char *val, const struct kernel_param *kp)
{
	bool arm;
	int err = kstrtobool(val, &arm);

	if (err)
		return err;
	if (!capable(CAP_SYS_BOOT))
		return -EPERM;
	mutex_lock(&pk_arm_mutex);
	if (arm && !READ_ONCE(kexec_image)) {
		mutex_unlock(&pk_arm_mutex);
		pr_err("no kexec image is loaded: load the next kernel, then arm the handover\n");
		return -ENOENT;
	}
	WRITE_ONCE(pk_armed, arm ? READ_ONCE(kexec_image) : NULL);
	mutex_unlock(&pk_arm_mutex);
	pr_info("IOMMU handover %s for the loaded kexec image\n", arm ? "armed" : "disarmed");
	return 0;
}

static int pk_arm_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", pkvtd_handover_armed());
}

static const struct kernel_param_ops pk_arm_ops = {
	.set = pk_arm_set,
	.get = pk_arm_get,
};
module_param_cb(armed, &pk_arm_ops, NULL, 0644);
MODULE_PARM_DESC(armed, "Hand the IOMMU state over to the loaded kexec image (pkernfsctl kexec-check --arm)");

/**
 * pkernfs_iommu_kimage_free() - a kexec image is being freed
 * @image: the image
 *
 * If the handover was armed for it, it is not any more.
 */
void pkernfs_iommu_kimage_free(struct kimage *image)
{
	mutex_lock(&pk_arm_mutex);
	if (pk_armed == image) {
		WRITE_ONCE(pk_armed, NULL);
		pr_info("IOMMU handover disarmed: its kexec image was unloaded\n");
	}
	mutex_unlock(&pk_arm_mutex);
}

/*
 * crc32c of the page with the crc field zero. The library's crc32c() needs
 * the crypto layer, which is not up yet when init_dmars() runs.
 */
u32 pkvtd_crc(const struct pkvtd_handover *h)
{
	u32 crc = __crc32c_le(~0u, (const u8 *)h, offsetof(struct pkvtd_handover, crc));
	static const u8 zero[4];

	crc = __crc32c_le(crc, zero, sizeof(zero));
	return __crc32c_le(crc, (const u8 *)h + offsetof(struct pkvtd_handover, version),
			   PAGE_SIZE - offsetof(struct pkvtd_handover, version));
}

/*
 * A preserved device that is not handed over: stop its DMA before
 * translation goes (config access takes a raw lock: fine with IRQs off).
 */
static void pk_stop(struct device_domain_info *info, const char *why)
{
	if (info->dev && dev_is_pci(info->dev))
		pci_clear_master(to_pci_dev(info->dev));
	pr_warn("%s: %02x:%02x.%d %s; its bus mastering is off\n", info->iommu->name,
		info->bus, PCI_SLOT(info->devfn), PCI_FUNC(info->devfn), why);
}

/*
 * Not handed over: every preserved device on @iommu stops. False if the
 * devices cannot be found: a CPU stopped for the kexec holds a lock.
 */
static bool pk_stop_all(struct intel_iommu *iommu, const char *why)
{
	struct pkernfs_iommu_dom *pk;
	struct device_domain_info *info;
	bool done = true;

	if (!spin_trylock(&pkvtd_list_lock))
		return false;
	list_for_each_entry(pk, &pkvtd_domains, list) {
		if (!pk->token)
			continue;
		if (!spin_trylock(&pk->domain->lock)) {
			done = false;
			break;
		}
		list_for_each_entry(info, &pk->domain->devices, link)
			if (info->iommu == iommu)
				pk_stop(info, why);
		spin_unlock(&pk->domain->lock);
	}
	spin_unlock(&pkvtd_list_lock);
	return done;
}

/*
 * The pool's context table for @bus and @devfn, allocated on first use. In
 * scalable mode a bus has two: devfn 0-127 (lower) and 128-255 (upper).
 */
static struct context_entry *pk_ctx_table(struct intel_iommu *iommu, struct root_entry *root,
					  u8 bus, u8 devfn)
{
	bool upper = sm_supported(iommu) && devfn >= 0x80;
	phys_addr_t pa = upper ? root_entry_uctp(&root[bus]) : root_entry_lctp(&root[bus]);

	if (!pa) {
		if (!pkernfs_kroot_page_alloc_reserved(pkvtd_pool, &pa))
			return NULL;
		if (upper)
			root[bus].hi = pa | 1;
		else
			root[bus].lo = pa | 1;
	}
	return pkernfs_kroot_page_va(pkvtd_pool, pa);
}

/* Legacy mode: the device's context entry, in a context table of the pool. */
static const char *pk_hand_legacy(struct intel_iommu *iommu, struct device_domain_info *info,
				  struct root_entry *root, struct context_entry *ce)
{
	/* alloc 1: with 0 a copied entry reads as absent; its table exists. */
	struct context_entry *live = iommu_context_addr(iommu, info->bus, info->devfn, 1);
	struct context_entry *ctbl;

	if (!live || !context_present(live))
		return "has no live context";
	if (context_translation_type(live) != CONTEXT_TT_MULTI_LEVEL)
		return "cannot be handed over (ATS)";
	ctbl = pk_ctx_table(iommu, root, info->bus, info->devfn);
	if (!ctbl)
		return "cannot be handed over (pool full)";
	*ce = *live;
	ctbl[info->devfn] = *ce;
	return NULL;
}

/*
 * Scalable mode: a context entry, a PASID directory and a PASID table of
 * the pool's, holding the device's RID_PASID entry only. Its other PASIDs
 * are not handed over: the entry goes without PASID and page-request
 * enables, so such DMA faults in the next kernel instead of reaching
 * memory.
 */
static const char *pk_hand_sm(struct intel_iommu *iommu, struct device_domain_info *info,
			      struct root_entry *root, struct context_entry *ce)
{
	struct context_entry *live = iommu_context_addr(iommu, info->bus, info->devfn, 1);
	struct context_entry *ctbl;
	struct pasid_dir_entry *dir;
	struct pasid_entry *pe, *tbl;
	phys_addr_t dir_pa, tbl_pa;

	if (!live || !context_present(live))
		return "has no live context";
	if (live->lo & PKVTD_SM_CTX_DTE || live->hi & PKVTD_SM_CTX_RID_PASID)
		return "cannot be handed over (ATS, or a RID_PASID other than 0)";
	/* Its tables are this kernel's, or the pool's: both directly mapped. */
	pe = get_pasid_table_from_pde(phys_to_virt(context_address_root(live)));
	if (!pe || !pasid_pte_is_present(pe) || pasid_pte_get_pgtt(pe) != PASID_ENTRY_PGTT_SL_ONLY)
		return "does not translate through a second-stage table";
	ctbl = pk_ctx_table(iommu, root, info->bus, info->devfn);
	dir = ctbl ? pkernfs_kroot_page_alloc_reserved(pkvtd_pool, &dir_pa) : NULL;
	tbl = dir ? pkernfs_kroot_page_alloc_reserved(pkvtd_pool, &tbl_pa) : NULL;
	if (!tbl) {
		if (dir)
			pkernfs_kroot_page_free(pkvtd_pool, dir_pa);
		return "cannot be handed over (pool full)";
	}
	tbl[IOMMU_NO_PASID] = *pe;
	dir[0].val = tbl_pa | PASID_PTE_PRESENT;
	pkvtd_flush_page(iommu, tbl);
	pkvtd_flush_page(iommu, dir);
	/* A one-page directory (PDTS 0) is enough for PASID 0. */
	*ce = *live;
	ce->lo = dir_pa | (live->lo & ~(VTD_PAGE_MASK | PKVTD_SM_CTX_PDTS | PKVTD_SM_CTX_PASIDE |
					 PKVTD_SM_CTX_PRE));
	ctbl[(info->devfn & 0x7f) * 2] = *ce;
	return NULL;
}

/* Everything of the handover header but the device records and the crc. */
static void pk_fill_header(struct intel_iommu *iommu, struct pkvtd_handover *h,
			   phys_addr_t hdr_pa, u64 gen, u32 n)
{
	phys_addr_t data_pa;
	u64 data_len;

	h->magic = cpu_to_le64(PKVTD_MAGIC);
	/* Legacy handovers stay version 2: a kernel that reads no further takes them. */
	if (sm_supported(iommu)) {
		h->version = cpu_to_le16(PKVTD_VERSION_SM);
		h->flags = cpu_to_le16(PKVTD_FLAG_SCALABLE);
	} else {
		h->version = cpu_to_le16(PKVTD_VERSION);
	}
	h->reg_phys = cpu_to_le64(iommu->reg_phys);
	h->root_phys = cpu_to_le64(hdr_pa + PAGE_SIZE);
	h->pool_phys = cpu_to_le64(pkernfs_kroot_phys(pkvtd_pool));
	h->pool_pages = cpu_to_le64(pkernfs_kroot_npages(pkvtd_pool));
	h->cap = cpu_to_le64(iommu->cap);
	h->ecap = cpu_to_le64(iommu->ecap);
	h->generation = cpu_to_le64(gen + 1);
	h->nr_dev = cpu_to_le32(n);
	pkernfs_kroot_data_range(pkvtd_pool, &data_pa, &data_len);
	h->data_phys = cpu_to_le64(data_pa);
	h->data_len = cpu_to_le64(data_len);
}

/*
 * The preserved devices cannot be found: keep translation on through an
 * empty root, so every DMA of the unit is blocked, and hand over a record
 * of no device, which the next kernel refuses, stopping what is mastering.
 */
static void pk_block_unit(struct intel_iommu *iommu, struct pkvtd_handover *h,
			  struct root_entry *root, phys_addr_t hdr_pa, u64 gen)
{
	memset(h, 0, PAGE_SIZE);
	memset(root, 0, PAGE_SIZE);
	pk_fill_header(iommu, h, hdr_pa, gen, 0);
	h->crc = cpu_to_le32(pkvtd_crc(h));
	pkvtd_flush_page(iommu, root);
	arch_wb_cache_pmem(h, PAGE_SIZE);
	arch_wb_cache_pmem(root, PAGE_SIZE);
	pr_warn("%s: the preserved devices cannot be found (a lock is held by a stopped CPU): translation stays on through an empty root, blocking every DMA\n",
		iommu->name);
	iommu->root_entry = root;
}

/*
 * Called from intel_iommu_shutdown(): interrupts off, this CPU alone.
 * Return true to keep translation on: iommu->root_entry is then the new
 * root, and the caller makes the hardware use it.
 */
bool pkernfs_iommu_handover(struct intel_iommu *iommu)
{
	struct pkvtd_handover *h;
	struct root_entry *root;
	struct pkernfs_iommu_dom *pk;
	phys_addr_t hdr_pa;
	bool busy = false;
	u64 gen;
	u32 n = 0;

	/*
	 * No lock for pkvtd_pool: the other CPUs are stopped, and this one
	 * cannot be inside pkvtd_pool_get() or pkvtd_pool_put() (process context).
	 */
	if (!kexec_in_progress || !pkvtd_pool)
		return false;
	if (iommu->seq_id >= PKVTD_MAX_UNITS) {
		pk_stop_all(iommu, "cannot be handed over (a unit past the 8th)");
		return false;
	}
	hdr_pa = pkernfs_kroot_phys(pkvtd_pool) + 2 * iommu->seq_id * PAGE_SIZE;
	h = pkernfs_kroot_page_va(pkvtd_pool, hdr_pa);
	root = pkernfs_kroot_page_va(pkvtd_pool, hdr_pa + PAGE_SIZE);
	gen = le64_to_cpu(h->magic) == PKVTD_MAGIC ? le64_to_cpu(h->generation) : 0;
	memset(h, 0, PAGE_SIZE);
	memset(root, 0, PAGE_SIZE);
	if (!pkvtd_handover_armed()) {
		if (pk_stop_all(iommu, "is preserved, but this kexec is not armed"))
			return false;
		goto blocked;
	}
	/* Tables a memory error hit cannot be trusted to the next kernel. */
	if (pkernfs_kroot_poisoned(pkvtd_pool)) {
		if (pk_stop_all(iommu, "is preserved, but a memory error hit its table pool"))
			return false;
		goto blocked;
	}

	/* Trylocks: a CPU stopped for the kexec may hold either lock. */
	if (!spin_trylock(&pkvtd_list_lock))
		goto blocked;
	list_for_each_entry(pk, &pkvtd_domains, list) {
		struct device_domain_info *info;

		if (!pk->token)
			continue;
		if (!spin_trylock(&pk->domain->lock)) {
			busy = true;
			break;
		}
		list_for_each_entry(info, &pk->domain->devices, link) {
			struct context_entry ce;
			const char *why;

			if (info->iommu != iommu)
				continue;
			if (n >= PKVTD_MAX_DEVS) {
				pk_stop(info, "cannot be handed over (too many devices)");
				continue;
			}
			why = sm_supported(iommu) ? pk_hand_sm(iommu, info, root, &ce) :
						    pk_hand_legacy(iommu, info, root, &ce);
			if (why) {
				pk_stop(info, why);
				continue;
			}
			h->dev[n].token = cpu_to_le64(pk->token);
			h->dev[n].ctx_lo = cpu_to_le64(ce.lo);
			h->dev[n].ctx_hi = cpu_to_le64(ce.hi);
			h->dev[n].bus = info->bus;
			h->dev[n].devfn = info->devfn;
			n++;
		}
		spin_unlock(&pk->domain->lock);
	}
	spin_unlock(&pkvtd_list_lock);
	if (busy)
		goto blocked;
	if (!n)
		return false;

	pk_fill_header(iommu, h, hdr_pa, gen, n);
	pkvtd_inject_before_crc(iommu, h, root, n);
	h->crc = cpu_to_le32(pkvtd_crc(h));
	pkvtd_inject_after_crc(h);
	/* The context tables were flushed as the pool zeroed them; now the rest. */
	for (n = 0; n < 256; n++) {
		phys_addr_t lower = root_entry_lctp(&root[n]), upper = root_entry_uctp(&root[n]);

		if (lower)
			pkvtd_flush_page(iommu, pkernfs_kroot_page_va(pkvtd_pool, lower));
		if (upper)
			pkvtd_flush_page(iommu, pkernfs_kroot_page_va(pkvtd_pool, upper));
	}
	pkvtd_flush_page(iommu, root);
	arch_wb_cache_pmem(h, PAGE_SIZE);
	arch_wb_cache_pmem(root, PAGE_SIZE);
	pr_info("%s: handing %u preserved device(s) over to the next kernel (root %pa, generation %llu)\n",
		iommu->name, le32_to_cpu(h->nr_dev), &h->root_phys, gen + 1);
	iommu->root_entry = root;
	return true;

blocked:
	pk_block_unit(iommu, h, root, hdr_pa, gen);
	return true;
}
