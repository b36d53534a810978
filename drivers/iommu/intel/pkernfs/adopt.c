// SPDX-License-Identifier: GPL-2.0-only
/*
 * At boot: adopt a unit's handed-over translation, or refuse it and stop
 * its devices before translation goes off.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/bitmap.h>
#include <linux/crash_dump.h>
#include <linux/io.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>

#include "internal.h"

bool pkernfs_iommu_liveupdate;
module_param_named(liveupdate, pkernfs_iommu_liveupdate, bool, 0444);
MODULE_PARM_DESC(liveupdate,
		 "Adopt the IOMMU state a previous kernel handed over at kexec");

/*
 * Read by pkernfsctl kexec-check --arm out of the next kernel's image: the
 * handover versions this kernel adopts, the newest first.
 */
static const char pkernfs_iommu_note[] __used =
	"PKERNFS_IOMMU_NOTE handover=" __stringify(PKVTD_VERSION_SM)
	" oldest=" __stringify(PKVTD_VERSION_1) " modes=legacy,scalable";

/* What this kernel writes at kexec: version 3 in scalable mode, else 2. */
static int pk_version_get(char *buf, const struct kernel_param *kp)
{
	struct dmar_drhd_unit *drhd;
	struct intel_iommu *iommu;
	bool sm = false;

	rcu_read_lock();
	for_each_active_iommu(iommu, drhd)
		sm |= sm_supported(iommu);
	rcu_read_unlock();
	return sysfs_emit(buf, "%u\n", sm ? PKVTD_VERSION_SM : PKVTD_VERSION);
}

static const struct kernel_param_ops pk_version_ops = {
	.get = pk_version_get,
};
module_param_cb(handover_version, &pk_version_ops, NULL, 0444);
MODULE_PARM_DESC(handover_version, "The IOMMU handover version this kernel writes and adopts");

/*
 * Turn bus mastering off for every device behind @iommu that has it on.
 * Used when translation the previous kernel left on is not adopted: not
 * the handover's list, which may be what is damaged. A device stopped
 * wrongly gets bus mastering back when its driver binds.
 */
static unsigned int pk_stop_unit_devices(struct intel_iommu *iommu)
{
	struct pci_dev *pdev = NULL;
	unsigned int n = 0;
	u16 cmd;

	for_each_pci_dev(pdev) {
		struct dmar_drhd_unit *drhd = dmar_find_matched_drhd_unit(pdev);

		if (!drhd || drhd->iommu != iommu ||
		    pci_read_config_word(pdev, PCI_COMMAND, &cmd) || !(cmd & PCI_COMMAND_MASTER))
			continue;
		pci_info(pdev, "pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off\n");
		pci_clear_master(pdev);
		n++;
	}
	return n;
}

static char pk_why[PKVTD_MAX_UNITS][192];

/* Log why @iommu's state is not adopted, keep it for restore, stop its devices. */
static __printf(3, 4) void pk_refuse(struct intel_iommu *iommu, int err, const char *fmt, ...)
{
	char *why = iommu->seq_id < PKVTD_MAX_UNITS ? pk_why[iommu->seq_id] : NULL;
	char buf[192];
	unsigned int n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why ?: buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pr_err("%s: IOMMU state from the previous kernel refused: %s\n", iommu->name, why ?: buf);
	n = pk_stop_unit_devices(iommu);
	pr_err("%s: %u device(s) stopped before translation goes off\n", iommu->name, n);
	if (why) {
		pkvtd_refused[iommu->seq_id].err = err;
		pkvtd_refused[iommu->seq_id].why = why;
	}
}

static bool pk_in_ram(u64 root_pa)
{
	return region_intersects(root_pa - PAGE_SIZE, 2 * PAGE_SIZE, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) != REGION_DISJOINT;
}

/*
 * A version 1 page (checksum already checked) read as version 2: the same
 * header without the data area, whose bytes the device records begin at.
 * The copy keeps version 1, so the checks know it has no data area.
 */
