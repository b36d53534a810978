# SPDX-License-Identifier: GPL-2.0-only
# Upgrades from each earlier release to main, with a rollback between
# each: one filesystem, formatted by the 1.0 kernel, carried 1.0 -> main ->
# 1.1 -> main -> 1.2 -> main in one QEMU process. Every kernel finds every
# file the earlier ones wrote and writes its own; no kernel raises the
# level (the fleet formatted for 1.0, so every rollback stays writable);
# main's fsck finds it clean after each. Each boot checks it runs the
# kernel it should: the image's version string is uname's.
# pkt-stages: 6
# pkt-pinned: 1.0 1.1 1.2
# pkt-kernel: 1.0
# pkt-legs: test
# pkt-timeout: 420

M=/mnt/pk
ORDER="1.0 main 1.1 main 1.2 main"
N=30	# files per kernel, an AU each

label() { echo $ORDER | cut -d' ' -f"$1"; }

each_stage() {
	local me next n
	me=$(label $PKT_STAGE)
	[ $PKT_STAGE -lt 6 ] && next=$(label $((PKT_STAGE + 1)))
	pkt_check "running the $me kernel" pkt_kernel_is $me
	if [ $PKT_STAGE = 1 ]; then
		pkt_pkernfs_format || return
	else
		pkt_pkernfs_remount || return
	fi
	n=$(pkt_compat_verify $M)
	pkt_eq "$me finds every file the earlier kernels wrote" "$n" $((N * (PKT_STAGE - 1)))
	pkt_check "$me writes $N files" pkt_compat_write $M s$PKT_STAGE $N
	pkt_must "umount" umount $M &&
	pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_eq "still level 1.0, no read-only-compatible feature" "$(pkt_compat_level)" "1.0 0"
	pkt_check "main's fsck finds it clean" pkernfsctl fsck dax0.0
	[ -n "$next" ] || return 0
	pkt_compat_kexec $next
}

stage_1() { each_stage; }
stage_2() { each_stage; }
stage_3() { each_stage; }
stage_4() { each_stage; }
stage_5() { each_stage; }
stage_6() { each_stage; }
