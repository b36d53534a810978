# SPDX-License-Identifier: GPL-2.0-only
#
# Helpers for guest test cases (busybox ash). A case file defines
# stage_1 .. stage_N; each calls pkt_ok/pkt_fail/pkt_skip for its checks
# and ends a non-final stage with pkt_kexec. The host runner reads the
# "PKT ..." lines from /dev/ttyS1 (see tests/vm/run.sh).

PKT_RES=/dev/ttyS1
PKT_FAILS=0

pkt_arg() {
	# pkt_arg NAME: value of NAME= on the kernel command line
	for a in $(cat /proc/cmdline); do
		case "$a" in "$1="*) echo "${a#*=}"; return 0 ;; esac
	done
	return 1
}

# pkt_scale N: N on the test kernel, N/4 (at least 1) on the debug one.
# KASAN and lockdep find a bad access on its first run, not its thousandth;
# the long soaks of make check run in full on the test kernel, and the
# debug leg keeps the suite within its time budget.
pkt_scale() {
	if [ "$(pkt_arg pkt.leg)" = debug ]; then
		echo $(( $1 / 4 > 0 ? $1 / 4 : 1 ))
	else
		echo "$1"
	fi
}

pkt_emit() {
	echo "PKT $*" > $PKT_RES
	echo "PKT $*" > /dev/kmsg
}

pkt_info() { pkt_emit "INFO $*"; }

pkt_ok() { pkt_emit "OK $*"; }
pkt_fail() { pkt_emit "FAIL $*"; PKT_FAILS=$((PKT_FAILS + 1)); }
pkt_skip() { pkt_emit "SKIP $*"; }

# pkt_monitor CMD: have the host send CMD to QEMU's monitor (a case with
# "# pkt-monitor: on"); it arrives within a second or so, so the caller
# waits for its effect.
pkt_monitor() { pkt_emit "MON $*"; }

# pkt_check DESC CMD...: run CMD, OK if it exits 0, FAIL with its output.
pkt_check() {
	local desc="$1" out
	shift
	if out=$("$@" 2>&1); then
		pkt_ok "$desc"
	else
		pkt_fail "$desc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

# pkt_must DESC CMD...: pkt_check that also returns CMD's status, so a
# case can stop where going on makes no sense.
pkt_must() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		pkt_ok "$desc"
		return 0
	fi
	pkt_fail "$desc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	return 1
}

# pkt_refuse DESC CMD...: CMD must fail.
pkt_refuse() {
	local desc="$1" out
	shift
	if out=$("$@" 2>&1); then
		pkt_fail "$desc: succeeded but should have been refused"
	else
		pkt_ok "$desc (refused: $(echo "$out" | tail -n 1))"
	fi
}

# pkt_eq DESC GOT WANT
pkt_eq() {
	if [ "$2" = "$3" ]; then
		pkt_ok "$1"
	else
		pkt_fail "$1: got '$2', want '$3'"
		return 1
	fi
}

# State handed from one stage to the next must live in the memory under
# test; /tmp does not survive. pkt_kexec carries only the command line.
#
# pkt_kexec_prepare: the next stage's command line in PKT_NEXT_CMDLINE,
# and the running initramfs, as it is now, as the next initrd.
pkt_kexec_prepare() {
	PKT_NEXT_CMDLINE=$(sed -e "s/pkt\.stage=[0-9]*/pkt.stage=$((PKT_STAGE + 1))/" /proc/cmdline)
	# Values a stage hands to the next travel on the command line, once
	# each: a word already there is not added again, and a pkt.NAME=
	# replaces its earlier value. Appended every stage, the line outgrew
	# the kernel's 2048 bytes at the 69th kexec of a soak.
	local w
	for w in ${PKT_EXTRA_APPEND:-}; do
		case "$w" in
		pkt.*=*) PKT_NEXT_CMDLINE=$(echo " $PKT_NEXT_CMDLINE " |
			sed -e "s/ ${w%%=*}=[^ ]*//g" -e 's/^ *//' -e 's/ *$//') ;;
		esac
		case " $PKT_NEXT_CMDLINE " in
		*" $w "*) ;;
		*) PKT_NEXT_CMDLINE="$PKT_NEXT_CMDLINE $w" ;;
		esac
	done
	# Another release's kernel (pkt_next_kernel) says so on its command line.
	[ -n "${PKT_NEXT_LABEL:-}" ] &&
		PKT_NEXT_CMDLINE=$(echo "$PKT_NEXT_CMDLINE" | sed "s/pkt\.kernel=[^ ]*/pkt.kernel=$PKT_NEXT_LABEL/")
	# A word the next kernel must boot without (a dropped reservation).
	[ -n "${PKT_DROP_APPEND:-}" ] &&
		PKT_NEXT_CMDLINE=$(echo "$PKT_NEXT_CMDLINE" | sed "s/ $PKT_DROP_APPEND//g")
	PKT_NEXT_INITRD=/tmp/self.cpio
	(cd / && find . -xdev | cpio -o -H newc > $PKT_NEXT_INITRD 2>/dev/null)
}

