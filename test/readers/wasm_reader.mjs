// parquet-wasm (arrow-rs compiled to wasm) + apache-arrow as an independent Parquet reader. Values
// are taken from the Arrow buffers directly where Arrow's JS accessors would round (timestamps
// become float milliseconds, decimals become word arrays).
import { Type, makeVector } from 'apache-arrow';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';

import { canonFloat, dateString, decimalString, toHex, toMicros } from './canonical.mjs';

const vectors = new WeakMap();
function vectorOf(data) {
  let v = vectors.get(data);
  if (!v) {
    v = makeVector(data);
    vectors.set(data, v);
  }
  return v;
}

function decimalAt(data, i) {
  const words = data.type.bitWidth / 32;
  let v = 0n;
  for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(data.values[i * words + w]);
  const bits = BigInt(data.type.bitWidth);
  if (v >> (bits - 1n)) v -= 1n << bits;
  return decimalString(v, data.type.scale);
}

function rangeAt(data, i) {
  return [data.valueOffsets[i], data.valueOffsets[i + 1]];
}

function canonArrow(data, i) {
  if (!data.getValid(i)) return null;
  switch (data.typeId) {
    case Type.Int: {
      const v = data.values[i];
      return typeof v === 'bigint' ? v.toString() : v;
    }
    case Type.Float: return canonFloat(data.values[i]);
    case Type.Bool:
    case Type.Utf8:
    case Type.LargeUtf8: return vectorOf(data).get(i);
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary: return toHex(vectorOf(data).get(i));
    case Type.Date: return dateString(vectorOf(data).get(i) / 86400000);
    case Type.Timestamp: return toMicros(data.values[i], data.type.unit).toString();
    case Type.Decimal: return decimalAt(data, i);
    case Type.Struct: return Object.fromEntries(
      data.type.children.map((f, k) => [f.name, canonArrow(data.children[k], i)]));
    case Type.List: {
      const [begin, end] = rangeAt(data, i);
      const out = [];
      for (let j = begin; j < end; j++) out.push(canonArrow(data.children[0], j));
      return out;
    }
    case Type.Map: {
      const [begin, end] = rangeAt(data, i);
      const [keys, values] = data.children[0].children;
      const out = [];
      for (let j = begin; j < end; j++) out.push([canonArrow(keys, j), canonArrow(values, j)]);
      return out;
    }
    default: throw new Error(`unexpected Arrow type ${data.type}`);
  }
}

export function readWithParquetWasm(bytes) {
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  const rows = [];
  for (const batch of table.batches) {
    const fields = batch.schema.fields;
    const columns = batch.data.children;
    for (let i = 0; i < batch.numRows; i++) {
      rows.push(Object.fromEntries(fields.map((f, k) => [f.name, canonArrow(columns[k], i)])));
    }
  }
  return { rows };
}
