#!/usr/bin/env python3
"""Drive the scrubline binary from Spark: a DataFrame of rank numbers, one task per rank.

Each stage is a DataFrame with one row per rank (or partition). `mapInPandas` runs
`scrubline` once for every row on the executors, with the rank as a flag. Spark only
schedules and retries tasks here: a failed task is rerun, and a rank that already finished
does nothing. The binary, the corpus, the key and OUT must be reachable at the same paths
from every executor (a shared filesystem, or an object store mounted at the same path).

    spark-submit docs/spark/drive_binary.py --input /data/corpus --output /data/out \\
        --key-file /secure/scrubline.key --world-size 64 --partitions 16

Needs pyspark >= 3.3 with pandas and pyarrow on the executors (set PYSPARK_PYTHON to an
interpreter that has them).
"""
import argparse
import subprocess

import pandas as pd
from pyspark.sql import SparkSession


def run_stage(spark, n, argv, binary):
    """Runs `binary *argv --rank R` for R in 0..n, one Spark task per rank."""

    def tasks(batches):
        for batch in batches:
            out = []
            for rank in batch["rank"]:
                p = subprocess.run(
                    [binary, *argv, "--rank", str(int(rank))],
                    capture_output=True,
                    text=True,
                )
                if p.returncode not in (0, 3):  # 3: finished, with rejects set aside
                    raise RuntimeError(f"rank {rank}: exit {p.returncode}: {p.stderr[-2000:]}")
                out.append((int(rank), p.returncode, p.stderr[-500:]))
            yield pd.DataFrame(out, columns=["rank", "status", "log"])

    ranks = spark.range(n).withColumnRenamed("id", "rank").repartition(n, "rank")
    return ranks.mapInPandas(tasks, "rank long, status int, log string").collect()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--world-size", type=int, required=True)
    ap.add_argument("--partitions", type=int, default=4, help="W2 of dedup candidates")
    ap.add_argument("--binary", default="scrubline")
    a = ap.parse_args()
    spark = SparkSession.builder.appName("scrubline").getOrCreate()
    out, w = a.output, str(a.world_size)
    plan = f"{out}/plan.json"

    subprocess.run([a.binary, "plan", "--input", a.input, "--output", plan], check=True)
    run_stage(spark, a.world_size, ["run", "--quiet", "--plan", plan, "--output", out,
                                    "--key-file", a.key_file, "--world-size", w], a.binary)
    run_stage(spark, a.partitions, ["dedup", "candidates", out,
                                    "--world-size", str(a.partitions)], a.binary)
    subprocess.run([a.binary, "dedup", "cluster", out], check=True)
    run_stage(spark, a.world_size, ["dedup", "filter", out, "--world-size", w], a.binary)
    subprocess.run([a.binary, "manifest", "merge", out], check=True)
    subprocess.run([a.binary, "verify", f"{out}/final"], check=True)
    spark.stop()


if __name__ == "__main__":
    main()
