// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: paging HWPTs whose DMA goes on through a kexec live update
 * (include/uapi/linux/iommufd_pkernfs.h).
 *
 * PERSIST allocates a paging HWPT as IOMMU_HWPT_ALLOC does, but marks its
 * domain persistent (drivers/iommu/intel/pkernfs/) while it is
 * still empty, before the IOAS's mappings are filled in. Every mapping
 * must be memory of shared pkernfs file mappings: the files are found
 * through the VMAs now, held against truncate and unlink, and the IOMMU
 * driver refuses to put any other page into a persistent domain, which
 * also catches a mapping swapped between this check and the pin.
 *
 * RESTORE wraps the domain the last kernel handed over in a paging HWPT
 * that is not in its IOAS's domain list (IOAS maps never reach it). The
 * VMM attaches it, maps the same files again into the IOAS, PERSISTs a new
 * HWPT from it and attaches that: the IOMMU driver replaces the domain in
 * place, and the restored one is destroyed.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/iommu-preserve.h>
#include <linux/mm.h>
#include <linux/pkernfs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_pkernfs.h>

#include "io_pagetable.h"
#include "iommufd_private.h"

/* statfs f_type of pkernfs (fs/pkernfs/format.h) */
#define PKERNFS_SUPER_MAGIC	0x706b6673

struct iommufd_pk_hwpt {
	u64 token;
	bool restored;
	unsigned int nfiles;
	unsigned int nheld;		/* files[0..nheld) hold pkernfs_dma_hold() */
	struct file **files;
};

static void iommufd_pk_release_files(struct iommufd_pk_hwpt *pk)
{
	while (pk->nfiles) {
		struct file *f = pk->files[--pk->nfiles];

		if (pk->nfiles < pk->nheld)
			pkernfs_dma_release(f);
		fput(f);
	}
	pk->nheld = 0;
	kfree(pk->files);
	pk->files = NULL;
}

/* Hook from iommufd_hwpt_paging_destroy(), after the domain is freed. */
void iommufd_pk_hwpt_destroy(struct iommufd_hwpt_paging *hwpt_paging)
{
	iommufd_pk_release_files(hwpt_paging->pk);
	kfree(hwpt_paging->pk);
	hwpt_paging->pk = NULL;
}

/* Hook from __iommufd_hwpt_paging_alloc(): the domain is new and empty. */
int iommufd_pk_persist_domain(struct iommufd_hwpt_paging *hwpt_paging,
			      struct iommufd_pk_req *req)
{
	int rc = iommu_domain_preserve(hwpt_paging->common.domain, req->sb,
				       req->pk->token);

	if (!rc) {
		hwpt_paging->pk = req->pk;
		req->taken = true;
	}
	return rc;
}

static int iommufd_pk_add_file(struct iommufd_pk_hwpt *pk, struct file *file)
{
	struct file **files;
	unsigned int i;

	for (i = 0; i < pk->nfiles; i++)
		if (pk->files[i] == file)
			return 0;
	files = krealloc_array(pk->files, pk->nfiles + 1, sizeof(*files), GFP_KERNEL);
	if (!files)
		return -ENOMEM;
	pk->files = files;
	pk->files[pk->nfiles++] = get_file(file);
	return 0;
}

/*
 * The files behind [start, end) of @mm, all shared mappings of pkernfs @sb.
 * Caller holds the IOAS's iova_rwsem; mmap_lock nests inside it, as for
 * pinning.
 */
