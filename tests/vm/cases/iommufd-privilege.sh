# SPDX-License-Identifier: GPL-2.0-only
# Who may make DMA persistent. IOMMU_HWPT_ALLOC_PRESERVE needs
# CAP_SYS_ADMIN in the initial user namespace: a VMM that was handed
# /dev/iommu, the VFIO cdev and a pkernfs fd but runs as an unprivileged
# user, as root without CAP_SYS_ADMIN, or with every capability of its own
# user namespace only, is refused with EPERM (a kernel without
# CONFIG_USER_NS would SKIP that one; the test kernels have it). A
# read-only mapping of guest RAM cannot be held for persistent DMA
# (EACCES). A user's mistake is an errno, not a kernel log line. Nothing
# is marked by a refused call, and the same VMM with the privilege and a
# writable mapping succeeds, and can stop the hand-over of its HWPT.
# pkt-stages: 1
# pkt-nvdimm: 512M
# pkt-timeout: 150
# pkt-sm: test

F=/mnt/pk/guest-ram

# refused DESC ERRNAME ARGS...: pkt-vmm persist must be refused, quietly.
refused() {
	local desc=$1 errname=$2
	shift 2
	pkt_kmsg_mark "$desc"
	pkt_check "$desc: $errname" sh -c "pkt-vmm persist $EDU $F 0x400000 $PKT_EDU_IOVA $* \
		> /tmp/vmm.out 2>&1; [ \$? = 3 ] &&
		grep -q 'refused: IOMMU_HWPT_ALLOC(PRESERVE): $errname' /tmp/vmm.out"
	pkt_eq "$desc: nothing from the IOMMU code in the kernel log" \
		"$(pkt_kmsg_since "$desc" | grep -v 'PKT ' | grep -iE 'iommu|pkernfs|dmar')" ""
	pkt_info "$(tr '\n' ';' < /tmp/vmm.out)"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	refused "PERSIST as uid 65534" "Operation not permitted" $F.t1 --drop-priv
	refused "PERSIST as root without CAP_SYS_ADMIN" "Operation not permitted" $F.t5 --drop-cap
	pkt-vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA $F.t2 --userns > /tmp/vmm.out 2>&1
	case $? in
	77) pkt_skip "PERSIST from a new user namespace: $(grep -m1 skip /tmp/vmm.out)" ;;
	3) pkt_check "PERSIST from a new user namespace: EPERM" \
		grep -q 'refused: IOMMU_HWPT_ALLOC(PRESERVE): Operation not permitted' /tmp/vmm.out ;;
	*) pkt_fail "PERSIST from a new user namespace was not refused: $(tr '\n' ';' < /tmp/vmm.out)" ;;
	esac
	refused "PERSIST of a read-only mapping" "Permission denied" $F.t3 --ro
	pkt_eq "nothing was marked" "$(grep -c '^domain token' $PKT_IOMMU_STATE 2>/dev/null)" 0
	pkt_check "truncate is not blocked by a refused PERSIST" sh -c "truncate -s 8M $F && truncate -s 4M $F"
	pkt_check "as root, with a writable mapping, PERSIST works" sh -c \
		"pkt-vmm persist $EDU $F 0x400000 $PKT_EDU_IOVA $F.t4 --seed 3 --unmark > /tmp/vmm.out 2>&1"
	pkt_info "$(tr '\n' ';' < /tmp/vmm.out)"
	pkt_check "the token is the kernel's, saved by the VMM, and IOMMU_OPTION read it back" \
		grep -q "handed over as $(cat $F.t4)\$" /tmp/vmm.out
}
