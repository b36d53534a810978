# SPDX-License-Identifier: GPL-2.0-only
# What 'make demo' shows: a devdax namespace made with ndctl, data written
# into it through mmap, a kexec into a fresh kernel in the same QEMU
# process, and the data found intact. (Runs in 'make check' too.)
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 240

stage_1() {
	pkt_info "stage 1: first kernel up; the nvdimm region as ndctl sees it:"
	pkt_info "$(ndctl list -R | jq -c '.[] | {dev, size, type}')"
	pkt_info "creating a devdax namespace (ndctl create-namespace -m devdax -a 2M)"
	pkt_info "writing a 256 MiB pattern through mmap, then kexec into a new kernel"
	pkt_dax_stage1 256M 0xdec0de
}

stage_2() {
	pkt_info "stage 2: kexec'd kernel up after $(cut -d' ' -f1 /proc/uptime) s; checking the namespace and data"
	pkt_dax_stage2
}