static struct pkvtd_handover *pk_handover_from_v1(const struct pkvtd_handover *h)
{
	u32 n = min_t(u32, le32_to_cpu(h->nr_dev), PKVTD_MAX_DEVS);
	struct pkvtd_handover *v2 = kzalloc(PAGE_SIZE, GFP_KERNEL);

	if (!v2)
		return NULL;
	memcpy(v2, h, PKVTD_V1_DEV_OFFSET);
	memcpy(v2->dev, (const u8 *)h + PKVTD_V1_DEV_OFFSET, n * sizeof(*v2->dev));
	return v2;
}

/*
 * The handover page below the hardware's root, mapped; NULL if not ours.
 * Never read where it is System RAM in this kernel: the page allocator
 * owns it, whatever it holds now.
 */
static struct pkvtd_handover *pk_map_handover(struct intel_iommu *iommu, u64 *root_pa)
{
	struct pkvtd_handover *h;

	*root_pa = dmar_readq(iommu->reg + DMAR_RTADDR_REG) & VTD_PAGE_MASK;
	if (*root_pa < PAGE_SIZE || pk_in_ram(*root_pa))
		return NULL;
	h = memremap(*root_pa - PAGE_SIZE, PAGE_SIZE, MEMREMAP_WB);
	if (h && le64_to_cpu(h->magic) != PKVTD_MAGIC) {
		memunmap(h);
		h = NULL;
	}
	return h;
}

/**
 * pkernfs_iommu_fail_closed() - translation left on is about to go off
 * @iommu: a unit iommu.c turns off at boot (intel_iommu=off, an ignored
 *	unit, a failed copy of adopted tables)
 * @why: the reason, for the log
 *
 * If the previous kernel handed state over (or a live update was asked
 * for), stop the unit's bus-mastering devices first, so that no IOVA
 * becomes a physical address in this kernel.
 */
void pkernfs_iommu_fail_closed(struct intel_iommu *iommu, const char *why)
{
	struct pkvtd_handover *h;
	u64 root_pa;

	if (is_kdump_kernel() || !(readl(iommu->reg + DMAR_GSTS_REG) & DMA_GSTS_TES))
		return;
	h = pk_map_handover(iommu, &root_pa);
	if (h)
		memunmap(h);
	else if (!pkernfs_iommu_liveupdate && (root_pa < PAGE_SIZE || !pk_in_ram(root_pa)))
		return;		/* not ours, and no live update: as upstream */
	pk_refuse(iommu, -EBADMSG, "%s", why);
}

/*
 * A bridge whose bus mastering is off does not forward the DMA of the
 * preserved devices below it: say so, as the old kernel should have kept
 * it on (an old kernel that did not, or firmware that reset the port).
 */
static void pk_check_paths(struct intel_iommu *iommu, const struct pkernfs_iommu_saved *s)
{
	unsigned int i, kept = 0, off = 0;
	struct pci_dev *pdev, *up;
	u16 cmd;

	for (i = 0; i < le32_to_cpu(s->hdr.nr_dev); i++) {
		pdev = pci_get_domain_bus_and_slot(iommu->segment, s->dev[i].bus,
						   s->dev[i].devfn);
		if (!pdev)
			continue;
		for (up = pci_upstream_bridge(pdev); up; up = pci_upstream_bridge(up)) {
			if (pci_read_config_word(up, PCI_COMMAND, &cmd))
				continue;
			if (cmd & PCI_COMMAND_MASTER) {
				kept++;
				continue;
			}
			off++;
			pci_warn(up, "pkernfs-iommu: bus mastering is off on the path of preserved %s: its DMA is blocked until a driver turns it on\n",
				 pci_name(pdev));
		}
		pci_dev_put(pdev);
	}
	if (kept || off)
		pr_info("%s: %u bridge(s) on the preserved devices' paths kept bus mastering, %u did not\n",
			iommu->name, kept, off);
}

