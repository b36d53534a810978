// SPDX-License-Identifier: GPL-2.0-only
/*
 * At boot: check what the previous kernel handed over before anything
 * of it is trusted: the memory, the header, every table a device can walk.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/acpi.h>
#include <linux/bitmap.h>
#include <linux/ioport.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "internal.h"

/*
 * Nothing in the handover is trusted before it is checked, in this order:
 * the memory it lives in (firmware-described persistent memory, no System
 * RAM), its version (before the checksum, so a newer format reads as
 * such), its checksum, its header, then every table the hardware can walk
 * from the root: each page inside the pool and reached once, reserved
 * bits zero, one page table per domain id and no domain id 0, and every
 * leaf inside the pkernfs data area the handover names. Refused state is
 * never left to a device: see pk_refuse().
 */

struct pk_cover {
	u64 start, end;
	bool covered;
	u64 ext_start, ext_end;	/* the covering resource, unclipped walks only */
};

static int pk_cover_cb(struct resource *res, void *arg)
{
	struct pk_cover *c = arg;

	/* @res is clipped to the range asked for: one resource covers it all. */
	if (res->start <= c->start && res->end >= c->end) {
		c->covered = true;
		c->ext_start = res->start;
		c->ext_end = res->end;
	}
	return 0;
}

static bool pk_res_covers(u64 start, u64 len, unsigned long desc)
{
	struct pk_cover c = { .start = start, .end = start + len - 1 };

	walk_iomem_res_desc(desc, IORESOURCE_MEM, c.start, c.end, &c, pk_cover_cb);
	return c.covered;
}

/*
 * An NFIT persistent-memory range: the nfit driver, which turns it into a
 * resource, binds only after DMAR init, so read the table itself.
 */
static bool pk_nfit_range(u64 start, u64 len, u64 *ext_start, u64 *ext_len)
{
	static const guid_t pm = GUID_INIT(0x66f0d379, 0xb4f3, 0x4074, 0xac, 0x43,
					   0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb);
	struct acpi_table_header *tbl;
	bool covered = false;
	u32 off;

	if (acpi_disabled || ACPI_FAILURE(acpi_get_table(ACPI_SIG_NFIT, 0, &tbl)))
		return false;
	for (off = sizeof(struct acpi_table_nfit);
	     off + sizeof(struct acpi_nfit_header) <= tbl->length;) {
		struct acpi_nfit_header *nh = (void *)tbl + off;
		struct acpi_nfit_system_address *spa = (void *)nh;

		if (nh->length < sizeof(*nh) || nh->length > tbl->length - off)
			break;
		/* Before ACPI 6.4 the range has no location cookie. */
		if (nh->type == ACPI_NFIT_TYPE_SYSTEM_ADDRESS &&
		    nh->length >= offsetof(struct acpi_nfit_system_address, location_cookie) &&
		    guid_equal((const guid_t *)spa->range_guid, &pm) && start >= spa->address &&
		    len <= spa->length && start - spa->address <= spa->length - len) {
			covered = true;
			*ext_start = spa->address;
			*ext_len = spa->length;
		}
		off += nh->length;
	}
	acpi_put_table(tbl);
	return covered;
}

static bool pk_nfit_covers(u64 start, u64 len)
{
	u64 s, l;

	return pk_nfit_range(start, len, &s, &l);
}

