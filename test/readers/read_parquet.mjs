// Reads Parquet files with three independent readers (DuckDB, parquet-wasm + apache-arrow,
// hyparquet) and prints what each saw as one JSON document, in the canonical value form of
// canonical.mjs, so tests can compare the readers with each other and with the data they wrote.
//
// Usage: node test/readers/read_parquet.mjs [--array] FILE...
//   one FILE: {"duckdb": {rows, schema, stats, row_groups}, "parquet_wasm": {rows},
//              "hyparquet": {rows, stats, row_groups}}
//   several FILEs or --array: a JSON array of those documents, in argument order.
// Any reader error: exit code 1, "<reader>: <file>: <message>" on stderr, nothing on stdout.
import { readFileSync } from 'node:fs';

import { openDuckdb, readWithDuckdb } from './duckdb_reader.mjs';
import { readWithHyparquet } from './hyparquet_reader.mjs';
import { readWithParquetWasm } from './wasm_reader.mjs';

class ReaderError extends Error {
  constructor(reader, file, cause) {
    super(`${reader}: ${file}: ${cause?.message ?? cause}`);
    this.detail = cause?.stack;
  }
}

async function attempt(reader, file, fn) {
  try {
    return await fn();
  } catch (e) {
    throw new ReaderError(reader, file, e);
  }
}

async function readOne(conn, file) {
  const bytes = new Uint8Array(readFileSync(file));
  return {
    duckdb: await attempt('duckdb', file, () => readWithDuckdb(conn, file)),
    parquet_wasm: await attempt('parquet_wasm', file, () => readWithParquetWasm(bytes)),
    hyparquet: await attempt('hyparquet', file, () => readWithHyparquet(bytes)),
  };
}

async function main(argv) {
  const asArray = argv.includes('--array');
  const files = argv.filter((a) => a !== '--array');
  if (files.length === 0) {
    console.error('usage: node test/readers/read_parquet.mjs [--array] FILE...');
    return 2;
  }
  const conn = await openDuckdb();
  const docs = [];
  for (const file of files) docs.push(await readOne(conn, file));
  const out = asArray || files.length > 1 ? docs : docs[0];
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  if (process.env.NOBUS_READER_STACK && e.detail) console.error(e.detail);
  process.exitCode = 1;
}
