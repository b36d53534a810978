# SPDX-License-Identifier: GPL-2.0-only
# Mount fuzz: 400 generated pkernfs images, each damaged as its seed
# says (tests/vm/tools/pkt-mkfuzz.c: structured damage aimed at every
# record field and the journal with the crcs made right, or random bytes
# in random records), written through /dev/dax0.0 and mounted in the
# kernel. Each one is either refused with a pkernfs kernel message, or
# mounted, walked whole (every entry stat'ed, every file read to its end
# and mapped, symlinks read, statfs), unmounted, and half the time mounted
# and walked once more. The kernel must say nothing worse (run.sh fails
# the case on any BUG/WARNING/KASAN/Oops/lockdep report).
#
#   pkt.fuzz=N        images (default 400, 100 on the debug kernel)
#   pkt.fuzzseed=S    first seed (default 1)
#
# Every image's seed and damage is on the console ("pkt-mkfuzz: seed=..."),
# just before whatever the kernel said about it; on the host,
#   pkt-mkfuzz IMG SIZE SEED
# writes the same image again (SIZE: the dax device's, reported below).
# pkt-nvdimm: 64M
# pkt-timeout: 600

M=/mnt/fuzz
FUZZ_BATCH=100

stage_1() {
	local n first end s cnt rc sum size out
	n=$(pkt_arg pkt.fuzz || pkt_scale 400)
	first=$(pkt_arg pkt.fuzzseed || echo 1)
	mkdir -p $M
	# 4K alignment, so images with 4K and 64K allocation units mount too.
	if ! out=$(ndctl create-namespace -f -e namespace0.0 -m devdax -a 4K 2>&1) ||
	    [ ! -c /dev/dax0.0 ]; then
		pkt_fail "devdax namespace with 4K alignment: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	size=$(cat /sys/bus/dax/devices/dax0.0/size)
	pkt_info "dax0.0: $size bytes, align $(cat /sys/bus/dax/devices/dax0.0/align); seeds $first..$((first + n - 1)); replay one with: pkt-mkfuzz IMG $size SEED"
	s=$first
	end=$((first + n))
	while [ $s -lt $end ]; do
		cnt=$((end - s))
		[ $cnt -gt $FUZZ_BATCH ] && cnt=$FUZZ_BATCH
		pkt-mkfuzz --run dax0.0 $s $cnt $M > /tmp/fuzz.out 2>&1
		rc=$?
		sum=$(sed -n 's/^summary //p' /tmp/fuzz.out)
		grep -q '^timing ' /tmp/fuzz.out && pkt_info "$(sed -n 's/^timing //p' /tmp/fuzz.out)"
		grep '^NOTE' /tmp/fuzz.out | head -n 5 | while read -r line; do
			pkt_info "$line"
		done
		if [ $rc = 0 ] && [ -n "$sum" ]; then
			pkt_ok "$sum"
		elif [ -n "$sum" ]; then
			grep '^FAIL' /tmp/fuzz.out | head -n 20 | while read -r line; do
				pkt_fail "${line#FAIL }"
			done
			pkt_info "$sum"
		else
			# The helper died (an oops kills the task that hit it): say where.
			pkt_fail "pkt-mkfuzz exited $rc in seeds $s..$((s + cnt - 1)); last image: $(grep '^seed=' /tmp/fuzz.out | tail -n 1); $(grep '^FAIL' /tmp/fuzz.out | head -n 3 | tr '\n' ' ')"
			return 1
		fi
		s=$((s + cnt))
	done
	pkt_check "dax0.0 goes back to device_dax" pkt_unbind dax0.0
}