# pkt_kexec_exec: boot the kernel already loaded with kexec -l.
pkt_kexec_exec() {
	pkt_emit "KEXEC stage=$PKT_STAGE next=$((PKT_STAGE + 1))"
	sync
	kexec -e
	pkt_fail "kexec -e returned"
	return 1
}

# pkt_kexec_image: kexec -l of the prepared stage. -i skips purgatory's
# sha256 of the segments, seconds per kexec on the debug kernel under
# TCG; the bench cases and pkernfsctl's printed command keep it.
pkt_kexec_image() {
	kexec -i -l "${PKT_NEXT_KERNEL:-/boot/bzImage}" --initrd=$PKT_NEXT_INITRD \
		--append="$PKT_NEXT_CMDLINE" > /tmp/kexec.log 2>&1 && return
	pkt_fail "kexec -l: $(tail -n 4 /tmp/kexec.log | tr '\n' ' ') (command line: ${#PKT_NEXT_CMDLINE} bytes)"
	return 1
}

pkt_kexec() {
	pkt_kexec_prepare
	pkt_kexec_image || return
	pkt_kexec_exec
}

pkt_main() {
	PKT_TEST=$(pkt_arg pkt.test)
	PKT_STAGE=$(pkt_arg pkt.stage || echo 1)
	# A kexec issued while another process still writes the result port
	# (pkt-vmm --kexec, its output piped through pkt_info) drops what the
	# UART had not sent, the newline too: start this boot on its own line.
	echo > $PKT_RES
	pkt_emit "BOOT test=$PKT_TEST stage=$PKT_STAGE boot_id=$(cat /proc/sys/kernel/random/boot_id) uptime=$(cut -d' ' -f1 /proc/uptime)"
	if [ "$PKT_TEST" = shell ]; then
		setsid cttyhack sh
	elif [ -z "$PKT_TEST" ] || [ ! -f "/pkt/cases/$PKT_TEST.sh" ]; then
		pkt_fail "no such test case '$PKT_TEST'"
	else
		. "/pkt/cases/$PKT_TEST.sh"
		if type "stage_$PKT_STAGE" > /dev/null 2>&1; then
			"stage_$PKT_STAGE"
		else
			pkt_fail "test $PKT_TEST has no stage $PKT_STAGE"
		fi
	fi
	pkt_emit "DONE stage=$PKT_STAGE fails=$PKT_FAILS"
}

# --- devdax namespace persistence, shared by the nvdimm and memmap cases ---
#
# Stage 1 turns the region's raw namespace into devdax, fills the data area
# with a seeded pattern through mmap, and stores a note (checksum, the
# namespace as ndctl describes it, this boot's id) in the first 2 MiB of the
# device. Stage 2 finds the namespace again and checks all of it.

PKT_NOTE_LEN=2M
PKT_DATA_OFF=2M

pkt_ns_json() {
	# The fields of a namespace that must not change across a kexec.
	ndctl list -N | jq -c '[.[] | {dev, mode, size, uuid, chardev, align}]'
}

pkt_dax_stage1() {
	local len=$1 seed=$2 sum
	pkt_check "ndctl sees a region" sh -c 'ndctl list -R | jq -e "length > 0"'
	pkt_check "ndctl create-namespace -m devdax -a 2M" \
		ndctl create-namespace -f -e namespace0.0 -m devdax -a 2M
	if [ ! -c /dev/dax0.0 ]; then
		pkt_fail "/dev/dax0.0 did not appear"
		return 1
	fi
	pkt_info "namespace: $(pkt_ns_json)"
	if ! sum=$(pkt-mem fill /dev/dax0.0 $PKT_DATA_OFF "$len" "$seed" 2>&1); then
		pkt_fail "pattern fill through mmap of /dev/dax0.0: $sum"
		return 1
	fi
	pkt_ok "wrote $len of pattern through mmap, sum $sum"
	pkt_check "note stored in dax memory" pkt-mem note /dev/dax0.0 0 $PKT_NOTE_LEN \
		"sum=$sum len=$len seed=$seed boot=$(cat /proc/sys/kernel/random/boot_id) ns=$(pkt_ns_json)"
	pkt_kexec
}

