# SPDX-License-Identifier: GPL-2.0-only
# No leaks: format, mount, create, write, mmap, rename, unlink, truncate,
# a refused mount, umount; then kmemleak must report nothing.
# pkt-append: kmemleak=on
# pkt-nvdimm: 512M
# pkt-timeout: 300

M=/mnt/pk
K=/sys/kernel/debug/kmemleak

stage_1() {
	if [ ! -e $K ]; then
		pkt_skip "kmemleak not available in this kernel"
		return
	fi
	mkdir -p $M
	pkt_check "devdax namespace" pkt_ns_devdax
	pkt_check "bind" pkt_bind dax0.0
	for round in 1 2; do
		mount -t pkernfs -o format,force dax0.0 $M
		mkdir -p $M/d/e
		for i in 1 2 3 4 5 6 7 8; do echo $i > $M/d/f$i; done
		truncate -s 8M $M/d/m && pkt-mem fill $M/d/m 0 8M 1 > /dev/null
		ln -s f1 $M/d/s && ln $M/d/f2 $M/d/e/h
		mv $M/d/f3 $M/d/e/f3 && pkt-fsops rename2 $M/d/f4 $M/d/f5 exchange
		truncate -s 2M $M/d/m && pkt-fsops falloc $M/d/m punch 0 4096
		rm -r $M/d/e $M/d/f6
		mount -t pkernfs dax0.0 /tmp 2> /dev/null	# refused: busy
		umount $M
		mount -t pkernfs -o bogus dax0.0 $M 2> /dev/null	# refused: option
		mount -t pkernfs dax0.0 $M && umount $M
	done
	if ! cat $K > /dev/null 2>&1 || ! echo scan > $K 2> /dev/null; then
		pkt_fail "kmemleak is not running (kmemleak=on ignored?)"
		return
	fi
	sleep 1
	echo scan > $K
	leaks=$(grep -c 'unreferenced object' $K)
	pkt_eq "kmemleak finds no unreferenced object" "$leaks" 0
	[ "$leaks" = 0 ] || pkt_info "$(head -n 30 $K | tr '\n' '|')"
}
