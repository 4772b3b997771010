// DuckDB side of bench/http_bench.sh: counts the rows of a table nobusd wrote, without trusting
// nobus's reader. Replays TABLE_DIR/_delta_log/*.json (adds and removes, version by version; needs
// every commit from version 0, which a fresh bench table has), then reads the live files with
// DuckDB's read_parquet: count(*) and count(DISTINCT id) (http_insert.lua gives every row of a run
// its own id, so a duplicate would be a row written twice), and the files' numRecords statistics.
// Usage: node bench/http_count.mjs TABLE_DIR
// Prints one JSON line {"rows", "distinct_ids", "stats_rows", "files", "version"}.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/http_count.mjs TABLE_DIR');
  process.exit(2);
}
const logDir = `${dir}/_delta_log`;
const commits = readdirSync(logDir).filter((f) => /^\d{20}\.json$/.test(f)).sort();
if (commits[0] !== `${'0'.repeat(20)}.json`) throw new Error(`${logDir}: version 0 is gone`);
const live = new Map(); // path -> numRecords
for (const c of commits) {
  for (const line of readFileSync(`${logDir}/${c}`, 'utf8').trim().split('\n')) {
    const a = JSON.parse(line);
    if (a.remove) live.delete(decodeURIComponent(a.remove.path));
    if (a.add) live.set(decodeURIComponent(a.add.path), JSON.parse(a.add.stats ?? '{}').numRecords ?? 0);
  }
}
const out = {
  version: commits.length - 1, files: live.size,
  stats_rows: [...live.values()].reduce((s, n) => s + n, 0), rows: 0, distinct_ids: 0,
};
if (live.size > 0) {
  const q = (s) => `'${s.replaceAll("'", "''")}'`;
  const list = `[${[...live.keys()].map((p) => q(`${dir}/${p}`)).join(', ')}]`;
  const db = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false',
  });
  const conn = await db.connect();
  const r = (await conn.runAndReadAll(
    `SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet(${list})`)).getRowObjectsJson()[0];
  out.rows = Number(r.n);
  out.distinct_ids = Number(r.d);
}
console.log(JSON.stringify(out));