/* NULL if [@start, +@len) is persistent memory this kernel will not allocate. */
const char *pkvtd_check_memory(u64 start, u64 len)
{
	if (!len || start + len < start)
		return "is an empty or wrapping range";
	if (region_intersects(start, len, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT)
		return "is System RAM in this kernel (its reservation is gone)";
	if (pk_res_covers(start, len, IORES_DESC_PERSISTENT_MEMORY_LEGACY) ||
	    pk_res_covers(start, len, IORES_DESC_PERSISTENT_MEMORY) || pk_nfit_covers(start, len))
		return NULL;
	return "is not persistent memory that the firmware (NFIT, e820) or memmap=! describes";
}

/*
 * Version 1 recorded no data area: bound the leaves by the persistent
 * memory range that holds the pool (the walk keeps them out of the pool
 * itself). The mount narrows that to the filesystem's data area before it
 * reads its metadata (pkernfs_dma_guard()).
 */
const char *pkvtd_v1_data_area(struct pkvtd_walk *w)
{
	static const unsigned long desc[] = {
		IORES_DESC_PERSISTENT_MEMORY_LEGACY, IORES_DESC_PERSISTENT_MEMORY,
	};
	u64 len = w->pool_pages << PAGE_SHIFT;
	struct pk_cover c = { .start = w->pool_phys, .end = w->pool_phys + len - 1 };
	int i;

	for (i = 0; i < ARRAY_SIZE(desc) && !c.covered; i++)
		walk_iomem_res_desc(desc[i], IORESOURCE_MEM, 0, U64_MAX, &c, pk_cover_cb);
	if (c.covered) {
		w->data_phys = c.ext_start;
		w->data_len = c.ext_end - c.ext_start + 1;
	} else if (!pk_nfit_range(w->pool_phys, len, &w->data_phys, &w->data_len)) {
		return "no persistent-memory range holds the table pool";
	}
	return pkvtd_check_memory(w->data_phys, w->data_len);
}

/* Add a leaf's target to the current tree's spans, merged with the last. */
static const char *pk_span_add(struct pkvtd_walk *w, u64 start, u64 len)
{
	struct pkvtd_tree *t = &w->tree[w->cur];
	struct pkvtd_span *span;

	if (t->nr && t->span[t->nr - 1].end == start) {
		t->span[t->nr - 1].end += len;
		return NULL;
	}
	if (t->nr == t->max) {
		span = kvrealloc(t->span, array_size(t->max ? 2 * t->max : 64, sizeof(*span)),
				 GFP_KERNEL);
		if (!span)
			return "out of memory for the held ranges";
		t->span = span;
		t->max = t->max ? 2 * t->max : 64;
	}
	t->span[t->nr].start = start;
	t->span[t->nr].end = start + len;
	t->nr++;
	return NULL;
}

static int pk_span_cmp(const void *a, const void *b)
{
	const struct pkvtd_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort each tree's spans and merge those that touch, for the lookup. */
void pkvtd_spans_finish(struct pkvtd_walk *w)
{
	u32 i, j, n;

	for (i = 0; i < w->nr_tree; i++) {
		struct pkvtd_tree *t = &w->tree[i];

		sort(t->span, t->nr, sizeof(*t->span), pk_span_cmp, NULL);
		for (j = 1, n = !!t->nr; j < t->nr; j++) {
			if (t->span[j].start <= t->span[n - 1].end)
				t->span[n - 1].end = max(t->span[n - 1].end, t->span[j].end);
			else
				t->span[n++] = t->span[j];
		}
		t->nr = n;
	}
}

/* A table page of the pool, past the headers and roots, not seen before. */
static void *pk_walk_page(struct pkvtd_walk *w, u64 pa, const char **why)
{
	u64 idx = (pa - w->pool_phys) >> PAGE_SHIFT;

	if (pa < w->pool_phys || idx >= w->pool_pages || pa & ~PAGE_MASK) {
		*why = "a table page outside the pool";
		return NULL;
	}
	if (idx < PKVTD_RESERVED_PAGES) {
		*why = "a table page on a handover or root page";
		return NULL;
	}
	if (test_and_set_bit(idx, w->seen)) {
		*why = "a table page reached twice (shared or a loop)";
		return NULL;
	}
	return w->pool + (idx << PAGE_SHIFT);
}

static void *pk_walk_table(struct pkvtd_pgwalk *pw, u64 pa)
{
	struct pkvtd_walk *w = container_of(pw, struct pkvtd_walk, pw);

	return pk_walk_page(w, pa, &w->why);
}

static int pk_walk_leaf(struct pkvtd_pgwalk *pw, struct dma_pte *pte, u64 iova, int level)
{
	struct pkvtd_walk *w = container_of(pw, struct pkvtd_walk, pw);
	u64 addr = dma_pte_addr(pte), size = level_size(level) << VTD_PAGE_SHIFT;

	if (level > 3)
		w->why = "a superpage larger than 1 GiB";
	else if (addr < w->data_phys || size > w->data_len ||
		 addr - w->data_phys > w->data_len - size)
		w->why = "a mapping outside the pkernfs data area";
	/* Version 1's bound is the whole namespace, the pool too. */
	else if (addr < w->pool_phys + (w->pool_pages << PAGE_SHIFT) &&
		 w->pool_phys < addr + size)
		w->why = "a mapping into the IOMMU table pool";
	else
		w->why = pk_span_add(w, addr, size);
	return w->why ? -EINVAL : 0;
}

static const char *pk_walk_pgtable(struct pkvtd_walk *w, u64 pa, int level)
{
	w->pw.table = pk_walk_table;
	w->pw.leaf = pk_walk_leaf;
	w->why = NULL;
	pkvtd_pgtable_walk(&w->pw, pa, level, 0);
	return w->why;
}

/*
 * One page table per domain id, one domain id per page table; walked
 * once. Record @rec uses it.
 */
static const char *pk_walk_domain(struct pkvtd_walk *w, u32 rec, u64 pgd, u16 did, u8 aw)
{
	struct pkvtd_tree *t;
	u32 i;

	for (i = 0; i < w->nr_tree; i++) {
		t = &w->tree[i];
		if (t->did == did && t->pgd == pgd && t->aw == aw) {
			w->tree_of[rec] = i;
			t->users++;
			return NULL;
		}
		if (t->did == did || t->pgd == pgd)
			return "domain ids and page tables not one to one";
	}
	if (w->nr_tree >= ARRAY_SIZE(w->tree))
		return "too many page tables";
	t = &w->tree[w->nr_tree];
	t->pgd = pgd;
	t->did = did;
	t->aw = aw;
	t->users = 1;
	w->tree_of[rec] = w->nr_tree;
	w->cur = w->nr_tree++;
	return pk_walk_pgtable(w, pgd, agaw_to_level(aw));
}

/* The record of @bus, @devfn in *@rec, if it names @ce as its context entry. */
static const char *pk_walk_record(struct pkvtd_walk *w, u8 bus, u8 devfn,
				  const struct context_entry *ce, u32 *rec)
{
	const struct pkvtd_handover *h = w->h;
	u32 i, n = le32_to_cpu(h->nr_dev);

	for (i = 0; i < n; i++)
		if (h->dev[i].bus == bus && h->dev[i].devfn == devfn)
			break;
	if (i == n)
		return "a context entry for a device that was not preserved";
	if (le64_to_cpu(h->dev[i].ctx_lo) != ce->lo || le64_to_cpu(h->dev[i].ctx_hi) != ce->hi)
		return "a context entry differs from its record";
	*rec = i;
	return NULL;
}

static const char *pk_walk_did_aw(struct pkvtd_walk *w, u16 did, u8 aw)
{
	if (!did || did >= cap_ndoms(w->iommu->cap))
		return "domain id 0 or out of range";
	if (aw != w->iommu->agaw || !(cap_sagaw(w->iommu->cap) & BIT(aw)))
		return "an address width this IOMMU does not use";
	return NULL;
}

/* Legacy mode: the context entry names the page table. */
static const char *pk_walk_context(struct pkvtd_walk *w, u8 bus, u8 devfn,
				   struct context_entry *ce)
{
	u16 did = context_domain_id(ce);
	u8 aw = context_address_width(ce);
	const char *why;
	u32 i;

	why = pk_walk_record(w, bus, devfn, ce, &i);
	if (why)
		return why;
	if (context_translation_type(ce) != CONTEXT_TT_MULTI_LEVEL)
		return "a context entry with device-TLB or pass-through translation";
	if (ce->lo & PKVTD_CTX_LO_RSVD || ce->hi & ~(PKVTD_CTX_HI_DID | PKVTD_CTX_HI_AW))
		return "reserved bits set in a context entry";
	why = pk_walk_did_aw(w, did, aw);
	return why ?: pk_walk_domain(w, i, context_address_root(ce), did, aw);
}

/*
 * Scalable mode: the context entry (@ce and its reserved upper half) names
 * a one-page PASID directory, which names one PASID table, which holds the
 * RID_PASID entry only: a second-stage entry that names the page table.
 */
static const char *pk_walk_sm_context(struct pkvtd_walk *w, u8 bus, u8 devfn,
				      struct context_entry *ce)
{
	struct pasid_dir_entry *dir;
	struct pasid_entry *tbl, *pe;
	const char *why;
	u64 tbl_pa;
	u16 did;
	u8 aw;
	u32 i;

	why = pk_walk_record(w, bus, devfn, ce, &i);
	if (why)
		return why;
	if (ce[1].lo || ce[1].hi || ce->hi ||
	    ce->lo & ~(VTD_PAGE_MASK | BIT_ULL(0)))
		return "a scalable-mode context entry with reserved bits or enables set";
	dir = pk_walk_page(w, context_address_root(ce), &why);
	if (!dir)
		return why;
	tbl_pa = dir[0].val & PDE_PFN_MASK;
	if (!pasid_pde_is_present(&dir[0]) || dir[0].val & ~(PDE_PFN_MASK | PASID_PTE_PRESENT) ||
	    memchr_inv(&dir[1], 0, PAGE_SIZE - sizeof(*dir)))
		return "a PASID directory that holds more, or less, than PASID 0's table";
	tbl = pk_walk_page(w, tbl_pa, &why);
	if (!tbl)
		return why;
	pe = &tbl[IOMMU_NO_PASID];
	if (memchr_inv(&tbl[1], 0, PAGE_SIZE - sizeof(*tbl)))
		return "a PASID table that holds more than the RID_PASID entry";
	if (!pasid_pte_is_present(pe) || pasid_pte_get_pgtt(pe) != PASID_ENTRY_PGTT_SL_ONLY)
		return "a RID_PASID entry that does not translate through a second-stage table";
	if (pe->val[0] & ~PKVTD_PE0_KNOWN || pe->val[1] & ~PKVTD_PE1_KNOWN ||
	    memchr_inv(&pe->val[2], 0, sizeof(pe->val) - 2 * sizeof(pe->val[0])))
		return "reserved bits set in a PASID entry";
	did = pasid_get_domain_id(pe);
	aw = pasid_get_address_width(pe);
	w->sm_dir[i] = context_address_root(ce);
	w->sm_tbl[i] = tbl_pa;
	return pk_walk_did_aw(w, did, aw) ?: pk_walk_domain(w, i, pasid_get_slptr(pe), did, aw);
}

/* A context table of @bus: all 256 entries, or scalable mode's 128 of one half. */
static const char *pk_walk_ctx_table(struct pkvtd_walk *w, u8 bus, u64 pa, bool upper,
				     u32 *found)
{
	int fn, step = w->sm ? 2 : 1, base = upper ? 0x80 : 0;
	struct context_entry *ctbl;
	const char *why = NULL;

	ctbl = pk_walk_page(w, pa, &why);
	for (fn = 0; ctbl && fn < 256 && !why; fn += step) {
		if (!context_present(&ctbl[fn])) {
			if (memchr_inv(&ctbl[fn], 0, step * sizeof(*ctbl)))
				why = "a non-present context entry that is not zero";
			continue;
		}
		why = w->sm ? pk_walk_sm_context(w, bus, base + fn / 2, &ctbl[fn]) :
			      pk_walk_context(w, bus, fn, &ctbl[fn]);
		*found += !why;
	}
	return why;
}

const char *pkvtd_check_tables(struct pkvtd_walk *w, u64 root_pa)
{
	struct root_entry *root = (void *)(w->pool + (root_pa - w->pool_phys));
	const char *why = NULL;
	u32 found = 0;
	int bus;

	for (bus = 0; bus < 256 && !why; bus++) {
		struct root_entry *re = &root[bus];

		if ((!root_entry_lctp(re) && re->lo) || (!root_entry_uctp(re) && re->hi))
			return "a non-present root entry that is not zero";
		if ((re->lo | re->hi) & ~(VTD_PAGE_MASK | 1))
			return "reserved bits set in a root entry";
		if (re->hi && !w->sm)
			return "a legacy-mode root entry with an upper half";
		if (root_entry_lctp(re))
			why = pk_walk_ctx_table(w, bus, root_entry_lctp(re), false, &found);
		if (!why && root_entry_uctp(re))
			why = pk_walk_ctx_table(w, bus, root_entry_uctp(re), true, &found);
	}
	if (!why && found != le32_to_cpu(w->h->nr_dev))
		why = "a preserved device has no context entry";
	return why;
}

const char *pkvtd_check_header(struct intel_iommu *iommu, const struct pkvtd_handover *h,
			       u64 root_pa)
{
	u64 pool = le64_to_cpu(h->pool_phys), pages = le64_to_cpu(h->pool_pages);
	u64 data = le64_to_cpu(h->data_phys), dlen = le64_to_cpu(h->data_len);
	u32 i, j, n = le32_to_cpu(h->nr_dev);

	/* Version 3 is scalable mode's, and only it. */
	if (le16_to_cpu(h->flags) != (le16_to_cpu(h->version) == PKVTD_VERSION_SM ?
				      PKVTD_FLAG_SCALABLE : 0))
		return "mode flags that do not match the format version";
	if (h->reserved)
		return "reserved header field set";
	if (le64_to_cpu(h->reg_phys) != iommu->reg_phys)
		return "saved for another IOMMU unit (register base differs)";
	if (le64_to_cpu(h->root_phys) != root_pa)
		return "root table address differs from the hardware's";
	if (le64_to_cpu(h->cap) != iommu->cap || le64_to_cpu(h->ecap) != iommu->ecap)
		return "IOMMU capabilities differ";
	if (!n || n > PKVTD_MAX_DEVS)
		return "device count out of range";
	if (pool & ~PAGE_MASK || pages < PKVTD_RESERVED_PAGES + 8 || pages > PKVTD_MAX_POOL_PAGES ||
	    root_pa != pool + (2 * iommu->seq_id + 1) * PAGE_SIZE)
		return "the root table is not where the pool layout puts it";
	if (le16_to_cpu(h->version) == PKVTD_VERSION_1)
		;	/* no data area: pkvtd_v1_data_area() */
	else if (data & ~PAGE_MASK || !dlen || dlen & ~PAGE_MASK || data + dlen < data ||
		 (data < pool + pages * PAGE_SIZE && pool < data + dlen))
		return "the data area is malformed or overlaps the pool";
	for (i = 0; i < n; i++) {
		if (memchr_inv(h->dev[i].reserved, 0, sizeof(h->dev[i].reserved)))
			return "reserved bytes set in a device record";
		for (j = 0; j < i; j++)
			if (h->dev[j].bus == h->dev[i].bus && h->dev[j].devfn == h->dev[i].devfn)
				return "a device listed twice";
	}
	return NULL;
}
