# SPDX-License-Identifier: GPL-2.0-only
# A preserved device behind a PCIe root port, as on real hardware, where
# devices rarely sit on the root complex itself. The port forwards the
# device's DMA only while its own bus mastering is on, so the shutdown
# must leave it on for the ports on the path to a preserved device (and
# only for those); the next kernel reads the port's command register at
# DMAR init, before the port driver sets it again. A DMA in flight at the
# kexec lands. (QEMU 7.2's root port forwards DMA whatever its own bus
# master bit says, so only that register read can tell.)
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 200
# pkt-qemu: -device pcie-root-port,id=rp1,chassis=1,slot=1 -device edu,bus=rp1
# pkt-sm: test

F=/mnt/pk/guest-ram
TOKEN=0x5eed0014

edu() { pkt_edu "$EDU" "$@"; }

# edu_behind_port: the edu on a bus of its own, and its root port.
edu_behind_port() {
	local d
	for d in $(pkt_edu_devs); do
		case "$d" in 0000:00:*) ;; *) echo "$d"; return ;; esac
	done
}
port_of() { basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$1")")"; }

stage_1() {
	EDU=$(edu_behind_port)
	[ -n "$EDU" ] || { pkt_fail "no edu behind a root port: $(pkt_edu_devs)"; return; }
	PORT=$(port_of "$EDU")
	pkt_info "edu at $EDU behind $PORT"
	pkt_pkernfs_stage1 $F 4M || return
	pkt_edu_persist "$EDU" $TOKEN $F || return
	pkt_must "DMA to page 1 before kexec" sh -c \
		"echo to-ram $(pkt_iova 1) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$EDU &&
		 pkt-edu verify $F 4096 11" || return
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1"
	pkt_kexec_load || return
	pkt_dma_kexec "$EDU" 16
}

stage_2() {
	EDU=$(edu_behind_port)
	PORT=$(port_of "$EDU")
	pkt_check "the kernel adopted the handed-over translation" \
		sh -c "dmesg | grep -q 'adopting the previous kernel.s translation'"
	# Read at DMAR init, before the port driver binds and sets it again.
	pkt_check "the root port kept bus mastering through the kexec" \
		sh -c "dmesg | grep -q 'pkernfs-iommu: dmar0: 1 bridge(s) on the preserved devices. paths kept bus mastering, 0 did not'"
	pkt_pkernfs_remount || return
	pkt_check "the DMA in flight at kexec landed through the root port" \
		pkt-edu verify $F $((16 * 4096)) 11
	pkt_eq "no DMAR fault" "$(pkt_dmar_faults | head -n 2)" ""
	pkt_must "load pkt_edu" pkt_edu_load || return
	pkt_must "restore by token" edu restore $TOKEN $F || return
	pkt-edu pattern $F 0 22
	pkt_check "DMA both ways after kexec" sh -c \
		"echo to-dev $(pkt_iova 0) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$EDU &&
		 echo to-ram $(pkt_iova 17) $PKT_EDU_LEN > /sys/kernel/debug/pkt_edu/$EDU &&
		 pkt-edu verify $F $((17 * 4096)) 22"
}
