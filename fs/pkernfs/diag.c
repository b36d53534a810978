// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs diagnostics: its messages, and the fail_pkernfs fault-injection
 * attribute. Every file uses them; they use nothing of pkernfs.
 */
#define pr_fmt(fmt) "pkernfs: " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/printk.h>
#include "pkernfs.h"

void pkernfs_printk(const struct pkernfs_sb_info *sbi, int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	switch (level) {
	case LOGLEVEL_ERR:
		pr_err("%s: %pV\n", sbi->source, &vaf);
		break;
	case LOGLEVEL_WARNING:
		pr_warn("%s: %pV\n", sbi->source, &vaf);
		break;
	case LOGLEVEL_NOTICE:
		pr_notice("%s: %pV\n", sbi->source, &vaf);
		break;
	default:
		pr_info("%s: %pV\n", sbi->source, &vaf);
		break;
	}
	va_end(args);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_pkernfs: the journal, slot, AU and kernel-area allocations fail at
 * random (debugfs, as failslab). Our own attribute, not fail_function: on
 * 6.12 a kprobe handler is not in task context, so the task filter never
 * matches, and its get_random_u32_below() trips lockdep.
 */
static DECLARE_FAULT_ATTR(pkernfs_fail);
static struct dentry *pkernfs_fail_dir;

bool pkernfs_should_fail(void)
{
	return should_fail(&pkernfs_fail, 1);
}

void pkernfs_fail_init(void)
{
	pkernfs_fail_dir = fault_create_debugfs_attr("fail_pkernfs", NULL, &pkernfs_fail);
}

void pkernfs_fail_exit(void)
{
	debugfs_remove_recursive(pkernfs_fail_dir);
}
#endif
