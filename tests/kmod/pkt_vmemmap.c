// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt_vmemmap: how the memmap of a physical range is mapped, for the VM
 * tests of patch 0006 (shared tail PTE tables of compound devmap pages).
 *
 * Write "PHYS SIZE" to /sys/kernel/debug/pkt_vmemmap and read back
 * "pmds P tables T users U huge H": the PMD-sized pieces of the range's
 * memmap that PTE tables map, the distinct tables among them, the PMDs
 * those tables say use them (page->private counts the sharers beyond the
 * first: U must be P), and the pieces mapped by a 2 MiB leaf instead.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <asm/pgtable.h>

static DEFINE_MUTEX(pkt_vmemmap_lock);
static char pkt_vmemmap_result[96] = "none\n";
static struct dentry *pkt_vmemmap_file;

/*
 * Lockless walk of init_mm's vmemmap: the test neither binds nor unbinds
 * while it reads, so no table it looks at is freed under it.
 */
static void pkt_vmemmap_count(u64 phys, u64 size)
{
	unsigned long start = (unsigned long)pfn_to_page(PHYS_PFN(phys));
	unsigned long end = (unsigned long)pfn_to_page(PHYS_PFN(phys + size));
	unsigned long addr, t, prev = 0, pmds = 0, tables = 0, users = 0;
	unsigned long huge = 0;
	unsigned int level;
	pte_t *pte;

	for (addr = ALIGN_DOWN(start, PMD_SIZE); addr < end; addr += PMD_SIZE) {
		pte = lookup_address(addr, &level);
		if (!pte)
			continue;
		if (level != PG_LEVEL_4K) {
			huge++;
			continue;
		}
		pmds++;
		t = (unsigned long)pte & PAGE_MASK;
		if (t == prev)
			continue;
		prev = t;
		tables++;
		users += page_private(virt_to_page((void *)t)) + 1;
	}
	snprintf(pkt_vmemmap_result, sizeof(pkt_vmemmap_result),
		 "pmds %lu tables %lu users %lu huge %lu\n", pmds, tables, users,
		 huge);
}

static ssize_t pkt_vmemmap_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[64];
	u64 phys, size;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%llx %llx", &phys, &size) != 2 || !size ||
	    phys + size < phys || phys + size > BIT_ULL(MAX_PHYSMEM_BITS))
		return -EINVAL;
	mutex_lock(&pkt_vmemmap_lock);
	pkt_vmemmap_count(phys, size);
	mutex_unlock(&pkt_vmemmap_lock);
	return len;
}

static ssize_t pkt_vmemmap_read(struct file *file, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&pkt_vmemmap_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, pkt_vmemmap_result,
				      strlen(pkt_vmemmap_result));
	mutex_unlock(&pkt_vmemmap_lock);
	return ret;
}

static const struct file_operations pkt_vmemmap_fops = {
	.owner = THIS_MODULE,
	.read = pkt_vmemmap_read,
	.write = pkt_vmemmap_write,
};

static int __init pkt_vmemmap_init(void)
{
	pkt_vmemmap_file = debugfs_create_file("pkt_vmemmap", 0600, NULL, NULL,
					       &pkt_vmemmap_fops);
	return 0;
}

static void __exit pkt_vmemmap_exit(void)
{
	debugfs_remove(pkt_vmemmap_file);
}

module_init(pkt_vmemmap_init);
module_exit(pkt_vmemmap_exit);
MODULE_DESCRIPTION("pkernfs tests: count the PTE tables of a range's memmap");
MODULE_LICENSE("GPL");