pkt_dax_stage2() {
	local note sum len seed boot ns
	if [ ! -c /dev/dax0.0 ]; then
		pkt_fail "/dev/dax0.0 missing after kexec: $(ndctl list -N)"
		return 1
	fi
	pkt_ok "/dev/dax0.0 is back after kexec"
	if ! note=$(pkt-mem note /dev/dax0.0 0 $PKT_NOTE_LEN); then
		pkt_fail "no note in dax memory after kexec"
		return 1
	fi
	sum=$(echo "$note" | sed -n 's/.*sum=\([^ ]*\).*/\1/p')
	len=$(echo "$note" | sed -n 's/.*len=\([^ ]*\).*/\1/p')
	seed=$(echo "$note" | sed -n 's/.*seed=\([^ ]*\).*/\1/p')
	boot=$(echo "$note" | sed -n 's/.*boot=\([^ ]*\).*/\1/p')
	ns=$(echo "$note" | sed -n 's/.*ns=\(.*\)$/\1/p')
	if [ "$boot" != "$(cat /proc/sys/kernel/random/boot_id)" ]; then
		pkt_ok "a new kernel is running (boot id $boot before)"
	else
		pkt_fail "boot id unchanged: no kexec happened"
	fi
	pkt_eq "namespace configuration unchanged (ndctl list -N)" "$(pkt_ns_json)" "$ns"
	pkt_check "all $len of pattern intact (seed $seed)" \
		pkt-mem verify /dev/dax0.0 $PKT_DATA_OFF "$len" "$seed"
	pkt_eq "checksum unchanged" "$(pkt-mem sum /dev/dax0.0 $PKT_DATA_OFF "$len")" "$sum"
}

# --- pkernfs ---

# pkt_bind DEV: hand a dax device from device_dax to dax_pkernfs.
pkt_bind() {
	local dev=$1 d=/sys/bus/dax/drivers
	[ -e "$d/device_dax/$dev" ] && echo "$dev" > "$d/device_dax/unbind"
	echo "$dev" > "$d/dax_pkernfs/new_id" 2>/dev/null
	[ -e "$d/dax_pkernfs/$dev" ] || echo "$dev" > "$d/dax_pkernfs/bind"
	[ -e "$d/dax_pkernfs/$dev" ]
}

# pkt_unbind DEV: give it back to device_dax.
pkt_unbind() {
	local dev=$1 d=/sys/bus/dax/drivers
	echo "$dev" > "$d/dax_pkernfs/remove_id" 2>/dev/null
	[ -e "$d/dax_pkernfs/$dev" ] && echo "$dev" > "$d/dax_pkernfs/unbind"
	echo "$dev" > "$d/device_dax/bind" 2>/dev/null
	[ ! -e "$d/dax_pkernfs/$dev" ]
}

# pkt_ns_devdax [SIZE]: make the region's namespace a 2M-aligned devdax.
pkt_ns_devdax() {
	ndctl create-namespace -f -e namespace0.0 -m devdax -a 2M > /tmp/ns.json 2>&1 &&
		[ -c /dev/dax0.0 ]
}

# pkt_kmsg_since MARK: kernel messages logged after pkt_kmsg_mark printed MARK.
pkt_kmsg_mark() { echo "PKT MARK $1" > /dev/kmsg; }
pkt_kmsg_since() { dmesg | sed -n "/PKT MARK $1/,\$p"; }

# pkt_expect_refusal DESC MSG MOUNT-ARGS...: a pkernfs mount must fail, and
# the kernel log since (or mount's own message) must match MSG. The
# mountpoint, if it did mount, is the last argument.
pkt_expect_refusal() {
	local desc=$1 msg=$2 out log mnt
	shift 2
	for mnt; do :; done
	pkt_kmsg_mark "$desc"
	if out=$(mount -t pkernfs "$@" 2>&1); then
		umount "$mnt"
		pkt_fail "$desc: mount succeeded"
		return
	fi
	log=$(pkt_kmsg_since "$desc" | grep -v 'PKT ')
	if echo "$log $out" | grep -q "$msg"; then
		pkt_ok "$desc: refused ($(echo "$out" | sed 's/.*failed: //')), log says '$(echo "$log" | grep -m1 -o "$msg" | head -n 1)'"
	else
		pkt_fail "$desc: refused but no '$msg' in: $out / $(echo "$log" | tail -n 2 | tr '\n' ' ')"
	fi
}

