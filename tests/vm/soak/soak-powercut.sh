# SPDX-License-Identifier: GPL-2.0-only
# One cycle of the power-cut soak (scripts/soak.sh runs it again and again
# on one nvdimm image, PKT_NVDIMM_IMG, and kills QEMU at a random point of
# the workload, PKT_CUT). A cycle: fsck what the last cut left, mount
# (the journal replays), check every file the log lists as fsync'd, byte
# for byte, fsck again after umount, then run the write/fsync/rename
# workload until the power goes.
#
# QEMU's nvdimm is a shared file mapping: a killed QEMU leaves every store
# the guest made, and none it had not made. So the cut tests what pkernfs
# orders by its stores (journal commit, then home records, then the
# log), not lost CPU caches; pkernfs.rst says so.
# pkt-nvdimm: 512M
# pkt-legs: test
# pkt-timeout: 300

M=/mnt/pk
P=$M/pc
CYCLE=$(pkt_arg pkt.cycle || echo 1)

# The log's whole lines: "add NAME MD5 SIZE ." or "rm NAME ."; a line the
# cut tore (no final ".") can only be the last.
check_log() {
	awk -v dir=$P '
		$NF != "." { torn++; next }
		torn { print "torn line inside the log: " prev; exit 1 }
		$1 == "add" { sum[$2] = $3; size[$2] = $4 }
		$1 == "rm" { delete sum[$2]; delete size[$2] }
		{ prev = $0 }
		END { for (f in sum) print f, sum[f], size[f] }' $P/LOG > /tmp/expect || return 1
	local f sum size got n=0 bytes=0
	while read -r f sum size; do
		got=$(md5sum < "$P/$f" 2>/dev/null | cut -c1-32)
		if [ "$got" != "$sum" ] || [ "$(stat -c %s "$P/$f" 2>/dev/null)" != "$size" ]; then
			echo "$f: fsync'd as $sum ($size bytes), found '${got:-missing}'"
			return 1
		fi
		n=$((n + 1))
		bytes=$((bytes + size))
	done < /tmp/expect
	echo "$n $bytes"
}

workload() {
	local i=0 n old
	while :; do
		i=$((i + 1))
		n=c${CYCLE}_$i
		head -c $(( (i * 40993 + CYCLE * 7919) % 262144 + 1 )) /dev/urandom > $P/tmp.$n &&
		sync $P/tmp.$n && mv $P/tmp.$n $P/$n && sync $P &&
		echo "add $n $(md5sum < $P/$n | cut -c1-32) $(stat -c %s $P/$n) ." >> $P/LOG &&
		sync $P/LOG || return
		# Keep the tree bounded: drop a file of an earlier cycle now and
		# then, and at every add once it holds 100 (each small file takes
		# a 2 MiB AU of the 251: unbounded, cycle 25 found it full).
		if [ $((i % 3)) = 0 ] || [ "$(ls $P | wc -l)" -gt 100 ]; then
			old=$(ls $P | grep -v -e LOG -e tmp -e "^c${CYCLE}_" | head -n 1)
			# Logged before the unlink: a cut between the two must not
			# leave the log listing a file that is gone.
			[ -n "$old" ] && echo "rm $old ." >> $P/LOG && sync $P/LOG &&
				rm $P/"$old" && sync $P
		fi
		[ "$i" = 3 ] && pkt_info "workload running, cycle $CYCLE, cut me"
	done
}

stage_1() {
	local r
	mkdir -p $M
	if [ "$CYCLE" = 1 ]; then
		pkt_pkernfs_format || return
		mkdir -p $P && : > $P/LOG && sync $P/LOG
	else
		pkt_check "the namespace came back as dax0.0" test -e /sys/bus/dax/devices/dax0.0
		pkt_check "pkernfsctl fsck after the cut: no error (a pending journal is a note)" sh -c \
			"pkernfsctl fsck dax0.0 > /tmp/fsck 2>&1 || { cat /tmp/fsck; false; }"
		pkt_info "$(tail -n 1 /tmp/fsck)"
		pkt_must "bind" pkt_bind dax0.0 &&
		pkt_must "mount after the cut" mount -t pkernfs dax0.0 $M || return
		rm -f $P/tmp.*
		if r=$(check_log); then
			pkt_ok "every fsync'd file as it was"
			pkt_info "CUT cycle=$CYCLE files=${r% *} bytes=${r#* }"
		else
			pkt_fail "fsync'd data lost: $r"
		fi
		pkt_check "umount, fsck clean" sh -c "umount $M && pkernfsctl fsck dax0.0"
		pkt_must "mount again" mount -t pkernfs dax0.0 $M || return
	fi
	workload
	pkt_fail "the workload stopped: $(tail -n 1 $P/LOG)"
}
