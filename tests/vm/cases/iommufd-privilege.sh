# SPDX-License-Identifier: GPL-2.0-only
# Who may make DMA persistent. PERSIST and RESTORE need CAP_SYS_ADMIN in
# the initial user namespace: a VMM that was handed /dev/iommu, the VFIO
# cdev and a pkernfs fd but runs as an unprivileged user, as root without
# CAP_SYS_ADMIN, or with every capability of its own user namespace only,
# is refused with EPERM and a message (a kernel without CONFIG_USER_NS
# would SKIP that one; the test kernels have it). A read-only mapping of
# guest RAM cannot be held for persistent DMA (EACCES). Nothing is marked by a refused call, and the same VMM
# with the privilege and a writable mapping succeeds.
# pkt-stages: 1
# pkt-nvdimm: 512M
# pkt-timeout: 150
# pkt-sm: test

F=/mnt/pk/guest-ram

# refused DESC ERRNAME LOGMSG ARGS...: pkt-vmm persist must be refused.
refused() {
	local desc=$1 errname=$2 msg=$3
	shift 3
	pkt_expect_error "$desc: $errname" "$msg" \
		sh -c "pkt-vmm persist $EDU $F 0x400000 $PKT_EDU_IOVA $* 2>&1 | tee /tmp/vmm.out |
		       grep -q 'refused: IOMMU_HWPT_PKERNFS_PERSIST: $errname'; exit 1"
	pkt_info "$(tr '\n' ';' < /tmp/vmm.out)"
}

stage_1() {
	EDU=$(pkt_edu_devs | head -n 1)
	pkt_pkernfs_stage1 $F 4M || return
	pkt_must "edu to vfio-pci" pkt_vfio_bind "$EDU" || return
	refused "PERSIST as uid 65534" "Operation not permitted" \
		"IOMMU_HWPT_PKERNFS_PERSIST needs CAP_SYS_ADMIN" 0x7101 --drop-priv
	refused "PERSIST as root without CAP_SYS_ADMIN" "Operation not permitted" \
		"IOMMU_HWPT_PKERNFS_PERSIST needs CAP_SYS_ADMIN" 0x7105 --drop-cap
	pkt-vmm persist "$EDU" $F 0x400000 $PKT_EDU_IOVA 0x7102 --userns > /tmp/vmm.out 2>&1
	case $? in
	77) pkt_skip "PERSIST from a new user namespace: $(grep -m1 skip /tmp/vmm.out)" ;;
	3) pkt_check "PERSIST from a new user namespace: EPERM" \
		grep -q 'refused: IOMMU_HWPT_PKERNFS_PERSIST: Operation not permitted' /tmp/vmm.out ;;
	*) pkt_fail "PERSIST from a new user namespace was not refused: $(tr '\n' ';' < /tmp/vmm.out)" ;;
	esac
	refused "PERSIST of a read-only mapping" "Permission denied" \
		"is mapped from a file not open for writing" 0x7103 --ro
	pkt_eq "nothing was marked" "$(grep -c '^domain token' $PKT_IOMMU_STATE 2>/dev/null)" 0
	pkt_check "truncate is not blocked by a refused PERSIST" sh -c "truncate -s 8M $F && truncate -s 4M $F"
	pkt_check "as root, with a writable mapping, PERSIST works" sh -c \
		"pkt-vmm persist $EDU $F 0x400000 $PKT_EDU_IOVA 0x7104 --seed 3 --unmark > /tmp/vmm.out 2>&1"
	pkt_info "$(tr '\n' ';' < /tmp/vmm.out)"
}
