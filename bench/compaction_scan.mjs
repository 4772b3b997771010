// DuckDB side of bench/compaction_bench.sh: reads a nobus bench table (columns stream, seq, probe,
// payload) without trusting nobus's reader. Replays TABLE_DIR/_delta_log/*.json itself (adds and
// removes, version by version; needs every commit file from version 0, i.e. a log younger than
// delta.logRetentionDuration), then with DuckDB's read_parquet([...files]):
//   - exactly once: count(*) == count(DISTINCT (stream, seq)) and count(*) >= ACKED;
//   - scan time: SELECT count(*), sum(length(payload)), max(seq), best of RUNS (warm page cache).
// FILES = live (the latest version's files) or ingested (every file a STREAMING UPDATE commit
// added: the table as it would be without compaction; needs the removed files still on disk, i.e.
// no VACUUM yet).
// Usage: node bench/compaction_scan.mjs TABLE_DIR ACKED [RUNS=3] [FILES=live]
// Prints one JSON line; exit status 0 even when the check fails (see "exactly_once").
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const [dir, ackedArg, runsArg = '3', which = 'live'] = process.argv.slice(2);
if (!dir || ackedArg === undefined || !['live', 'ingested'].includes(which)) {
  console.error('usage: node bench/compaction_scan.mjs TABLE_DIR ACKED [RUNS] [live|ingested]');
  process.exit(2);
}
const logDir = `${dir}/_delta_log`;
const commits = readdirSync(logDir).filter((f) => /^\d{20}\.json$/.test(f)).sort();
if (commits[0] !== `${'0'.repeat(20)}.json`) throw new Error(`${logDir}: version 0 is gone`);
const live = new Map(); // path -> {size, rows}
const ingested = new Map();
const ops = { streaming: 0, optimize_auto: 0, optimize_manual: 0, optimize_removed_bytes: 0, optimize_ms: [] };
for (const c of commits) {
  const actions = readFileSync(`${logDir}/${c}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const info = actions.find((a) => a.commitInfo)?.commitInfo ?? {};
  if (info.operation === 'STREAMING UPDATE') ops.streaming++;
  if (info.operation === 'OPTIMIZE') {
    ops[info.operationParameters?.auto === 'true' ? 'optimize_auto' : 'optimize_manual']++;
    ops.optimize_removed_bytes += Number(info.operationMetrics?.numRemovedBytes ?? 0);
    ops.optimize_ms.push(info.timestamp);  // commit time, ms since the epoch
  }
  for (const a of actions) {
    if (a.remove) live.delete(decodeURIComponent(a.remove.path));
    if (!a.add) continue;
    const f = { size: a.add.size, rows: JSON.parse(a.add.stats ?? '{}').numRecords };
    live.set(decodeURIComponent(a.add.path), f);
    if (info.operation === 'STREAMING UPDATE') ingested.set(decodeURIComponent(a.add.path), f);
  }
}
const files = which === 'live' ? live : ingested;
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const list = `[${[...files.keys()].map((p) => q(`${dir}/${p}`)).join(', ')}]`;
const sum = (k) => [...files.values()].reduce((s, f) => s + (f[k] ?? 0), 0);

const db = await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false', autoload_known_extensions: 'false',
});
const conn = await db.connect();
const one = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson()[0];
const out = {
  files: which, version: commits.length - 1, ...ops, file_count: files.size,
  file_bytes: sum('size'), stats_rows: sum('rows'), acked: Number(ackedArg),
};
if (files.size > 0) {
  const c = await one(`SELECT count(*) AS n, count(DISTINCT (stream, seq)) AS d
                       FROM read_parquet(${list})`);
  out.rows = Number(c.n);
  out.distinct = Number(c.d);
  out.scan_ms = [];
  for (let i = 0; i < Number(runsArg); i++) {
    const start = performance.now();
    const r = await one(`SELECT count(*) AS n, sum(length(payload)) AS b, max(seq) AS m
                         FROM read_parquet(${list})`);
    out.scan_ms.push(Math.round((performance.now() - start) * 10) / 10);
    out.max_seq = Number(r.m);
  }
  out.scan_ms_best = Math.min(...out.scan_ms);
} else {
  out.rows = out.distinct = 0;
}
out.exactly_once = out.rows === out.distinct && out.rows >= out.acked && out.rows === out.stats_rows;
console.log(JSON.stringify(out));