static int iommufd_pk_collect_range(struct iommufd_pk_hwpt *pk, struct super_block *sb,
				    struct mm_struct *mm, unsigned long start,
				    unsigned long end, unsigned long iova)
{
	struct vm_area_struct *vma;
	unsigned long addr;
	const char *what;
	int rc = 0;

	if (!mmget_not_zero(mm))
		return -EINVAL;
	mmap_read_lock(mm);
	for (addr = start; addr < end && !rc; addr = vma->vm_end) {
		vma = vma_lookup(mm, addr);
		/*
		 * The hold blocks truncate and unlink: a writer's right. Before
		 * the VM_SHARED test, which a read-only file's mapping fails.
		 */
		if (vma && vma->vm_file && !(vma->vm_file->f_mode & FMODE_WRITE)) {
			pr_err_ratelimited("iommufd: IOVA %#lx is mapped from a file not open for writing: it cannot be held for persistent DMA\n",
					   iova + (addr - start));
			rc = -EACCES;
			break;
		}
		what = !vma ? "no mapping" : !vma->vm_file ? "anonymous memory" :
		       !(vma->vm_flags & VM_SHARED) ? "a private mapping" :
		       file_inode(vma->vm_file)->i_sb != sb ? "another filesystem" : NULL;
		if (what) {
			pr_err_ratelimited("iommufd: IOVA %#lx is mapped from %s, not from a shared mapping of the pkernfs the HWPT persists on\n",
					   iova + (addr - start), what);
			rc = -EINVAL;
			break;
		}
		rc = iommufd_pk_add_file(pk, vma->vm_file);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return rc;
}

static int iommufd_pk_collect(struct iommufd_pk_hwpt *pk, struct io_pagetable *iopt,
			      struct super_block *sb)
{
	struct iopt_area *area;
	int rc = 0;

	down_read(&iopt->iova_rwsem);
	for (area = iopt_area_iter_first(iopt, 0, ULONG_MAX); area && !rc;
	     area = iopt_area_iter_next(area, 0, ULONG_MAX)) {
		struct iopt_pages *pages = area->pages;
		unsigned long uptr;

		/* A map still in flight: the IOMMU driver checks its pages. */
		if (!pages)
			continue;
		uptr = (unsigned long)pages->uptr;
		rc = iommufd_pk_collect_range(pk, sb, pages->source_mm,
					      uptr + iopt_area_index(area) * PAGE_SIZE,
					      uptr + (iopt_area_last_index(area) + 1) * PAGE_SIZE,
					      iopt_area_iova(area));
	}
	up_read(&iopt->iova_rwsem);
	return rc;
}

/*
 * Persistent DMA outlives the caller and its process: tokens are global,
 * the table pool is shared, and the next kernel keeps the device running
 * before any VMM is back. Host policy, as kexec is: CAP_SYS_ADMIN in the
 * initial user namespace.
 */
static int iommufd_pk_allowed(const char *what)
{
	if (capable(CAP_SYS_ADMIN))
		return 0;
	pr_err_ratelimited("iommufd: %s needs CAP_SYS_ADMIN: persistent DMA is host state that outlives the caller\n",
			   what);
	return -EPERM;
}

/* The superblock of @fd if it is on a pkernfs; its file in *@filep. */
static struct super_block *iommufd_pk_sb(int fd, struct file **filep)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file_inode(file)->i_sb->s_magic != PKERNFS_SUPER_MAGIC) {
		fput(file);
		pr_err_ratelimited("iommufd: pkernfs_fd is not a file on a mounted pkernfs\n");
		return ERR_PTR(-EINVAL);
	}
	*filep = file;
	return file_inode(file)->i_sb;
}

int iommufd_hwpt_pkernfs_persist(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_pkernfs_persist *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_pk_req req = {};
	struct iommufd_device *idev;
	struct iommufd_ioas *ioas;
	struct file *file;
	unsigned int i;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (!cmd->token)
		return -EINVAL;
	rc = iommufd_pk_allowed("IOMMU_HWPT_PKERNFS_PERSIST");
	if (rc)
		return rc;
	req.sb = iommufd_pk_sb(cmd->pkernfs_fd, &file);
	if (IS_ERR(req.sb))
		return PTR_ERR(req.sb);
	req.pk = kzalloc(sizeof(*req.pk), GFP_KERNEL);
	rc = -ENOMEM;
	if (!req.pk)
		goto out_fput;
	req.pk->token = cmd->token;
	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto out_free;
	}
	rc = -EOPNOTSUPP;
	if (!device_iommu_capable(idev->dev, IOMMU_CAP_DMA_PRESERVE))
		goto out_idev;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->pt_id);
	if (IS_ERR(ioas)) {
		rc = PTR_ERR(ioas);
		goto out_idev;
	}

	mutex_lock(&ioas->mutex);
	rc = iommufd_pk_collect(req.pk, &ioas->iopt, req.sb);
	for (i = 0; !rc && i < req.pk->nfiles; i++) {
		rc = pkernfs_dma_hold(req.pk->files[i]);
		if (!rc)
			req.pk->nheld++;
	}
	if (rc)
		goto out_unlock;
	hwpt_paging = __iommufd_hwpt_paging_alloc(ucmd->ictx, ioas, idev, IOMMU_NO_PASID, 0,
						  false, NULL, &req);
	if (IS_ERR(hwpt_paging)) {
		rc = PTR_ERR(hwpt_paging);
		/* Freed, holds and all, with the HWPT if the hook took it. */
		if (req.taken)
			req.pk = NULL;
		goto out_unlock;
	}
	cmd->out_hwpt_id = hwpt_paging->common.obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt_paging->common.obj);
		req.pk = NULL;
		goto out_unlock;
	}
	iommufd_object_finalize(ucmd->ictx, &hwpt_paging->common.obj);
	req.pk = NULL;
