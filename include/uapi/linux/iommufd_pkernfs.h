/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * iommufd ioctls for IOMMU domains whose DMA goes on through a kexec live
 * update, with their page tables and the memory they map in pkernfs.
 *
 * Issued on /dev/iommu like the rest of iommufd: every struct starts with
 * its size and flags, may only grow at the end, and unknown flags are
 * refused with EOPNOTSUPP. See Documentation/filesystems/pkernfs.rst.
 *
 * A VMM, before kexec:
 *   IOMMU_IOAS_ALLOC; IOMMU_IOAS_MAP of guest RAM mmapped from pkernfs files;
 *   IOMMU_HWPT_PKERNFS_PERSIST -> hwpt; VFIO_DEVICE_ATTACH_IOMMUFD_PT(hwpt).
 * After kexec (booted with pkernfs_iommu.liveupdate=1), pkernfs mounted:
 *   bind the device's VFIO cdev (it is not reset); IOMMU_IOAS_ALLOC;
 *   IOMMU_HWPT_PKERNFS_RESTORE(token) -> h0; ATTACH_PT(h0): DMA goes on;
 *   IOMMU_IOAS_MAP the same files at the same IOVAs;
 *   IOMMU_HWPT_PKERNFS_PERSIST(new token) -> h1; ATTACH_PT(h1): replaced in
 *   place, without a fault window; IOMMU_DESTROY(h0).
 */
#ifndef _UAPI_IOMMUFD_PKERNFS_H
#define _UAPI_IOMMUFD_PKERNFS_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* iommufd's ioctl type; a block of numbers clear of upstream's. */
#define IOMMUFD_PKERNFS_TYPE	(';')
enum {
	IOMMUFD_CMD_HWPT_PKERNFS_PERSIST = 0xb0,
	IOMMUFD_CMD_HWPT_PKERNFS_RESTORE = 0xb1,
	IOMMUFD_CMD_HWPT_PKERNFS_UNMARK = 0xb2,
};

/**
 * struct iommu_hwpt_pkernfs_persist - ioctl(IOMMU_HWPT_PKERNFS_PERSIST)
 * @size: sizeof(struct iommu_hwpt_pkernfs_persist)
 * @flags: must be 0
 * @dev_id: the device the HWPT is for (its IOMMU decides the format)
 * @pt_id: the IOAS whose mappings the HWPT gets
 * @pkernfs_fd: any open file on the pkernfs that keeps the page tables
 * @out_hwpt_id: the new paging HWPT
 * @token: non-zero name of the HWPT across kexec
 *
 * Allocate a paging HWPT, as IOMMU_HWPT_ALLOC does, whose page tables live
 * in pkernfs's kernel-only area and which is handed over at kexec. Every
 * mapping of the IOAS must be memory of pkernfs files (mmapped shared);
 * those files refuse truncate, hole punch and unlink until the HWPT is
 * unmarked or destroyed. A later IOMMU_IOAS_MAP of other memory fails.
 *
 * Errors: EINVAL (a mapping is not pkernfs file memory, token 0,
 * pkernfs_fd is not on a pkernfs, or the device's IOMMU cannot), EEXIST
 * (token in use), EXDEV (another pkernfs than the other persistent
 * HWPTs'), ENOSPC (the kernel area's pool is full), ENOENT (no such
 * device or IOAS).
 */
struct iommu_hwpt_pkernfs_persist {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__s32 pkernfs_fd;
	__u32 out_hwpt_id;
	__aligned_u64 token;
};

#define IOMMU_HWPT_PKERNFS_PERSIST _IO(IOMMUFD_PKERNFS_TYPE, IOMMUFD_CMD_HWPT_PKERNFS_PERSIST)

/**
 * struct iommu_hwpt_pkernfs_restore - ioctl(IOMMU_HWPT_PKERNFS_RESTORE)
 * @size: sizeof(struct iommu_hwpt_pkernfs_restore)
 * @flags: must be 0
 * @dev_id: the device whose DMA the last kernel handed over
 * @pt_id: an IOAS; the HWPT reserves the device's regions in it, but
 *	takes none of its mappings
 * @pkernfs_fd: any open file on the mounted pkernfs holding the tables
 * @out_hwpt_id: a paging HWPT that translates what the handed-over domain
 *	did; attach it with VFIO_DEVICE_ATTACH_IOMMUFD_PT, then replace it
 * @token: the token the domain was persisted under
 *
 * The restored HWPT is still handed over at a kexec until it is destroyed
 * or unmarked. IOMMU_IOAS_MAP does not reach it.
 *
 * Errors: ENOENT (nothing was handed over under @token: no live update
 * was requested, the state was refused, or the token is unknown), ENODEV
 * (@token belongs to another device), EBUSY (already restored), EINVAL
 * (pkernfs_fd not on a mounted pkernfs), EXDEV (the tables are in another
 * pkernfs).
 */
struct iommu_hwpt_pkernfs_restore {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__s32 pkernfs_fd;
	__u32 out_hwpt_id;
	__aligned_u64 token;
};

#define IOMMU_HWPT_PKERNFS_RESTORE _IO(IOMMUFD_PKERNFS_TYPE, IOMMUFD_CMD_HWPT_PKERNFS_RESTORE)

/**
 * struct iommu_hwpt_pkernfs_unmark - ioctl(IOMMU_HWPT_PKERNFS_UNMARK)
 * @size: sizeof(struct iommu_hwpt_pkernfs_unmark)
 * @flags: must be 0
 * @hwpt_id: a HWPT from PERSIST or RESTORE
 * @__reserved: must be 0
 *
 * Stop handing the HWPT over at kexec and release its files. It goes on
 * translating; its tables go back to the pool when it is destroyed.
 *
 * Errors: EINVAL (not persistent), ENOENT (no such HWPT).
 */
struct iommu_hwpt_pkernfs_unmark {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};

#define IOMMU_HWPT_PKERNFS_UNMARK _IO(IOMMUFD_PKERNFS_TYPE, IOMMUFD_CMD_HWPT_PKERNFS_UNMARK)

#endif /* _UAPI_IOMMUFD_PKERNFS_H */
