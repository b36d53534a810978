// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt_edu: a test driver for QEMU's edu device (1234:11e8) that drives the
 * pkernfs IOMMU persistence API the way a VMM's kernel side would.
 *
 * Each bound device gets /sys/kernel/debug/pkt_edu/<pci name>. Write one
 * command per write(); the result of the last command is read back.
 *
 *   domain                      allocate a paging domain (not attached)
 *   persist TOKEN PATH          mark it persistent, tables in PATH's pkernfs
 *   attach                      attach it to the device
 *   map IOVA UADDR LEN PGSIZE   pin the writer's pages, map them at IOVA
 *                               (PGSIZE 4096 or 2097152)
 *   unmap IOVA LEN              unmap (the pins stay until the driver goes)
 *   remap IOVA PGSIZE [LEN]     map the pages still pinned again (the
 *                               first LEN bytes of them)
 *   restore TOKEN PATH          after kexec: take the domain back and attach
 *   unmark                      stop handing the domain over
 *   share PCI-NAME              attach to the domain of that pkt_edu device
 *                               (a domain two devices share); it must not
 *                               be released before this one is
 *   release                     detach, free the domain (a shared one is
 *                               only detached), unpin, drop the file hold
 *   to-dev IOVA LEN             DMA from IOVA into edu's buffer, wait
 *   to-ram IOVA LEN [nowait]    DMA edu's buffer to IOVA; wait unless nowait
 *   to-ram IOVA LEN atshutdown  the same, started from the driver's shutdown
 *                               callback: in flight at kexec however long
 *                               userspace and the other devices take
 *   bench ITER PGSIZE IOVA LEN  map+unmap the pinned pages ITER times;
 *                               read back "bench map_ns unmap_ns"
 *
 * The device is never reset and bus mastering is left as found, so that
 * after kexec a preserved device's DMA can still be in flight when the
 * driver binds. The driver manages DMA itself (driver_managed_dma): the
 * IOMMU core gives the device no default domain for it.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/iommu-preserve.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/pci.h>
#include <linux/pkernfs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_BUF		0x40000
#define EDU_BUF_LEN	4096

struct pkt_edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct iommu_domain *domain;
	bool attached;
	bool borrowed;			/* domain is another device's (share) */
	struct page **pages;
	unsigned long npages;
	struct file *held;		/* the pkernfs file the domain maps */
	struct mutex lock;
	struct dentry *file;
	u64 shutdown_iova, shutdown_len;	/* to-ram at shutdown, if len */
	char result[128];
};

static struct dentry *pkt_edu_dir;

