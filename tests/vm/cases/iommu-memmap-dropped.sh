# SPDX-License-Identifier: GPL-2.0-only
# A next kernel that boots without the reservation the IOMMU tables live
# in. The region is legacy memmap=512M!1G pmem; the kexec asks for the
# live update but leaves memmap= off, so the new kernel sees the pool as
# System RAM its page allocator owns. It must not adopt tables there: it
# refuses with a message naming the reason, stops the preserved device
# (bus mastering off) before translation goes, and the DMA in flight at
# kexec must not land anywhere the new kernel reads as that file.
# pkt-stages: 2
# pkt-nvdimm: none
# pkt-append: memmap=512M!1G
# pkt-timeout: 200
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0011

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "legacy persistent memory in /proc/iomem" \
		grep -q 'Persistent Memory (legacy)' /proc/iomem
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	pkt_info "$(tr '\n' ';' < $PKT_IOMMU_STATE)"
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	PKT_DROP_APPEND="memmap=512M!1G"
	# kexec-check knows the reservation is missing: it must not arm.
	PKT_NO_ARM=1
	pkt_kexec_load || return
	pkt_check "kexec-check: not ready, the reservation is gone" sh -c \
		"pkernfsctl kexec-check --append '$PKT_NEXT_CMDLINE' > /tmp/kc 2>&1; [ \$? = 1 ] && grep -q 'memmap' /tmp/kc"
	pkt_info "$(tr '\n' ';' < /tmp/kc)"
	# Armed by hand, as an operator who skipped the check would: the next
	# kernel itself must find out.
	pkt_check "arm the handover without the check" sh -c "echo 1 > $PKT_IOMMU_ARMED"
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_check "booted without the reservation" sh -c "! grep -q 'memmap=' /proc/cmdline"
	pkt_eq "nothing adopted" "$(dmesg | grep -v 'PKT ' | grep -c 'adopting the previous kernel')" 0
	pkt_eq "no translation tables copied" "$(dmesg | grep -v 'PKT ' | grep -c 'Copied translation tables')" 0
	pkt_info "$(grep -i 'system ram\|persistent' /proc/iomem | tr '\n' ';')"
	pkt_info "$(dmesg | grep -E 'pkernfs-iommu|DMAR: (Translation|Copied)' | tr '\n' ';')"
	pkt_check "refused, naming the reason" sh -c \
		"dmesg | grep -q 'pkernfs-iommu: dmar0: IOMMU state from the previous kernel refused: the table pool .* is System RAM in this kernel'"
	pkt_check "the preserved device was stopped before translation went off" sh -c \
		"dmesg | grep -q '$EDU: pkernfs-iommu: preserved by the previous kernel but not adopted: bus mastering off'"
	pkt_eq "edu's bus mastering is off" "$(( $(pkt_pci_command "$EDU") & 4 ))" 0
}
