# SPDX-License-Identifier: GPL-2.0-only
# Live update, twice in a row: a tree of 320 files of mixed sizes (1.05 GiB
# in all) with permissions and owners set, checksummed; kexec; mount;
# every byte and every attribute verified; kexec again; verified again.
# Test kernel only: its volume is the point; the debug kernel checks the
# same kexec and mount paths in pkernfs-basic and memmap-kexec, and the
# tree walk in pkernfs-posix and pkernfs-leak.
# pkt-stages: 3
# pkt-nvdimm: 2G
# pkt-legs: test
# pkt-timeout: 900

M=/mnt/pk

# fsum FILE: the sum of FILE's content. For a guest RAM file stage 1
# filled, the sum fill printed (it reads the mapping back after writing),
# since reading 1.6 GiB again costs some 40 s; stages 2 and 3 read all.
fsum() {
	local s
	s=$(sed -n "s|^$1 ||p" /tmp/fillsums 2> /dev/null)
	[ -n "$s" ] && echo "$s" && return
	pkt-mem sum "$1" 0 "$(stat -c %s "$1")" 2> /dev/null || echo empty
}

# Attributes of every entry, and a sum of every file's content.
manifest() {
	(cd $M && find . | sort | while read -r f; do
		case "$(stat -c %F "$f")" in
		"regular file"|"regular empty file")
			echo "$(stat -c '%n %a %u:%g %h %s %Y' "$f") $(fsum "$f")" ;;
		"symbolic link") echo "$(stat -c '%n %a %u:%g' "$f") -> $(readlink "$f")" ;;
		*) echo "$(stat -c '%n %F %a %u:%g %h %Y' "$f")" ;;
		esac
	done)
}

build_tree() {
	local d f i s size
	for d in 0 1 2 3 4 5 6 7; do
		mkdir -p $M/vm$d/cfg
		chmod 0750 $M/vm$d
		chown $((1000 + d)):$((2000 + d)) $M/vm$d
		for i in $(seq 1 "$(pkt_scale 38)"); do
			f=$M/vm$d/cfg/f$i
			# 8 bytes .. 40 KiB of text-like data
			head -c $(( (i * 1031 * (d + 1)) % 40960 + 8 )) /tmp/seed > $f
			chmod $(( 0400 + (i % 4) * 0110 )) $f
			chown $((i % 5)):$((i % 3)) $f
		done
		# guest RAM files: 64..204 MiB (16..51 on debug), written through mmap
		size=$(( (64 + d * 20) * $(pkt_scale 4) / 4 ))M
		truncate -s $size $M/vm$d/ram
		s=$(pkt-mem fill $M/vm$d/ram 0 $size $((d + 11))) || return 1
		echo "./vm$d/ram $s" >> /tmp/fillsums
		ln -s ram $M/vm$d/ram.link
		ln $M/vm$d/cfg/f1 $M/vm$d/f1.hard
	done
}

stage_1() {
	local t0
	mkdir -p $M
	head -c 65536 /dev/urandom > /tmp/seed
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_check "bind" pkt_bind dax0.0
	pkt_check "format and mount" mount -t pkernfs -o format dax0.0 $M
	t0=$(cut -d' ' -f1 /proc/uptime)
	pkt_check "build the tree" build_tree
	pkt_info "built in $(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime) - $t0}") s: $(find $M -type f | wc -l) files, $(du -sm $M | cut -f1) MiB used"
	pkt_eq "du counts the AUs files hold (st_blocks)" \
		"$(( $(du -sm $M | cut -f1) >= 1600 * $(pkt_scale 4) / 4 ))" 1
	pkt_eq "at least $(pkt_scale 300) files" "$(( $(find $M -type f | wc -l) >= $(pkt_scale 300) ))" 1
	pkt_eq "more than $(( 1024 * $(pkt_scale 4) / 4 )) MiB of data" \
		"$(find $M -type f | xargs stat -c %s |
		   awk -v min=$(( 1073741824 * $(pkt_scale 4) / 4 )) '{s += $1} END {print (s > min)}')" 1
	manifest > /tmp/m1
	PKT_EXTRA_APPEND="pkt.manifest=$(md5sum < /tmp/m1 | cut -c1-32)"
	pkt_info "manifest $(md5sum < /tmp/m1 | cut -c1-32), $(wc -l < /tmp/m1) entries"
	pkt_check "umount" umount $M
	pkt_kexec
}

verify() {
	local t0 t1
	mkdir -p $M
	pkt_check "bind after kexec" pkt_bind dax0.0
	t0=$(cut -d' ' -f1 /proc/uptime)
	pkt_check "mount after kexec" mount -t pkernfs dax0.0 $M
	t1=$(cut -d' ' -f1 /proc/uptime)
	pkt_info "mount took $(awk "BEGIN{print $t1 - $t0}") s"
	manifest > /tmp/m
	pkt_eq "every byte and attribute as before ($(wc -l < /tmp/m) entries)" \
		"$(md5sum < /tmp/m | cut -c1-32)" "$(pkt_arg pkt.manifest)"
	pkt_check "vm7/ram holds the pattern written before" \
		pkt-mem verify $M/vm7/ram 0 "$(stat -c %s $M/vm7/ram)" 18
	pkt_info "du: $(du -sm $M | cut -f1) MiB in AUs; df: $(df -m $M | tail -n 1 | tr -s ' ')"
	pkt_check "umount" umount $M
	pkt_check "pkernfsctl fsck: clean" sh -c "pkernfsctl disable dax0.0 && pkernfsctl fsck dax0.0"
}

stage_2() {
	verify
	PKT_EXTRA_APPEND=""
	pkt_kexec
}

stage_3() { verify; }