# --- IOMMU persistence: the edu device and tests/kmod/pkt_edu.ko ---

PKT_EDU_IOVA=0x1000000
# QEMU 7.2's edu kills the VM on a transfer that ends at its buffer's end.
PKT_EDU_LEN=2048
PKT_IOMMU_STATE=/sys/kernel/debug/pkernfs_iommu/state

# pkt_edu_devs: PCI names of the edu devices, in slot order.
pkt_edu_devs() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && basename "$d"
	done
}

# pkt_pci_command DEV: the PCI command register, as a number.
pkt_pci_command() {
	dd if="/sys/bus/pci/devices/$1/config" bs=1 skip=4 count=2 2>/dev/null | od -An -tu2 | tr -d ' '
}

# pkt_edu DEV COMMAND...: one command to the test driver (see pkt_edu.c).
pkt_edu() {
	local dev=$1
	shift
	echo "$*" > "/sys/kernel/debug/pkt_edu/$dev" || {
		echo "pkt_edu $dev '$*': $(cat "/sys/kernel/debug/pkt_edu/$dev")"
		return 1
	}
}

# pkt_edu_load: load the test driver once.
pkt_edu_load() {
	[ -d /sys/kernel/debug/pkt_edu ] || insmod /pkt/kmod/pkt_edu.ko
}

# pkt_edu_persist DEV TOKEN FILE: DEV gets a paging domain of its own
# (pkt_edu), marked persistent under TOKEN, attached, mapping FILE's first
# 4 MiB at PKT_EDU_IOVA in 4 KiB pages; edu's buffer then holds FILE's
# page 0, written with seed 11's pattern.
pkt_edu_persist() {
	local dev=$1 token=$2 file=$3 e=/sys/kernel/debug/pkt_edu/$1
	pkt_must "load pkt_edu" pkt_edu_load &&
	pkt_must "$dev: persistent domain $token, attached" sh -c \
		"echo domain > $e && echo persist $token $file > $e && echo attach > $e" &&
	pkt_must "$dev: map $file" pkt-edu map "$dev" "$file" 0x400000 $PKT_EDU_IOVA 4096 &&
	pkt-edu pattern "$file" 0 11 &&
	pkt_must "$dev: load edu's buffer from the file" \
		pkt_edu "$dev" to-dev "$(pkt_iova 0)" $PKT_EDU_LEN
}

# pkt_iova PAGE: the IOVA of the PAGE'th 4 KiB page of the mapped file.
pkt_iova() { printf '%#x' $((PKT_EDU_IOVA + $1 * 4096)); }

# pkt_dmar_faults: DMAR fault lines in the kernel log (none is the norm).
pkt_dmar_faults() { dmesg | grep -E 'DMAR: \[DMA (Read|Write)|DMAR:.*fault' || true; }

# pkt_pkernfs_stage1 FILE SIZE: a fresh pkernfs on dax0.0 holding FILE.
pkt_pkernfs_stage1() {
	pkt_pkernfs_format &&
	pkt_must "guest RAM file of $2" truncate -s "$2" "$1"
}

# pkt_pkernfs_format [OPTIONS]: a devdax namespace bound to dax_pkernfs,
# formatted (mount -o format[,OPTIONS]) and mounted at /mnt/pk.
pkt_pkernfs_format() {
	pkt_must "devdax namespace" pkt_ns_devdax &&
	pkt_must "bind dax0.0 to dax_pkernfs" pkt_bind dax0.0 &&
	mkdir -p /mnt/pk &&
	pkt_must "format${1:+ ($1)} and mount" mount -t pkernfs -o "format${1:+,$1}" dax0.0 /mnt/pk
}

# pkt_pkernfs_remount: after kexec, the same filesystem again.
pkt_pkernfs_remount() {
	mkdir -p /mnt/pk
	pkt_must "bind dax0.0 to dax_pkernfs" pkt_bind dax0.0 &&
	pkt_must "mount pkernfs" mount -t pkernfs dax0.0 /mnt/pk
}

# Earlier releases' kernels (run.sh's pkt-pinned): /boot/pinned/LABEL/bzImage;
# "main" is this tree's, /boot/bzImage.
pkt_image() {
	if [ "$1" = main ]; then echo /boot/bzImage; else echo "/boot/pinned/$1/bzImage"; fi
}

