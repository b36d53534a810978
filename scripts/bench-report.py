#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn the guest's "PKT BENCH" lines into ratios, a CSV and plots.

    scripts/bench-report.py RESULT_LOG OUTDIR [--markdown]

A BENCH line is "PKT BENCH GROUP SYSTEM MEDIAN MIN MAX UNIT". Within a
group every figure is compared with the group's peer; ratios say how
pkernfs (or the subject named below) fares, above 1 meaning better,
whether the unit is a rate or a time. Writes OUTDIR/results.csv, a
table on stdout (Markdown with --markdown, for the README), and, when
gnuplot is there, OUTDIR/{faults,mount,kexec,ratios}.{svg,png}.
"""
import csv
import os
import re
import shutil
import subprocess
import sys

TIME_UNITS = {"s", "ms", "us", "ns/page"}

# group prefix -> (subject, peer): the figure compared, and with what.
PEERS = [
    ("fault-", "pkernfs", "devdax"),
    ("bw-", "pkernfs", "memcpy-devdax"),
    ("meta-", "pkernfs", "tmpfs"),
    ("iommu-", "persistent", "stock"),
    ("kexec-", "pkernfs", "none"),
    ("stall-create", "pkernfs", "control-tmpfs"),
    # A VM's blackout across a host kexec, against a QEMU restart alone.
    ("vmm-", "kexec", "restart"),
]

# The targets: (label, group, subject, peer, op, bound). A ratio
# is subject against peer, above 1 better; "max" bounds are on a plain
# quotient of figures (named in the label).
TARGETS = [
    ("faults, fallocated file >= 1.0x devdax", "fault-fallocated-1t1f", "pkernfs", "devdax", ">=", 1.0),
    ("faults, remapped file >= 1.0x devdax", "fault-remapped-1t1f", "pkernfs", "devdax", ">=", 1.0),
    ("faults, 2 threads, fallocated >= 1.0x devdax", "fault-fallocated-2t1f", "pkernfs", "devdax", ">=", 1.0),
    ("first touch, fresh file >= 1.0x hugetlbfs", "fault-fresh-1t1f", "pkernfs", "hugetlbfs", ">=", 1.0),
    ("first touch, fresh file >= 2.5x tmpfs 4K", "fault-fresh-1t1f", "pkernfs", "tmpfs-4k", ">=", 2.5),
    ("faults, fallocated file >= 2.5x tmpfs 4K", "fault-fallocated-1t1f", "pkernfs", "tmpfs-4k", ">=", 2.5),
    ("write 1 MiB >= 0.9x memcpy", "bw-write-1M", "pkernfs", "memcpy-devdax", ">=", 0.9),
    ("read 1 MiB >= 0.9x memcpy", "bw-read-1M", "pkernfs", "memcpy-devdax", ">=", 0.9),
    ("create >= 0.5x tmpfs", "meta-create-flat", "pkernfs", "tmpfs", ">=", 0.5),
    ("stat >= 0.5x tmpfs", "meta-stat-flat", "pkernfs", "tmpfs", ">=", 0.5),
    ("rename >= 0.5x tmpfs", "meta-rename-flat", "pkernfs", "tmpfs", ">=", 0.5),
    ("unlink >= 0.5x tmpfs", "meta-unlink-flat", "pkernfs", "tmpfs", ">=", 0.5),
    ("create, tree >= 0.5x tmpfs", "meta-create-tree", "pkernfs", "tmpfs", ">=", 0.5),
    ("mount: t(3 GiB) / t(256 MiB) <= 1.2", "mount-3G-1k", "pkernfs", "mount-256M-1k", "q<=", 1.2),
    ("mount: full slot scan (format 1.1) / high-water mark, 16x slots",
     "mount-slots-large-fullscan", "pkernfs", "mount-slots-large", "q>=", 1.0),
    ("mount: t(100k inodes) / t(1k) <= 100 (linear)", "mount-3G-100k", "pkernfs", "mount-3G-1k", "q<=", 100),
    ("mount: t(16x the inode slots formatted) / t(1x), 1k in use, <= 1.2",
     "mount-slots-large", "pkernfs", "mount-slots-small", "q<=", 1.2),
    ("worst create during 1 GiB fallocate / one AU's allocation <= 1",
     "stall-create-worst", "pkernfs", "stall-au-alloc", "q<=", 1.0),
    ("fsync of 4 KiB: whole-file time / range time (range-only) >= 10",
     "fsync-whole", "pkernfs", "fsync-4k-range", "q>=", 10),
    ("IOMMU map 4K, persistent >= 0.9x stock", "iommu-map-4K", "persistent", "stock", ">=", 0.9),
    ("IOMMU map 2M, persistent >= 0.9x stock", "iommu-map-2048K", "persistent", "stock", ">=", 0.9),
    ("IOMMU map 4K (scalable mode), persistent >= 0.9x stock", "iommu-sm-map-4K", "persistent",
     "stock", ">=", 0.9),
    ("IOMMU map 2M (scalable mode), persistent >= 0.9x stock", "iommu-sm-map-2048K", "persistent",
     "stock", ">=", 0.9),
]


def parse(path):
    """Figures by (group, system). A figure given more than once (one per
    kexec, say) becomes the median of the medians, the least minimum and
    the greatest maximum."""
    seen = {}
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) != 8 or w[:2] != ["PKT", "BENCH"]:
                continue
            g, s, med, lo, hi, unit = w[2:]
            try:
                seen.setdefault((g, s), []).append((float(med), float(lo), float(hi), unit))
            except ValueError:
                continue
    figs = {}
    for key, runs in seen.items():
        meds = sorted(r[0] for r in runs)
        figs[key] = (meds[(len(meds) - 1) // 2], min(r[1] for r in runs),
                     max(r[2] for r in runs), runs[0][3])
    return figs


def peer_of(group):
    for prefix, subject, peer in PEERS:
        if group.startswith(prefix):
            return subject, peer
    return None, None


def better(a, b, unit):
    """How much better figure a is than b, above 1 meaning better."""
    if not a or not b:
        return None
    return b / a if unit in TIME_UNITS else a / b


def fig(figs, group, system):
    if (group, system) in figs:
        return figs[(group, system)][0]
    return None


def target_rows(figs):
    rows = []
    for label, group, subj, peer, op, bound in TARGETS:
        if op.startswith("q"):
            a, b = fig(figs, group, subj), fig(figs, peer, subj)
            val = a / b if a is not None and b else None
            ok = None if val is None else (val <= bound if op == "q<=" else val >= bound)
        else:
            a, b = fig(figs, group, subj), fig(figs, group, peer)
            unit = figs.get((group, subj), (0, 0, 0, ""))[3]
            val = better(a, b, unit) if a is not None and b is not None else None
            ok = None if val is None else val >= bound
        rows.append((label, val, ok))
    return rows


def write_csv(figs, out):
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "peer", "value", "unit", "ratio", "system", "min", "max"])
        for (g, s), (med, lo, hi, unit) in sorted(figs.items()):
            _, peer = peer_of(g)
            ratio = ""
            if peer and s != peer and (g, peer) in figs:
                r = better(med, figs[(g, peer)][0], unit)
                ratio = "" if r is None else f"{r:.3f}"
            w.writerow([g, peer or "", f"{med:g}", unit, ratio, s, f"{lo:g}", f"{hi:g}"])
        for label, val, ok in target_rows(figs):
            w.writerow([f"target: {label}", "", "" if val is None else f"{val:.3f}", "ratio",
                        "", "met" if ok else ("missed" if ok is False else "not measured"), "", ""])


def table(figs, markdown):
    groups = sorted({g for g, _ in figs})
    lines = []
    if markdown:
        lines += ["| benchmark | system | median | min | max | unit | vs peer |",
                  "|---|---|---|---|---|---|---|"]
    for g in groups:
        _, peer = peer_of(g)
        for (gg, s), (med, lo, hi, unit) in sorted(figs.items()):
            if gg != g:
                continue
            r = ""
            if peer and s != peer and (g, peer) in figs:
                v = better(med, figs[(g, peer)][0], unit)
                r = "" if v is None else f"{v:.2f}x {peer}"
            if markdown:
                lines.append(f"| {g} | {s} | {med:g} | {lo:g} | {hi:g} | {unit} | {r} |")
            else:
                lines.append(f"{g:34} {s:14} {med:>12g} {lo:>12g} {hi:>12g} {unit:8} {r}")
    lines.append("")
    if markdown:
        lines += ["| target | measured | verdict |", "|---|---|---|"]
    for label, val, ok in target_rows(figs):
        v = "-" if val is None else f"{val:.2f}"
        verdict = "met" if ok else ("MISSED" if ok is False else "not measured")
        lines.append(f"| {label} | {v} | {verdict} |" if markdown else f"{verdict:12} {v:>8}  {label}")
    return "\n".join(lines)


def gnuplot(out, name, script, data):
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        f.write(data)
    for term, ext in (("svg size 900,500", "svg"), ("pngcairo size 900,500", "png")):
        cmd = f'set terminal {term}; set output "{os.path.join(out, name + "." + ext)}";\n'
        cmd += script.replace("@DAT@", dat)
        r = subprocess.run(["gnuplot"], input=cmd, text=True, capture_output=True)
        if r.returncode and ext == "png":
            # Some gnuplot builds lack cairo: the plain png terminal then.
            cmd = cmd.replace("pngcairo", "png")
            r = subprocess.run(["gnuplot"], input=cmd, text=True, capture_output=True)
        if r.returncode:
            print(f"[bench] gnuplot {name}.{ext}: {r.stderr.strip()}", file=sys.stderr)


BARS = ('set style data histograms; set style histogram clustered gap 1;'
        'set style fill solid 0.8 border -1; set key outside right; set grid ytics;'
        'set xtics nomirror; ')


def plots(figs, out):
    if not shutil.which("gnuplot"):
        print("[bench] gnuplot missing: no plots (make deps installs it)", file=sys.stderr)
        return
    systems = ["devdax", "pkernfs", "hugetlbfs", "tmpfs-4k", "tmpfs-thp", "ext4-dax"]
    kinds = [k for k in ("fresh", "fallocated", "remapped")
             if any((f"fault-{k}-1t1f", s) in figs for s in systems)]
    if kinds:
        data = "kind " + " ".join(systems) + "\n"
        for t in ("1t1f", "2t1f", "2t2f"):
            for k in kinds:
                row = [str(fig(figs, f"fault-{k}-{t}", s) or "NaN") for s in systems]
                data += f"{k}-{t} " + " ".join(row) + "\n"
        cols = " , ".join(f"'@DAT@' using {i + 2}:xtic(1) title '{s}'" for i, s in enumerate(systems))
        gnuplot(out, "faults", BARS + "set ylabel 'MiB/s (1 GiB, one byte per 4 KiB)';"
                "set xtics rotate by -30; set title 'Page-fault throughput';\nplot " + cols, data)
    mounts = [("mount-256M-1k", 0.25, 1000), ("mount-3G-1k", 3, 1000), ("mount-3G-100k", 3, 100000)]
    have = [(g, d, n, fig(figs, g, "pkernfs")) for g, d, n in mounts if (g, "pkernfs") in figs]
    if have:
        data = "".join(f"{g} {d} {n} {t * 1000:.3f}\n" for g, d, n, t in have)
        gnuplot(out, "mount", "set multiplot layout 1,2 title 'pkernfs mount after kexec';"
                "set grid; set ylabel 'ms'; set yrange [0:*]; set key off; set style data linespoints;"
                "set xlabel 'GiB of data (1,000 inodes)';"
                "plot '@DAT@' using ($3 == 1000 ? $2 : 1/0):4 pt 7;"
                "set xlabel 'inodes in use (3 GiB)'; set logscale x;"
                "plot '@DAT@' using ($2 == 3 ? $3 : 1/0):4 pt 7;"
                "unset multiplot", data)
    phases = ["kexec-phase-old-kernel-and-purgatory", "kexec-phase-kernel-boot",
              "kexec-phase-userspace", "kexec-phase-mount"]
    if any((p, "pkernfs") in figs for p in phases):
        data = "system " + " ".join(p.replace("kexec-phase-", "") for p in phases) + "\n"
        for s in ("pkernfs", "none"):
            data += s + " " + " ".join(str(fig(figs, p, s) or 0) for p in phases) + "\n"
        cols = " , ".join(f"'@DAT@' using {i + 2}:xtic(1) title columnheader({i + 2})"
                          for i in range(len(phases)))
        gnuplot(out, "kexec", "set style data histograms; set style histogram rowstacked;"
                "set style fill solid 0.8 border -1; set boxwidth 0.5; set key outside right;"
                "set ylabel 's'; set grid ytics; set title 'kexec downtime, until one byte is verified';"
                "\nplot " + cols, data)
    scale_plot(figs, out)
    rows = [(label, val) for label, val, _ in target_rows(figs) if val is not None]
    if rows:
        data = "".join(f'"{i + 1}" {v:.4f}\n' for i, (_, v) in enumerate(rows))
        gnuplot(out, "ratios", "set style data histograms; set style fill solid 0.8 border -1;"
                "set boxwidth 0.6; set key off; set logscale y; set grid ytics;"
                "set xlabel 'target (numbered as in the report)'; set ylabel 'measured';"
                "set title 'Targets: measured ratio or quotient';\nplot '@DAT@' using 2:xtic(1)", data)


SCALE_STEPS = [
    ("bind", "pkernfs bind"),
    ("kexec-bind-claimed", "bind at boot, dax.pkernfs="),
    ("unbind", "device_dax unbind"),
    ("kexec-mount", "mount after kexec"),
    ("kexec-ready-claimed", "kernel start to first byte, claimed"),
    ("kexec-ready-unclaimed", "the same, unclaimed"),
]


def scale_plot(figs, out):
    """scale.svg: bench-scale*'s times against the region size."""
    by_step = {}
    for (group, _system), (med, _lo, _hi, unit) in figs.items():
        m = re.fullmatch(r"scale-(.+)-(\d+)G", group)
        if m and unit in ("s", "ms"):
            by_step.setdefault(m.group(1), {})[int(m.group(2))] = med / 1000 if unit == "ms" else med
    sizes = sorted({n for step in by_step.values() for n in step})
    if len(sizes) < 2:
        return
    data = "gib " + " ".join(k for k, _ in SCALE_STEPS) + "\n"
    for n in sizes:
        data += f"{n} " + " ".join(str(by_step.get(k, {}).get(n, "NaN")) for k, _ in SCALE_STEPS) + "\n"
    cols = " , ".join(f"'@DAT@' using 1:{i + 2} title '{t}'" for i, (_, t) in enumerate(SCALE_STEPS))
    gnuplot(out, "scale", "set termoption noenhanced; set logscale xy; set grid; set key outside right;"
            "set style data linespoints; set xlabel 'region, GiB (1 GiB aligned, 1,000 files)';"
            "set ylabel 's'; set title 'Cost against region size';\nplot " + cols, data)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    figs = parse(sys.argv[1])
    if not figs:
        print(f"[bench] no BENCH lines in {sys.argv[1]}", file=sys.stderr)
        return 1
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    write_csv(figs, out)
    print(table(figs, "--markdown" in sys.argv))
    plots(figs, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
