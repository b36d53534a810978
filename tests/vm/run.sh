#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run one guest test case in QEMU (q35, intel-iommu, nvdimm, edu) and judge
# it from what the guest says, never from a timeout alone.
#
#   tests/vm/run.sh [-v] CASE      run tests/vm/cases/CASE.sh
#   tests/vm/run.sh [-v] CASE+sm   the same in scalable mode (# pkt-sm:)
#   tests/vm/run.sh --shell        boot to a shell on this terminal
#
# Environment: PKT_LEG ("test", the default, or "debug": the KASAN kernel
# of configs/qemu-x86_64-debug.config, with timeouts times
# PKT_DEBUG_SLOWDOWN, default 3), PKT_KERNEL, PKT_INITRD (set by the
# Makefile for the leg), PKT_LOGDIR (default build/vm, build/vm-debug),
# PKERNFS_CACHE, PKT_TCG ("single" or "multi"), PKT_VERBOSE=1 (same as
# -v: print the guest's progress as it comes), PKT_APPEND (more kernel
# command line, e.g. to try a debug option off), PKT_STAGES and
# PKT_TIMEOUT (override the header's; the guest reads pkt.stages),
# PKT_NVDIMM_IMG (an nvdimm image to use and keep, for runs that follow
# one another: the power-cut soak), PKT_IMGDIR (where fresh images go:
# /dev/shm when it has room, else the cache), PKT_CUT="ERE SECONDS" (a power cut:
# QEMU is killed SECONDS after the result port shows ERE, and the run
# passes if it got there with no failure and no kernel report).
#
# A case file declares what it needs in header lines:
#   # pkt-stages: N        boots in one QEMU process, joined by kexec (default 1)
#   # pkt-timeout: S       wall-clock bound for the whole run (default 300)
#   # pkt-legs: LEGS       which kernels run it (default "test debug"; the
#                          suite reads this, run.sh runs what it is told)
#   # pkt-append: ARGS     extra kernel command line
#   # pkt-nvdimm: SIZE     file-backed nvdimm size, or "none" (default 512M)
#   # pkt-nvdimm-label: SIZE  label area for the nvdimm (default: none)
#   # pkt-nvdimm-backing: file|mem  "mem": the image in /dev/shm, allocated
#                          up front (prealloc=on), so that a benchmark
#                          measures the guest, not the host faulting in a
#                          disk file and writing it back (default file)
#   # pkt-maxmem: SIZE     the guest's RAM plus nvdimm limit (default 8G)
#   # pkt-tcg: single|multi  TCG threading unless PKT_TCG says (default single)
#   # pkt-qemu: ARGS       extra QEMU arguments
#   # pkt-iommu: OPTS      more intel-iommu properties (x-scalable-mode=on)
#   # pkt-sm: LEGS         the kernels (test, debug) that also run CASE+sm: the
#                          vIOMMU and every kernel in scalable mode
#   # pkt-mem: SIZE        guest RAM (default 2G)
#   # pkt-console: ERE     the console (every kernel's log, the last lines
#                          of one before its kexec too) must match; one
#                          check per line, for what only a kernel going
#                          down can say
#   # pkt-initrd-prepend: FILE  an uncompressed cpio put before the initramfs
#                          (ACPI table upgrade: kernel/firmware/acpi/*.aml)
#   # pkt-initrd-append: FILE  a cpio unpacked after the initramfs (make
#                          vmm-cpio: QEMU and the payload for the vmm-* cases)
#   # pkt-pinned: LABELS   earlier releases' kernels (configs/pinned-kernels,
#                          make pinned) put in the guest at
#                          /boot/pinned/LABEL/bzImage; SKIP if one is not built
#   # pkt-kernel: LABEL    the first boot runs that pinned kernel, not the leg's
#   # pkt-monitor: on      a QEMU monitor the guest drives: each "PKT MON CMD"
#                          line it shows is sent to it as CMD (pkt_monitor;
#                          mce, for a machine check the guest's own handler
#                          takes)
# In pkt-qemu and pkt-initrd-prepend, @BUILD@ is the repo's build/ (make acpi).
#
# The guest writes "PKT <verb> ..." lines to its second serial port (see
# tests/vm/lib.sh). Verdict:
#   PASS  every stage booted and said DONE, each stage but the last kexec'd,
#         the console shows one kernel banner per stage, no FAIL, at least
#         one OK, and the kernel log has no BUG/WARNING/Oops/lockdep report;
#   SKIP  the guest said SKIP and nothing failed (exit 77);
#   FAIL  anything else (exit 1).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${PKERNFS_CACHE:-$HOME/.cache/pkernfs}
LEG=${PKT_LEG:-test}
case "$LEG" in
test) CONFNAME=qemu-x86_64; SUFFIX= ;;
debug) CONFNAME=qemu-x86_64-debug; SUFFIX=-debug ;;
bench) CONFNAME=qemu-x86_64-bench; SUFFIX=-bench ;;
*) echo "PKT_LEG must be test, debug or bench, not '$LEG'" >&2; exit 2 ;;
esac
KERNEL=${PKT_KERNEL:-}
INITRD=${PKT_INITRD:-$REPO/build/initramfs$SUFFIX.cpio}
LOGROOT=${PKT_LOGDIR:-$REPO/build/vm$SUFFIX}
VERBOSE=${PKT_VERBOSE:-0}
TCG=${PKT_TCG:-}

