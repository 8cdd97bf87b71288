#!/usr/bin/env python3
"""How fast each function's instructions run under load: a profile from bench/profile.sh next to the instruction
counts of bench/instructions/measure.sh for the same server.

    speed.py PERF_DATA NS_PER_REQUEST SMALL.callgrind LARGE.callgrind REQUESTS [TOP]

PERF_DATA is the profile's perf.data, NS_PER_REQUEST the server's CPU time per request in that profile in ns
(profile.sh prints the user and the kernel part in µs: their sum times 1,000); SMALL and LARGE are measure.sh's two callgrind files of the same server
and path, REQUESTS their difference in requests (8,192 with measure.sh's defaults). For the functions that took
the most time it prints the ns per request (the function's share of the samples), the instructions per request
(callgrind's own cost of the function, whatever file the inlined code came from) and instructions per ns: a
function well below the server's average waits on something other than its instructions (a locked instruction,
a load that cannot take its data from a store just made, a cache miss).

The two builds differ (measure.sh's has line tables), so a function that one inlines and the other does not shows
up on one side only; compare within one build's listing, not function by function across servers.
"""

import collections
import re
import subprocess
import sys

LIBC_ALIASES = (
    # libc picks a variant per CPU at run time; callgrind's CPU is not this one.
    ("memmove", ("__memcpy_avx_unaligned_erms", "__memmove_avx_unaligned_erms")),
    ("memcpy", ("__memcpy_avx_unaligned_erms", "__memmove_avx_unaligned_erms")),
    ("memcmp", ("__memcmp_avx2_movbe",)),
)


def own_instructions(path):
    """Each function's own instructions (callgrind_annotate's exclusive cost), summed over the files it spans."""
    out = subprocess.run(
        ["callgrind_annotate", "--show=Ir", "--auto=no", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    counts = collections.Counter()
    for line in out.splitlines():
        match = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S.*)$", line)
        if not match:
            continue
        name = re.sub(r"\s*\[[^\]]*\]\s*$", "", match.group(2))
        if name == "PROGRAM TOTALS":
            continue
        # The file the code came from (`/…/x.rs:`, `./…:`, `???:` without debug symbols), not a path's `::`.
        name = re.sub(r"^[^:]*:(?!:)", "", name)
        counts[name] += int(match.group(1).replace(",", ""))
    return counts


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    perf_data, ns_per_request, small, large, requests = sys.argv[1:6]
    top = int(sys.argv[6]) if len(sys.argv) == 7 else 25
    ns_per_request, requests = float(ns_per_request), float(requests)
    before, after = own_instructions(small), own_instructions(large)
    per_request = {name: (after[name] - before[name]) / requests for name in after}
    report = subprocess.run(
        ["perf", "report", "-i", perf_data, "--no-children", "--sort", "sym", "--stdio"],
        capture_output=True, text=True, check=True,
    ).stdout
    # perf lists a symbol once per address range it knows by that name (a closure and its copies): summed here,
    # so that each function meets its callgrind count once.
    shares = collections.Counter()
    spaces = {}
    for line in report.splitlines():
        match = re.match(r"^\s*([\d.]+)%\s+\[(.)\]\s+(.*?)\s*$", line)
        if not match:
            continue
        shares[match.group(3)] += float(match.group(1))
        spaces[match.group(3)] = match.group(2)
    rows = []
    for name, share in shares.items():
        space = spaces[name]
        instructions = per_request.get(name)
        if instructions is None and space != "k":
            for alias, variants in LIBC_ALIASES:
                if alias in name:
                    instructions = sum(per_request.get(variant, 0) for variant in variants)
                    break
        rows.append((share / 100 * ns_per_request, instructions, "[kernel] " + name if space == "k" else name))
    matched = [row for row in rows if row[1]]
    matched_ns = sum(row[0] for row in matched)
    matched_instructions = sum(row[1] for row in matched)
    total = sum(value for value in per_request.values() if value > 0)
    if matched_ns == 0:
        sys.exit("speed.py: no function of the profile has a count in the callgrind files (another server?)")
    print(f"{total:.0f} instructions per request in all; the profile's functions that callgrind counted: "
          f"{matched_instructions:.0f} instructions in {matched_ns:.0f} ns per request, "
          f"{matched_instructions / matched_ns:.2f} instructions per ns")
    print(f"{'ns/request':>10} {'instructions':>12} {'per ns':>6}  function")
    for ns, instructions, name in sorted(rows, key=lambda row: row[0], reverse=True)[:top]:
        if instructions is None:
            print(f"{ns:10.1f} {'':>12} {'':>6}  {name[:120]}")
        else:
            speed = f"{instructions / ns:.2f}" if ns > 0 else ""
            print(f"{ns:10.1f} {instructions:12.0f} {speed:>6}  {name[:120]}")


if __name__ == "__main__":
    main()