out_unlock:
	mutex_unlock(&ioas->mutex);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
out_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
out_free:
	if (req.pk) {
		iommufd_pk_release_files(req.pk);
		kfree(req.pk);
	}
out_fput:
	fput(file);
	return rc;
}

int iommufd_hwpt_pkernfs_restore(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_pkernfs_restore *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommu_domain *domain;
	struct iommufd_pk_hwpt *pk;
	struct iommufd_device *idev;
	struct iommufd_ioas *ioas;
	struct super_block *sb;
	struct file *file;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	rc = iommufd_pk_allowed("IOMMU_HWPT_PKERNFS_RESTORE");
	if (rc)
		return rc;
	sb = iommufd_pk_sb(cmd->pkernfs_fd, &file);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	rc = -ENOMEM;
	pk = kzalloc(sizeof(*pk), GFP_KERNEL);
	if (!pk)
		goto out_fput;
	pk->token = cmd->token;
	pk->restored = true;
	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto out_free;
	}
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->pt_id);
	if (IS_ERR(ioas)) {
		rc = PTR_ERR(ioas);
		goto out_idev;
	}
	domain = iommu_domain_restore(idev->dev, sb, cmd->token);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto out_ioas;
	}

	mutex_lock(&ioas->mutex);
	hwpt_paging = __iommufd_object_alloc(ucmd->ictx, hwpt_paging, IOMMUFD_OBJ_HWPT_PAGING,
					     common.obj);
	if (IS_ERR(hwpt_paging)) {
		rc = PTR_ERR(hwpt_paging);
		mutex_unlock(&ioas->mutex);
		iommu_domain_free(domain);
		goto out_ioas;
	}
	/* Not on the IOAS's hwpt_list: its maps must not reach this domain. */
	INIT_LIST_HEAD(&hwpt_paging->hwpt_item);
	refcount_inc(&ioas->obj.users);
	hwpt_paging->ioas = ioas;
	hwpt_paging->common.domain = domain;
	hwpt_paging->pk = pk;
	pk = NULL;
	cmd->out_hwpt_id = hwpt_paging->common.obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt_paging->common.obj);
	else
		iommufd_object_finalize(ucmd->ictx, &hwpt_paging->common.obj);
	mutex_unlock(&ioas->mutex);
out_ioas:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
out_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
out_free:
	kfree(pk);
out_fput:
	fput(file);
	return rc;
}

int iommufd_hwpt_pkernfs_unmark(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_pkernfs_unmark *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	int rc = -EINVAL;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt_paging = iommufd_get_hwpt_paging(ucmd, cmd->hwpt_id);
	if (IS_ERR(hwpt_paging))
		return PTR_ERR(hwpt_paging);
	mutex_lock(&hwpt_paging->ioas->mutex);
	if (hwpt_paging->pk && hwpt_paging->pk->token) {
		rc = iommu_domain_unpreserve(hwpt_paging->common.domain);
		if (!rc) {
			hwpt_paging->pk->token = 0;
			iommufd_pk_release_files(hwpt_paging->pk);
		}
	}
	mutex_unlock(&hwpt_paging->ioas->mutex);
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return rc;
}
