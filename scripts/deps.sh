#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what pkernfs needs from Debian, only what is missing. Quiet and
# quick when everything is there already. Needs root (CI and the
# developers' machines run as root); otherwise prints the command to run.
set -euo pipefail

PKGS=(
	# kernel build (ccache: the pinned earlier releases, scripts/pinned.sh)
	build-essential flex bison bc libelf-dev libssl-dev kmod cpio xz-utils ccache
	linux-source-6.12 sparse python3
	# the guest: emulator, and what runs inside it
	qemu-system-x86 busybox-static ndctl daxctl kexec-tools pciutils jq
	# userspace: pkernfsctl and the test helpers
	libndctl-dev libdaxctl-dev libjson-c-dev uuid-dev liburing-dev
	# kexec-check reads the format note out of compressed kernel images
	zlib1g-dev liblzma-dev libzstd-dev
	# man pages (ndctl writes its own in asciidoc too)
	asciidoctor
	# firmware description: iasl for acpi/, dtc for dt/
	acpica-tools device-tree-compiler
	# make bench: plots, and profiles in the guest
	gnuplot-nox linux-perf
	# libFuzzer
	clang libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "[deps] installing: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "[deps] not root: run 'sudo apt-get install ${missing[*]}'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An apt cache older than a day may miss the security updates that carry
# linux-source-6.12; refresh it then, and whenever an install fails.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -qq
fi
if ! apt-get install -y -qq "${missing[@]}" >/tmp/pkernfs-apt.log 2>&1; then
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/tmp/pkernfs-apt.log 2>&1 || {
		tail -n 20 /tmp/pkernfs-apt.log >&2
		exit 1
	}
fi
echo "[deps] done"