shell=0
while [ $# -gt 0 ]; do
	case "$1" in
	-v) VERBOSE=1 ;;
	--shell) shell=1 ;;
	-*) echo "usage: $0 [-v] CASE | --shell" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
CASE=${1:-}
[ $shell = 1 ] && CASE=shell
[ -n "$CASE" ] || { echo "usage: $0 [-v] CASE | --shell" >&2; exit 2; }
# CASE+sm: the same case with the vIOMMU and every kernel in scalable mode.
BASE=${CASE%+sm}
[ "$BASE" != "$CASE" ] && IOMMU_MODE=sm || IOMMU_MODE=legacy
# What the verdict line calls this run.
NAME=$CASE
[ "$LEG" = debug ] && NAME="$CASE[debug]"

if [ -z "$KERNEL" ]; then
	eval "$(PKERNFS_CONFIG=$CONFNAME "$REPO/scripts/kernel.sh" path)"
	KERNEL=$KOUT/arch/x86/boot/bzImage
fi
for f in "$KERNEL" "$INITRD"; do
	[ -f "$f" ] || { echo "FAIL $NAME: $f missing (make initramfs$SUFFIX)"; exit 1; }
done
command -v qemu-system-x86_64 > /dev/null ||
	{ echo "SKIP $NAME: qemu-system-x86_64 not installed (make deps)"; exit 77; }

meta() {
	# meta KEY DEFAULT
	local v=""
	[ -f "$CASEFILE" ] && v=$(sed -n "s/^# pkt-$1: *//p" "$CASEFILE" | head -n 1)
	echo "${v:-$2}"
}
CASEFILE=$REPO/tests/vm/cases/$BASE.sh
[ -f "$CASEFILE" ] || CASEFILE=$REPO/tests/vm/bench/$BASE.sh
[ -f "$CASEFILE" ] || CASEFILE=$REPO/tests/vm/soak/$BASE.sh
if [ $shell = 0 ] && [ ! -f "$CASEFILE" ]; then
	echo "FAIL $NAME: no case file $CASEFILE"
	exit 1
