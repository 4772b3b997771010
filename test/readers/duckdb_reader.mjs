// DuckDB (@duckdb/node-api) as an independent Parquet reader: rows through read_parquet(), the
// schema through parquet_schema(), footer statistics through parquet_metadata(), all turned into
// the canonical form of canonical.mjs.
import {
  DuckDBBlobValue, DuckDBDateValue, DuckDBDecimalValue, DuckDBInstance, DuckDBListValue,
  DuckDBMapValue, DuckDBStructValue, DuckDBTimestampTZValue, DuckDBTimestampValue,
} from '@duckdb/node-api';

import {
  canonFloat, dateString, decimalString, parseDecimalText, parseFloatText, toHex,
} from './canonical.mjs';

export async function openDuckdb() {
  const db = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '1',
  });
  return db.connect();
}

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

function canonValue(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'bigint': return v.toString();
    case 'number': return canonFloat(v);
    case 'boolean':
    case 'string': return v;
    default: break;
  }
  if (v instanceof DuckDBDecimalValue) return decimalString(v.value, v.scale);
  if (v instanceof DuckDBDateValue) return dateString(v.days);
  if (v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) {
    return v.micros.toString();
  }
  if (v instanceof DuckDBBlobValue) return toHex(v.bytes);
  if (v instanceof DuckDBListValue) return v.items.map(canonValue);
  if (v instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, canonValue(x)]));
  }
  if (v instanceof DuckDBMapValue) return v.entries.map((e) => [canonValue(e.key), canonValue(e.value)]);
  throw new Error(`unexpected DuckDB value of class ${v?.constructor?.name}`);
}

// One statistic (stats_min_value / stats_max_value text) in canonical form, by the leaf's type.
function canonStat(duckType, text, hex, micros) {
  if (text === null || text === undefined) return null;
  if (duckType === 'BIGINT') return BigInt(text).toString();
  if (['INTEGER', 'SMALLINT', 'TINYINT'].includes(duckType)) return Number(text);
  if (duckType === 'FLOAT') return canonFloat(Math.fround(parseFloatText(text)));
  if (duckType === 'DOUBLE') return canonFloat(parseFloatText(text));
  if (duckType === 'BOOLEAN') return text === 'true';
  if (duckType === 'BLOB') return hex === null ? `unparsable:${text}` : hex.toLowerCase();
  if (duckType.startsWith('TIMESTAMP')) return micros === null ? `unparsable:${text}` : micros;
  const dec = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  if (dec) {
    const scale = Number(dec[2]);
    return decimalString(parseDecimalText(text, scale), scale);
  }
  return text;  // VARCHAR, DATE (already YYYY-MM-DD)
}

async function readSchema(conn, file) {
  const res = await conn.runAndReadAll(
    `SELECT name, type, type_length, repetition_type, num_children, converted_type, scale,
            precision, logical_type, duckdb_type FROM parquet_schema(${file})`);
  return res.getRowObjectsJson().map((r) => Object.fromEntries(
    Object.entries(r).filter(([, v]) => v !== null)
      .map(([k, v]) => [k, /^(type_length|num_children|scale|precision)$/.test(k) ? Number(v) : v])));
}

async function readStats(conn, file, leafTypes) {
  const res = await conn.runAndReadAll(
    `SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, stats_null_count,
       stats_min_value, stats_max_value,
       hex(TRY_CAST(stats_min_value AS BLOB)) AS min_hex, hex(TRY_CAST(stats_max_value AS BLOB)) AS max_hex,
       epoch_us(TRY_CAST(stats_min_value AS TIMESTAMP))::VARCHAR AS min_us,
       epoch_us(TRY_CAST(stats_max_value AS TIMESTAMP))::VARCHAR AS max_us
     FROM parquet_metadata(${file}) ORDER BY row_group_id, column_id`);
  const rowGroups = [];
  const stats = res.getRowObjectsJson().map((r) => {
    const rg = Number(r.row_group_id);
    rowGroups[rg] = Number(r.row_group_num_rows);
    const type = leafTypes[Number(r.column_id)];
    return {
      row_group: rg,
      path: r.path_in_schema.split(', ').join('.'),
      null_count: r.stats_null_count === null ? null : Number(r.stats_null_count),
      min: canonStat(type, r.stats_min_value, r.min_hex, r.min_us),
      max: canonStat(type, r.stats_max_value, r.max_hex, r.max_us),
    };
  });
  return { stats, rowGroups };
}

export async function readWithDuckdb(conn, path) {
  const file = sqlString(path);
  const res = await conn.runAndReadAll(`SELECT * FROM read_parquet(${file})`);
  const names = res.columnNames();
  const rows = res.getRows().map((r) => Object.fromEntries(r.map((v, i) => [names[i], canonValue(v)])));
  const schema = await readSchema(conn, file);
  const leafTypes = schema.slice(1).filter((e) => e.num_children === undefined).map((e) => e.duckdb_type);
  const { stats, rowGroups } = await readStats(conn, file, leafTypes);
  return { rows, schema, stats, row_groups: rowGroups };
}
