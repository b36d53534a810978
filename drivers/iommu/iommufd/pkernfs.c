// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: paging HWPTs whose DMA goes on through a kexec live update
 * (IOMMU_HWPT_ALLOC_PRESERVE, include/uapi/linux/iommufd.h).
 *
 * IOMMU_HWPT_DATA_PRESERVE allocates a paging HWPT of an IOAS as
 * IOMMU_HWPT_ALLOC does, but has the iommu core preserve its domain while
 * it is still empty, before the IOAS's mappings are filled in. Every
 * mapping must be memory of shared pkernfs file mappings: the files are
 * found through the VMAs, held against truncate and unlink, and the IOMMU
 * driver refuses any other page in a preserved domain, which also catches
 * a mapping swapped between this check and the pin.
 *
 * IOMMU_HWPT_DATA_RESTORE does the same after kexec from an IOAS the VMM
 * rebuilt, then has the core check it against the handed-over tables
 * (iommu_domain_inherit()): attaching it takes them over in place.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/iommu-preserve.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pkernfs.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "io_pagetable.h"
#include "iommufd_private.h"

struct iommufd_pk_hwpt {
	u64 token;
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

/*
 * Hook from __iommufd_hwpt_paging_alloc(): the domain is new and empty.
 * The token is the kernel's: no caller can take or guess another's.
 */
int iommufd_pk_persist_domain(struct iommufd_hwpt_paging *hwpt_paging,
			      struct iommufd_pk_req *req)
{
	int rc, tries = 8;

	do {
		req->pk->token = get_random_u64() ?: 1;
		rc = iommu_domain_preserve(hwpt_paging->common.domain, req->sb,
					   req->pk->token);
	} while (rc == -EEXIST && --tries);
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
				    unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr;
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
			rc = -EACCES;
			break;
		}
		/* Anonymous, private, another filesystem's: the next kernel reuses it. */
		if (!vma || !vma->vm_file || !(vma->vm_flags & VM_SHARED) ||
		    file_inode(vma->vm_file)->i_sb != sb) {
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
					      uptr + (iopt_area_last_index(area) + 1) * PAGE_SIZE);
	}
	up_read(&iopt->iova_rwsem);
	return rc;
}

/* The superblock of @fd if it is a pkernfs; its file in *@filep. */
static struct super_block *iommufd_pk_sb(int fd, struct file **filep)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (!is_pkernfs_sb(file_inode(file)->i_sb)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	*filep = file;
	return file_inode(file)->i_sb;
}

union iommufd_pk_data {
	struct iommu_hwpt_preserve preserve;
	struct iommu_hwpt_restore restore;
};

/* The caller's data, its fd and, for a restore, the token handed over. */
static int iommufd_pk_data(struct iommu_hwpt_alloc *cmd, union iommufd_pk_data *d,
			   int *fd, u64 *token, size_t *out)
{
	size_t size, need;
	int rc;

	switch (cmd->data_type) {
	case IOMMU_HWPT_DATA_PRESERVE:
		size = sizeof(d->preserve);
		need = offsetofend(struct iommu_hwpt_preserve, out_token);
		*out = offsetof(struct iommu_hwpt_preserve, out_token);
		break;
	case IOMMU_HWPT_DATA_RESTORE:
		size = sizeof(d->restore);
		need = offsetofend(struct iommu_hwpt_restore, out_token);
		*out = offsetof(struct iommu_hwpt_restore, out_token);
		break;
	default:
		return -EINVAL;
	}
	if (cmd->data_len < need)
		return -EINVAL;
	rc = copy_struct_from_user(d, size, u64_to_user_ptr(cmd->data_uptr), cmd->data_len);
	if (rc)
		return rc;
	if (cmd->data_type == IOMMU_HWPT_DATA_PRESERVE) {
		*fd = d->preserve.pkernfs_fd;
		*token = 0;
		return d->preserve.flags ? -EOPNOTSUPP : 0;
	}
	*fd = d->restore.pkernfs_fd;
	*token = d->restore.token;
	if (d->restore.flags)
		return -EOPNOTSUPP;
	return *token ? 0 : -EINVAL;
}

/**
 * iommufd_hwpt_preserve_alloc() - IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_PRESERVE
 * @ucmd: the command
 *
 * Persistent DMA outlives the caller and its process: the table pool is
 * shared, and the next kernel keeps the device running before any VMM is
 * back. Host policy, as kexec is: CAP_SYS_ADMIN in the initial user
 * namespace.
 *
 * Return: 0, or an errno as include/uapi/linux/iommufd.h documents.
 */
int iommufd_hwpt_preserve_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_pk_req req = {};
	struct iommufd_device *idev;
	union iommufd_pk_data data;
	struct iommufd_ioas *ioas;
	u64 inherit, token;
	struct file *file;
	size_t out;
	unsigned int i;
	int rc, fd;

	if (cmd->flags != IOMMU_HWPT_ALLOC_PRESERVE)
		return -EOPNOTSUPP;
	rc = iommufd_pk_data(cmd, &data, &fd, &inherit, &out);
	if (rc)
		return rc;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	req.sb = iommufd_pk_sb(fd, &file);
	if (IS_ERR(req.sb))
		return PTR_ERR(req.sb);
	req.pk = kzalloc(sizeof(*req.pk), GFP_KERNEL);
	rc = -ENOMEM;
	if (!req.pk)
		goto out_fput;
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
	req.pk = NULL;
	/* Filled from the IOAS: now it must cover what was handed over. */
	if (inherit)
		rc = iommu_domain_inherit(hwpt_paging->common.domain, idev->dev, inherit);
	token = hwpt_paging->pk->token;
	if (!rc && copy_to_user(u64_to_user_ptr(cmd->data_uptr) + out, &token, sizeof(token)))
		rc = -EFAULT;
	cmd->out_hwpt_id = hwpt_paging->common.obj.id;
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt_paging->common.obj);
	else
		iommufd_object_finalize(ucmd->ictx, &hwpt_paging->common.obj);
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

/**
 * iommufd_hwpt_preserve_option() - IOMMU_OPTION_HWPT_PRESERVE
 * @ucmd: the command; object_id a HWPT
 *
 * Get: the HWPT's token, 0 if it is not handed over. Set 0: stop handing
 * it over and release its files; it goes on translating. Giving up what
 * the caller owns needs no privilege.
 *
 * Return: 0; -EINVAL (set to non-zero, or a HWPT never preserved);
 * -EOPNOTSUPP (another op); -ENOENT (no such HWPT).
 */
int iommufd_hwpt_preserve_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	int rc = 0;

	if (cmd->op != IOMMU_OPTION_OP_GET && cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_SET && cmd->val64)
		return -EINVAL;
	hwpt_paging = iommufd_get_hwpt_paging(ucmd, cmd->object_id);
	if (IS_ERR(hwpt_paging))
		return PTR_ERR(hwpt_paging);
	mutex_lock(&hwpt_paging->ioas->mutex);
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = hwpt_paging->pk ? hwpt_paging->pk->token : 0;
	} else if (!hwpt_paging->pk) {
		rc = -EINVAL;
	} else if (hwpt_paging->pk->token) {
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
