#!/usr/bin/env python3
"""The Python baseline of issue 7, measured on the bench corpus: datatrove's PII step.

datatrove is the fastest Python corpus pipeline the issue compares against; its PII step is
`PIIFormatter` (e-mail addresses and public IP addresses, two regexes and an `ipaddress`
check). This runs that step over every text a scrubline run scrubs in the bench corpus:
`text`, and the `content` of each entry of `messages`.

Only the time inside `PIIFormatter.format` counts: not reading the file, not parsing JSON,
not writing anything. So the figure flatters Python, and the ratio run.sh prints errs
against scrubline, whose time covers the whole run.

    python_pii.py CORPUS.jsonl   # prints the seconds spent in the PII step on stdout
"""
import json
import sys
import time

from datatrove.pipeline.formatters import PIIFormatter


def texts(doc):
    """(holder, key) of each string a scrubline run would scrub in the bench corpus."""
    if isinstance(doc.get("text"), str):
        yield doc, "text"
    for m in doc.get("messages") or []:
        if isinstance(m, dict) and isinstance(m.get("content"), str):
            yield m, "content"


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
            if not isinstance(doc, dict):
                continue
            docs += 1
            for holder, key in texts(doc):
                before = holder[key]
                t0 = clock()
                after = step.format(before)
                spent += clock() - t0
                changed += after != before
                holder[key] = after
    print(
        f"datatrove PIIFormatter: {docs:,} records, {size / 1e6:.1f} MB, "
        f"{changed:,} texts changed, {spent:.2f} s in format(), {size / 1e6 / spent:.1f} MB/s",
        file=sys.stderr,
    )
    print(f"{spent:.3f}")


if __name__ == "__main__":
    main()
