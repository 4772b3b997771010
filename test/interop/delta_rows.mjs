// Reads the current rows of a local Delta table for the interop tests, independently of nobus:
// replays `_delta_log` (JSON commits, and a classic checkpoint when the log no longer starts at
// commit 0) to find the live files and the schema, then hands them to test/delta/read_table.mjs
// (DuckDB read_parquet per file) and returns the rows as plain objects.
//
// Library:  import { readDeltaRows, deltaSnapshot } from './delta_rows.mjs';
// CLI:      node test/interop/delta_rows.mjs TABLE_DIR      -> {"version":N,"rows":[{...}, ...]}
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kReadTable = fileURLToPath(new URL('../delta/read_table.mjs', import.meta.url));
const kCommit = /^(\d{20})\.json$/;
const kCheckpoint = /^(\d{20})\.checkpoint\.parquet$/;

// `storage_location` may be a plain path or a file:// URI.
export function localPath(location) {
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}

// Live files (add actions) of a checkpoint, plus its metaData, read with DuckDB.
async function readCheckpoint(path) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '1',
  });
  const conn = await db.connect();
  const q = (sql) => conn.runAndReadAll(sql).then((r) => r.getRowObjects());
  const lit = `'${path.replaceAll("'", "''")}'`;
  const adds = await q(`SELECT add.path AS path,
                               CAST(to_json(add.partitionValues) AS VARCHAR) AS pv
                        FROM read_parquet(${lit}) WHERE add IS NOT NULL`);
  const meta = await q(`SELECT metaData.schemaString AS schema_string,
                               CAST(to_json(metaData.partitionColumns) AS VARCHAR) AS partition_columns
                        FROM read_parquet(${lit}) WHERE metaData IS NOT NULL`);
  return {
    adds: adds.map((r) => ({ path: r.path, partitionValues: r.pv ? JSON.parse(r.pv) : {} })),
    metaData: meta.length ? {
      schemaString: meta[0].schema_string,
      partitionColumns: JSON.parse(meta[0].partition_columns ?? '[]'),
    } : null,
  };
}

// Decodes a (JSON-)checkpoint MAP rendered by to_json: {"k":"v"} or [{"key":..,"value":..}].
function partitionMap(pv) {
  if (Array.isArray(pv)) return Object.fromEntries(pv.map((e) => [e.key, e.value]));
  return pv ?? {};
}

// The table state: {version, files: [{path (absolute), partitionValues}], columns, partitionColumns}.
// version is -1 and files empty when the log has no commit yet.
export async function deltaSnapshot(tableDir) {
  const logDir = join(tableDir, '_delta_log');
  if (!existsSync(logDir)) return { version: -1, files: [], columns: [], partitionColumns: [] };
  const names = readdirSync(logDir);
  const commits = names.map((n) => kCommit.exec(n)).filter(Boolean).map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const checkpoints = names.map((n) => kCheckpoint.exec(n)).filter(Boolean).map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const latest = Math.max(-1, ...commits, ...checkpoints);
  if (latest < 0) return { version: -1, files: [], columns: [], partitionColumns: [] };

  const files = new Map(); // decoded relative path -> partitionValues
  let metaData = null;
  let start = 0;
  if (!commits.includes(0)) {
    // The log was cleaned up: start from the newest checkpoint (classic, single part).
    const cp = checkpoints.at(-1);
    if (cp === undefined) throw new Error(`${logDir}: no commit 0 and no checkpoint`);
    const state = await readCheckpoint(join(logDir, `${String(cp).padStart(20, '0')}.checkpoint.parquet`));
    for (const a of state.adds) files.set(decodeURIComponent(a.path), partitionMap(a.partitionValues));
    metaData = state.metaData;
    start = cp + 1;
  }
  for (let v = start; v <= latest; v++) {
    if (!commits.includes(v)) {
      if (v === latest && checkpoints.includes(v)) break; // checkpoint newer than any commit
      throw new Error(`${logDir}: commit ${v} is missing`);
    }
    const text = readFileSync(join(logDir, `${String(v).padStart(20, '0')}.json`), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const action = JSON.parse(line);
      if (action.metaData) metaData = action.metaData;
      if (action.add) files.set(decodeURIComponent(action.add.path), action.add.partitionValues ?? {});
      if (action.remove) files.delete(decodeURIComponent(action.remove.path));
    }
  }
  if (!metaData) throw new Error(`${logDir}: no metaData action`);
  const schema = JSON.parse(metaData.schemaString);
  const partitionColumns = metaData.partitionColumns ?? [];
  const columns = schema.fields.map((f) => ({
    name: f.name,
    type: typeof f.type === 'string' ? f.type : JSON.stringify(f.type),
    partition: partitionColumns.includes(f.name),
  }));
  return {
    version: latest,
    files: [...files].map(([p, pv]) => ({
      path: p.startsWith('/') ? p : join(tableDir, p),
      partitionValues: pv,
    })),
    columns,
    partitionColumns,
  };
}

function runReadTable(input) {
  const dir = mkdtempSync(join(tmpdir(), 'nobus-interop-read-'));
  const inputPath = join(dir, 'input.json');
  writeFileSync(inputPath, JSON.stringify(input));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [kReadTable, inputPath], { maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (err) reject(new Error(`read_table.mjs failed: ${stderr.trim() || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

// All rows of the table as objects (DuckDB's JSON rendering: BIGINT/INT/DOUBLE as numbers,
// NULL as null), plus the snapshot they were read from.
export async function readDeltaRows(tableDir) {
  const snap = await deltaSnapshot(tableDir);
  if (snap.files.length === 0) return { snapshot: snap, rows: [] };
  const out = await runReadTable({
    files: snap.files,
    columns: snap.columns.map(({ name, type, partition }) => ({ name, type, partition })),
  });
  return { snapshot: snap, rows: out.json_rows.map((j) => JSON.parse(j)) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node test/interop/delta_rows.mjs TABLE_DIR\n');
    process.exit(2);
  }
  readDeltaRows(localPath(dir)).then(
    ({ snapshot, rows }) => process.stdout.write(`${JSON.stringify({ version: snapshot.version, rows })}\n`),
    (e) => {
      process.stderr.write(`delta_rows: ${e?.message ?? e}\n`);
      process.exit(1);
    });
}