/*
 * init_dmars(), translation found on: adopt it if a live update was asked
 * for and the handover checks out. False: the caller turns translation
 * off and starts clean, after pk_refuse() stopped the devices.
 */
bool pkernfs_iommu_adopt_unit(struct intel_iommu *iommu)
{
	struct pkernfs_iommu_saved *s = NULL;
	struct pkvtd_handover *h, *h1 = NULL;
	struct pkvtd_walk *w = NULL;
	const char *why;
	u64 root_pa, pool, pages;
	bool sm;
	u16 ver;
	u32 i, n;

	h = pk_map_handover(iommu, &root_pa);
	/* Tables in System RAM are never legitimate outside kdump: refused below. */
	if (!h && !pkernfs_iommu_liveupdate && (root_pa < PAGE_SIZE || !pk_in_ram(root_pa)))
		return false;	/* not ours: whoever left translation on */
	if (h && !pkernfs_iommu_liveupdate) {
		pr_info("%s: the previous kernel handed over IOMMU state (generation %llu), but no live update was requested (pkernfs_iommu.liveupdate=1): ignored, starting clean\n",
			iommu->name, le64_to_cpu(h->generation));
		pk_refuse(iommu, -ENOENT, "no live update was requested");
		goto out;
	}
	if (iommu->seq_id >= PKVTD_MAX_UNITS) {
		pk_refuse(iommu, -EBADMSG, "only the first %d IOMMU units are handed over",
			  PKVTD_MAX_UNITS);
		goto out;
	}
	/* Before the magic, which pk_map_handover() did not read there. */
	why = root_pa < PAGE_SIZE ? "holds no root table" :
	      pkvtd_check_memory(root_pa - PAGE_SIZE, 2 * PAGE_SIZE);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the table pool at %#llx %s",
			  root_pa < PAGE_SIZE ? root_pa : root_pa - PAGE_SIZE, why);
		goto out;
	}
	if (!h) {
		pk_refuse(iommu, -EBADMSG,
			  "no handover page below the root table at %#llx (overwritten, or not from pkernfs)",
			  root_pa);
		return false;
	}
	/* The kdump copy cannot change modes either. */
	sm = dmar_readq(iommu->reg + DMAR_RTADDR_REG) & DMA_RTADDR_SMT;
	if (sm != sm_supported(iommu)) {
		pk_refuse(iommu, -EBADMSG,
			  "this kernel runs the IOMMU in %s mode, the previous one ran it in %s mode",
			  sm ? "legacy" : "scalable", sm ? "scalable" : "legacy");
		goto out;
	}
	ver = le16_to_cpu(h->version);
	if (ver < PKVTD_VERSION_1 || ver > PKVTD_VERSION_SM) {
		pk_refuse(iommu, -EPROTONOSUPPORT,
			  "handover format version %u, this kernel reads versions %u to %u",
			  ver, PKVTD_VERSION_1, PKVTD_VERSION_SM);
		goto out;
	}
	if (le32_to_cpu(h->crc) != pkvtd_crc(h)) {
		pk_refuse(iommu, -EBADMSG, "checksum mismatch");
		goto out;
	}
	if (ver == PKVTD_VERSION_1) {
		h1 = h;
		h = pk_handover_from_v1(h1);
		if (!h) {
			pk_refuse(iommu, -ENOMEM, "out of memory");
			goto out;
		}
		pr_info("%s: handover version 1 (from a format 1.1 kernel): read as version %u, its mappings bounded by the persistent memory that holds its tables\n",
			iommu->name, PKVTD_VERSION);
	}
	why = pkvtd_check_header(iommu, h, root_pa);
	if (!why && sm != (bool)(ver == PKVTD_VERSION_SM))
		why = "a handover of the other mode than the root table's";
	if (why) {
		pk_refuse(iommu, -EBADMSG, "%s", why);
		goto out;
	}
	pool = le64_to_cpu(h->pool_phys);
	pages = le64_to_cpu(h->pool_pages);
	why = pkvtd_check_memory(pool, pages << PAGE_SHIFT);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the table pool at %#llx (%llu pages) %s", pool, pages,
			  why);
		goto out;
	}
	why = ver == PKVTD_VERSION_1 ? NULL :
	      pkvtd_check_memory(le64_to_cpu(h->data_phys), le64_to_cpu(h->data_len));
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the data area at %#llx %s", le64_to_cpu(h->data_phys),
			  why);
		goto out;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (w) {
		w->seen = bitmap_zalloc(pages, GFP_KERNEL);
		w->pool = memremap(pool, pages << PAGE_SHIFT, MEMREMAP_WB);
	}
	if (!w || !w->seen || !w->pool) {
		pk_refuse(iommu, -ENOMEM, "cannot map the table pool to check it");
		goto out;
	}
	w->iommu = iommu;
	w->h = h;
	w->sm = sm;
	w->pool_phys = pool;
	w->pool_pages = pages;
	w->data_phys = le64_to_cpu(h->data_phys);
	w->data_len = le64_to_cpu(h->data_len);
	why = ver == PKVTD_VERSION_1 ? pkvtd_v1_data_area(w) : NULL;
	if (why) {
		pk_refuse(iommu, -EBADMSG, "the persistent memory around the table pool %s", why);
		goto out;
	}
	why = pkvtd_check_tables(w, root_pa);
	if (why) {
		pk_refuse(iommu, -EBADMSG, "%s", why);
		goto out;
	}
	pkvtd_spans_finish(w);
	n = le32_to_cpu(h->nr_dev);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (s) {
		memcpy(&s->hdr, h, sizeof(s->hdr));
		s->dev = kmemdup(h->dev, n * sizeof(*s->dev), GFP_KERNEL);
		s->restored = kcalloc(n, sizeof(*s->restored), GFP_KERNEL);
		s->tree_of = kmemdup(w->tree_of, n * sizeof(*s->tree_of), GFP_KERNEL);
		s->tree = kmemdup(w->tree, w->nr_tree * sizeof(*s->tree), GFP_KERNEL);
		s->sm_pages = sm ? kcalloc(n, sizeof(*s->sm_pages), GFP_KERNEL) : NULL;
	}
	if (!s || !s->dev || !s->restored || !s->tree_of || !s->tree || (sm && !s->sm_pages)) {
		if (s) {
			kfree(s->sm_pages);
			kfree(s->dev);
			kfree(s->restored);
			kfree(s->tree_of);
			kfree(s->tree);
			kfree(s);
			s = NULL;
		}
		pk_refuse(iommu, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; sm && i < n; i++) {
		s->sm_pages[i][0] = w->sm_dir[i];
		s->sm_pages[i][1] = w->sm_tbl[i];
	}
	/* In scalable mode the kdump copy does not reserve them: a PASID entry holds them. */
	for (i = 0; i < w->nr_tree; i++)
		set_bit(w->tree[i].did, iommu->domain_ids);
	/* The spans are s's now. */
	s->nr_tree = w->nr_tree;
	w->nr_tree = 0;
	s->iommu = iommu;
	spin_lock(&pkvtd_held_lock);
	pkvtd_trees_live += s->nr_tree;
	spin_unlock(&pkvtd_held_lock);
	pkvtd_saved[iommu->seq_id] = s;
	pkvtd_saved_open += n;
	pk_check_paths(iommu, s);
	pr_info("%s: adopting the previous kernel's translation (generation %llu): %u preserved device(s) keep DMA going\n",
		iommu->name, le64_to_cpu(s->hdr.generation), n);
out:
	if (w) {
		while (w->nr_tree)
			kvfree(w->tree[--w->nr_tree].span);
		if (w->pool)
			memunmap(w->pool);
		bitmap_free(w->seen);
		kfree(w);
	}
	if (h1) {
		memunmap(h1);
		kfree(h);
	} else if (h) {
		memunmap(h);
	}
	return !!s;
}