static int pkt_edu_wait(struct pkt_edu *e)
{
	int i;

	/* A transfer runs about 100 ms of virtual time after it starts. */
	for (i = 0; i < 250; i++) {
		if (!(readq(e->bar + EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		msleep(20);
	}
	return -ETIMEDOUT;
}

static int pkt_edu_dma(struct pkt_edu *e, bool to_ram, u64 iova, u64 len, bool wait)
{
	if (!len || len > EDU_BUF_LEN)
		return -EINVAL;
	if (readq(e->bar + EDU_DMA_CMD) & EDU_DMA_RUN)
		return -EBUSY;
	writeq(to_ram ? EDU_BUF : iova, e->bar + EDU_DMA_SRC);
	writeq(to_ram ? iova : EDU_BUF, e->bar + EDU_DMA_DST);
	writeq(len, e->bar + EDU_DMA_CNT);
	writeq(EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0), e->bar + EDU_DMA_CMD);
	return wait ? pkt_edu_wait(e) : 0;
}

static int pkt_edu_pin(struct pkt_edu *e, unsigned long uaddr, unsigned long len)
{
	unsigned long n = len >> PAGE_SHIFT;
	struct page **pages;
	long got;

	if (e->pages)
		return -EBUSY;
	if (!n || (uaddr | len) & ~PAGE_MASK)
		return -EINVAL;
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	got = pin_user_pages_fast(uaddr, n, FOLL_WRITE | FOLL_LONGTERM, pages);
	if (got != n) {
		if (got > 0)
			unpin_user_pages(pages, got);
		kvfree(pages);
		return got < 0 ? got : -EFAULT;
	}
	e->pages = pages;
	e->npages = n;
	return 0;
}

/* Hold @file against truncate and unlink while the domain maps it. */
static int pkt_edu_hold(struct pkt_edu *e, struct file *file)
{
	int err;

	if (e->held)
		return 0;
	err = pkernfs_dma_hold(file);
	if (err)
		return err;
	e->held = get_file(file);
	return 0;
}

/* The file behind the writer's mapping at @uaddr, if a pkernfs one. */
static int pkt_edu_hold_mapping(struct pkt_edu *e, unsigned long uaddr)
{
	struct vm_area_struct *vma;
	struct file *file = NULL;
	int err;

	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, uaddr);
	if (vma && vma->vm_file)
		file = get_file(vma->vm_file);
	mmap_read_unlock(current->mm);
	if (!file)
		return 0;
	err = pkt_edu_hold(e, file);
	fput(file);
	return err == -EINVAL ? 0 : err;	/* not pkernfs: nothing to hold */
}

/*
 * Map the first @npages pinned pages at @iova in @pgsize pieces, which
 * must be contiguous.
 */
static int pkt_edu_map(struct pkt_edu *e, u64 iova, unsigned long pgsize, unsigned long npages)
{
	unsigned long i, k, step = pgsize >> PAGE_SHIFT;
	int err;

	if ((pgsize != SZ_4K && pgsize != SZ_2M) || !npages || npages > e->npages ||
	    npages % step || iova % pgsize)
		return -EINVAL;
	for (i = 0; i < npages; i += step) {
		phys_addr_t pa = page_to_phys(e->pages[i]);

		for (k = 1; k < step; k++)
			if (page_to_phys(e->pages[i + k]) != pa + k * PAGE_SIZE)
				return -EINVAL;
		if (pa % pgsize)
			return -EINVAL;
		err = iommu_map(e->domain, iova + i * PAGE_SIZE, pa, pgsize,
				IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
		if (err) {
			if (i)
				iommu_unmap(e->domain, iova, i * PAGE_SIZE);
			return err;
		}
	}
	return 0;
}

static int pkt_edu_bench(struct pkt_edu *e, unsigned long iter, unsigned long pgsize,
			 u64 iova)
{
	u64 map_ns = 0, unmap_ns = 0, len = (u64)e->npages << PAGE_SHIFT;
	unsigned long i;
	ktime_t t0;
	int err;

	if (!e->pages || !e->domain || !iter)
		return -EINVAL;
	for (i = 0; i < iter; i++) {
		t0 = ktime_get();
		err = pkt_edu_map(e, iova, pgsize, e->npages);
		map_ns += ktime_get() - t0;
		if (err)
			return err;
		t0 = ktime_get();
		if (iommu_unmap(e->domain, iova, len) != len)
			return -EIO;
		unmap_ns += ktime_get() - t0;
	}
	snprintf(e->result, sizeof(e->result), "bench %llu %llu\n", map_ns, unmap_ns);
	return 0;
}

static int pkt_edu_restore(struct pkt_edu *e, struct super_block *sb, u64 token)
{
	struct iommu_domain *dom;
	int err;

	if (e->domain)
		return -EBUSY;
	dom = iommu_domain_restore(&e->pdev->dev, sb, token);
	if (IS_ERR(dom))
		return PTR_ERR(dom);
	e->domain = dom;
	err = iommu_attach_device(dom, &e->pdev->dev);
	e->attached = !err;
	return err;
}

/* "persist TOKEN PATH" and "restore TOKEN PATH" */
static int pkt_edu_token_cmd(struct pkt_edu *e, const char *cmd, u64 token, const char *file)
{
	struct path path;
	int err;

	err = kern_path(file, LOOKUP_FOLLOW, &path);
	if (err)
		return err;
	if (!strcmp(cmd, "restore")) {
		struct file *f = filp_open(file, O_RDWR, 0);

		err = PTR_ERR_OR_ZERO(f);
		if (!err) {
			/*
			 * Hold first: a hold that failed after the restore
			 * reported the restore failed with the domain in place,
			 * and the caller's retry freed it (pkernfs-inject).
			 */
			bool had = e->held;

			err = pkt_edu_hold(e, f);
			if (!err)
				err = pkt_edu_restore(e, path.dentry->d_sb, token);
			if (err && !had && e->held) {
				pkernfs_dma_release(e->held);
				fput(e->held);
				e->held = NULL;
			}
			fput(f);
		}
	} else if (!e->domain) {
		err = -ENOENT;
	} else {
		err = iommu_domain_preserve(e->domain, path.dentry->d_sb, token);
	}
	path_put(&path);
	return err;
}

static struct pci_driver pkt_edu_driver;

/* Back to the state after probe: no domain, no pins, no hold. */
static void pkt_edu_release(struct pkt_edu *e)
{
	if (e->domain) {
		if (e->attached)
			iommu_detach_device(e->domain, &e->pdev->dev);
		if (!e->borrowed)
			iommu_domain_free(e->domain);
	}
	e->domain = NULL;
	e->attached = false;
	e->borrowed = false;
	if (e->pages) {
		unpin_user_pages(e->pages, e->npages);
		kvfree(e->pages);
		e->pages = NULL;
	}
	if (e->held) {
		pkernfs_dma_release(e->held);
		fput(e->held);
		e->held = NULL;
	}
}

/*
 * Attach to the domain of pkt_edu device @name. Its domain is read
 * without its lock: the test issues one command at a time, and releases
 * the sharer first (see the commands above).
 */
static int pkt_edu_share(struct pkt_edu *e, const char *name)
{
	struct device *dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
	struct pkt_edu *other;
	int err = -ENODEV;

	if (!dev)
		return -ENODEV;
	if (e->domain) {
		err = -EBUSY;
		goto out;
	}
	if (to_pci_dev(dev)->driver != &pkt_edu_driver)
		goto out;
	other = pci_get_drvdata(to_pci_dev(dev));
	err = -ENOENT;
	if (!other || other == e || !other->domain)
		goto out;
	err = iommu_attach_device(other->domain, &e->pdev->dev);
	if (!err) {
		e->domain = other->domain;
		e->borrowed = true;
		e->attached = true;
	}
out:
	put_device(dev);
	return err;
}

static int pkt_edu_cmd(struct pkt_edu *e, char *buf)
{
	char *argv[6] = {};
	u64 n[6] = {};
	int argc = 0, i;
	const char *cmd;

	while (argc < ARRAY_SIZE(argv) && (argv[argc] = strsep(&buf, "\n\t ")))
		if (*argv[argc])
			argc++;
	if (!argc)
		return -EINVAL;
	cmd = argv[0];
	/* Every argument is a number, but a path and "nowait". */
	for (i = 1; i < argc; i++)
		if (kstrtoull(argv[i], 0, &n[i]) && strcmp(argv[i], "nowait") &&
		    strcmp(argv[i], "atshutdown") &&
		    !(i == 2 && strstr("persist restore", cmd)) &&
		    !(i == 1 && !strcmp(cmd, "share")))
			return -EINVAL;
	snprintf(e->result, sizeof(e->result), "ok\n");

	if (!strcmp(cmd, "domain") && argc == 1) {
		struct iommu_domain *dom;

		if (e->domain)
			return -EBUSY;
		dom = iommu_paging_domain_alloc(&e->pdev->dev);
		if (IS_ERR(dom))
			return PTR_ERR(dom);
		e->domain = dom;
		return 0;
	}
	if ((!strcmp(cmd, "persist") || !strcmp(cmd, "restore")) && argc == 3)
		return pkt_edu_token_cmd(e, cmd, n[1], argv[2]);
	if (!strcmp(cmd, "share") && argc == 2)
		return pkt_edu_share(e, argv[1]);
	if (!strcmp(cmd, "release") && argc == 1) {
		pkt_edu_release(e);
		return 0;
	}
	/* DMA needs no domain of ours: the test of a blocked device has none. */
	if (!strcmp(cmd, "to-dev") && argc == 3)
		return pkt_edu_dma(e, false, n[1], n[2], true);
	if (!strcmp(cmd, "to-ram") && argc == 4 && !strcmp(argv[3], "atshutdown")) {
		if (!n[2] || n[2] > EDU_BUF_LEN)
			return -EINVAL;
		e->shutdown_iova = n[1];
		e->shutdown_len = n[2];
		return 0;
	}
	if (!strcmp(cmd, "to-ram") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "nowait"))))
		return pkt_edu_dma(e, true, n[1], n[2], argc == 3);
	if (!e->domain)
		return -ENOENT;
	if (!strcmp(cmd, "attach") && argc == 1) {
		int err = iommu_attach_device(e->domain, &e->pdev->dev);

		e->attached = !err;
		return err;
	}
	if (!strcmp(cmd, "unmark") && argc == 1)
		return iommu_domain_unpreserve(e->domain);
	if (!strcmp(cmd, "map") && argc == 5) {
		int err = pkt_edu_pin(e, n[2], n[3]);

		if (!err)
			err = pkt_edu_hold_mapping(e, n[2]);
		return err ?: pkt_edu_map(e, n[1], n[4], e->npages);
	}
	if (!strcmp(cmd, "remap") && (argc == 3 || argc == 4))
		return e->pages ? pkt_edu_map(e, n[1], n[2],
					      argc == 4 ? n[3] >> PAGE_SHIFT : e->npages) : -ENOENT;
	if (!strcmp(cmd, "unmap") && argc == 3)
		return iommu_unmap(e->domain, n[1], n[2]) == n[2] ? 0 : -EIO;
	if (!strcmp(cmd, "bench") && argc == 5)
		return pkt_edu_bench(e, n[1], n[2], n[3]);
	return -EINVAL;
}

