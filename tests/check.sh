#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every test and print one closing line: "N passed, N failed, N skipped".
#
#   host unit tests    build/unit/test_* (ASan+UBSan); each KTAP case counts
#   fuzz               build/fuzz/fuzz_fsck for FUZZ_SECONDS (30); counts once
#   lint               scripts/lint.sh over the kernel code; counts once
#   VM cases           tests/vm/cases/*.sh through tests/vm/run.sh, on the
#                      test kernel and on the debug (KASAN) kernel; each
#                      case counts once per kernel ("case[debug]"), and
#                      once more per kernel its "# pkt-sm:" header names,
#                      in scalable mode ("case+sm")
#   power cuts         scripts/soak.sh powercut 10 (make soak runs 100),
#                      in the same queue; counts once
#
# PKT_CASES="a b" limits the VM cases; PKT_LEGS="test debug" the kernels
# (a case's "# pkt-legs:" header may leave the debug leg out); PKT_JOBS
# sets how many VMs run at once (default 2: each QEMU runs
# single-threaded TCG, one per host core).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
LOGDIR=${PKT_LOGDIR:-$REPO/build/vm}
JOBS=${PKT_JOBS:-2}
export PKT_INITRD=${PKT_INITRD:-$REPO/build/initramfs.cpio}

pass=0 fail=0 skip=0
failed=()
t0=$SECONDS

echo "== host unit tests"
for t in build/unit/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2> "$t.err")
	rc=$?
	p=$(grep -c '^ok ' <<< "$out")
	f=$(grep -c '^not ok ' <<< "$out")
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
		echo "FAIL $(basename "$t"): $f of $((p + f)) cases failed (rc $rc)"
		grep '^not ok' <<< "$out" | sed 's/^/     /'
		sed 's/^/     /' "$t.err" | head -n 20
		failed+=("$(basename "$t")")
		[ "$f" -eq 0 ] && fail=$((fail + 1))
	else
		echo "PASS $(basename "$t") ($p cases)"
	fi
done

echo "== fuzz (libFuzzer over the image parser and fsck, ${FUZZ_SECONDS:-30} s)"
if [ -x build/fuzz/fuzz_fsck ]; then
	mkdir -p build/fuzz/corpus
	if build/fuzz/fuzz_fsck -max_total_time="${FUZZ_SECONDS:-30}" build/fuzz/corpus \
		> build/fuzz/fuzz.log 2>&1; then
		echo "PASS fuzz_fsck ($(grep -o 'Done [0-9]* runs' build/fuzz/fuzz.log))"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_fsck: see build/fuzz/fuzz.log"
		tail -n 20 build/fuzz/fuzz.log | sed 's/^/     /'
		fail=$((fail + 1))
		failed+=(fuzz_fsck)
	fi
else
	echo "SKIP fuzz_fsck: not built (needs clang and libclang-rt-14-dev: make deps)"
	skip=$((skip + 1))
fi

echo "== lint (checkpatch --strict, kernel-doc, sparse C=2, W=1)"
if scripts/lint.sh > build/lint.log 2>&1; then
	echo "PASS lint"
	pass=$((pass + 1))
else
	echo "FAIL lint: see build/lint.log"
	grep -vE '^(==|lint:)' build/lint.log | head -n 10 | sed 's/^/     /'
	fail=$((fail + 1))
	failed+=(lint)
fi

echo "== earlier releases' kernels (configs/pinned-kernels, scripts/pinned.sh)"
for l in $(scripts/pinned.sh labels); do
	if [ ! -f "$(scripts/pinned.sh image "$l" 2> /dev/null)" ]; then
		echo "SKIP pinned $l: not built (make pinned; its commit must be in this clone)"
		skip=$((skip + 1))
	elif out=$(scripts/pinned.sh verify "$l" 2>&1); then
		# The check must be able to fail: the same image under a wrong format.
		awk -v l="$l" '$1 == l { $3 = "9.9" } { print }' configs/pinned-kernels > build/pinned-wrong
		if PKT_PINNED_LIST=build/pinned-wrong scripts/pinned.sh verify "$l" > /dev/null 2>&1; then
			echo "FAIL pinned $l: verify accepts the image as format 9.9"
			fail=$((fail + 1))
			failed+=("pinned-$l")
		else
			echo "PASS pinned $l (${out##*: commit }; refused as format 9.9)"
			pass=$((pass + 1))
		fi
	else
		echo "FAIL pinned $l: $out"
		fail=$((fail + 1))
		failed+=("pinned-$l")
	fi
done

