#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pkernfsctl's command line on the host, against image files: option
# parsing and exit codes of every subcommand, mkfs then fsck, and a small
# corpus of damaged images through fsck --repair. Uses the sanitized build
# next to this script. Prints KTAP like the C unit tests.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
P=$HERE/pkernfsctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
cases=()

ok() {	# ok NAME CONDITION-EXIT-STATUS
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		cases+=("ok $n $1")
	else
		cases+=("not ok $n $1")
		fails=$((fails + 1))
	fi
}

# rc WANT NAME CMD...: CMD must exit WANT
rc() {
	local want=$1 name=$2 got
	shift 2
	"$@" > "$T/out" 2> "$T/err"
	got=$?
	[ "$got" -eq "$want" ] || echo "    $name: exit $got, want $want: $(head -c 300 "$T/err")" >&2
	ok "$name" $((got != want))
}

# Damage one byte at OFFSET of FILE (xor 0x5a).
flip() {
	local f=$1 off=$2 b
	b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 0x5a) & 0xff)))" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

region_off() { "$P" info -j --image "$1" | jq -r ".regions.$2.offset"; }

# --help and the usage errors of each subcommand
for c in create list enable disable mkfs upgrade fsck info kexec-check; do
	"$P" $c --help > "$T/out" 2>&1
	r=$?
	grep -q "^usage: pkernfsctl $c" "$T/out"
	ok "$c --help prints its usage and exits 0" $((r != 0 || $? != 0))
done
for c in create list enable disable mkfs upgrade fsck info kexec-check; do
	[ -s "$HERE/../man/pkernfsctl-$c.1" ]
	ok "$c has a man page" $?
done
rc 1 "no command exits 1" "$P"
rc 0 "help exits 0" "$P" help
rc 1 "unknown command exits 1" "$P" frobnicate
rc 1 "mkfs: unknown option exits 1" "$P" mkfs --frob --image "$T/x"
rc 1 "mkfs: neither DEV nor --image exits 1" "$P" mkfs
rc 1 "mkfs: both DEV and --image exits 1" "$P" mkfs dax0.0 --image "$T/x"
rc 1 "mkfs: an extra argument exits 1" "$P" mkfs --image "$T/x" extra
rc 1 "mkfs: --au not a size exits 1" "$P" mkfs --au lots --image "$T/x"
truncate -s 64M "$T/img"
rc 1 "mkfs: --au not a power of two exits 1" "$P" mkfs --au 3M --image "$T/img"
rc 1 "create: --align other than 2M or 1G exits 1" "$P" create --align 4M
rc 1 "create: --size not a size exits 1" "$P" create --size huge
rc 1 "create: --size not a multiple of --align exits 1" "$P" create --size 3M
rc 2 "kexec-check: unknown option exits 2" "$P" kexec-check --frob
rc 1 "enable: no device exits 1" "$P" enable
rc 1 "enable -v: no device exits 1" "$P" enable -v
rc 1 "disable: two devices exits 1" "$P" disable dax0.0 dax1.0
rc 8 "fsck: a missing image exits 8" "$P" fsck --image "$T/none"

# mkfs then fsck on image files
rc 0 "mkfs -v --image on a blank 64M file" "$P" mkfs -v --image "$T/img"
grep -q "AUs of 2048 KiB" "$T/err"
ok "  ... -v says how many AUs of what size" $?
# Each subcommand takes only its own options (ndctl's way).
rc 8 "fsck: --au (mkfs's) is refused, exit 8" "$P" fsck --au 4K --image "$T/img"
grep -q "unrecognized option '--au'" "$T/err"
ok "  ... and named as unknown" $?
rc 8 "fsck: -f (mkfs's) is refused, exit 8" "$P" fsck -f --image "$T/img"
rc 1 "info: --repair (fsck's) is refused, exit 1" "$P" info --repair --image "$T/img"
rc 1 "mkfs: -j (info's and fsck's) is refused, exit 1" "$P" mkfs -f -j --image "$T/img"
rc 8 "upgrade: --inodes (mkfs's) is refused, exit 8" "$P" upgrade --level 1.2 --inodes 9 --image "$T/img"
rc 0 "fsck of the new image exits 0" "$P" fsck --image "$T/img"
"$P" fsck -j --image "$T/img" > "$T/j"
ok "fsck -j is JSON saying clean, 1 inode" \
	$([ "$(jq -c '[.clean, .exit, .inodes]' "$T/j")" = '[true,0,1]' ]; echo $?)
rc 0 "info -j" "$P" info -j --image "$T/img"
ok "info -j: version 1.2, 2M AUs" \
	$([ "$(jq -c '[.version, .au]' "$T/out")" = '["1.2",2097152]' ]; echo $?)
rc 1 "mkfs over a pkernfs without -f exits 1" "$P" mkfs --image "$T/img"
grep -q "already holds a pkernfs" "$T/err"
ok "  ... and says why" $?
rc 0 "mkfs -f --au 1M --inodes 1000 --kernel-area 8M" \
	"$P" mkfs -f --au 1M --inodes 1000 --kernel-area 8M --image "$T/img"
ok "info reflects the options" \
	$([ "$("$P" info -j --image "$T/img" | jq -c '[.au, .inodes, .kernel_area]')" = \
	    '[1048576,1000,8388608]' ]; echo $?)