static ssize_t pkt_edu_write(struct file *f, const char __user *ubuf, size_t len,
			     loff_t *ppos)
{
	struct pkt_edu *e = file_inode(f)->i_private;
	char *buf;
	int err;

	if (len > 512)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	mutex_lock(&e->lock);
	err = pkt_edu_cmd(e, buf);
	if (err)
		snprintf(e->result, sizeof(e->result), "error %d\n", err);
	mutex_unlock(&e->lock);
	kfree(buf);
	return err ?: len;
}

static ssize_t pkt_edu_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct pkt_edu *e = file_inode(f)->i_private;
	char tmp[sizeof(e->result)];

	mutex_lock(&e->lock);
	strscpy(tmp, e->result, sizeof(tmp));
	mutex_unlock(&e->lock);
	return simple_read_from_buffer(ubuf, len, ppos, tmp, strlen(tmp));
}

static const struct file_operations pkt_edu_fops = {
	.owner = THIS_MODULE,
	.write = pkt_edu_write,
	.read = pkt_edu_read,
};

static int pkt_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pkt_edu *e;
	int err;

	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	mutex_init(&e->lock);
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	e->bar = pcim_iomap(pdev, 0, 0);
	if (!e->bar)
		return -ENOMEM;
	/* Already on for a preserved device; never toggled off here. */
	pci_set_master(pdev);
	pci_set_drvdata(pdev, e);
	snprintf(e->result, sizeof(e->result), "idle\n");
	e->file = debugfs_create_file(pci_name(pdev), 0600, pkt_edu_dir, e, &pkt_edu_fops);
	dev_info(&pdev->dev, "pkt_edu bound, bus master %s\n",
		 pdev->is_busmaster ? "on" : "off");
	return 0;
}