echo "== VM tests (logs in $LOGDIR/<case>/ and $LOGDIR-debug/<case>/)"
LEGS=${PKT_LEGS:-test debug}
SLOW=${PKT_DEBUG_SLOWDOWN:-3}
# One queue over both kernels, longest first (by declared time bound,
# scaled for the debug kernel), so the two VM slots finish together.
queue_lines() {
for c in ${PKT_CASES:-$(cd tests/vm/cases && ls *.sh | sed 's/\.sh$//')}; do
	[ "$c" = soak-powercut ] && continue
	f=tests/vm/cases/$c.sh
	t=$(sed -n 's/^# pkt-timeout: *//p' "$f" 2> /dev/null | head -n 1)
	legs=$(sed -n 's/^# pkt-legs: *//p' "$f" 2> /dev/null | head -n 1)
	sm=$(sed -n 's/^# pkt-sm: *//p' "$f" 2> /dev/null | head -n 1)
	for leg in $LEGS; do
		case " ${legs:-test debug} " in *" $leg "*) ;; *) continue ;; esac
		s=${t:-300}
		[ "$leg" = debug ] && s=$((s * SLOW))
		echo "$s $leg $c"
		case " $sm " in *" $leg "*) echo "$s $leg $c+sm" ;; esac
	done
done
# The short power-cut soak: one job in the queue, on the test kernel.
case " ${PKT_CASES:-soak-powercut} " in
*" soak-powercut "*) case " $LEGS " in *" test "*) echo "300 test soak-powercut" ;; esac ;;
esac
}
queue=$(queue_lines | sort -k1,1nr -k3 | cut -d' ' -f2-)
mkdir -p "$LOGDIR" "$LOGDIR-debug"
running=0
while read -r leg c; do
	[ -n "$c" ] || continue
	if [ "$c" = soak-powercut ]; then
		(SOAK_OUT=$LOGDIR/soak scripts/soak.sh powercut "${SOAK_CUTS_CHECK:-10}" > "$LOGDIR/$c.log" 2>&1
		 rc=$?
		 if [ $rc = 0 ]; then echo "PASS soak-powercut ($(grep '^soak powercut' "$LOGDIR/$c.log"))"
		 else echo "FAIL soak-powercut: $(grep '^soak powercut' "$LOGDIR/$c.log")"
		      grep -E '^  cycle' "$LOGDIR/$c.log" | head -n 6
		 fi > "$LOGDIR/$c.verdict"
		 echo $rc > "$LOGDIR/$c.rc") &
	elif [ "$leg" = debug ]; then
		d=$LOGDIR-debug
		(PKT_LEG=debug PKT_LOGDIR=$d PKT_INITRD=${PKT_INITRD_DEBUG:-$REPO/build/initramfs-debug.cpio} \
			tests/vm/run.sh "$c" > "$d/$c.verdict" 2>&1; echo $? > "$d/$c.rc") &
	else
		(PKT_LEG=test PKT_LOGDIR=$LOGDIR tests/vm/run.sh "$c" > "$LOGDIR/$c.verdict" 2>&1
		 echo $? > "$LOGDIR/$c.rc") &
	fi
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done <<< "$queue"
wait
while read -r leg c; do
	[ -n "$c" ] || continue
	d=$LOGDIR
	[ "$leg" = debug ] && d=$LOGDIR-debug
	cat "$d/$c.verdict"
	case "$(cat "$d/$c.rc" 2> /dev/null)" in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed+=("$c$([ "$leg" = debug ] && echo '[debug]')") ;;
	esac
done <<< "$(sort -k2 -k1 <<< "$queue")"

# The bench machinery end to end: the quick run's figures through the
# report. Figures are printed, never judged; what must hold is that every
# kind of benchmark produced one and the CSV and table come out.
echo "== bench report (figures from bench-quick on the test kernel, not judged)"
if [ ! -f "$LOGDIR/bench-quick/result.log" ] || [ "$(cat "$LOGDIR/bench-quick.rc" 2> /dev/null)" != 0 ]; then
	echo "SKIP bench-report: bench-quick did not pass in this run"
	skip=$((skip + 1))
elif out=$(scripts/bench-report.py "$LOGDIR/bench-quick/result.log" build/bench-quick 2>&1) &&
	missing=$(for g in fault-fresh fault-fallocated fault-remapped bw-read bw-write meta-create \
			  stall-create-worst fsync-4k-range mount-slots vmemmap kexec-downtime; do
			grep -q "^$g" build/bench-quick/results.csv || printf '%s ' "$g"
		  done) && [ -z "$missing" ]; then
	echo "$out" | grep -E '^(met|MISSED|not measured) +[0-9.-]' | sed 's/^/     /'
	echo "PASS bench-report ($(($(wc -l < build/bench-quick/results.csv) - 1)) rows in build/bench-quick/results.csv)"
	pass=$((pass + 1))
else
	echo "FAIL bench-report: ${missing:+no figures for: $missing}"
	echo "$out" | tail -n 5 | sed 's/^/     /'
	fail=$((fail + 1))
	failed+=(bench-report)
fi

echo "== $((SECONDS - t0)) s"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
[ $skip -gt 0 ] && echo "SKIPPED: $skip test(s) could not run here; see SKIP lines above"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
