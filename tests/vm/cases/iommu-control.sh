# SPDX-License-Identifier: GPL-2.0-only
# The control for iommu-dma-kexec: the same domain, map and in-flight DMA,
# but the domain is not marked persistent. At kexec -e the IOMMU is turned
# off and bus mastering cleared as upstream does, so the DMA must be lost,
# and there is nothing to restore. This shows that iommu-dma-kexec can fail.
# The in-flight DMA is started by pkt_edu's shutdown callback, so it is
# still in flight when translation goes off however long kexec -e takes:
# started from userspace 100 ms ahead, as iommu-dma-kexec's first kexecs
# do, it landed before the switch whenever kexec -e took longer (133 ms on
# the debug kernel on 2026-11-29; 129 ms on the test kernel of a slower
# host on 2026-12-06). iommu-dma-kexec's last kexec uses the same
# shutdown-started DMA, and it lands.
# Test kernel only: the control runs stock code; the debug kernel checks the
# persistent path in iommu-dma-kexec.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-legs: test
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0002

edu() { pkt_edu "$EDU" "$@"; }

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "allocate a paging domain (not marked persistent)" edu domain &&
	pkt_must "attach edu" edu attach &&
	pkt_must "map the 4 MiB file" pkt-edu map "$EDU" $F 0x400000 $PKT_EDU_IOVA 4096 || return
	pkt-edu pattern $F 0 11
	pkt_must "DMA into edu" edu to-dev "$(pkt_iova 0)" $PKT_EDU_LEN &&
	pkt_must "DMA back to page 1" edu to-ram "$(pkt_iova 1)" $PKT_EDU_LEN &&
	pkt_must "page 1 holds the pattern" pkt-edu verify $F 4096 11 || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_must "a DMA to page 16, started by the driver at shutdown" \
		edu to-ram "$(pkt_iova 16)" $PKT_EDU_LEN atshutdown || return
	pkt-edu kexec
	pkt_fail "kexec returned"
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_eq "nothing was handed over" \
		"$(dmesg | grep -c 'handing\|adopting the previous kernel')" 0
	pkt_pkernfs_remount || return
	pkt_check "the DMA of stage 1 is in the file" pkt-edu verify $F 4096 11
	pkt_refuse "without a persistent domain the DMA in flight at kexec is lost" \
		pkt-edu verify $F $((16 * 4096)) 11
	pkt_info "page 16: $(pkt-edu show $F $((16 * 4096)))"
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_expect_error "restore of a token never handed over" \
		"no domain was handed over under token $TOKEN" \
		edu restore $TOKEN $F
}
