# SPDX-License-Identifier: GPL-2.0-only
# make bench's machinery at a small size, so that make check shows it still
# works: every benchmark of tests/vm/bench/bench.sh runs once (64 MiB
# faults, 500 files, a timed kexec, mounts), and the host turns the figures
# into the CSV and ratio table (tests/check.sh). The figures are reported,
# never asserted: this is the debug-option test kernel under TCG.
# pkt-stages: 2
# pkt-nvdimm: 1G
# pkt-nvdimm-label: 128K
# pkt-nvdimm-backing: mem
# pkt-mem: 2G
# pkt-timeout: 600
# pkt-legs: test

BENCH_REPS=1
BENCH_FAULT_MB=64
BENCH_BW_LEN=32M
BENCH_META_N=500
BENCH_STALL_LEN=64M
BENCH_NS_SIZES="512M 256M 128M"
BENCH_DATA_LEN=32M
BENCH_SLOTS="4096 65536"
. /pkt/cases/bench.sh

stage_1() { bench_stage1 && kexec_timed; }

stage_2() {
	after_kexec pkernfs || return
	mount_figure "$MNT_FIRST" mount-32M-1k || return
	pkt_ok "bench machinery ran"
}
