#!/usr/bin/env python3
"""Hot code per request, from two callgrind runs of bench/instructions/measure.sh.

    footprint.py SMALL.callgrind LARGE.callgrind REQUESTS [--by-function BINARY]

Adds up how often each instruction ran in the LARGE run minus the SMALL one (the files must come from
`valgrind --tool=callgrind --dump-instr=yes`), keeps the instructions that ran at least once every two requests,
and prints how many bytes of code they span, counted in 64-byte cache lines, in KiB: the code a request runs
through, in every object (the server, libc). A request loop whose hot code is larger than the core's L1
instruction cache (32 KiB on the machines of bench/README.md) fetches part of it from L2 on every request, so
this is the figure that tells whether a change makes the loop fit better, beside its instruction count.
An instruction counts for the line it starts on; PLT stubs are not counted (callgrind's `--skip-plt=yes`
charges them to the calling instruction). --instructions also prints, on stderr, how many distinct instructions
are hot and how often each runs per request on average; --by-function BINARY lists BINARY's functions by the
hot lines they hold (by symbol, so an inlined function counts as its caller). Standard library only, plus nm
from binutils; locks.py reads callgrind files and names functions with `counts` and `function_of` from here.
"""

import bisect
import collections
import re
import subprocess
import sys

LINE = 64


def counts(path):
    """Executions per (object, instruction address), from a callgrind file."""
    executed = collections.Counter()
    names = {}
    current = ""
    position = [0, 0]
    skip_next = False
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith(("ob=", "cob=")):
            match = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line)
            if match.group(2):
                names[match.group(1)] = match.group(2)
            if line.startswith("ob="):
                current = names.get(match.group(1), "")
            continue
        if line.startswith("calls="):
            skip_next = True  # the next cost line is the call's inclusive cost, not its own
            continue
        if not line or line[0] not in "0123456789+-*":
            continue
        fields = line.split()
        if len(fields) < 2:
            continue
        for i, field in enumerate(fields[:2]):
            if field == "*":
                continue
            if field[0] in "+-":
                delta = int(field[1:], 0)
                position[i] += delta if field[0] == "+" else -delta
            else:
                position[i] = int(field, 0)
        if skip_next:
            skip_next = False
            continue
        if len(fields) >= 3:
            executed[(current, position[0])] += int(fields[2])
    return executed


def function_of(binary):
    """A lookup from an address of BINARY to the name of the function symbol it is in ("?" before the first)."""
    symbols = subprocess.run(["nm", "-C", binary], capture_output=True, text=True, check=True).stdout
    table = sorted(
        (int(fields[0], 16), fields[2])
        for fields in (line.split(None, 2) for line in symbols.splitlines())
        if len(fields) == 3 and fields[1] in ("t", "T")
    )
    starts = [start for start, _ in table]

    def lookup(address):
        index = bisect.bisect_right(starts, address) - 1
        return table[index][1] if index >= 0 else "?"

    return lookup


def main():
    if len(sys.argv) < 4 or not sys.argv[3].isdigit():
        raise SystemExit(__doc__)
    small_path, large_path, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    small, large = counts(small_path), counts(large_path)
    hot = {key for key, count in large.items() if (count - small.get(key, 0)) / requests >= 0.5}
    lines = {(obj, address // LINE) for obj, address in hot}
    print(f"{len(lines) * LINE / 1024:.1f}")
    if "--instructions" in sys.argv:
        executed = sum(large[key] - small.get(key, 0) for key in hot) / requests
        print(f"{len(hot)} hot instructions, each run {executed / len(hot):.2f} times per request", file=sys.stderr)
    if "--by-function" in sys.argv:
        index = sys.argv.index("--by-function") + 1
        if index >= len(sys.argv):
            raise SystemExit("--by-function needs the server's binary after it")
        binary = sys.argv[index]
        name = binary.rsplit("/", 1)[-1]
        function = function_of(binary)
        by_function = collections.Counter(function(line * LINE) for obj, line in lines if obj.endswith("/" + name))
        for function, count in by_function.most_common(30):
            print(f"{count:4d} lines  {function[:150]}", file=sys.stderr)


if __name__ == "__main__":
    main()
