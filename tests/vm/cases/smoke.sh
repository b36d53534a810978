# SPDX-License-Identifier: GPL-2.0-only
# The guest platform every other case relies on: the nvdimm region, the
# VT-d IOMMU with the edu device behind it, iommufd, kexec support.
# Test kernel only: every other case boots the debug kernel.
# pkt-legs: test
# pkt-timeout: 180

stage_1() {
	pkt_check "nvdimm region visible to ndctl" sh -c 'ndctl list -R | jq -e "length == 1"'
	pkt_check "DMAR (VT-d) translation enabled" sh -c 'dmesg | grep -q "DMAR: Intel(R) Virtualization Technology for Directed I/O"'
	pkt_check "edu device (1234:11e8) in its own IOMMU group" \
		sh -c 'for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] && [ -e $d/iommu_group ] && exit 0; done; exit 1'
	pkt_check "/dev/iommu (iommufd) present" test -c /dev/iommu
	pkt_check "/dev/vfio/vfio present" test -c /dev/vfio/vfio
	pkt_check "kexec_load available" test -e /sys/kernel/kexec_loaded
	pkt_info "kernel $(uname -r), $(nproc) cpus, $(grep MemTotal /proc/meminfo | tr -s ' ')"
}
