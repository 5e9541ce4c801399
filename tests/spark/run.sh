#!/usr/bin/env bash
# Cross-checks `scrubline dedup candidates` against the documented reference SQL run on
# Apache Spark in local mode, over the same Parquet files.
#
#   tests/spark/run.sh            # from the repository root
#
# Needs Java 17+ and PyPI access (pyspark ~490 MB, installed once into $SPARK_VENV).
# Environment: SPARK_VENV (default: $CARGO_TARGET_DIR/spark-venv or target/spark-venv),
# CARGO_TARGET_DIR, KEEP=1 to keep the work folder.
set -euo pipefail

cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
venv="${SPARK_VENV:-$target/spark-venv}"
work="$(mktemp -d)"
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$work"' EXIT
start=$SECONDS

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import pyspark, pyarrow" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "pyspark>=4,<5" pyarrow "pandas<3"
fi
# Spark's workers start PYSPARK_PYTHON, not the driver's interpreter (NOTES B.3).
export PYSPARK_PYTHON="$venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$venv/bin/python"
echo "venv ready after $((SECONDS - start)) s"

cargo build --quiet --bin scrubline --example scaleout_synth
# Private copies: a target folder shared with other checkouts may be rebuilt meanwhile.
mkdir -p "$work/bin"
cp "$target/debug/scrubline" "$target/debug/examples/scaleout_synth" "$work/bin/"
bin="$work/bin/scrubline"
synth="$work/bin/scaleout_synth"

status=0
# case: name world files per_file bands seed partitions
for case in "exact-only 3 7 400 0 1 2" "near 3 9 700 8 2 3" "near-w1 1 4 500 10 3 1"; do
  read -r name world files per_file bands seed parts <<<"$case"
  run="$work/$name"
  "$synth" "$run" "$world" "$files" "$per_file" "$bands" "$seed"
  for ((p = 0; p < parts; p++)); do
    "$bin" dedup candidates "$run" --rank "$p" --world-size "$parts" 2>>"$work/stages.log"
  done
  "$venv/bin/python" tests/spark/project_edges.py "$run" >"$work/$name.project.csv"
  t0=$SECONDS
  "$venv/bin/python" tests/spark/candidates_sql.py "$run" >"$work/$name.spark.csv" 2>"$work/$name.spark.log" || {
    cat "$work/$name.spark.log" >&2
    exit 1
  }
  n=$(wc -l <"$work/$name.project.csv")
  near=$(grep -c ',near$' "$work/$name.project.csv" || true)
  if diff -q "$work/$name.project.csv" "$work/$name.spark.csv" >/dev/null; then
    echo "ok   $name: $n edges ($near near), identical (Spark $((SECONDS - t0)) s)"
  else
    echo "FAIL $name: edge sets differ"
    diff "$work/$name.project.csv" "$work/$name.spark.csv" | head -20
    status=1
  fi
done
# The real pipeline: plan, 3 ranks of `scrubline run --plan`, candidates with W2 = 2.
name=pipeline
run="$work/$name"
python3 tests/spark/gen_corpus.py "$work/corpus" 5 400
printf '%064x' 42 >"$work/key.hex"
"$bin" plan --input "$work/corpus" --output "$work/plan.json" 2>>"$work/stages.log"
for r in 0 1 2; do
  "$bin" run --quiet --plan "$work/plan.json" --output "$run" --key-file "$work/key.hex" \
    --rank "$r" --world-size 3
done
for p in 0 1; do "$bin" dedup candidates "$run" --rank "$p" --world-size 2 2>>"$work/stages.log"; done
"$venv/bin/python" tests/spark/project_edges.py "$run" >"$work/$name.project.csv"
t0=$SECONDS
"$venv/bin/python" tests/spark/candidates_sql.py "$run" >"$work/$name.spark.csv" 2>"$work/$name.spark.log" || {
  cat "$work/$name.spark.log" >&2
  exit 1
}
n=$(wc -l <"$work/$name.project.csv")
near=$(grep -c ',near$' "$work/$name.project.csv" || true)
if [[ "$near" -gt 0 ]] && diff -q "$work/$name.project.csv" "$work/$name.spark.csv" >/dev/null; then
  echo "ok   $name: $n edges ($near near), identical (Spark $((SECONDS - t0)) s)"
else
  echo "FAIL $name: edge sets differ (or no near edges)"
  diff "$work/$name.project.csv" "$work/$name.spark.csv" | head -20
  status=1
fi
echo "total $((SECONDS - start)) s"
exit $status
