#!/usr/bin/env python3
"""Locked read-modify-writes per request, from two callgrind runs of bench/instructions/measure.sh.

    locks.py BINARY SMALL.callgrind LARGE.callgrind REQUESTS [--by-function]

Finds every instruction of BINARY that locks the bus (a `lock`-prefixed one, or `xchg` with memory, which
locks implicitly) with objdump, adds up how often each ran in the LARGE run minus the SMALL one (the files must
come from `valgrind --tool=callgrind --dump-instr=yes`), and prints that divided by REQUESTS (the difference in
requests between the runs). Counts only BINARY's own code (libc's are few: malloc's fast path takes no lock).
--by-function also lists the functions they are in (by symbol, so an inlined function counts as its caller).
Standard library only (and footprint.py beside it, whose callgrind reader and symbol lookup it uses), plus
objdump and nm from binutils.
"""

import collections
import re
import subprocess
import sys

from footprint import counts as object_counts
from footprint import function_of


def locked_addresses(binary):
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True, check=True
    ).stdout
    addresses = set()
    for line in listing.splitlines():
        match = re.match(r"\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if not match:
            continue
        mnemonic, operands = match.group(2), match.group(3)
        if mnemonic == "lock" or (mnemonic.startswith("xchg") and "(" in operands):
            addresses.add(int(match.group(1), 16))
    return addresses


def counts(path, binary_name):
    """Executions per instruction address of the object named binary_name, from a callgrind file."""
    return collections.Counter(
        {address: count for (obj, address), count in object_counts(path).items() if obj.endswith("/" + binary_name)}
    )


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    binary, small_path, large_path, requests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    name = binary.rsplit("/", 1)[-1]
    locked = locked_addresses(binary)
    small, large = counts(small_path, name), counts(large_path, name)
    per_address = {address: large[address] - small.get(address, 0) for address in locked if address in large}
    total = sum(count for count in per_address.values() if count > 0)
    print(f"{total / requests:.1f}")
    if "--by-function" in sys.argv:
        function = function_of(binary)
        by_function = collections.Counter()
        for address, count in per_address.items():
            if count > 0:
                by_function[function(address)] += count
        for function, count in by_function.most_common(30):
            print(f"{count / requests:6.2f}  {function[:150]}", file=sys.stderr)


if __name__ == "__main__":
    main()
