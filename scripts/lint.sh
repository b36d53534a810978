#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel-side checks every patch to pkernfs must pass:
#   checkpatch.pl --strict, sparse (C=2), W=1 and kernel-doc -Wall
# over fs/pkernfs, drivers/dax/pkernfs, drivers/iommu/intel/pkernfs,
# drivers/iommu/preserve.c and the hook headers.
# Exits non-zero on any finding.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
"$REPO/scripts/kernel.sh" config > /dev/null || exit 1
eval "$("$REPO/scripts/kernel.sh" path)"

files=$(git ls-files 'fs/pkernfs/*.[ch]' 'drivers/dax/pkernfs/*.[ch]' \
	'drivers/iommu/*.[ch]' 'include/linux/*.h' \
	'include/uapi/linux/*.h' 'tests/kmod/*.c' 2> /dev/null)
dirs=""
for d in fs/pkernfs drivers/dax/pkernfs drivers/iommu/intel/pkernfs; do
	[ -d "$d" ] && dirs+=" $d/"
done
if [ -z "$files" ]; then
	echo "lint: no kernel C files in the repo yet; nothing to check"
	exit 0
fi
bad=0

echo "== checkpatch --strict"
# SPDX_LICENSE_TAG: checkpatch wants the tag on line 1 only for files it
# knows; ours carry it there already, and --no-tree cannot tell.
if ! perl "$KSRC/scripts/checkpatch.pl" --no-tree --strict --terse \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,CAMELCASE -f $files; then
	bad=1
fi

echo "== kernel-doc -Wall"
out=$(perl "$KSRC/scripts/kernel-doc" -none -Wall $files 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	bad=1
fi

if [ -n "$dirs" ]; then
	echo "== sparse (C=2) and W=1 on$dirs"
	# Our files alone where the directory is upstream code.
	out=$(make -s -C "$KSRC" O="$KOUT" C=2 W=1 -j"$(nproc)" $dirs \
		drivers/iommu/iommufd/pkernfs.o drivers/iommu/preserve.o 2>&1)
	if echo "$out" | grep -E 'warning:|error:'; then
		bad=1
	fi
fi

[ $bad = 0 ] && echo "lint: clean" || echo "lint: FINDINGS above"
exit $bad
