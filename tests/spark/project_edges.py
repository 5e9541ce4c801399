#!/usr/bin/env python3
"""Prints the edges `scrubline dedup candidates` wrote (RUN_DIR/dedup/edges/*.parquet) as
distinct `doc_id,root,kind` lines sorted by (doc_id, root, kind)."""
import glob
import os
import sys

import pyarrow.parquet as pq

edges = set()
for path in sorted(glob.glob(os.path.join(sys.argv[1], "dedup", "edges", "[0-9]*.parquet"))):
    t = pq.read_table(path).to_pydict()
    edges.update(zip(t["doc_id"], t["root"], t["kind"]))
for d, r, k in sorted(edges):
    print(f"{d},{r},{k}")
