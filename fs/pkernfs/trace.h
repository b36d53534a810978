/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs tracepoints. pkernfs_fault records the order of every mmap
 * fault (0 = PTE, 9 = PMD, 18 = PUD on x86-64), so tests can count how
 * memory was mapped.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pkernfs

#if !defined(_TRACE_PKERNFS_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_PKERNFS_H

#include <linux/tracepoint.h>

TRACE_EVENT(pkernfs_fault,
	    TP_PROTO(struct inode *inode, pgoff_t pgoff, unsigned int order,
		     bool write, vm_fault_t result),
	    TP_ARGS(inode, pgoff, order, write, result),
	    TP_STRUCT__entry(__field(ino_t, ino)
			     __field(pgoff_t, pgoff)
			     __field(unsigned int, order)
			     __field(bool, write)
			     __field(unsigned int, result)),
	    TP_fast_assign(__entry->ino = inode->i_ino;
			   __entry->pgoff = pgoff;
			   __entry->order = order;
			   __entry->write = write;
			   __entry->result = (__force unsigned int)result;),
	    TP_printk("ino=%lu pgoff=%#lx order=%u %s result=%#x",
		      (unsigned long)__entry->ino, (unsigned long)__entry->pgoff,
		      __entry->order, __entry->write ? "write" : "read",
		      __entry->result)
);

#endif /* _TRACE_PKERNFS_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