# pkt_next_kernel LABEL: the next pkt_kexec_load boots that kernel.
pkt_next_kernel() {
	PKT_NEXT_KERNEL=$(pkt_image "$1")
	PKT_NEXT_LABEL=$1
	[ -f "$PKT_NEXT_KERNEL" ] || { pkt_fail "no kernel image $PKT_NEXT_KERNEL"; return 1; }
}

# pkt_kernel_is LABEL: the running kernel is the one built as that image
# (its version string, build number and time, read from the bzImage's
# setup header, is uname's), not merely what the command line claims.
pkt_kernel_is() {
	local img off v
	img=$(pkt_image "$1")
	off=$(od -An -tu2 -j 526 -N 2 "$img" | tr -d ' ')
	v=$(dd if="$img" bs=1 skip=$((off + 512)) count=256 2> /dev/null | tr '\0' '\n' | head -n 1)
	case "$v" in
	"$(uname -r) "*"$(uname -v)") return 0 ;;
	esac
	echo "running '$(uname -r) $(uname -v)', image $img is '$v'"
	return 1
}

# pkt_kexec_load: the next stage loaded, for a case that starts a DMA
# between the load and kexec -e (pkt-edu kexec). PKT_NEXT_KERNEL names
# another kernel image than this one.
pkt_kexec_load() {
	pkt_kexec_prepare
	pkt_kexec_image || return
	# As an operator would: a next kernel asked to adopt the IOMMU state
	# is armed for it (PKT_NO_ARM=1: a case that arms, or not, itself).
	case " $PKT_NEXT_CMDLINE " in
	*" pkernfs_iommu.liveupdate=1 "*) [ -n "${PKT_NO_ARM:-}" ] || pkt_iommu_arm ;;
	esac
	pkt_emit "KEXEC stage=$PKT_STAGE next=$((PKT_STAGE + 1))"
}

# pkt_iommu_arm: after pkt_kexec_load, let this kernel hand its IOMMU
# state to the kernel just loaded; kexec-check --arm first checks that
# the image and its command line take it. Unarmed, the shutdown stops
# every preserved device instead.
PKT_IOMMU_ARMED=/sys/module/pkernfs_iommu/parameters/armed
pkt_iommu_arm() {
	pkt_check "kexec-check --arm: the loaded kernel takes the IOMMU handover" \
		pkernfsctl kexec-check --arm --kernel "${PKT_NEXT_KERNEL:-/boot/bzImage}" \
		--append "$PKT_NEXT_CMDLINE"
}

# pkt_dma_kexec DEV PAGE SEED: DMA edu's buffer (holding SEED's pattern) to
# the file's PAGE and kexec at once: the transfer runs about 100 ms later,
# while the old kernel is shutting down or the new one starts.
pkt_dma_kexec() {
	pkt_edu "$1" to-ram "$(pkt_iova "$2")" $PKT_EDU_LEN nowait || {
		pkt_fail "start the in-flight DMA"
		return 1
	}
	pkt-edu kexec
	pkt_fail "kexec returned"
}

# pkt_liveupdate_kexec [ARGS]: load this kernel for a live update (plus
# ARGS on its command line; armed by pkt_kexec_load) and kexec at once.
pkt_liveupdate_kexec() {
	PKT_EXTRA_APPEND="pkernfs_iommu.liveupdate=1${1:+ $1}"
	pkt_kexec_load || return
	pkt-edu kexec
	pkt_fail "kexec returned"
}

# pkt_edu_stage1_kexec TOKEN FILE: a fresh pkernfs holding FILE (4M), the
# first edu's persistent domain mapping it under TOKEN, then the kexec.
pkt_edu_stage1_kexec() {
	pkt_pkernfs_stage1 "$2" 4M || return
	pkt_edu_persist "$(pkt_edu_devs | head -n 1)" "$1" "$2" || return
	pkt_liveupdate_kexec
}

# pkt_edu_round_trip DEV FILE PAGE SEED: FILE's page 0, given SEED's
# pattern, through DEV's edu to FILE's page PAGE, by whatever translates
# DEV's IOVAs (FILE mapped at PKT_EDU_IOVA, as pkt_edu_persist does).
pkt_edu_round_trip() {
	pkt-edu pattern "$2" 0 "$4" &&
	pkt_edu "$1" to-dev "$(pkt_iova 0)" $PKT_EDU_LEN &&
	pkt_edu "$1" to-ram "$(pkt_iova "$3")" $PKT_EDU_LEN &&
	pkt-edu verify "$2" $(($3 * 4096)) "$4"
}

