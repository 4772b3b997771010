// Reads the live files of a Delta table with DuckDB, as a reader without Delta support would:
// read_parquet each file, inject the partition columns from the log cast to the schema types,
// then either compare with expected rows (EXCEPT ALL both ways) or print the rows as JSON.
//
// Usage: node test/delta/read_table.mjs INPUT.json
//   INPUT: {"files": [{"path": "/abs/file.parquet", "partitionValues": {"col": "v" | null}}],
//           "columns": [{"name": "id", "type": "long", "partition": false}, ...]   (schema order)
//           "expected": ["/abs/expected.parquet", ...]   (optional)}
//   OUTPUT: {"rows": N, "expected_rows": M, "missing": k, "extra": j, "samples": [...]} with
//           expected, else {"rows": N, "json_rows": ["{...}", ...]} sorted.
// Any error: exit code 1 with the message on stderr.
import { readFileSync } from 'node:fs';

import { DuckDBInstance } from '@duckdb/node-api';

const sql = (s) => `'${String(s).replaceAll("'", "''")}'`;
const ident = (s) => `"${String(s).replaceAll('"', '""')}"`;

const kDuckTypes = {
  string: 'VARCHAR', long: 'BIGINT', integer: 'INTEGER', short: 'SMALLINT', byte: 'TINYINT',
  float: 'FLOAT', double: 'DOUBLE', boolean: 'BOOLEAN', binary: 'BLOB', date: 'DATE',
  timestamp: 'TIMESTAMPTZ', timestamp_ntz: 'TIMESTAMP',
};

function duckType(deltaType) {
  const dec = /^decimal\((\d+),(\d+)\)$/.exec(deltaType);
  if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
  const t = kDuckTypes[deltaType];
  if (!t) throw new Error(`partition column of unsupported type ${deltaType}`);
  return t;
}

function partitionLiteral(value, deltaType) {
  const t = duckType(deltaType);
  if (value === null || value === undefined || (value === '' && deltaType !== 'string')) {
    return `CAST(NULL AS ${t})`;
  }
  if (deltaType === 'binary') return `encode(${sql(value)})`;
  return `CAST(${sql(value)} AS ${t})`;
}

async function rows(conn, query) {
  const reader = await conn.runAndReadAll(query);
  return reader.getRowObjects();
}

async function fileColumns(conn, path) {
  const described = await rows(conn, `DESCRIBE SELECT * FROM read_parquet(${sql(path)})`);
  return new Set(described.map((r) => r.column_name));
}

// One SELECT per live file, columns in schema order, each optionally cast to `casts[name]`.
async function actualQuery(conn, input, casts) {
  const parts = [];
  for (const file of input.files) {
    const present = await fileColumns(conn, file.path);
    const cols = input.columns.map((c) => {
      let expr;
      if (c.partition) expr = partitionLiteral(file.partitionValues?.[c.name], c.type);
      else expr = present.has(c.name) ? ident(c.name) : 'NULL';
      if (casts[c.name]) expr = `CAST(${expr} AS ${casts[c.name]})`;
      return `${expr} AS ${ident(c.name)}`;
    });
    parts.push(`SELECT ${cols.join(', ')} FROM read_parquet(${sql(file.path)})`);
  }
  if (parts.length === 0) throw new Error('the table has no live files');
  return parts.join(' UNION ALL ');
}

async function compare(conn, input) {
  const list = `[${input.expected.map(sql).join(', ')}]`;
  const names = input.columns.map((c) => ident(c.name)).join(', ');
  await conn.run(`CREATE VIEW expected AS SELECT ${names} FROM read_parquet(${list})`);
  const types = await rows(conn, 'DESCRIBE expected');
  const casts = Object.fromEntries(types.map((r) => [r.column_name, r.column_type]));
  await conn.run(`CREATE VIEW actual AS ${await actualQuery(conn, input, casts)}`);
  const count = async (q) => Number((await rows(conn, `SELECT count(*) AS n FROM (${q})`))[0].n);
  const missingQ = 'SELECT * FROM expected EXCEPT ALL SELECT * FROM actual';
  const extraQ = 'SELECT * FROM actual EXCEPT ALL SELECT * FROM expected';
  const samples = await rows(conn, `SELECT to_json(t)::VARCHAR AS j FROM (${missingQ} LIMIT 3) t
                                    UNION ALL SELECT to_json(t)::VARCHAR FROM (${extraQ} LIMIT 3) t`);
  return {
    rows: await count('SELECT * FROM actual'),
    expected_rows: await count('SELECT * FROM expected'),
    missing: await count(missingQ),
    extra: await count(extraQ),
    samples: samples.map((r) => r.j),
  };
}

async function dump(conn, input) {
  const q = await actualQuery(conn, input, {});
  const out = await rows(conn, `SELECT to_json(t)::VARCHAR AS j FROM (${q}) t`);
  const json = out.map((r) => r.j).sort();
  return { rows: json.length, json_rows: json };
}

async function main() {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const db = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '1',
  });
  const conn = await db.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
  } catch {
    // Without ICU DuckDB has no TimeZone setting and already works in UTC.
  }
  const result = input.expected ? await compare(conn, input) : await dump(conn, input);
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => {
  process.stderr.write(`read_table: ${e?.message ?? e}\n`);
  process.exit(1);
});
