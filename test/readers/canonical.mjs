// The canonical value form shared by every reader in read_parquet.mjs, so that rows and statistics
// read by different libraries compare as plain JSON (and against the form the C++ tests compute):
// int64 and timestamps (microseconds) as decimal strings, decimals as exact strings with the
// scale, dates as YYYY-MM-DD, binary as lower-case hex, floats as numbers except NaN, infinities
// and negative zero (strings), maps as arrays of [key, value] pairs.

export function canonFloat(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return x;
}

// Parses a float as printed by DuckDB ("1.5", "inf", "-inf", "nan", "Infinity").
export function parseFloatText(text) {
  const t = text.trim().toLowerCase();
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === 'infinity' || t === '+inf') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  const v = Number(t);
  if (Number.isNaN(v)) throw new Error(`not a float: ${text}`);
  return v;
}

export function decimalString(unscaled, scale) {
  const v = BigInt(unscaled);
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

// Parses "-12.34" into the unscaled value at `scale` (exact; fails on excess digits).
export function parseDecimalText(text, scale) {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const frac = (m[3] ?? '');
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
    throw new Error(`decimal ${text} has more than ${scale} fractional digits`);
  }
  const digits = (m[2] || '0') + frac.slice(0, scale).padEnd(scale, '0');
  const v = BigInt(digits);
  return m[1] === '-' ? -v : v;
}

export function dateString(days) {
  const d = new Date(Number(days) * 86400000);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new Error(`date out of the YYYY range: ${days} days`);
  const pad = (n, w) => String(n).padStart(w, '0');
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

export function toHex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// Big-endian two's complement bytes (FIXED_LEN_BYTE_ARRAY decimals) to a BigInt.
export function signedBigEndian(bytes) {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  const bits = BigInt(bytes.length * 8);
  return (bytes[0] & 0x80) ? v - (1n << bits) : v;
}

// Converts a timestamp in `unit` (0 s, 1 ms, 2 us, 3 ns) to microseconds, exactly or failing.
export function toMicros(value, unit) {
  const v = BigInt(value);
  if (unit === 2) return v;
  if (unit === 1) return v * 1000n;
  if (unit === 0) return v * 1000000n;
  if (v % 1000n !== 0n) throw new Error(`timestamp ${v} ns is not a whole microsecond`);
  return v / 1000n;
}