# pkt_edu_dma_faults DEV FILE WHY: a DMA from DEV to FILE's page 20
# through its old IOVA (where pkt_edu_persist mapped it) must fault, for
# WHY, and leave the file's page as it was.
pkt_edu_dma_faults() {
	pkt-edu pattern "$2" $((20 * 4096)) 99
	pkt_kmsg_mark "late dma"
	pkt_must "a DMA through the old IOVA" pkt_edu "$1" to-ram "$(pkt_iova 20)" $PKT_EDU_LEN ||
		return
	sleep 1
	pkt_refuse "it did not reach the file" pkt-edu verify "$2" $((20 * 4096)) 11
	pkt_check "it faulted: $3" sh -c \
		"dmesg | sed -n '/PKT MARK late dma/,\$p' | grep -q 'DMAR: \[DMA Write'"
}

# pkt_adopted: the kernel adopted the last one's IOMMU handover.
pkt_adopted() {
	pkt_check "adopted" sh -c "dmesg | grep -q 'adopting the previous kernel.s translation'"
}

# pkt_iommu_sm: true when this run is a case's scalable-mode variant
# (CASE+sm), or the case boots the IOMMU in scalable mode itself.
pkt_iommu_sm() {
	grep -qw 'intel_iommu=sm_on' /proc/cmdline
}

# pkt_expect_error DESC MSG CMD...: CMD must fail and the kernel log it
# causes must say MSG (the log searched leaves out PKT lines).
pkt_expect_error() {
	local desc=$1 msg=$2 out log
	shift 2
	pkt_kmsg_mark "$desc"
	if out=$("$@" 2>&1); then
		pkt_fail "$desc: succeeded but should have been refused"
		return
	fi
	log=$(pkt_kmsg_since "$desc" | grep -v 'PKT ')
	if echo "$log" | grep -q "$msg"; then
		pkt_ok "$desc: refused ($(echo "$out" | tail -n 1)), log says '$(echo "$log" | grep -m1 -o "$msg")'"
	else
		pkt_fail "$desc: refused but no '$msg' in the log: $(echo "$log" | tail -n 2 | tr '\n' ' ')"
	fi
}

# --- iommufd: a VMM's view (tests/vm/tools/pkt-vmm.c) ---

# pkt_vfio_bind DEV: hand DEV to vfio-pci, so it has a VFIO cdev.
pkt_vfio_bind() {
	echo vfio-pci > "/sys/bus/pci/devices/$1/driver_override" &&
	echo "$1" > /sys/bus/pci/drivers_probe &&
	[ -d "/sys/bus/pci/devices/$1/vfio-dev" ]
}

# pkt_vmm ARGS...: run pkt-vmm, each line it prints an INFO; its status.
pkt_vmm() {
	local rc
	rc=$( { pkt-vmm "$@" 2>&1; echo "rc=$?"; } | while read -r l; do
		case "$l" in rc=*) echo "${l#rc=}" ;; *) pkt_info "pkt-vmm: $l" ;; esac
	done)
	return "${rc:-1}"
}

# --- earlier releases' kernels (compat-*, run.sh's pkt-pinned) ---

# pkt_compat_kexec LABEL: kexec into LABEL's kernel ("main": this tree's)
# as things stand: a case umounts first, or not (an abrupt kexec). A
# kernel without the arm parameter (before 1.2) is never armed.
pkt_compat_kexec() {
	[ -e /sys/module/pkernfs_iommu/parameters/armed ] || PKT_NO_ARM=1
	pkt_next_kernel "$1" && pkt_kexec_load || return
	sync
	kexec -e
	pkt_fail "kexec -e into $1 returned"
	return 1
}

# pkt_compat_write DIR TAG N: N files of 8 to 40 KiB in DIR/TAG, then
# their md5 sums in DIR/TAG.md5, renamed into place once all are written.
pkt_compat_write() {
	local i
	mkdir -p "$1/$2" || return
	for i in $(seq 1 "$3"); do
		dd if=/dev/urandom of="$1/$2/f$i" bs=4k count=$((2 + i % 9)) 2> /dev/null || return
	done
	(cd "$1" && md5sum "$2"/f* > "$2.md5.new" && mv "$2.md5.new" "$2.md5")
}

