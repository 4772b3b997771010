// Same-run baseline for bench/parquet_writer_bench: DuckDB's Parquet writer on the same rows.
// Loads NDJSON into an in-memory table (not timed), then times
// COPY t TO '...' (FORMAT parquet, COMPRESSION <codec>) single-threaded, best of N runs.
// Usage: node bench/duckdb_write.mjs ROWS.ndjson OUT_DIR INPUT_BYTES [RUNS]
// Prints {"duckdb_version", "rows", "results": [{codec, seconds, rows_per_s, mb_per_s, file_bytes}]}.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const [ndjson, outDir, inputBytesArg, runsArg = '3'] = process.argv.slice(2);
if (!ndjson || !outDir || !inputBytesArg) {
  console.error('usage: node bench/duckdb_write.mjs ROWS.ndjson OUT_DIR INPUT_BYTES [RUNS]');
  process.exit(2);
}
const inputBytes = Number(inputBytesArg);
const q = (s) => `'${s.replaceAll("'", "''")}'`;

const db = await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '1',
});
const conn = await db.connect();
await conn.run('SET threads=1');
await conn.run(`CREATE TABLE t AS SELECT event_id, device_id, make_timestamp(ts)::TIMESTAMPTZ AS ts,
    make_timestamp(ingest_ts)::TIMESTAMPTZ AS ingest_ts, type, user_agent, payload, lat, lon, count,
    attributes
  FROM read_json(${q(ndjson)}, format='newline_delimited', columns={
    event_id: 'BIGINT', device_id: 'VARCHAR', ts: 'BIGINT', ingest_ts: 'BIGINT', type: 'VARCHAR',
    user_agent: 'VARCHAR', payload: 'VARCHAR', lat: 'DOUBLE', lon: 'DOUBLE', count: 'INTEGER',
    attributes: 'MAP(VARCHAR, VARCHAR)'})`);
const rows = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM t')).getRowObjectsJson()[0].n);
const version = (await conn.runAndReadAll('SELECT version() AS v')).getRowObjectsJson()[0].v;

const results = [];
for (const codec of ['zstd', 'snappy']) {
  const path = `${outDir}/duckdb-${codec}.parquet`;
  let best = Infinity;
  for (let i = 0; i < Number(runsArg); i++) {
    const start = performance.now();
    await conn.run(`COPY t TO ${q(path)} (FORMAT parquet, COMPRESSION ${codec})`);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  results.push({
    codec, seconds: best, rows_per_s: rows / best, mb_per_s: inputBytes / 1e6 / best,
    file_bytes: statSync(path).size,
  });
}
console.log(JSON.stringify({ duckdb_version: version, rows, results }));
