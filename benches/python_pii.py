#!/usr/bin/env python3
"""The Python baseline of issue 7, measured on the bench corpus: datatrove's PII step.

datatrove is the fastest Python corpus pipeline the issue compares against; its PII step is
`PIIFormatter` (e-mail addresses and public IP addresses, two regexes and an `ipaddress`
check). This runs that step over every string value of every record, at any depth, which
is what a scrubline run scans by default (keys aside), so any JSONL corpus works.

Only the time inside `PIIFormatter.format` counts: not reading the file, not parsing JSON,
not writing anything. So the figure flatters Python, and the ratio run.sh prints errs
against scrubline, whose time covers the whole run.

    python_pii.py CORPUS.jsonl   # prints the seconds spent in the PII step on stdout
"""
import json
import sys
import time

from datatrove.pipeline.formatters import PIIFormatter


def strings(value):
    """(holder, key) of each string value under `value`, at any depth."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, v in items:
        if isinstance(v, str):
            yield value, key
        elif isinstance(v, (dict, list)):
            yield from strings(v)


def main():
    step = PIIFormatter()
    clock = time.perf_counter
    spent, docs, size, changed = 0.0, 0, 0, 0
    with open(sys.argv[1], "rb") as f:
        for line in f:
            size += len(line)
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if not isinstance(doc, (dict, list)):
                continue
            docs += 1
            for holder, key in strings(doc):
                before = holder[key]
                t0 = clock()
                after = step.format(before)
                spent += clock() - t0
                changed += after != before
                holder[key] = after
    if spent <= 0:
        sys.exit(f"python_pii.py: no string values in {sys.argv[1]}: nothing to time")
    print(
        f"datatrove PIIFormatter: {docs:,} records, {size / 1e6:.1f} MB, "
        f"{changed:,} texts changed, {spent:.2f} s in format(), {size / 1e6 / spent:.1f} MB/s",
        file=sys.stderr,
    )
    print(f"{spent:.3f}")


if __name__ == "__main__":
    main()
