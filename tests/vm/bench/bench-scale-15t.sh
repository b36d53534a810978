# SPDX-License-Identifier: GPL-2.0-only
# make bench: bench-scale's steps on the largest region this machine
# allows (issue 20): a 15 TiB nvdimm, because the host's ext4 caps a
# sparse file just below 16 TiB. 1 GiB alignment, the same 1,000 files.
# pkt-stages: 3
# pkt-nvdimm: 15T
# pkt-maxmem: 16T
# pkt-qemu: -cpu max,phys-bits=46
# pkt-append: vm_debug=-
# pkt-timeout: 1800
# pkt-legs: bench

SCALE_FILE=15000G
SCALE_AT="1000 5000 10000 14999"
. /pkt/cases/bench-scale.sh
