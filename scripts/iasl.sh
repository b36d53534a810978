#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# iasl.sh OUT.aml IN.asl [iasl -D options]: compile one table; any warning
# fails (-we), and iasl's banner is shown only then.
set -uo pipefail
out=$1 in=$2
shift 2
mkdir -p "$(dirname "$out")"
if ! log=$(iasl -we "$@" -p "${out%.aml}" "$in" 2>&1); then
	echo "$log" >&2
	echo "iasl: $in: errors or warnings (see above)" >&2
	exit 1
fi
echo "[acpi] $out: $(echo "$log" | grep -o 'AML Output:.*' | sed 's/  */ /g')"
