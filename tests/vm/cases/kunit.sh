# SPDX-License-Identifier: GPL-2.0-only
# KUnit suites built into the test kernel run at boot (kunit.enable=1);
# each case's KTAP result, read from debugfs, becomes one check here.
# memmap= reserves RAM for the pkernfs_pmem_region suite's device.
# pkt-append: kunit.enable=1 memmap=64M$0x50000000
# pkt-nvdimm: none
# pkt-timeout: 240

stage_1() {
	local d suite line name n=0
	if [ ! -d /sys/kernel/debug/kunit ]; then
		pkt_skip "no /sys/kernel/debug/kunit (CONFIG_KUNIT_DEBUGFS off)"
		return
	fi
	for d in /sys/kernel/debug/kunit/*/; do
		suite=$(basename "$d")
		[ -f "$d/results" ] || continue
		# Cases are the KTAP result lines one level in (4 spaces).
		while IFS= read -r line; do
			case "$line" in
			"    ok "*"# SKIP"*)
				pkt_skip "kunit $suite: ${line#    ok }" ;;
			"    ok "*)
				name=$(echo "$line" | cut -d' ' -f7-)
				pkt_ok "kunit $suite.$name"; n=$((n + 1)) ;;
			"    not ok "*)
				name=$(echo "$line" | cut -d' ' -f8-)
				pkt_fail "kunit $suite.$name"; n=$((n + 1)) ;;
			esac
		done < "$d/results"
	done
	[ $n -gt 0 ] || pkt_fail "no KUnit case ran"
	pkt_info "kunit: $n cases"
}
