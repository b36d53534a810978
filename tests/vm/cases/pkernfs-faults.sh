# SPDX-License-Identifier: GPL-2.0-only
# The fault path and its neighbours:
#  a. read faults on holes allocate nothing (4 KiB and 2 MiB AUs), and a
#     later write(2) or mmap store shows through a read-only mapping that
#     had read the hole;
#  b. a read-only mount never writes the media;
#  c. a hole punch or truncate inside a 1 GiB (PUD) mapping is clean, and
#     the mapping then sees zeros in the hole and the data elsewhere;
#  d. copy_file_range() and sendfile() into a pkernfs file;
#  e. fallocate drops setuid and setgid exactly as tmpfs does;
#  f. huge faults never map past EOF.
# pkt-nvdimm: 3G
# pkt-timeout: 400

M=/mnt/pk
TM=/mnt/tmpfs
T=/sys/kernel/tracing
DAX=dax0.0
META=/sys/bus/dax/devices/$DAX/pkernfs_metadata
MB=1048576
# md5 of 256 MiB of zeros (head -c 256M /dev/zero | md5sum)
ZERO256=1f5039e50bd66b290c56684d8550c6c2

free_aus() { set -- $(pkt-fsops statfs "$1"); echo "$4"; }

# ns_align 4K|2M: dax0.0 remade as a devdax of that alignment, bound to us.
ns_align() {
	pkt_unbind $DAX > /dev/null 2>&1
	ndctl create-namespace -f -e namespace0.0 -m devdax -a "$1" > /tmp/ns.json 2>&1 &&
		pkt_bind $DAX
}

# mount_or_stop DESC [OPTIONS...]: mount $DAX on $M, or fail: what follows
# would run on the root filesystem instead.
mount_or_stop() {
	local desc="$1"
	shift
	pkt_check "$desc" mount -t pkernfs "$@" $DAX $M
	grep -q " $M pkernfs " /proc/mounts
}

# no_kernel_report MARK DESC: no WARNING/BUG in the kernel log since MARK.
no_kernel_report() {
	local r
	r=$(pkt_kmsg_since "$1" | grep -E 'WARNING:|BUG:|Oops|Call Trace:' | head -n 2 | tr '\n' ' ')
	if [ -n "$r" ]; then
		pkt_fail "$2: kernel report: $r"
	else
		pkt_ok "$2: no kernel report"
	fi
}

# a. A hole read through a PROT_READ mapping of an O_RDONLY file.
check_holes() {
	local au=$1 f=$M/sparse free0 out
	local x=$((100 * MB + 5)) y=$((200 * MB + 7))
	truncate -s 256M $f
	free0=$(free_aus $M)
	out=$(pkt-fsops romap $f 256M)
	pkt_eq "a. au=$au: 256 MiB of holes read through a read-only mapping are zeros" \
		"$out" "pages 65536 nonzero 0"
	pkt_eq "a. au=$au: reading holes allocated nothing (free AUs unchanged)" \
		"$(free_aus $M)" "$free0"
	# Read it all again, then store through write(2) and through another,
	# writable mapping: the read-only mapping must see both bytes.
	out=$(pkt-fsops romap $f 256M \
		"printf A | dd of=$f bs=1 seek=$x conv=notrunc 2>/dev/null && pkt-fsops poke $f $y 0x42" \
		$x $y $((y + 1)) | tr '\n' ' ')
	pkt_eq "a. au=$au: a read-only mapping sees a write(2) and an mmap store into holes it had read" \
		"$out" "pages 65536 nonzero 0 cmd-status 0 byte $x 0x41 byte $y 0x42 byte $((y + 1)) 0x00 "
	pkt_eq "a. au=$au: only the two AUs written are allocated" "$(free_aus $M)" "$((free0 - 2))"
	pkt_eq "a. au=$au: read(2) agrees" "$(dd if=$f bs=1 skip=$x count=1 2>/dev/null)$(dd if=$f bs=1 skip=$y count=1 2>/dev/null)" "AB"
	rm -f $f
}

# e. The mode of a 6755 file of 1000:0 after OP on it by WHO (root|user).
suid_after() {
	local dir=$1 who=$2 op=$3 f=$1/suid cmd
	rm -f $f
	dd if=/dev/zero of=$f bs=4096 count=4 2>/dev/null
	chown 1000:0 $f && chmod 6755 $f
	case $op in
	write) cmd="dd if=/dev/zero of=$f bs=1 count=1 conv=notrunc" ;;
	punch) cmd="pkt-fsops falloc $f punch 0 4096" ;;
	alloc) cmd="pkt-fsops falloc $f keep 0 65536" ;;
	esac
	if [ "$who" = user ]; then
		pkt-fsops as 1000 1000 sh -c "$cmd" > /dev/null 2>&1 || echo -n "$op-failed "
	else
		sh -c "$cmd" > /dev/null 2>&1 || echo -n "$op-failed "
	fi
	stat -c %a $f
	rm -f $f
}

