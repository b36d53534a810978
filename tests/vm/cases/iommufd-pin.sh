# SPDX-License-Identifier: GPL-2.0-only
# FOLL_LONGTERM pins of pkernfs pages through iommufd: IOMMU_IOAS_MAP of a
# pkernfs file's shared mapping into an IOAS with an attached HWPT pins it
# at once and edu DMAs through it; the same map of an ext4 -o dax file on
# a second namespace is refused (fs-dax pages cannot be pinned long-term),
# the negative control.
# pkt-nvdimm: 1G
# pkt-nvdimm-label: 128K
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	ndctl disable-region all > /dev/null 2>&1
	ndctl init-labels -f all > /dev/null 2>&1
	ndctl enable-region all > /dev/null 2>&1
	pkt_must "namespace A (devdax)" ndctl create-namespace -r region0 -m devdax -a 2M -s 256M &&
	pkt_must "namespace B (fsdax)" ndctl create-namespace -r region0 -m fsdax -s 256M &&
	pkt_must "bind A" pkt_bind dax0.0 && mkdir -p /mnt/pk /mnt/x &&
	pkt_must "mount pkernfs on A" mount -t pkernfs -o format dax0.0 /mnt/pk &&
	pkt_must "guest RAM file" truncate -s 4M $F &&
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	pkt_must "IOAS_MAP of a pkernfs mapping pins it (FOLL_LONGTERM), and edu DMAs through it" \
		pkt_vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA 0x1 --plain --seed 5
	if ! command -v mkfs.ext4 > /dev/null || [ ! -b /dev/pmem0.1 ]; then
		pkt_skip "no mkfs.ext4 or /dev/pmem0.1: the ext4 -o dax control NOT RUN"
		return
	fi
	pkt_must "ext4 -o dax on B" sh -c "mkfs.ext4 -q -F -b 4096 /dev/pmem0.1 && mount -o dax /dev/pmem0.1 /mnt/x && truncate -s 4M /mnt/x/ram" || return
	pkt_check "the same map of an ext4-dax file is refused" sh -c \
		"pkt-vmm persist $EDU /mnt/x/ram 0x400000 $PKT_EDU_IOVA 0x1 --plain --pkfd $F > /tmp/o 2>&1; rc=\$?; cat /tmp/o; [ \$rc = 3 ] && grep -q 'refused: IOMMU_IOAS_MAP' /tmp/o"
	pkt_info "ext4-dax: $(grep refused /tmp/o)"
}
