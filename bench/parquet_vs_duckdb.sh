#!/usr/bin/env bash
# Parquet writer benchmark with its same-run DuckDB baseline, then records the figures in the
# "## Parquet writer" section of doc/performance.md (other sections are left untouched).
# Usage: bench/parquet_vs_duckdb.sh [BIN_DIR]   (default: $NOBUS_BIN_DIR or build/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="${1:-${NOBUS_BIN_DIR:-build/bin}}"
bench="$bin_dir/parquet_writer_bench"
[[ -x "$bench" ]] || { echo "missing $bench (build target parquet_writer_bench)" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/nobus-pq-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "== nobus Parquet writer (Google Benchmark)" >&2
"$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$work/ours.json" --benchmark_out_format=json >&2
echo "== same rows as NDJSON, DuckDB COPY ... TO parquet (threads=1)" >&2
gen="$("$bench" --ndjson="$work/rows.ndjson")"
input_bytes="$(node -e 'console.log(JSON.parse(process.argv[1]).input_bytes)' "$gen")"
node bench/duckdb_write.mjs "$work/rows.ndjson" "$work" "$input_bytes" 3 > "$work/duckdb.json"

node - "$work/ours.json" "$work/duckdb.json" "$(nproc)" "$input_bytes" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" <<'JS'
const fs = require('fs');
const [oursPath, duckPath, nproc, inputBytes, cpu] = process.argv.slice(2);
const ours = JSON.parse(fs.readFileSync(oursPath, 'utf8'));
const duck = JSON.parse(fs.readFileSync(duckPath, 'utf8'));
const codecName = { '1': 'snappy', '6': 'zstd' };
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [];
lines.push('## Parquet writer', '');
lines.push(`Measured ${new Date().toISOString().slice(0, 10)} on ${nproc} cores (${cpu}) with`,
  '`bench/parquet_vs_duckdb.sh` (one run: ours and the DuckDB baseline back to back). 100,000',
  `event rows of ${fmt(inputBytes / duck.rows)} input bytes on average (event_id, device_id, 2 timestamps, type, user_agent,`,
  '~700-byte payload, lat/lon, count, 3–5 attribute map entries); MB/s = input row bytes.',
  `Baseline: ${duck.duckdb_version} \`COPY t TO ... (FORMAT parquet, COMPRESSION c)\`, \`threads=1\`,`,
  'table already in memory (comparable to `WriteOnly`); best of 3. Ours: median of 3 repetitions.', '');
lines.push('| writer | codec | rows/s | MB/s | file MB |', '|---|---|---:|---:|---:|');
for (const b of ours.benchmarks.filter((x) => x.aggregate_name === 'median')) {
  const m = /^BM_(\w+)\/codec:(\d+)/.exec(b.run_name ?? b.name);
  if (!m) continue;
  lines.push(`| nobus ${m[1]} | ${codecName[m[2]] ?? m[2]} | ${fmt(b['rows/s'])} | ${fmt(b['MB/s'], 1)} | ${fmt(b.file_MB, 2)} |`);
}
for (const r of duck.results) {
  lines.push(`| DuckDB COPY | ${r.codec} | ${fmt(r.rows_per_s)} | ${fmt(r.mb_per_s, 1)} | ${fmt(r.file_bytes / 1e6, 2)} |`);
}
const section = lines.join('\n') + '\n';
const doc = 'doc/performance.md';
fs.mkdirSync('doc', { recursive: true });
let text = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : '# Performance\n';
const start = text.search(/^## Parquet writer\s*$/m);
if (start < 0) {
  text = text.replace(/\n*$/, '\n\n') + section;
} else {
  const rest = text.slice(start + 1);
  const next = rest.search(/^## /m);
  const end = next < 0 ? text.length : start + 1 + next;
  text = text.slice(0, start) + section + (end < text.length ? '\n' + text.slice(end) : '');
}
fs.writeFileSync(doc, text);
process.stdout.write(section);
JS
