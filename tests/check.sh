#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every test and print one closing line: "N passed, N failed, N skipped".
#
#   host unit tests    build/unit/test_* (ASan+UBSan); each KTAP case counts
#   fuzz               build/fuzz/fuzz_fsck for FUZZ_SECONDS (30); counts once
#   lint               scripts/lint.sh over the kernel code; counts once
#   VM cases           tests/vm/cases/*.sh through tests/vm/run.sh; each case
#                      counts once (its checks are listed in its log)
#
# PKT_CASES="a b" limits the VM cases; PKT_JOBS sets how many VMs run at
# once (default 2: each QEMU runs single-threaded TCG, one per host core).
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

echo "== VM tests (logs in $LOGDIR/<case>/)"
# Longest first (by declared time bound), so the two VM slots finish together.
cases=${PKT_CASES:-$(cd tests/vm/cases && for f in *.sh; do
	echo "$(sed -n 's/^# pkt-timeout: *//p' "$f" | head -n 1) ${f%.sh}"
done | sort -k1,1nr -k2 | cut -d' ' -f2)}
mkdir -p "$LOGDIR"
running=0
for c in $cases; do
	(tests/vm/run.sh "$c" > "$LOGDIR/$c.verdict" 2>&1; echo $? > "$LOGDIR/$c.rc") &
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for c in $(echo $cases | tr ' ' '\n' | sort); do
	cat "$LOGDIR/$c.verdict"
	case "$(cat "$LOGDIR/$c.rc" 2> /dev/null)" in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed+=("$c") ;;
	esac
done

echo "== $((SECONDS - t0)) s"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
[ $skip -gt 0 ] && echo "SKIPPED: $skip test(s) could not run here; see SKIP lines above"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
