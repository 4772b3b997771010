// hyparquet (pure JS) as an independent Parquet reader. hyparquet turns decimals into floats and
// maps into JS objects (losing precision, key types and key order), so it reads from a copy of
// the footer with the DECIMAL and MAP annotations removed: decimals then arrive as their unscaled
// integers and maps as their repeated key_value groups; the original footer says how to
// canonicalize them. Statistics come from the raw Thrift footer, decoded by physical and logical
// type here.
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';

import {
  canonFloat, dateString, decimalString, signedBigEndian, toHex, toMicros,
} from './canonical.mjs';

const kUnits = { MILLIS: 1, MICROS: 2, NANOS: 3 };
const utf8 = new TextDecoder('utf-8', { fatal: true });

const isDecimal = (e) => e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL';
const isMap = (e) => e.converted_type === 'MAP' || e.logical_type?.type === 'MAP';
const isList = (e) => e.converted_type === 'LIST' || e.logical_type?.type === 'LIST';
const isString = (e) => e.converted_type === 'UTF8' || e.logical_type?.type === 'STRING';
const isDate = (e) => e.converted_type === 'DATE' || e.logical_type?.type === 'DATE';

function timestampUnit(e) {
  if (e.logical_type?.type === 'TIMESTAMP') return kUnits[e.logical_type.unit];
  if (e.converted_type === 'TIMESTAMP_MICROS') return 2;
  if (e.converted_type === 'TIMESTAMP_MILLIS') return 1;
  return undefined;
}

// A leaf value as hyparquet returns it from the stripped footer.
function canonLeaf(e, v) {
  if (isDecimal(e)) {
    const unscaled = v instanceof Uint8Array ? signedBigEndian(v) : BigInt(v);
    return decimalString(unscaled, e.scale ?? 0);
  }
  const unit = timestampUnit(e);
  if (unit !== undefined) return toMicros(v, unit).toString();
  if (isDate(e)) return dateString(v);
  switch (e.type) {
    case 'INT96': return toMicros(v, 3).toString();  // hyparquet gives nanoseconds
    case 'INT64': return BigInt(v).toString();
    case 'FLOAT':
    case 'DOUBLE': return canonFloat(v);
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY': return isString(e) ? v : toHex(v);
    default: return v;  // BOOLEAN, INT32
  }
}

function canonNode(node, v) {
  if (v === null || v === undefined) return null;
  const e = node.element;
  if (!node.children.length) return canonLeaf(e, v);
  if (isList(e)) {
    const repeated = node.children[0];
    const item = repeated.children.length === 1 ? repeated.children[0] : repeated;
    return v.map((x) => canonNode(item, x));
  }
  if (isMap(e)) {
    const kv = node.children[0];
    const [key, value] = kv.children;
    return v[kv.element.name].map((p) => [canonNode(key, p.key), canonNode(value, p.value)]);
  }
  return Object.fromEntries(node.children.map((c) => [c.element.name, canonNode(c, v[c.element.name])]));
}

function statValue(e, bytes) {
  if (bytes === undefined) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (e.type) {
    case 'BOOLEAN': return bytes[0] !== 0;
    case 'INT32': return canonLeaf(e, view.getInt32(0, true));
    case 'INT64': return canonLeaf(e, view.getBigInt64(0, true));
    case 'FLOAT': return canonFloat(view.getFloat32(0, true));
    case 'DOUBLE': return canonFloat(view.getFloat64(0, true));
    case 'BYTE_ARRAY': return isString(e) ? utf8.decode(bytes) : toHex(bytes);
    default: return canonLeaf(e, bytes);  // FIXED_LEN_BYTE_ARRAY decimals
  }
}

function rawFooter(buffer) {
  const view = new DataView(buffer);
  const length = view.getUint32(buffer.byteLength - 8, true);
  return deserializeTCompactProtocol({
    view: new DataView(buffer, buffer.byteLength - 8 - length, length), offset: 0,
  });
}

function readStats(buffer, metadata) {
  const leaves = metadata.schema.slice(1).filter((e) => !e.num_children);
  const raw = rawFooter(buffer);
  const stats = [];
  (raw.field_4 ?? []).forEach((rg, g) => {
    rg.field_1.forEach((chunk, c) => {
      const s = chunk.field_3?.field_12 ?? {};
      const e = leaves[c];
      stats.push({
        row_group: g,
        path: metadata.row_groups[g].columns[c].meta_data.path_in_schema.join('.'),
        null_count: s.field_3 === undefined ? null : Number(s.field_3),
        min: statValue(e, s.field_6),
        max: statValue(e, s.field_5),
        min_exact: s.field_8 ?? null,
        max_exact: s.field_7 ?? null,
      });
    });
  });
  return stats;
}

export async function readWithHyparquet(bytes) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(buffer);
  const stripped = parquetMetadata(buffer);
  for (const e of stripped.schema) {
    if (isDecimal(e) || isMap(e)) {
      delete e.converted_type;
      delete e.logical_type;
    }
  }
  const identity = (x) => x;
  const rawRows = await parquetReadObjects({
    file: buffer, metadata: stripped, compressors, utf8: false,
    parsers: {
      dateFromDays: identity, timestampFromMilliseconds: identity,
      timestampFromMicroseconds: identity, timestampFromNanoseconds: identity,
    },
  });
  // hyparquet's own decimal and map handling must accept the file too.
  await parquetReadObjects({ file: buffer, metadata, compressors });
  const tree = parquetSchema(metadata);
  const rows = rawRows.map((r) => Object.fromEntries(
    tree.children.map((c) => [c.element.name, canonNode(c, r[c.element.name])])));
  return {
    rows,
    stats: readStats(buffer, metadata),
    row_groups: metadata.row_groups.map((g) => Number(g.num_rows)),
  };
}
