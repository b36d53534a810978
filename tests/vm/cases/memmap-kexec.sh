# SPDX-License-Identifier: GPL-2.0-only
# Legacy memmap=nn!ss pmem: plain RAM, so only the kexec (not a backing
# file) can have kept the pattern.
# pkt-stages: 2
# pkt-nvdimm: none
# pkt-append: memmap=256M!1G
# pkt-timeout: 240

stage_1() {
	pkt_check "/dev/pmem0 from memmap=256M!1G" test -b /dev/pmem0
	pkt_check "iomem shows legacy persistent memory" \
		grep -q 'Persistent Memory (legacy)' /proc/iomem
	pkt_dax_stage1 128M 0xbee5
}
stage_2() { pkt_dax_stage2; }
