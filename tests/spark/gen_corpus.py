#!/usr/bin/env python3
"""Writes a small corpus with PII, exact copies and near copies for tests/spark/run.sh.

Usage: gen_corpus.py DIR FILES RECORDS_PER_FILE
"""
import json
import os
import random
import sys

WORDS = ("river stone paper lantern harbor meadow signal copper orchard window thunder "
         "violet canyon ember glacier pepper saddle tundra velvet willow anchor bishop "
         "cobalt dune falcon garnet hollow").split()

out, files, per_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
bases = [[rng.choice(WORDS) for _ in range(90)] for _ in range(12)]
os.makedirs(out, exist_ok=True)
for f in range(files):
    with open(os.path.join(out, f"part{f:02}.jsonl"), "w") as fh:
        for i in range(per_file):
            kind = rng.random()
            if kind < 0.15:
                text = f"shared notice {rng.randrange(5)}"
            elif kind < 0.55:
                words = list(rng.choice(bases))
                for _ in range(rng.randrange(12)):
                    words[rng.randrange(len(words))] = rng.choice(WORDS)
                text = " ".join(words)
            else:
                text = " ".join(rng.choice(WORDS) for _ in range(40))
            text += f" contact user{rng.randrange(50)}@example.com"
            fh.write(json.dumps({"id": f"{f}-{i}", "text": text}) + "\n")
