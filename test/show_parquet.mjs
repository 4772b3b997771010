// Prints a Parquet file's schema and first rows with DuckDB (an independent reader).
// Usage: node test/show_parquet.mjs FILE [LIMIT]
import { DuckDBInstance } from '@duckdb/node-api';

const [file, limit = '10'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node test/show_parquet.mjs FILE [LIMIT]');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
const conn = await db.connect();
const quoted = `'${file.replaceAll("'", "''")}'`;
const count = await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${quoted})`);
console.log(`DuckDB reads ${count.getRowObjectsJson()[0].n} rows from ${file}; first ${limit}:`);
const rows = await conn.runAndReadAll(
  `SELECT * FROM read_parquet(${quoted}) LIMIT ${Number.parseInt(limit, 10)}`);
const flat = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
console.table(rows.getRowObjectsJson().map(
  (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, flat(v)]))));
