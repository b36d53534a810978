# SPDX-License-Identifier: GPL-2.0-only
# The dax device unbound under a mounted pkernfs: statfs then answers or
# says EIO, never touches the unmapped memory; an unbind waits while a page
# is pinned long-term (io_uring fixed buffers, as VFIO pins guest RAM for
# DMA), since the page map must outlive the pin; umount racing unbind
# leaves no report and a consistent image. The data is back after a rebind.
# pkt-nvdimm: 512M
# pkt-timeout: 300

M=/mnt/pk
U=/sys/bus/dax/drivers/dax_pkernfs/unbind
PARTS="statfs pin race"

# no_report MARK WHAT: the kernel said nothing alarming since MARK.
no_report() {
	local r
	r=$(pkt_kmsg_since "$1" | grep -m1 'BUG:\|Oops\|WARNING:\|general protection\|KASAN')
	if [ -n "$r" ]; then
		pkt_fail "$2: kernel report: $r"
	else
		pkt_ok "$2: no kernel report"
	fi
}

# a. statfs of a mount whose device is gone.
check_statfs() {
	local c out rc
	pkt_kmsg_mark statfs
	pkt_must "unbind under the mounted fs" sh -c "echo dax0.0 > $U" || return 1
	for c in "df $M" "stat -f $M" "pkt-fsops statfs $M"; do
		out=$($c 2>&1)
		rc=$?
		if [ $rc = 0 ] || echo "$out" | grep -q 'I/O error\|EIO'; then
			pkt_ok "$c after unbind: exit $rc ($(echo "$out" | tail -n 1))"
		else
			pkt_fail "$c after unbind: exit $rc, not 0 or EIO: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		fi
	done
	no_report statfs "statfs after unbind"
	pkt_check "umount of the dead fs" umount $M
	pkt_must "bind again" pkt_bind dax0.0 || return 1
	if pkt_must "mount again" mount -t pkernfs dax0.0 $M; then
		pkt_check "the data is intact" pkt-mem verify $M/big 0 4M 3
		pkt_check "the small file too" grep -qx keep $M/keep
	fi
	return 0
}

# b. An unbind under a long-term pin waits for the pin to go.
check_pin() {
	local out i pid
	rm -f /tmp/unbound
	truncate -s 2M $M/pin
	pkt_kmsg_mark pin
	# CMD runs while only the pin holds the pages; it starts the unbind and
	# reports whether it finished within 10 s.
	pkt-fsops pin $M/pin 2M "(echo dax0.0 > $U; echo done > /tmp/unbound) > /dev/null 2>&1 &
		i=0; while [ \$i -lt 10 ] && [ ! -e /tmp/unbound ]; do sleep 1; i=\$((i + 1)); done
		[ -e /tmp/unbound ] && echo unbound-under-pin || echo unbind-waiting" unmap \
		> /tmp/pin.out 2>&1 &
	pid=$!
	# Bounded: a pin released into a freed page map can hang the releaser.
	i=0
	while [ $i -lt 120 ] && kill -0 $pid 2> /dev/null; do
		sleep 1
		i=$((i + 1))
	done
	out=$(cat /tmp/pin.out)
	if kill -0 $pid 2> /dev/null; then
		pkt_fail "pkt-fsops pin still runs 120 s after it started: $(echo "$out" | tr '\n' ' ')"
		return 1
	fi
	pkt_eq "unbind while a page is pinned waits for the pin" \
		"$(echo "$out" | tr '\n' ' ')" "unbind-waiting pinned-cmd-status 0 "
	# A liveness bound, not a timing assertion: the pin is gone now.
	i=0
	while [ $i -lt 60 ] && [ ! -e /tmp/unbound ]; do
		sleep 1
		i=$((i + 1))
	done
	if [ -e /tmp/unbound ]; then
		pkt_ok "the unbind finished once the pin was released (${i}s later)"
	else
		pkt_fail "the unbind still waits 60 s after the pin was released"
		return 1
	fi
	no_report pin "unbind under a pin"
	pkt_check "umount of the dead fs" umount $M
	pkt_must "bind again" pkt_bind dax0.0 || return 1
	if pkt_must "mount again" mount -t pkernfs dax0.0 $M; then
		pkt_eq "the pinned file holds what the pinner wrote" \
			"$(od -An -tx1 -N4 $M/pin)" " 5a 5a 5a 5a"
		pkt_check "the data is intact" pkt-mem verify $M/big 0 4M 3
	fi
	return 0
}

# c. umount and unbind at once, many times. The dangerous moment is the
# end of the umount (the superblock written, the region let go), so 800
# inodes make the umount long, one umount is timed, and round i starts
# the unbind 6*i % of that time after the umount: 0 to 114 %.
check_race() {
	local i=0 failed=0 ms
	mkdir -p $M/many
	while [ $i -lt 800 ]; do
		: > $M/many/$i
		i=$((i + 1))
	done
	ms=$(command time -f %e umount $M 2>&1 | awk '{ printf "%d", $1 * 1000 }')
	pkt_info "umount with 800 inodes takes ${ms:-?} ms"
	pkt_kmsg_mark race
	i=0
	while [ $i -lt 20 ]; do
		if ! pkt_bind dax0.0 || ! mount -t pkernfs dax0.0 $M; then
			pkt_fail "round $i: bind or mount failed"
			return 1
		fi
		echo $i > $M/round
		umount $M > /dev/null 2>&1 &
		(usleep $((${ms:-50} * i * 60)); echo dax0.0 > $U) > /dev/null 2>&1 &
		wait
		# Whichever came first, the mount must be gone or go now.
		if grep -q " $M " /proc/mounts; then
			failed=$((failed + 1))
			umount $M
		fi
		i=$((i + 1))
	done
	pkt_eq "umount racing unbind: 20 rounds, every umount succeeded" "$failed" 0
	no_report race "umount racing unbind"
	# Without KASAN a shutdown reading the freed superblock info shows as a
	# garbled device name.
	pkt_eq "every shutdown message names dax0.0" \
		"$(pkt_kmsg_since race | grep 'device unbound while mounted' | grep -vc 'pkernfs: dax0.0: ')" 0
	pkt_must "bind after the races" pkt_bind dax0.0 || return 1
	if pkt_must "mount after the races" mount -t pkernfs dax0.0 $M; then
		pkt_check "write and read back a file" sh -c "echo after > $M/after && grep -qx after $M/after"
		pkt_check "the data is intact" pkt-mem verify $M/big 0 4M 3
		pkt_check "umount" umount $M
	fi
	pkt_unbind dax0.0
	pkt_check "pkernfsctl fsck finds the image clean" pkernfsctl fsck dax0.0
	return 0
}

stage_1() {
	local p
	mkdir -p $M
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_must "bind" pkt_bind dax0.0 || return
	pkt_must "mount -o format" mount -t pkernfs -o format dax0.0 $M || return
	echo keep > $M/keep
	truncate -s 4M $M/big
	pkt_check "fill a 4M file" pkt-mem fill $M/big 0 4M 3
	for p in $PARTS; do
		"check_$p" || pkt_fail "$p: could not go on"
	done
}