static void pkt_edu_remove(struct pci_dev *pdev)
{
	struct pkt_edu *e = pci_get_drvdata(pdev);

	debugfs_remove(e->file);
	pkt_edu_wait(e);
	pkt_edu_release(e);
}

/* Before pci_device_shutdown() decides about bus mastering. */
static void pkt_edu_shutdown(struct pci_dev *pdev)
{
	struct pkt_edu *e = pci_get_drvdata(pdev);

	if (e->shutdown_len && !pkt_edu_dma(e, true, e->shutdown_iova, e->shutdown_len, false))
		dev_info(&pdev->dev, "pkt_edu: DMA to %#llx started at shutdown\n",
			 e->shutdown_iova);
}

static const struct pci_device_id pkt_edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pkt_edu_ids);

static struct pci_driver pkt_edu_driver = {
	.name = "pkt_edu",
	.id_table = pkt_edu_ids,
	.probe = pkt_edu_probe,
	.remove = pkt_edu_remove,
	.shutdown = pkt_edu_shutdown,
	.driver_managed_dma = true,
};

static int __init pkt_edu_init(void)
{
	int err;

	pkt_edu_dir = debugfs_create_dir("pkt_edu", NULL);
	err = pci_register_driver(&pkt_edu_driver);
	if (err)
		debugfs_remove(pkt_edu_dir);
	return err;
}
module_init(pkt_edu_init);

static void __exit pkt_edu_exit(void)
{
	pci_unregister_driver(&pkt_edu_driver);
	debugfs_remove(pkt_edu_dir);
}
module_exit(pkt_edu_exit);

MODULE_DESCRIPTION("pkernfs test driver for the QEMU edu device");
MODULE_LICENSE("GPL");
