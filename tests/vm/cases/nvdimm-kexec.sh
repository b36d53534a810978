# SPDX-License-Identifier: GPL-2.0-only
# QEMU nvdimm (NFIT): a devdax namespace, its configuration and a pattern
# written through mmap survive a kexec inside the same QEMU process.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 240

stage_1() { pkt_dax_stage1 256M 0x5eed1; }
stage_2() { pkt_dax_stage2; }
