// Prints a Delta table's version, row count and first rows, read independently of nobus: the log
// is replayed by test/interop/delta_rows.mjs and the live Parquet files are read by DuckDB.
// Usage: node test/show_table.mjs TABLE_DIR [LIMIT]
import { readDeltaRows } from './interop/delta_rows.mjs';

const [dir, limit = '10'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node test/show_table.mjs TABLE_DIR [LIMIT]');
  process.exit(2);
}
const { snapshot, rows } = await readDeltaRows(dir);
console.log(`Delta table ${dir}: version ${snapshot.version}, ${snapshot.files.length} live ` +
  `file(s); DuckDB reads ${rows.length} rows; first ${limit}:`);
const flat = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
console.table(rows.slice(0, Number.parseInt(limit, 10)).map(
  (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, flat(v)]))));
