#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Soak loops that prove nothing is lost (issue 21):
#
#   scripts/soak.sh kexec N      N stages of soak-kexec in one QEMU process:
#                                every earlier file and every DMA'd page
#                                checked after each kexec, a DMA in flight
#                                at each
#   scripts/soak.sh powercut N   N power cuts: QEMU killed at a random point
#                                of soak-powercut's write/fsync/rename
#                                workload, on one kept nvdimm image; each
#                                next boot fscks, mounts and checks every
#                                fsync'd byte (N + 1 boots)
#
# Both may be given. Writes build/soak/soak.csv (loop, cycle, files and
# bytes checked, result) and prints one summary line per loop, then
# "N passed, N failed". SOAK_SEED fixes the cut points (default: random,
# printed so a failing run can be repeated).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
OUT=${SOAK_OUT:-$REPO/build/soak}
SEED=${SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}
export PKT_INITRD=${PKT_INITRD:-$REPO/build/initramfs.cpio}
mkdir -p "$OUT"
CSV=$OUT/soak.csv
echo "loop,cycle,files,bytes,result" > "$CSV"
passed=0 failed=0

soak_kexec() {
	local n=$1 log=$OUT/kexec res verdict rc files bytes
	verdict=$(PKT_STAGES=$n PKT_TIMEOUT=$((60 + n * 60)) PKT_LOGDIR=$log \
		tests/vm/run.sh soak-kexec 2>&1)
	rc=$?
	echo "$verdict"
	res=$log/soak-kexec/result.log
	sed -n 's/^PKT INFO SOAK stage=\([0-9]*\) files=\([0-9]*\) bytes=\([0-9]*\).*/kexec,\1,\2,\3,ok/p' \
		"$res" >> "$CSV"
	files=$(grep -c '^kexec,' "$CSV")
	bytes=$(awk -F, '$1 == "kexec" { s += $4 } END { print s + 0 }' "$CSV")
	echo "soak kexec: $(grep -c '^PKT KEXEC' "$res") kexecs of $((n - 1)), $files stages checked," \
		"$bytes bytes checked, losses $(grep -c "^PKT FAIL.*every earlier" "$res")," \
		"fsck $(grep -c '^PKT OK .*fsck clean' "$res") clean of $((n / 10 + (n % 10 ? 1 : 0)))"
	if [ $rc = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

soak_powercut() {
	local n=$1 img=$OUT/powercut.nvdimm.img log=$OUT/powercut c delay verdict rc res
	local cuts=0 checked=0 bytes=0 losses=0 fsck=0 bad=0 line
	RANDOM=$SEED
	rm -f "$img"
	for c in $(seq 1 $((n + 1))); do
		# 0..3 s after the workload's third file: anywhere in a write,
		# an fsync, a rename, an unlink or a log append.
		delay=$((RANDOM % 4))
		verdict=$(PKT_NVDIMM_IMG=$img PKT_APPEND="pkt.cycle=$c" \
			PKT_CUT="workload running, cycle $c, cut me $delay" PKT_LOGDIR=$log \
			tests/vm/run.sh soak-powercut 2>&1)
		rc=$?
		res=$log/soak-powercut/result.log
		cp "$res" "$log/cycle-$c.log" 2> /dev/null
		[ $rc = 0 ] && [ "$c" -le "$n" ] && cuts=$((cuts + 1))
		line=$(sed -n 's/^PKT INFO CUT cycle=[0-9]* files=\([0-9]*\) bytes=\([0-9]*\).*/\1 \2/p' "$res")
		if [ "$c" -gt 1 ]; then
			if [ -n "$line" ]; then
				checked=$((checked + ${line% *}))
				bytes=$((bytes + ${line#* }))
				echo "powercut,$((c - 1)),${line% *},${line#* },$([ $rc = 0 ] && echo ok || echo fail)" >> "$CSV"
			else
				echo "powercut,$((c - 1)),0,0,fail" >> "$CSV"
			fi
			grep -q "^PKT FAIL fsync'd data lost" "$res" && losses=$((losses + 1))
			grep -q '^PKT OK umount, fsck clean' "$res" && fsck=$((fsck + 1))
		fi
		if [ $rc != 0 ]; then
			bad=$((bad + 1))
			echo "$verdict" | sed "s/^/  cycle $c: /"
		fi
	done
	rm -f "$img"
	echo "soak powercut: $cuts cuts of $n (seed $SEED), $checked fsync'd files and $bytes bytes" \
		"checked, losses $losses, fsck clean $fsck of $n"
	if [ $bad = 0 ] && [ $cuts = "$n" ] && [ $fsck = "$n" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

[ $# -gt 0 ] || set -- kexec 100 powercut 100
while [ $# -ge 2 ]; do
	case $1 in
	kexec) soak_kexec "$2" ;;
	powercut) soak_powercut "$2" ;;
	*) echo "usage: $0 [kexec N] [powercut N]" >&2; exit 2 ;;
	esac
	shift 2
done
echo "$passed passed, $failed failed (figures in $CSV)"
[ $failed = 0 ]