# format levels: mkfs for the oldest kernel, upgrade later, never down
rc 1 "mkfs --level 1.3 (newer than this tool) exits 1" "$P" mkfs -f --level 1.3 --image "$T/img"
rc 0 "mkfs --level 1.0" "$P" mkfs -f --level 1.0 --image "$T/img"
ok "  ... info says 1.0, no read-only-compatible feature" \
	$([ "$("$P" info -j --image "$T/img" | jq -c '[.version, .feature_ro_compat]')" = '["1.0",0]' ]; echo $?)
rc 8 "upgrade without --level exits 8" "$P" upgrade --image "$T/img"
rc 0 "upgrade --level 1.2" "$P" upgrade --level 1.2 --image "$T/img"
ok "  ... info says 1.2, marks kept (0x2)" \
	$([ "$("$P" info -j --image "$T/img" | jq -c '[.version, .feature_ro_compat]')" = '["1.2",2]' ]; echo $?)
rc 0 "  ... and fsck finds it clean" "$P" fsck --image "$T/img"
rc 4 "upgrade --level 1.1 (lower) exits 4" "$P" upgrade --level 1.1 --image "$T/img"
grep -q "a level is never lowered" "$T/out"
ok "  ... and says why" $?
truncate -s 64M "$T/junk"
printf 'ext4 superblock, pretend' | dd of="$T/junk" bs=1 seek=1024 conv=notrunc status=none
rc 1 "mkfs over non-blank data without -f exits 1" "$P" mkfs --image "$T/junk"
truncate -s 1M "$T/small"
rc 1 "mkfs on a 1M file (too small) exits 1" "$P" mkfs --image "$T/small"
rc 8 "fsck of a blank file exits 8" "$P" fsck --image "$T/junk"
rc 1 "info of a non-pkernfs exits 1" "$P" info --image "$T/junk"
printf 'PKERNFS_FORMAT_NOTE major=1 minor=0 incompat=0x0u' > "$T/kernel"
rc 0 "kexec-check with a kernel carrying the note, no pkernfs here: ready (0)" \
	"$P" kexec-check --kernel "$T/kernel" --append "root=/dev/x"
grep -q "^  kexec -l $T/kernel --command-line='root=/dev/x' && kexec -e" "$T/out"
ok "  ... printing the kexec command, quoted" $?
printf 'PKERNFS_FORMAT_NOTE major=2 minor=0 incompat=0x0u' > "$T/kernel2"
"$P" kexec-check -j --kernel "$T/kernel2" --append x > "$T/out"
ok "kexec-check -j reports the kernel's format major" \
	$(jq -e '.checks[] | select(.check == "kernel") | .detail | test("format 2.x")' "$T/out" > /dev/null; echo $?)
rc 1 "kexec-check with an unreadable kernel: not ready (1)" \
	"$P" kexec-check --kernel "$T/none" --append x
rc 1 "kexec-check with an unreadable initrd: not ready (1)" \
	"$P" kexec-check --kernel "$T/kernel" --initrd "$T/none" --append x
printf 'an image built with pkernfs as a module' > "$T/bzimage-no-note"
rc 0 "kexec-check --module: the note comes from the module (0)" \
	"$P" kexec-check --kernel "$T/bzimage-no-note" --module "$T/kernel" --append x
rc 1 "kexec-check --module with no note in the module either: not ready (1)" \
	"$P" kexec-check --kernel "$T/kernel" --module "$T/bzimage-no-note" --append x
rc 1 "kexec-check --module still needs a readable kernel (1)" \
	"$P" kexec-check --kernel "$T/none" --module "$T/kernel" --append x
rc 1 "kexec-check refuses a command line it cannot quote (1)" \
	"$P" kexec-check --kernel "$T/kernel" --append "a'b"

# Repair corpus: one damage class per image, each must repair (1) and converge (0).
repair_case() {
	local name=$1
	rc 4 "$name: fsck finds it (4)" "$P" fsck --image "$T/d"
	rc 1 "$name: fsck --repair fixes it (1)" "$P" fsck --repair --image "$T/d"
	rc 0 "$name: a second --repair finds nothing (0)" "$P" fsck --repair --image "$T/d"
}
fresh() { rm -f "$T/d"; truncate -s 64M "$T/d"; "$P" mkfs --image "$T/d" 2> /dev/null; }

fresh
flip "$T/d" $(($(region_off "$T/d" bitmap) + 100))
repair_case "bitmap block crc"
fresh
flip "$T/d" $(($(region_off "$T/d" inodes) + 256 + 20))
repair_case "root inode crc"
fresh
flip "$T/d" $(($(region_off "$T/d" journal) + 1))
repair_case "journal head magic"
fresh
flip "$T/d" $(($(region_off "$T/d" kdir) + 64 * 5 + 8))
repair_case "kernel area entry"
fresh
flip "$T/d" 200
rc 4 "superblock damage: fsck exits 4" "$P" fsck --image "$T/d"
rc 4 "superblock damage: --repair leaves it (4)" "$P" fsck --repair --image "$T/d"
"$P" fsck --repair -j --image "$T/d" > "$T/j"
ok "  ... and made no repairs" $([ "$(jq .repairs "$T/j")" = 0 ]; echo $?)

echo "KTAP version 1"
echo "1..$n"
printf '%s\n' "${cases[@]}"
[ $fails -eq 0 ]
