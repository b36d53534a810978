# SPDX-License-Identifier: GPL-2.0-only
# An abrupt kexec each way between the 1.1 kernel and main: no umount,
# a writer creating files when kexec -e runs. Each kernel mounts what the
# other left mounted (its journal included), and every file the writer
# had finished, and listed, is there with its data. Then a clean round,
# and main's fsck finds the filesystem clean.
# pkt-stages: 4
# pkt-pinned: 1.1
# pkt-kernel: 1.1
# pkt-legs: test
# pkt-timeout: 420

M=/mnt/pk

# abrupt TAG NEXT: a writer in the background, then kexec without umount.
abrupt() {
	pkt_compat_writer $M "$1" &
	# Past its files, into the appends: then kexec while they run.
	while [ ! -s $M/$1.log ]; do sleep 0.2; done
	sleep 1
	pkt_info "$1: $(wc -l < $M/$1.md5) files, $(wc -l < $M/$1.log) log lines when kexec -e runs"
	pkt_compat_kexec "$2"
}

# logs_ok TAG...: each writer's appended log is whole up to where it stopped.
logs_ok() {
	local t n
	for t; do
		n=$(pkt_compat_log_ok $M/$t.log)
		case "$n" in
		"" | *[!0-9]*) pkt_fail "$t.log: $n" ;;
		*) pkt_ok "$t.log: $n lines, in order, none missing" ;;
		esac
	done
}

verify() {
	local n
	n=$(pkt_compat_verify $M)
	case "$n" in
	*[!0-9]* | "") pkt_fail "$1: $n" ;;
	*) [ "$n" -ge "$2" ] && pkt_ok "$1: $n listed files, each with its data" ||
		pkt_fail "$1: only $n listed files" ;;
	esac
}

stage_1() {
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_pkernfs_format || return
	abrupt w1 main
}

stage_2() {
	pkt_check "running main" pkt_kernel_is main
	pkt_pkernfs_remount || return
	verify "main mounts what 1.1 left mounted" 30
	logs_ok w1
	abrupt w2 1.1
}

stage_3() {
	pkt_check "running the 1.1 kernel" pkt_kernel_is 1.1
	pkt_pkernfs_remount || return
	verify "1.1 mounts what main left mounted" 60
	logs_ok w1 w2
	pkt_check "1.1 writes" pkt_compat_write $M v11 20
	pkt_must "umount" umount $M || return
	pkt_compat_kexec main
}

stage_4() {
	pkt_check "running main" pkt_kernel_is main
	pkt_pkernfs_remount || return
	verify "main, after a clean round" 80
	logs_ok w1 w2
	pkt_must "umount" umount $M && pkt_must "back to device_dax" pkt_unbind dax0.0 || return
	pkt_check "fsck finds it clean" pkernfsctl fsck dax0.0
	pkt_eq "still level 1.1" "$(pkt_compat_level | cut -d' ' -f1)" 1.1
}
