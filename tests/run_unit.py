#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Run unit-test binaries, echo their output and sum their results.

Each binary ends its output with a line "N passed, N failed" (tests/unit/unit.h).
A binary that dies from a signal, exits non-zero without reporting a failure,
or never prints the summary counts as one failed test, so a crash can never
look like success.  Prints a final "N passed, N failed" and exits non-zero if
anything failed.
"""
import re
import subprocess
import sys

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
TIMEOUT = 300  # seconds per binary; a hang is a failure


def run(binary):
    """Run one binary; return (passed, failed)."""
    try:
        proc = subprocess.run([binary], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        sys.stdout.write((exc.stdout or b"").decode(errors="replace"))
        print(f"HANG {binary}: no result after {TIMEOUT}s")
        return 0, 1
    except OSError as exc:
        print(f"FAIL {binary}: cannot run: {exc}")
        return 0, 1
    out = proc.stdout.decode(errors="replace")
    sys.stdout.write(out)
    passed = failed = None
    for line in out.splitlines():
        m = SUMMARY.match(line.strip())
        if m:
            passed, failed = int(m.group(1)), int(m.group(2))
    if proc.returncode < 0:
        print(f"CRASH {binary}: killed by signal {-proc.returncode}")
        return passed or 0, (failed or 0) + 1
    if passed is None:
        print(f"CRASH {binary}: exit {proc.returncode} without a summary line")
        return 0, 1
    if proc.returncode != 0 and failed == 0:
        print(f"FAIL {binary}: exit {proc.returncode} with no failed test")
        return passed, 1
    return passed, failed


def main(argv):
    if len(argv) < 2:
        print("usage: run_unit.py BINARY...", file=sys.stderr)
        return 2
    total_passed = total_failed = 0
    for binary in argv[1:]:
        print(f"== {binary}")
        sys.stdout.flush()
        passed, failed = run(binary)
        total_passed += passed
        total_failed += failed
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