# pkt_compat_writer DIR TAG: until killed (or kexec'd), write files, each
# listed in DIR/TAG.md5 once written (only whole lines count); after 30
# (each takes an AU), append numbered lines to DIR/TAG.log.
pkt_compat_writer() {
	local i=1
	mkdir -p "$1/$2" || return
	while [ $i -le 30 ] &&
		dd if=/dev/urandom of="$1/$2/f$i" bs=4k count=$((1 + i % 7)) 2> /dev/null; do
		(cd "$1" && md5sum "$2/f$i" >> "$2.md5") || return
		i=$((i + 1))
	done
	i=1
	while echo "line $i of $2" >> "$1/$2.log"; do
		i=$((i + 1))
	done
}

# pkt_compat_log_ok FILE: its whole lines are "line 1 of ...", "line 2 of
# ...", in order, none missing; prints how many.
pkt_compat_log_ok() {
	awk '{ if ($1 != "line" || $2 != NR) { print "line " NR ": " $0; bad = 1; exit 1 } }
	     END { if (!bad) print NR }' "$1"
}

# pkt_compat_verify DIR: every whole line of every DIR/*.md5 checks out;
# prints how many files that was.
pkt_compat_verify() {
	local m n=0 l
	for m in "$1"/*.md5; do
		[ -f "$m" ] || continue
		l=$(wc -l < "$m")
		head -n "$l" "$m" > /tmp/verify.md5
		(cd "$1" && md5sum -c -s /tmp/verify.md5) || {
			echo "$(basename "$m"): $(cd "$1" && md5sum -c /tmp/verify.md5 2>&1 | grep -v ': OK' | head -n 3)"
			return 1
		}
		n=$((n + l))
	done
	echo "$n"
}

# pkt_compat_has DIR N DESC: pkt_compat_verify finds exactly N files.
pkt_compat_has() {
	pkt_eq "every file with its data ($3)" "$(pkt_compat_verify "$1")" "$2"
}

# pkt_compat_level: "VERSION RO_COMPAT" of dax0.0 as pkernfsctl (main's)
# reads it; the device unmounted and given back to device_dax.
pkt_compat_level() {
	pkernfsctl info -j dax0.0 | jq -r '.version + " " + (.feature_ro_compat | tostring)'
}

# --- a real VMM: Debian's QEMU on pkernfs RAM (vmm-*, make demo-vm) ---
# The guest is tests/vm/payload/ (make vmm-cpio, run.sh's pkt-initrd-append).

PKT_VMM_PAYLOAD=/opt/vmm/payload.elf

# pkt_qemu_start NAME RAMFILE SIZE [QEMU ARGS...]: the payload guest with
# its RAM in RAMFILE (share=on; align=$PKT_QEMU_ALIGN, 2M unless set, empty
# for QEMU's default), COM1 to /run/NAME.serial, QMP on the FIFOs
# /run/NAME.qmp.in and .out (the test kernels have no sockets).
pkt_qemu_start() {
	local name=$1 ram=$2 size=$3 opts="share=on" i
	shift 3
	[ -n "${PKT_QEMU_ALIGN-2M}" ] && opts="$opts,align=${PKT_QEMU_ALIGN-2M}"
	rm -f "/run/$name.qmp.in" "/run/$name.qmp.out" "/run/$name.serial" "/run/$name.pid"
	mkfifo "/run/$name.qmp.in" "/run/$name.qmp.out" || return
	# Not -daemonize: its error messages (a failed load) go to the log.
	qemu-system-x86_64 -machine pc,memory-backend=ram0 -accel tcg -m "$size" \
		-object "memory-backend-file,id=ram0,mem-path=$ram,size=$size,$opts" \
		-kernel $PKT_VMM_PAYLOAD -display none -nodefaults \
		-serial "file:/run/$name.serial" \
		-chardev "pipe,id=qmp-$name,path=/run/$name.qmp" -mon "chardev=qmp-$name,mode=control" \
		-pidfile "/run/$name.pid" "$@" < /dev/null > "/run/$name.qemu.log" 2>&1 &
	for i in $(seq 1 100); do
		pkt_qemu_alive "$name" && return 0
		[ -d "/proc/$!" ] || break
		sleep 0.1
	done
	echo "QEMU did not start: $(cat "/run/$name.qemu.log")"
	return 1
}

# pkt_qemu_alive NAME: its QEMU runs (a zombie does not: the daemon's
# parent is this guest's init, which does not reap it while a case runs).
pkt_qemu_alive() {
	local pid
	pid=$(cat "/run/$1.pid" 2> /dev/null) &&
	grep -q '^State:.*[RSDT]' "/proc/$pid/status" 2> /dev/null
}

# pkt_qmp NAME COMMAND: one HMP command through NAME's QMP channel. On a
# FIFO a dead QEMU never answers: refused at once if it is gone.
pkt_qmp() {
	pkt_qemu_alive "$1" || { echo "$1: QEMU is not running"; return 1; }
	PKT_QMP_PIDFILE="/run/$1.pid" pkt-qmp "/run/$1.qmp" "$2"
}

# pkt_qemu_tick NAME: "BOOT TICK" of the last tick the guest began. The
# payload prints a line in pieces, so a pause can cut one short; the tick
# of a cut line is finished after the resume, in a fragment, and the first
# whole line there is the one after it (vmm-abrupt once saved tick 11, the
# last whole line, and found 13). A cut line counts as begun.
pkt_qemu_tick() {
	local f=/run/$1.serial cut=0
	[ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ] && cut=1
	grep -a 'tick [0-9]* chunk [0-9]* ok$' "$f" 2> /dev/null | tail -n 1 |
		awk -v cut=$cut '{ print $3, $5 + cut }'
}

# pkt_qemu_next_tick NAME: "BOOT TICK" of the guest's first whole tick line.
pkt_qemu_next_tick() {
	grep -a -m1 '^vmm-payload: boot [0-9]* tick [0-9]* chunk [0-9]* ok' "/run/$1.serial" 2> /dev/null |
		awk '{ print $3, $5 }'
}

# pkt_qemu_wait NAME TICK SECONDS: until the guest printed tick TICK or later.
pkt_qemu_wait() {
	local i=0 t
	while [ $i -lt $(($3 * 5)) ]; do
		t=$(pkt_qemu_tick "$1" | cut -d' ' -f2)
		[ -n "$t" ] && [ "$t" -ge "$2" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "no tick $2 within $3 s: $(tail -n 2 "/run/$1.serial" 2> /dev/null)"
	return 1
}

# pkt_qemu_poll NAME COMMAND TEXT: until COMMAND's answer holds TEXT (30 s).
pkt_qemu_poll() {
	local i
	for i in $(seq 1 600); do
		case "$(pkt_qmp "$1" "$2")" in *"$3"*) return 0 ;; esac
		pkt_qemu_alive "$1" || break
		sleep 0.05
	done
	echo "$1: '$2' never said '$3': $(pkt_qmp "$1" "$2")"
	return 1
}

# pkt_qemu_quit NAME: QEMU told to quit, and gone.
pkt_qemu_quit() {
	local i
	pkt_qmp "$1" quit > /dev/null 2>&1
	for i in $(seq 1 200); do
		pkt_qemu_alive "$1" || return 0
		sleep 0.05
	done
	echo "$1: QEMU still there after quit"
	return 1
}

# pkt_qemu_pause NAME STATE: pause the guest and save its device state to
# STATE, its RAM left where it is (x-ignore-shared); QEMU stays.
pkt_qemu_pause() {
	pkt_qmp "$1" stop &&
	pkt_qmp "$1" "migrate_set_capability x-ignore-shared on" &&
	pkt_qmp "$1" "migrate \"exec:cat > $2\"" &&
	pkt_qemu_poll "$1" "info migrate" "Migration status: completed" > /dev/null
}

# pkt_qemu_save NAME STATE: pkt_qemu_pause, then QEMU quits.
pkt_qemu_save() {
	pkt_qemu_pause "$1" "$2" && pkt_qemu_quit "$1" && sync
}

# pkt_qemu_load NAME STATE: a QEMU started with -incoming defer loads the
# device state from STATE over the RAM it maps, and stays paused.
pkt_qemu_load() {
	pkt_qmp "$1" "migrate_set_capability x-ignore-shared on" > /dev/null &&
	pkt_qmp "$1" "migrate_incoming \"exec:cat $2\"" > /dev/null || return
	# "paused (inmigrate)" while loading, "paused" once loaded.
	local i st
	for i in $(seq 1 600); do
		st=$(pkt_qmp "$1" "info status") || break
		[ "$st" = "VM status: paused" ] && return 0
		sleep 0.05
	done
	echo "$1: not loaded: $st"
	return 1
}

# pkt_qemu_resume NAME RAMFILE SIZE STATE: a new QEMU for the same guest:
# the device state loaded from STATE over the RAM in RAMFILE, then cont.
pkt_qemu_resume() {
	pkt_qemu_start "$1" "$2" "$3" -incoming defer &&
	pkt_qemu_load "$1" "$4" &&
	pkt_qmp "$1" cont > /dev/null
}
