# SPDX-License-Identifier: GPL-2.0-only
# Extent maps read while they change. With 4 KiB AUs every append and every
# fault on a hole allocates, and merges into the extent before it, freeing
# that one; truncate and hole punch split and free extents. pread() racing
# appends, threads faulting neighbouring holes through one mapping, and
# read()/mmap reads racing truncate and punch (while another file takes
# the freed AUs) must see only the file's own bytes, or zeros where a hole
# is. A read through a freed extent shows as a wrong byte here, or as a
# KASAN report on a debug kernel, which fails the case by itself. Each run
# prints its seed and counts; iterations are fixed, never time (a quarter
# of them on the debug kernel: pkt_scale). Halved on 2026-12-07 to keep
# make check near 45 minutes (the case took 183 s, 247 s on debug); a
# new seed every run covers more over time than longer runs.
# pkt-nvdimm: 512M
# pkt-timeout: 900

M=/mnt/pk

# race DESC ARGS...: pkt-race ARGS; OK with its counts, FAIL with its story.
race() {
	local desc="$1" out
	shift
	if out=$(pkt-race "$@" 2>&1); then
		pkt_ok "$desc: $(echo "$out" | tail -n 1)"
	else
		pkt_fail "$desc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

stage_1() {
	local seed free0
	mkdir -p $M
	# 4 KiB AUs need a namespace aligned no coarser than that.
	pkt_check "devdax namespace, 4K aligned" \
		ndctl create-namespace -f -e namespace0.0 -m devdax -a 4K
	pkt_check "bind" pkt_bind dax0.0
	pkt_check "mount -o format,au=4K" mount -t pkernfs -o format,au=4K dax0.0 $M
	pkt_eq "4 KiB allocation units" "$(pkt-fsops statfs $M | cut -d' ' -f2)" 4096
	free0=$(pkt-fsops statfs $M | cut -d' ' -f4)
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	pkt_info "seed $seed (each run below uses seed+N; rerun one with pkt-race ... SEED)"

	race "pread() of the newest block while appends merge extents" \
		append-read $M/append "$(pkt_scale 6144)" $((seed + 1))
	race "read() and mmap reads while ftruncate() cuts and rewrites, another file reusing AUs" \
		read-truncate $M/cut "$(pkt_scale 500)" $((seed + 2))
	race "read() and mmap reads while hole punches cut and rewrite, another file reusing AUs" \
		read-punch $M/punch "$(pkt_scale 500)" $((seed + 3))
	# Last: on a kernel that maps a freed extent's garbage, this one can
	# oops and leave the process stuck.
	race "4 threads write-fault interleaved holes through one mapping" \
		fault-holes $M/holes4 4 "$(pkt_scale 8192)" $((seed + 4))
	race "2 threads write-fault interleaved holes through one mapping" \
		fault-holes $M/holes2 2 "$(pkt_scale 16384)" $((seed + 5))

	# A merge or split gone wrong also leaves the extent table overlapping
	# or leaking AUs: the next mount and fsck check every extent.
	rm -f $M/append $M/holes4 $M/holes2 $M/cut $M/cut.other $M/punch $M/punch.other
	pkt_check "umount" umount $M
	pkt_check "mount again: the extent table is consistent" mount -t pkernfs dax0.0 $M
	pkt_eq "every AU is free again" "$(pkt-fsops statfs $M | cut -d' ' -f4)" "$free0"
	pkt_check "umount" umount $M
	pkt_check "pkernfsctl disable" pkernfsctl disable dax0.0
	pkt_check "pkernfsctl fsck finds the image clean" pkernfsctl fsck dax0.0
}