# c. CMD inside a 1 GiB mapping of a fallocated 1 GiB file; WANT: chunkmap's story.
pud_case() {
	local desc="$1" cmd="$2" want="$3" out n
	rm -f $M/pud
	touch $M/pud
	pkt-fsops falloc $M/pud alloc 0 1G
	echo 1 > $T/events/pkernfs/pkernfs_fault/enable
	: > $T/trace
	pkt_kmsg_mark "$desc"
	out=$(pkt-fsops chunkmap $M/pud 1G "$cmd" | tr '\n' ' ')
	echo 0 > $T/events/pkernfs/pkernfs_fault/enable
	n=$(grep -c 'order=18 ' $T/trace)
	pkt_info "c. $desc: faults by order: $(grep -o 'order=[0-9]*' $T/trace | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
	if [ "$n" -ge 1 ]; then
		pkt_ok "c. $desc: the file was mapped by a PUD fault"
	else
		pkt_fail "c. $desc: no PUD fault, so no partial PUD unmap was tested"
	fi
	no_kernel_report "$desc" "c. $desc"
	pkt_eq "c. $desc: the mapping sees, per 2 MiB" "$out" "$want"
	rm -f $M/pud
}

stage_1() {
	local out t p op who
	mkdir -p $M $TM

	# a. with 4 KiB AUs
	pkt_check "devdax namespace, 4K aligned" ns_align 4K
	mount_or_stop "mount -o format,au=4K" -o format,au=4K || return
	check_holes 4K
	pkt_check "umount" umount $M

	# a. with 2 MiB AUs (PMD faults); the 4K image is still on the device
	pkt_check "devdax namespace, 2M aligned" ns_align 2M
	mount_or_stop "mount -o format,force" -o format,force || return
	check_holes 2M

	# b. Everything a read-only mount offers to read, then the metadata
	# must be byte for byte what the last read-write umount left.
	truncate -s 256M $M/sparse
	echo hello > $M/small
	dd if=/dev/urandom of=$M/data bs=1M count=3 2>/dev/null
	pkt_check "umount" umount $M
	sum0=$(md5sum < $META | cut -c1-32)
	mount_or_stop "b. mount -o ro" -o ro || return
	free0=$(free_aus $M)
	pkt_eq "b. ro: a 256 MiB sparse file reads zeros through mmap" \
		"$(pkt-fsops romap $M/sparse 256M)" "pages 65536 nonzero 0"
	pkt_eq "b. ro: and through read()" "$(md5sum < $M/sparse | cut -c1-32)" "$ZERO256"
	pkt_eq "b. ro: free AUs unchanged" "$(free_aus $M)" "$free0"
	cat $M/small $M/data > /dev/null
	pkt_check "b. umount the ro mount" umount $M
	pkt_eq "b. the metadata is unchanged by a read-only mount (md5 of pkernfs_metadata)" \
		"$(md5sum < $META | cut -c1-32)" "$sum0"
	mount_or_stop "mount read-write again" || return
	rm -f $M/sparse $M/small $M/data

	# c. unmap_mapping_range() of part of a PUD mapping
	pud_case "punch 2 MiB at 512 MiB" "pkt-fsops falloc $M/pud punch 512M 2M" \
		"first-byte ok mapped-cmd-status 0 data:0-255 zero:256 data:257-511  "
	pud_case "truncate to 1 GiB - 2 MiB" "truncate -s $((1024 - 2))M $M/pud" \
		"first-byte ok mapped-cmd-status 0 data:0-510 sigbus:511  "

	# d. splice into pkernfs
	dd if=/dev/urandom of=/tmp/src bs=1000 count=5243 2>/dev/null	# not AU-aligned
	cp /tmp/src $M/src
	pkt_check "d. copy_file_range() pkernfs -> pkernfs, identical" \
		sh -c "pkt-fsops cfr $M/src $M/cfr 8M && cmp $M/src $M/cfr"
	pkt_check "d. sendfile() tmpfs -> pkernfs, identical" \
		sh -c "pkt-fsops sendfile /tmp/src $M/sf 8M && cmp /tmp/src $M/sf"
	pkt_check "d. sendfile() pkernfs -> tmpfs, identical (control)" \
		sh -c "pkt-fsops sendfile $M/src /tmp/sf 8M && cmp /tmp/src /tmp/sf"
	rm -f $M/src $M/cfr $M/sf /tmp/src /tmp/sf

	# e. setuid/setgid after write and fallocate, against tmpfs
	mount -t tmpfs -o mode=1777 tmpfs $TM
	pkt_eq "e. control: on tmpfs the owner's hole punch drops setuid and setgid" \
		"$(suid_after $TM user punch)" 755
	pkt_eq "e. control: on tmpfs root's hole punch keeps them (CAP_FSETID)" \
		"$(suid_after $TM root punch)" 6755
	for op in write punch alloc; do
		for who in user root; do
			t=$(suid_after $TM $who $op)
			p=$(suid_after $M $who $op)
			pkt_eq "e. $op by $who: mode as on tmpfs ($t)" "$p" "$t"
		done
	done
	umount $TM

	# f. 2 MiB + 4 KiB, 2 MiB AUs, a 4 MiB mapping: one PMD would cover EOF
	truncate -s $((2 * MB + 4096)) $M/eof-sparse
	dd if=/dev/zero of=$M/eof-data bs=4096 count=513 2>/dev/null
	for f in eof-sparse eof-data; do
		for op in r w; do
			pkt_eq "f. $f: $op at the last byte before EOF" \
				"$(pkt-fsops touch $M/$f 4M $((2 * MB + 4095)) $op)" ok
			for off in $((2 * MB + 4096)) $((2 * MB + 8192)) $((4 * MB - 1)); do
				pkt_eq "f. $f: $op at $off, past EOF in the same 2 MiB: SIGBUS" \
					"$(pkt-fsops touch $M/$f 4M $off $op)" sigbus
			done
		done
		pkt_eq "f. $f: size unchanged" "$(stat -c %s $M/$f)" $((2 * MB + 4096))
	done
	rm -f $M/eof-sparse $M/eof-data
	pkt_check "umount" umount $M
}
