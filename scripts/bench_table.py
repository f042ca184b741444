#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns Google Benchmark JSON into the Markdown tables of docs/benchmarks.md."""
import json
import re
import sys
from collections import OrderedDict

TARGETS = {
    ("triplet_margin", 4096): 150.0,
    ("triplet_margin", 1024): 25.0,
}
QUADRATIC = {"ntxent", "supcon", "lifted_structure", "multi_similarity", "circle", "soft_nearest_neighbor"}


def main():
    path, command = sys.argv[1], sys.argv[2]
    data = json.load(open(path))
    ctx = data["context"]
    rows = OrderedDict()
    sizes = set()
    # With repetitions, the medians (the machine is shared and the engine's threads share it).
    medians = any(b.get("aggregate_name") == "median" for b in data["benchmarks"])
    for b in data["benchmarks"]:
        wanted = b.get("aggregate_name") == "median" if medians else b.get("run_type") != "aggregate"
        if not wanted:
            continue
        m = re.match(r"BM_([A-Za-z]+)/([^/]+)/(\d+)", b["name"]) or re.match(r"BM_([A-Za-z]+)/(\d+)", b["name"])
        if not m:
            continue
        if len(m.groups()) == 3:
            group, name, n = m.group(1), m.group(2), int(m.group(3))
        else:
            group, name, n = m.group(1), m.group(1), int(m.group(2))
        unit = b.get("time_unit", "ns")
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
        rows.setdefault((group, name), {})[n] = b["real_time"] * scale
        sizes.add(n)
    sizes = sorted(sizes)
    print("# Benchmarks\n")
    print("Measured by `bench/` (Google Benchmark), never by timed unit tests. Produced by:\n")
    print("```\n%s\n```\n" % command)
    print("Machine: %d CPUs at %s MHz, MarginLab built Release (Google Benchmark itself reports "
          "the Debian package's build type), %s. Times are wall-clock milliseconds per step "
          "(loss + all gradients)%s, D = 2, 10 classes, default parameters, no miner, with the "
          "engine's default thread count (one per CPU; results are the same bits on any count). "
          "The machine is shared: compare rows of one run with each other rather than across runs.\n"
          % (ctx.get("num_cpus", 0), ctx.get("mhz_per_cpu", "?"), ctx.get("date", ""),
             ", median of the repetitions" if medians else ""))
    print("| benchmark | " + " | ".join("N = %d" % n for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for (group, name), times in rows.items():
        label = name if group == "Loss" else "triplet_margin, plain O(N³) loop (reference)"
        cells = []
        for n in sizes:
            t = times.get(n)
            cells.append("" if t is None else ("%.3f" % t if t < 10 else "%.1f" % t))
        print("| %s | %s |" % (label, " | ".join(cells)))
    print("\n## Targets\n")
    print("| target | measured | met |")
    print("|---|---|---|")
    for (name, n), limit in TARGETS.items():
        t = rows.get(("Loss", name), {}).get(n)
        if t is not None:
            print("| %s at N = %d ≤ %g ms | %.1f ms | %s |" % (name, n, limit, t, "yes" if t <= limit else "**no**"))
    for name in sorted(QUADRATIC):
        t = rows.get(("Loss", name), {}).get(1024)
        if t is not None:
            print("| %s at N = 1024 ≤ 10 ms | %.2f ms | %s |" % (name, t, "yes" if t <= 10 else "**no**"))


    print("""
## Notes

- Batch-all triplet loss never lists triplets: per anchor the positives are bucket-sorted into
  about four cells per value, and every negative's boundaries are read off its cell and confirmed
  with the exact floating-point predicate on the cell's neighbours (two SSE2 compares over six
  values; crowded cells and rounding surprises fall back to a binary search), so the cost grows
  like N² (the brute-force row grows like N³). The "hard" count needs no confirmation: its query
  is the negative's own value, placed by the same cell function as the positives.
- The largest loops run on the engine's threads (`marginlab/parallel.h`): rows or anchors are cut
  into at most 16 chunks of at least 256 fixed by N alone, each chunk keeps its own sums, and the
  sums are added in chunk order, so the numbers are the same bits on any thread count (tested for
  every loss). Below 512 points everything stays on the calling thread. Both vCPUs of this VM
  scale on this work; one of them is at times slowed by its neighbours, which the medians absorb.
- The all-pairs losses are bound by one `exp` per pair (about 3.5 ms per million here, SSE2 only:
  the build adds no `-march`, see ENVIRONMENT.md), and reuse their N×N buffers across steps: a
  fresh N×N buffer costs page faults of the same order as the arithmetic on this VM.
- Two traps cost these losses up to a third of their time and are avoided: subnormal numbers
  (Eigen's exp(−∞) returns one, and each costs a microcode assist), and branches on the label test
  "is j a positive of i" (data-dependent, so mispredicted); the loops select instead of branching.
""")


def frames(path):
    data = json.load(open(path))
    rows = OrderedDict()
    # With repetitions, the medians (the machine is shared; single frames jitter by a third).
    medians = any(b.get("aggregate_name") == "median" for b in data["benchmarks"])
    for b in data["benchmarks"]:
        m = re.match(r"frame/(\w+)/(\d+)", b["name"])
        wanted = b.get("aggregate_name") == "median" if medians else b.get("run_type") != "aggregate"
        if m and wanted:
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
            rows.setdefault(m.group(1), {})[int(m.group(2))] = (b["real_time"] * scale, b["cpu_time"] * scale)
    sizes = sorted({n for r in rows.values() for n in r})
    print("## Frame time of the 2D view\n")
    print("`build/bench/marginlab_frame_bench` (run by `scripts/bench`): a new snapshot arrives and the view "
          "paints a 1280×800 frame offscreen, into one reused image like the window's backing store, with "
          "every overlay on (regions, split force arrows, normalized copies, triplet overlay of one anchor; "
          "for ArcFace also the class weights, the margin band and the θ inset), and Qt's thread pool "
          "capped as in the app. Wall-clock / CPU milliseconds of the painting thread%s; "
          "target ≤ 16 ms at N = 2000.\n" % (", median of the repetitions" if medians else ""))
    print("| scene | " + " | ".join("N = %d" % n for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name, r in rows.items():
        print("| %s | %s |" % (name, " | ".join("%.1f / %.1f" % r[n] if n in r else "" for n in sizes)))
    print()


if __name__ == "__main__":
    main()
    if len(sys.argv) > 3:
        frames(sys.argv[3])
