#!/usr/bin/env python3
"""Runs the reference SQL of `scrubline dedup candidates` on Apache Spark (local mode).

Usage: candidates_sql.py RUN_DIR > edges.csv

Reads RUN_DIR/docs/*.parquet and RUN_DIR/sig/*.parquet (schema version 1, see
docs/scale-out.md), runs the documented SQL and prints the distinct edge set as
`doc_id,root,kind` lines sorted by (doc_id, root, kind). The near-dup threshold comes from
the files' key-value metadata (`scrubline.near_threshold`).
"""
import glob
import os
import sys

import pyarrow.parquet as pq
from pyspark.sql import SparkSession

SQL = """
WITH exact_roots AS (
  SELECT exact_fp, MIN(doc_id) AS root FROM docs GROUP BY exact_fp),
bucket_roots AS (
  SELECT band, band_hash, MIN(doc_id) AS root FROM sig GROUP BY band, band_hash),
near_pairs AS (
  SELECT DISTINCT s.doc_id, g.root FROM sig s
  JOIN bucket_roots g ON s.band = g.band AND s.band_hash = g.band_hash
  WHERE s.doc_id <> g.root),
scored AS (
  SELECT p.doc_id, p.root,
    aggregate(zip_with(a.sketch, b.sketch, (x, y) -> x ^ y), 0, (acc, x) -> acc +
      bit_count((x | shiftrightunsigned(x, 1) | shiftrightunsigned(x, 2)
                 | shiftrightunsigned(x, 3)) & 1229782938247303441)) AS differ
  FROM near_pairs p JOIN docs a ON a.doc_id = p.doc_id JOIN docs b ON b.doc_id = p.root)
SELECT d.doc_id, e.root, 'exact' AS kind
FROM docs d JOIN exact_roots e ON d.exact_fp = e.exact_fp
WHERE {exact_on} AND d.doc_id <> e.root
UNION
SELECT doc_id, root, 'near' AS kind FROM scored
WHERE (CAST(128 - differ AS DOUBLE) / 128D - 1D / 16D) / (15D / 16D) >= {threshold}D
"""


def main() -> None:
    run = sys.argv[1]
    docs = sorted(glob.glob(os.path.join(run, "docs", "[0-9]*.parquet")))
    sig = sorted(glob.glob(os.path.join(run, "sig", "[0-9]*.parquet")))
    if not docs or len(docs) != len(sig):
        sys.exit(f"{run}: expected docs/*.parquet and sig/*.parquet, one per rank")
    # The footer's key-value metadata (pyarrow's read_schema shows only the Arrow schema's).
    meta = pq.ParquetFile(docs[0]).metadata.metadata or {}
    if meta.get(b"scrubline.table") != b"docs" or meta.get(b"scrubline.schema_version") != b"1":
        sys.exit(f"{docs[0]}: not a scrubline docs table of schema version 1")
    near = meta.get(b"scrubline.near", b"off") != b"off"
    threshold = meta.get(b"scrubline.near_threshold", b"1.0" if not near else b"").decode()
    float(threshold)  # a number, nothing else goes into the SQL

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("scrubline-candidates")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(*docs).createOrReplaceTempView("docs")
    spark.read.parquet(*sig).createOrReplaceTempView("sig")
    exact_on = "FALSE" if meta.get(b"scrubline.exact") == b"off" else "TRUE"
    rows = spark.sql(SQL.format(threshold=threshold, exact_on=exact_on)).collect()
    spark.stop()
    out = sorted((r.doc_id, r.root, r.kind) for r in rows)
    for d, r, k in out:
        print(f"{d},{r},{k}")


if __name__ == "__main__":
    main()
