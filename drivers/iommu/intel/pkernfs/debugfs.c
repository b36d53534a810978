// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: the state, and fault injection for tests.
 */
#define pr_fmt(fmt) "pkernfs-iommu: " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "internal.h"

static int pk_state_show(struct seq_file *m, void *unused)
{
	struct pkernfs_iommu_dom *pk;
	int u, i;

	mutex_lock(&pkvtd_mutex);
	pkvtd_reap_torn();
	seq_printf(m, "liveupdate %d\n", pkernfs_iommu_liveupdate);
	if (pkvtd_pool) {
		phys_addr_t pa = pkernfs_kroot_phys(pkvtd_pool);

		seq_printf(m, "pool %pa pages %lu free %lu reserved %lu users %u\n", &pa,
			   pkernfs_kroot_npages(pkvtd_pool), pkernfs_kroot_free_pages(pkvtd_pool),
			   pkernfs_kroot_reserved_pages(pkvtd_pool), pkvtd_pool_users);
	}
	spin_lock(&pkvtd_list_lock);
	list_for_each_entry(pk, &pkvtd_domains, list) {
		struct iommu_domain_info *di;
		struct dmar_drhd_unit *drhd;
		struct intel_iommu *iommu;

		seq_printf(m, "domain token %#llx devices %d", pk->token,
			   list_empty(&pk->domain->devices) ? 0 : 1);
		/* The list keeps the domain; iommu->lock its per-unit infos. */
		rcu_read_lock();
		for_each_active_iommu(iommu, drhd) {
			spin_lock(&iommu->lock);
			di = xa_load(&pk->domain->iommu_array, iommu->seq_id);
			if (di)
				seq_printf(m, " %s did %u", iommu->name, di->did);
			spin_unlock(&iommu->lock);
		}
		rcu_read_unlock();
		seq_putc(m, '\n');
	}
	spin_unlock(&pkvtd_list_lock);
	for (u = 0; u < PKVTD_MAX_UNITS; u++) {
		struct pkernfs_iommu_saved *s = pkvtd_saved[u];

		if (s)
			seq_printf(m, "handover dmar%d version %u %s\n", u,
				   le16_to_cpu(s->hdr.version),
				   s->sm_pages ? "scalable" : "legacy");
		for (i = 0; s && i < le32_to_cpu(s->hdr.nr_dev); i++)
			seq_printf(m, "saved dmar%d generation %llu %02x:%02x.%d token %#llx did %u %s\n",
				   u, le64_to_cpu(s->hdr.generation), s->dev[i].bus,
				   PCI_SLOT(s->dev[i].devfn), PCI_FUNC(s->dev[i].devfn),
				   le64_to_cpu(s->dev[i].token),
				   s->tree[s->tree_of[i]].did,
				   test_bit(i, s->abandoned) ? "abandoned" :
				   test_bit(i, s->replaced) ? "replaced" :
				   s->restored[i] ? "restored" : "open");
		for (i = 0; s && i < s->nr_tree; i++) {
			struct pkvtd_tree *t = &s->tree[i];
			u64 bytes = 0;
			u32 j;

			spin_lock(&pkvtd_held_lock);
			for (j = 0; j < t->nr; j++)
				bytes += t->span[j].end - t->span[j].start;
			seq_printf(m, "tree dmar%d did %u pgd %#llx users %u held %u span(s) %llu bytes\n",
				   u, t->did, t->pgd, t->users, t->nr, bytes);
			spin_unlock(&pkvtd_held_lock);
		}
	}
	mutex_unlock(&pkvtd_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pk_state);

static int __init pkernfs_iommu_debugfs(void)
{
	struct dentry *d = debugfs_create_dir("pkernfs_iommu", NULL);

	debugfs_create_file("state", 0400, d, NULL, &pk_state_fops);
	pkvtd_inject_debugfs(d);
	return 0;
}
late_initcall(pkernfs_iommu_debugfs);
