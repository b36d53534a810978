# SPDX-License-Identifier: GPL-2.0-only
# make bench: bench-scale's steps on an 8 GiB region, the small end of
# its t(1 TiB) / t(8 GiB) (issue 20): 1 GiB alignment, the same 1,000
# files, a 6 GiB file (the metadata and the kernel area take an AU each).
# pkt-stages: 3
# pkt-nvdimm: 9G
# pkt-maxmem: 12G
# pkt-append: vm_debug=-
# pkt-timeout: 600
# pkt-legs: bench

SCALE_FILE=6G
SCALE_AT="2 4 5"
. /pkt/cases/bench-scale.sh
