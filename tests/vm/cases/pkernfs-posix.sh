# SPDX-License-Identifier: GPL-2.0-only
# The same script of POSIX operations on tmpfs and on pkernfs must print
# the same thing; then the pkernfs result must survive a remount.
# pkt-nvdimm: 512M
# pkt-timeout: 240

ops() {
	cd "$1" || return 1
	mkdir -p d1/d2 d3
	echo one > d1/f1
	printf 'two\n' >> d1/f1
	cp /tmp/rand d1/big
	cp d1/big d3/bigcopy
	cmp d1/big d3/bigcopy && echo "copy same"
	ln d1/f1 d1/d2/hard
	ln -s ../f1 d1/d2/sym
	cat d1/d2/sym
	truncate -s 100 d1/f1
	truncate -s 3 d1/f1
	cat d1/f1; echo
	truncate -s 5000000 d3/sparse
	pkt-fsops seek d3/sparse 0 data
	pkt-fsops seek d3/sparse 0 hole
	echo tail >> d3/sparse
	pkt-fsops seek d3/sparse 0 data | awk '{print ($1 > 0) ? "data late" : "data at 0"}'
	mv d1/big d3/moved
	echo a > x; echo b > y
	pkt-fsops rename2 x y noreplace; echo "noreplace rc=$?"
	pkt-fsops rename2 x y exchange; echo "exchange rc=$?"
	cat x y
	mv -f x y
	cat y; test -e x || echo "x gone"
	mkdir e1 e2; touch e1/in
	pkt-fsops rename2 e1 e2 exchange; echo "dir exchange rc=$?"
	ls e2 e1
	rmdir e2 2>/dev/null || echo "rmdir non-empty refused"
	mv e2/in e1/; rmdir e2 && echo "rmdir empty ok"
	mv d3 d1/d2/d3moved
	chmod 0600 d1/f1
	chmod 1777 d1/d2
	chown 1000:2000 d1/d2/hard
	touch -d '2001-02-03 04:05:06' d1/d2/d3moved/moved
	mknod fifo p
	pkt-fsops falloc d1/f1 alloc 0 3000000
	pkt-fsops falloc d1/f1 punch 0 3000000
	od -An -c -N3 d1/f1
	rm d1/d2/hard
	find . | sort | while read -r f; do
		case "$(stat -c %F "$f")" in
		directory) stat -c '%n %F %a %u:%g %h' "$f" ;;
		*) stat -c '%n %F %a %u:%g %h %s' "$f" ;;
		esac
	done
	stat -c '%n mtime %Y' d1/d2/d3moved/moved
	md5sum d1/d2/d3moved/moved d1/f1 d1/d2/d3moved/bigcopy | cut -c1-32
	cd /
}

stage_1() {
	mkdir -p /mnt/t /mnt/pk
	mount -t tmpfs -o mode=0755 tmpfs /mnt/t
	dd if=/dev/urandom of=/tmp/rand bs=4096 count=700 2>/dev/null
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_check "bind" pkt_bind dax0.0
	pkt_check "mount -o format" mount -t pkernfs -o format dax0.0 /mnt/pk
	ops /mnt/t > /tmp/tmpfs.out 2>&1
	ops /mnt/pk > /tmp/pk.out 2>&1
	if diff /tmp/tmpfs.out /tmp/pk.out > /tmp/diff; then
		pkt_ok "same results as tmpfs ($(wc -l < /tmp/pk.out) lines)"
	else
		pkt_fail "differs from tmpfs: $(tr '\n' '|' < /tmp/diff)"
	fi
	set -- $(pkt-fsops statfs /mnt/pk)
	pkt_eq "statfs f_type" "$1" 0x706b6673
	pkt_eq "statfs f_bsize (the AU)" "$2" 2097152
	(cd /mnt/pk && find . | sort | xargs stat -c '%n %F %a %u:%g %h %s %Y') > /tmp/before
	pkt_check "umount" umount /mnt/pk
	pkt_check "mount" mount -t pkernfs dax0.0 /mnt/pk
	(cd /mnt/pk && find . | sort | xargs stat -c '%n %F %a %u:%g %h %s %Y') > /tmp/after
	pkt_check "every name and attribute kept across remount" diff /tmp/before /tmp/after
	pkt_check "umount again" umount /mnt/pk
}