fi
STAGES=${PKT_STAGES:-$(meta stages 1)}
TIMEOUT=${PKT_TIMEOUT:-$(meta timeout 300)}
CUT_ERE=${PKT_CUT:-}; CUT_ERE=${CUT_ERE% *}
CUT_AFTER=${PKT_CUT:-}; CUT_AFTER=${CUT_AFTER##* }
APPEND="$(meta append "")${PKT_APPEND:+ $PKT_APPEND}"
NVDIMM=$(meta nvdimm 512M)
NVLABEL=$(meta nvdimm-label "")
EXTRA=$(meta qemu "")
MONITOR=$(meta monitor off)
IOMMU_OPTS=$(meta iommu "")
if [ "$IOMMU_MODE" = sm ]; then
	case " $(meta sm "") " in
	*" $LEG "*) ;;
	*) echo "FAIL $NAME: the case has no scalable-mode variant on the $LEG kernel (# pkt-sm:)"; exit 1 ;;
	esac
	IOMMU_OPTS="x-scalable-mode=on${IOMMU_OPTS:+,$IOMMU_OPTS}"
	APPEND="intel_iommu=sm_on $APPEND"
fi
EXTRA=${EXTRA//@BUILD@/$REPO/build}
PREPEND=$(meta initrd-prepend "")
PREPEND=${PREPEND//@BUILD@/$REPO/build}
APPENDED=$(meta initrd-append "")
APPENDED=${APPENDED//@BUILD@/$REPO/build}
PINNED=$(meta pinned "")
FIRST=$(meta kernel main)
MEM=$(meta mem 2G)
MAXMEM=$(meta maxmem 8G)
BACKING=$(meta nvdimm-backing file)
[ -n "$TCG" ] || TCG=$(meta tcg single)
if [ "$LEG" = debug ]; then
	TIMEOUT=$((TIMEOUT * ${PKT_DEBUG_SLOWDOWN:-3}))
	# KASAN under TCG: -cpu max offers LA57, and a 5-level direct map
	# once gave early-boot wild-access reports (pkernfs.rst, Testing).
	APPEND="no5lvl $APPEND"
fi
for f in $(echo "$EXTRA" | grep -o 'file=[^ ,]*' | cut -d= -f2) $PREPEND $APPENDED; do
	if [ ! -s "$f" ]; then
		echo "FAIL $NAME: $f is missing (make acpi builds the ACPI tables, make vmm-cpio QEMU's)"
		exit 1
	fi
done

# Earlier releases' kernels: an image is checked against its commit by
# scripts/pinned.sh when built; here only its presence.
for l in $PINNED; do
	pimg=$("$REPO/scripts/pinned.sh" image "$l" 2> /dev/null) && [ -f "$pimg" ] || {
		echo "SKIP $NAME: the pinned kernel $l is not built (make pinned; it needs" \
			"the commit in this clone's history)"
		exit 77
	}
done
if [ "$FIRST" != main ]; then
	case " $PINNED " in
	*" $FIRST "*) KERNEL=$("$REPO/scripts/pinned.sh" image "$FIRST") ;;
	*) echo "FAIL $NAME: pkt-kernel $FIRST is not in pkt-pinned"; exit 1 ;;
	esac
fi

LOG=$LOGROOT/$CASE
mkdir -p "$LOG" "$CACHE/vm"
rm -f "$LOG"/*.log

# RCU's 21 s stall limit assumes real CPUs: under TCG on a busy host one
# page clear in fork was once reported as a stall (pkernfs-liveupdate, a
# fresh clone's first run). 300 s still reports a CPU that is really stuck.
cmdline="console=ttyS0 intel_iommu=on iommu.strict=1 panic=-1 no_timer_check"
cmdline+=" rcupdate.rcu_cpu_stall_timeout=300"
cmdline+=" kunit.enable=0 pkt.test=$BASE pkt.leg=$LEG pkt.stage=1 pkt.stages=$STAGES"
cmdline+=" pkt.kernel=$FIRST $APPEND"

qemu=(qemu-system-x86_64 -machine q35,nvdimm=on,kernel-irqchip=split
	-accel "tcg,thread=$TCG" -cpu max -smp 2 -m "$MEM,slots=2,maxmem=$MAXMEM"
	-device "intel-iommu,intremap=on${IOMMU_OPTS:+,$IOMMU_OPTS}" -device edu
	-nodefaults -display none -nic none -no-reboot
	-kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline")
# Images in /dev/shm when it has room (PKT_IMGDIR overrides): on a
# disk file every first touch allocates blocks and dirty pages are
# written back while the guest runs, which under TCG made a case that
# writes 1.6 GiB spend most of its time waiting on the host.
IMGDIR=${PKT_IMGDIR:-}
if [ -z "$IMGDIR" ] && [ "$NVDIMM" != none ]; then
	IMGDIR=$CACHE/vm
	shm=$(df -k --output=avail /dev/shm 2> /dev/null | tail -n 1)
	[ -n "$shm" ] && [ "$shm" -gt $(( $(numfmt --from=iec "$NVDIMM") / 1024 + 4194304 )) ] &&
		IMGDIR=/dev/shm
fi
if [ "$NVDIMM" != none ]; then
	# A fresh image for every run: a test must never pass on what an
	# earlier run left behind.
	# Per process, so that runs of one case can go in parallel.
	img=$IMGDIR/pkt-$CASE.$$.nvdimm.img
	backend="memory-backend-file,id=mem1,share=on,size=$NVDIMM"
	if [ "$BACKING" = mem ]; then
		img=/dev/shm/pkt-$CASE.$$.nvdimm.img
		backend+=",prealloc=on"
	fi
	if [ -n "${PKT_NVDIMM_IMG:-}" ]; then
		# Kept, for the next run of a sequence (and its owner to remove).
		img=$PKT_NVDIMM_IMG
		[ -f "$img" ] || truncate -s "$NVDIMM" "$img"
	else
		rm -f "$img"
		truncate -s "$NVDIMM" "$img"
		trap 'rm -f "$img" "${ird:-}"' EXIT
	fi
	nvdev="nvdimm,id=nvdimm1,memdev=mem1"
	[ -n "$NVLABEL" ] && nvdev+=",label-size=$NVLABEL"
	qemu+=(-object "$backend,mem-path=$img"
		-device "$nvdev")
fi
# shellcheck disable=SC2206
[ -n "$EXTRA" ] && qemu+=($EXTRA)
if [ -n "$PINNED" ]; then
	# A cpio of its own after the initramfs: the kernel unpacks each one.
	pdir=$CACHE/vm/$CASE.$$.pinned
	rm -rf "$pdir"
	for l in $PINNED; do
		mkdir -p "$pdir/root/boot/pinned/$l"
		cp "$("$REPO/scripts/pinned.sh" image "$l")" "$pdir/root/boot/pinned/$l/bzImage"
	done
	(cd "$pdir/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$pdir.cpio"
	rm -rf "$pdir"
fi
if [ -n "$PREPEND$PINNED$APPENDED" ]; then
	# The kernel looks for table upgrades in a cpio at the initrd's start.
	ird=$CACHE/vm/$CASE.$$.initrd
	cat $PREPEND "$INITRD" ${PINNED:+"$pdir.cpio"} $APPENDED > "$ird"
	rm -f "${pdir:-/nonexistent}.cpio"
	if [ -n "${PKT_NVDIMM_IMG:-}" ]; then
		trap 'rm -f "$ird"' EXIT
	else
		trap 'rm -f "${img:-}" "$ird"' EXIT
	fi
	for i in "${!qemu[@]}"; do
		[ "${qemu[$i]}" = "$INITRD" ] && qemu[$i]=$ird
	done
fi

if [ $shell = 1 ]; then
	exec "${qemu[@]}" -serial mon:stdio -serial "file:$LOG/result.log"
fi
printf '%q ' "${qemu[@]}" > "$LOG/qemu.cmd"
echo >> "$LOG/qemu.cmd"

# Signatures of the TCG hazards in pkernfs.rst (Testing); a boot that dies of
# one of them before the test starts is retried once, and said so.
TCG_HAZARD='timer doesn.t work through Interrupt-remapped IO-APIC|Oops: int3'
BUGS='BUG:|WARNING:|Oops|KASAN|UBSAN|general protection fault|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|DEBUG_LOCKS_WARN|INFO: task .* blocked|kmemleak:.*new suspected|Call Trace:'

# The monitor's socket: short, a unix socket path being at most 107 bytes.
MONSOCK=${TMPDIR:-/tmp}/pkt-mon.$$.sock

# monitor_send CMD: one HMP command to the run's monitor socket.
monitor_send() {
	python3 - "$MONSOCK" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
time.sleep(0.5)
s.close()
PY
}

run_once() {
	local t0=$SECONDS pid shown=0 n line cut_at="" sent=0 mon=()
	: > "$LOG/console.log"
	: > "$LOG/result.log"
	[ "$MONITOR" = on ] && mon=(-monitor "unix:$MONSOCK,server=on,wait=off")
	"${qemu[@]}" "${mon[@]}" -serial "file:$LOG/console.log" -serial "file:$LOG/result.log" \
		< /dev/null > "$LOG/qemu.log" 2>&1 &
	pid=$!
	while kill -0 $pid 2> /dev/null; do
		if [ "$MONITOR" = on ]; then
			n=$(grep -c '^PKT MON ' "$LOG/result.log")
			if [ "$n" -gt "$sent" ]; then
				grep '^PKT MON ' "$LOG/result.log" | tail -n +$((sent + 1)) | head -n $((n - sent)) |
					tr -d '\r' | while IFS= read -r line; do
						echo "MONITOR: ${line#PKT MON }" >> "$LOG/qemu.log"
						monitor_send "${line#PKT MON }" >> "$LOG/qemu.log" 2>&1
					done
				sent=$n
			fi
		fi
		if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
			kill $pid 2> /dev/null
			sleep 1
			kill -9 $pid 2> /dev/null
			echo "TIMEOUT after ${TIMEOUT}s" >> "$LOG/qemu.log"
			break
		fi
		if [ -n "${PKT_CUT:-}" ]; then
			if [ -z "$cut_at" ] && grep -Eq "$CUT_ERE" "$LOG/result.log"; then
				cut_at=$(awk -v s="$SECONDS" -v d="$CUT_AFTER" 'BEGIN { print s + d }')
			fi
			if [ -n "$cut_at" ] && awk -v s="$SECONDS" -v c="$cut_at" 'BEGIN { exit !(s >= c) }'; then
				kill -9 $pid 2> /dev/null
				echo "CUT after the guest showed /$CUT_ERE/ and ${CUT_AFTER}s" >> "$LOG/qemu.log"
				break
			fi
		fi
		if [ "$VERBOSE" = 1 ]; then
			n=$(wc -l < "$LOG/result.log")
			if [ "$n" -gt "$shown" ]; then
				tail -n +$((shown + 1)) "$LOG/result.log" | head -n $((n - shown)) |
					while IFS= read -r line; do
						printf '  [%4ds] %s\n' $((SECONDS - t0)) "${line#PKT }"
					done
				shown=$n
			fi
		fi
		sleep 0.5
	done
	wait $pid 2> /dev/null
	rm -f "$MONSOCK"
	ELAPSED=$((SECONDS - t0))
	if [ "$VERBOSE" = 1 ]; then
		tail -n +$((shown + 1)) "$LOG/result.log" | while IFS= read -r line; do
			printf '  [%4ds] %s\n' "$ELAPSED" "${line#PKT }"
		done
	fi
}

retried=""
run_once
if ! grep -q '^PKT BOOT' "$LOG/result.log" && grep -Eq "$TCG_HAZARD" "$LOG/console.log"; then
	cp "$LOG/console.log" "$LOG/console.retried.log"
	retried=" RETRIED: first boot hit a TCG hazard: $(grep -Eom1 "$TCG_HAZARD" "$LOG/console.log")"
	echo "RETRY $NAME:$retried"
	run_once
fi

res=$LOG/result.log
tr -d '\r' < "$res" > "$res.tmp" && mv "$res.tmp" "$res"
boots=$(grep -c '^PKT BOOT' "$res")
dones=$(grep -c '^PKT DONE' "$res")
kexecs=$(grep -c '^PKT KEXEC' "$res")
oks=$(grep -c '^PKT OK' "$res")
fails=$(grep -c '^PKT FAIL' "$res")
skips=$(grep -c '^PKT SKIP' "$res")
banners=$(grep -c 'Linux version ' "$LOG/console.log")
bug=$(grep -Ea "$BUGS" "$LOG/console.log" | head -n 1)

why=""
# A report first: an oops often leaves the guest stuck until the timeout.
if [ -n "$bug" ]; then
	why="kernel report: ${bug}"
	grep -q TIMEOUT "$LOG/qemu.log" && why+=" (then timed out after ${TIMEOUT}s)"
elif [ -n "${PKT_CUT:-}" ]; then
	# A power cut ends the run: what was checked before it must have passed.
	if ! grep -q '^CUT' "$LOG/qemu.log"; then
		why="the guest never showed /$CUT_ERE/, so the power was never cut"
	elif [ "$fails" -gt 0 ]; then
		why=$(grep -m1 '^PKT FAIL' "$res" | cut -c10-)
	fi
	kexecs=0
elif grep -q TIMEOUT "$LOG/qemu.log"; then
	why="timed out after ${TIMEOUT}s in stage $boots/$STAGES"
elif [ "$fails" -gt 0 ]; then
	why=$(grep -m1 '^PKT FAIL' "$res" | cut -c10-)
	[ "$fails" -gt 1 ] && why+=" (and $((fails - 1)) more)"
elif [ "$boots" -ne "$STAGES" ] || [ "$banners" -ne "$STAGES" ]; then
	why="expected $STAGES boots, guest reported $boots and the console shows $banners kernel banners"
elif [ "$kexecs" -ne $((STAGES - 1)) ] || [ "$dones" -ne 1 ]; then
	why="stage bookkeeping: $kexecs kexecs and $dones final DONE, for $STAGES stages"
elif ! grep -q "^PKT DONE stage=$STAGES " "$res"; then
	why="the last stage never finished"
else
	while IFS= read -r ere; do
		[ -n "$ere" ] || continue
		if grep -Eaq -- "$ere" "$LOG/console.log"; then
			oks=$((oks + 1))
		else
			why="the console never showed /$ere/"
			break
		fi
	done < <(sed -n 's/^# pkt-console: *//p' "$CASEFILE" 2>/dev/null)
fi

if [ -n "$why" ]; then
	echo "FAIL $NAME (${ELAPSED}s): $why$retried"
	echo "     logs: $LOG/{console,result,qemu}.log"
	exit 1
fi
if [ "$skips" -gt 0 ] && [ "$oks" -eq 0 ]; then
	echo "SKIP $NAME: $(grep -m1 '^PKT SKIP' "$res" | cut -c10-)$retried"
	exit 77
fi
if [ "$oks" -eq 0 ]; then
	echo "FAIL $NAME (${ELAPSED}s): no check passed"
	exit 1
fi
extra=""
[ "$skips" -gt 0 ] && extra=", SKIPPED CHECKS: $(grep '^PKT SKIP' "$res" | cut -c10- | tr '\n' ';')"
echo "PASS $NAME (${ELAPSED}s, $oks checks, $STAGES boot(s), $kexecs kexec(s)$extra)$retried"
exit 0
