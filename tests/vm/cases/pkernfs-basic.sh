# SPDX-License-Identifier: GPL-2.0-only
# pkernfs end to end: bind a devdax namespace, format, make files, umount
# and mount again, kexec, mount, and find everything as it was.
# pkt-stages: 2
# pkt-nvdimm: 512M
# pkt-timeout: 240

M=/mnt/pk

tree_state() {
	# name, type, mode, owner, size, and content sum of every entry
	(cd $M && find . | sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "$f $(stat -c '%F %a %u:%g' "$f") -> $(readlink "$f")"
		elif [ -f "$f" ]; then
			echo "$f $(stat -c '%F %a %u:%g %s %h' "$f") $(md5sum < "$f" | cut -c1-32)"
		else
			echo "$f $(stat -c '%F %a %u:%g' "$f")"
		fi
	done) | md5sum | cut -c1-32
}

stage_1() {
	mkdir -p $M
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_check "bind dax0.0 to dax_pkernfs" pkt_bind dax0.0
	pkt_refuse "mount without a format" mount -t pkernfs dax0.0 $M
	pkt_check "mount -o format" mount -t pkernfs -o format dax0.0 $M
	pkt_refuse "second mount of the same device" mount -t pkernfs dax0.0 /tmp
	mkdir -p $M/a/b/c
	echo hello > $M/a/hello.txt
	dd if=/dev/urandom of=$M/a/b/rand bs=1M count=5 2>/dev/null
	ln -s ../hello.txt $M/a/b/link
	ln $M/a/hello.txt $M/a/b/c/hard
	chmod 0640 $M/a/hello.txt
	chown 12:34 $M/a/b/rand
	touch $M/empty
	pkt_eq "hard link count" "$(stat -c %h $M/a/hello.txt)" 2
	pkt_eq "readlink" "$(readlink $M/a/b/link)" ../hello.txt
	pkt_eq "read back" "$(cat $M/a/b/link)" hello
	pkt-mem fill $M/a/b/rand 0 4M 77 > /dev/null
	st=$(tree_state)
	pkt_info "tree state $st"
	pkt_check "umount" umount $M
	pkt_check "mount again" mount -t pkernfs dax0.0 $M
	pkt_eq "tree unchanged across umount/mount" "$(tree_state)" "$st"
	pkt_check "umount before kexec" umount $M
	PKT_EXTRA_APPEND="pkt.st=$st" pkt_kexec
}

stage_2() {
	mkdir -p $M
	pkt_check "bind dax0.0 after kexec" pkt_bind dax0.0
	pkt_check "mount after kexec" mount -t pkernfs dax0.0 $M
	pkt_eq "tree unchanged across kexec" "$(tree_state)" "$(pkt_arg pkt.st)"
	pkt_check "pattern intact" pkt-mem verify $M/a/b/rand 0 4M 77
	pkt_refuse "pkernfsctl disable while mounted" pkernfsctl disable dax0.0
	pkt_check "umount" umount $M
	pkt_check "pkernfsctl disable" pkernfsctl disable dax0.0
	pkt_check "pkernfsctl fsck finds the kernel's image clean" pkernfsctl fsck dax0.0
	pkt_eq "pkernfsctl info -j: 8 inodes in use (root, 3 dirs, 3 files, 1 symlink)" "$(pkernfsctl info -j dax0.0 | jq .inodes_used)" 8
	pkt_check "pkernfsctl enable" pkernfsctl enable dax0.0
	pkt_check "and it mounts again" mount -t pkernfs dax0.0 $M
	pkt_eq "pkernfsctl list shows the mount" \
		"$(pkernfsctl list -j | jq -r '.[] | select(.chardev == "dax0.0") | .mountpoint')" $M
	pkt_check "umount" umount $M
}
