// Interop test: drives the official Zerobus Ingest SDK (TypeScript SDK's native core,
// npm @databricks/zerobus-ingest-sdk-linux-x64-gnu 1.3.0) against a running nobusd and checks
// the rows that land in the Delta tables. See SDK_NOTES.md for what the SDK sends and expects.
//
// Usage (from anywhere; npm install must have been run in test/):
//   NOBUSD_GRPC=127.0.0.1:7443 NOBUSD_HTTP=127.0.0.1:8080 NOBUSD_TABLE_PREFIX=interop.sdk.t_ \
//     node test/interop/official_sdk_test.mjs [CASE_REGEX]
//
// Environment:
//   NOBUSD_GRPC            host:port of the gRPC (h2c, plaintext) listener            (required)
//   NOBUSD_HTTP            host:port of the HTTP API (tables, admin)                   (required)
//   NOBUSD_TABLE_PREFIX    prefix of every table name this run creates. Either
//                          "catalog.schema.tableprefix" (tables are prefix + suffix) or
//                          "catalog.schema" (tables are prefix + "." + suffix).
//                          The server must give NOBUSD_TOKEN write access to tables with
//                          this prefix, and NOBUSD_READONLY_TOKEN none.        (default interop.sdk.t_)
//   NOBUSD_TOKEN           token with write access              (default interop-token)
//   NOBUSD_READONLY_TOKEN  valid token without access to the tables (default readonly-token)
//   NOBUSD_ADMIN_TOKEN     token for POST /admin/v1/streams/close-all (default NOBUSD_TOKEN)
//   NOBUSD_TABLE_TIMEOUT_MS  how long acked rows may take to appear in Delta (default 60000)
//   NOBUSD_CASE_TIMEOUT_MS   per-case limit (default 180000)
//   NOBUS_INTEROP_VERBOSE=1  print more detail
//
// Each case prints "PASS name (secs)" or "FAIL name: reason"; the exit code is 1 if any failed,
// 2 on a usage error.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

import protobuf from 'protobufjs';

import { localPath, readDeltaRows } from './delta_rows.mjs';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

function usage(msg) {
  process.stderr.write(`official_sdk_test: ${msg}\n` +
    'usage: NOBUSD_GRPC=host:port NOBUSD_HTTP=host:port [NOBUSD_TABLE_PREFIX=cat.schema.prefix] ' +
    'node test/interop/official_sdk_test.mjs [CASE_REGEX]\n');
  process.exit(2);
}

const env = process.env;
const config = {
  grpc: env.NOBUSD_GRPC,
  http: env.NOBUSD_HTTP,
  prefix: env.NOBUSD_TABLE_PREFIX ?? 'interop.sdk.t_',
  token: env.NOBUSD_TOKEN ?? 'interop-token',
  readonlyToken: env.NOBUSD_READONLY_TOKEN ?? 'readonly-token',
  adminToken: env.NOBUSD_ADMIN_TOKEN ?? env.NOBUSD_TOKEN ?? 'interop-token',
  tableTimeoutMs: Number(env.NOBUSD_TABLE_TIMEOUT_MS ?? 60000),
  caseTimeoutMs: Number(env.NOBUSD_CASE_TIMEOUT_MS ?? 180000),
  verbose: env.NOBUS_INTEROP_VERBOSE === '1',
  filter: process.argv[2] ? new RegExp(process.argv[2]) : null,
};
if (!config.grpc || !/^[^/]+:\d+$/.test(config.grpc)) usage('NOBUSD_GRPC must be host:port');
if (!config.http || !/^[^/]+:\d+$/.test(config.http)) usage('NOBUSD_HTTP must be host:port');
{
  const dots = config.prefix.split('.').length - 1;
  if (dots === 1) config.prefix += '.';
  else if (dots !== 2) usage('NOBUSD_TABLE_PREFIX must be "catalog.schema" or "catalog.schema.prefix"');
}

// Unique per run so reruns against the same server never collide.
const kRunId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
const tableName = (suffix) => `${config.prefix}${suffix}_${kRunId}`;

let Z;
try {
  Z = require('@databricks/zerobus-ingest-sdk-linux-x64-gnu');
} catch (e) {
  usage(`cannot load @databricks/zerobus-ingest-sdk-linux-x64-gnu (run npm install in test/): ${e.message}`);
}

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

class CaseFailure extends Error {}
function check(cond, msg) {
  if (!cond) throw new CaseFailure(msg);
}
let currentLog = [];
function note(msg) {
  currentLog.push(msg);
  if (config.verbose) process.stdout.write(`    ${msg}\n`);
}
const short = (s, n = 300) => (s.length > n ? `${s.slice(0, n)}...` : s);

// ---------------------------------------------------------------------------------------------
// HTTP API of nobusd (Unity Catalog shaped tables API, admin)
// ---------------------------------------------------------------------------------------------

async function httpJson(method, path, body, token = config.token) {
  const res = await fetch(`http://${config.http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Non-JSON body: keep the text for the error message.
  }
  return { status: res.status, json, text };
}

// Column model used by every case: Databricks SQL type + how it is written in UC, Delta and
// protobuf (the SDK tooling's mapping, see ../shared/specs/zerobus-wire.md).
const kTypes = {
  BIGINT: { typeText: 'bigint', typeName: 'LONG', proto: 'int64', protoType: 3 /* TYPE_INT64 */ },
  INT: { typeText: 'int', typeName: 'INT', proto: 'int32', protoType: 5 /* TYPE_INT32 */ },
  STRING: { typeText: 'string', typeName: 'STRING', proto: 'string', protoType: 9 /* TYPE_STRING */ },
  DOUBLE: { typeText: 'double', typeName: 'DOUBLE', proto: 'double', protoType: 1 /* TYPE_DOUBLE */ },
  BOOLEAN: { typeText: 'boolean', typeName: 'BOOLEAN', proto: 'bool', protoType: 8 /* TYPE_BOOL */ },
};

// The schema of all test tables. Column names are distinctive so that "the error message names
// the column" cannot match by accident.
const kColumns = [
  { name: 'event_id', type: 'BIGINT', nullable: false },
  { name: 'label', type: 'STRING', nullable: true },
  { name: 'score', type: 'DOUBLE', nullable: true },
  { name: 'active', type: 'BOOLEAN', nullable: true },
  { name: 'item_count', type: 'INT', nullable: true },
];

// Creates catalog.schema.table through the HTTP API; returns {name, dir, columns}.
async function createTable(suffix, columns = kColumns) {
  const name = tableName(suffix);
  const [catalog, schema, table] = name.split('.');
  const res = await httpJson('POST', '/api/2.1/unity-catalog/tables', {
    catalog_name: catalog,
    schema_name: schema,
    name: table,
    table_type: 'MANAGED',
    data_source_format: 'DELTA',
    columns: columns.map((c, i) => ({
      name: c.name,
      type_text: kTypes[c.type].typeText,
      type_name: kTypes[c.type].typeName,
      nullable: c.nullable,
      position: i,
    })),
  });
  check(res.status >= 200 && res.status < 300,
    `create table ${name}: HTTP ${res.status} ${short(res.text)}`);
  const location = res.json?.storage_location;
  check(typeof location === 'string' && location.length > 0,
    `create table ${name}: no storage_location in ${short(res.text)}`);
  note(`table ${name} at ${location}`);
  return { name, dir: localPath(location), columns };
}

// ---------------------------------------------------------------------------------------------
// Rows: generation and verification against the Delta table
// ---------------------------------------------------------------------------------------------

// Deterministic test row number i of a case; some optional columns are null (absent).
function makeRow(i, tag) {
  const row = { event_id: i };
  if (i % 7 !== 3) row.label = `${tag}-${i}-é✓`; // non-ASCII on purpose
  if (i % 5 !== 1) row.score = i + 0.25;
  if (i % 6 !== 2) row.active = i % 2 === 0;
  if (i % 4 !== 0) row.item_count = (i * 3) % 100000;
  return row;
}
const makeRows = (from, n, tag) => Array.from({ length: n }, (_, k) => makeRow(from + k, tag));

// A row as a comparable string: values in schema order, absent = null.
const rowKey = (row, columns = kColumns) => JSON.stringify(columns.map((c) => row[c.name] ?? null));

function multiset(keys) {
  const m = new Map();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

// Compares table rows with the expected rows. exact: same multiset. Otherwise (at-least-once):
// every expected row at least once and nothing else; duplicates are counted and reported.
function compareRows(actualRows, expectedRows, { exact }) {
  const actual = multiset(actualRows.map((r) => rowKey(r)));
  const expected = multiset(expectedRows.map((r) => rowKey(r)));
  const missing = [];
  const extra = [];
  let duplicates = 0;
  for (const [k, n] of expected) {
    const got = actual.get(k) ?? 0;
    if (got === 0) missing.push(k);
    else if (got < n && exact) missing.push(k);
    else if (got > n) {
      if (exact) extra.push(k);
      else duplicates += got - n;
    }
  }
  for (const k of actual.keys()) if (!expected.has(k)) extra.push(k);
  return { ok: missing.length === 0 && extra.length === 0, missing, extra, duplicates };
}

// Polls the Delta table until its rows match (acked rows are durable at once but may take a
// few seconds to be committed to the table). Fails with a diff after NOBUSD_TABLE_TIMEOUT_MS.
// settleMs: when rows must also stay absent (rejected requests), read once more after a pause.
async function expectTableRows(table, expectedRows, { exact = true, settleMs = 0 } = {}) {
  const deadline = Date.now() + config.tableTimeoutMs;
  let last = null;
  for (;;) {
    let rows;
    try {
      ({ rows } = await readDeltaRows(table.dir));
      last = compareRows(rows, expectedRows, { exact });
      last.count = rows.length;
    } catch (e) {
      last = { ok: false, error: e.message };
    }
    // A table with extra rows will not get better by waiting (rows are never removed here).
    if (last.ok || (last.extra?.length && exact && last.missing.length === 0)) break;
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  if (!last.ok) {
    const detail = last.error ?? `${last.count} rows, expected ${expectedRows.length}; ` +
      `missing ${last.missing.length} (e.g. ${short(last.missing.slice(0, 3).join(' '))}); ` +
      `unexpected ${last.extra.length} (e.g. ${short(last.extra.slice(0, 3).join(' '))})`;
    throw new CaseFailure(`table ${table.name}: ${detail}`);
  }
  note(`table ${table.name}: ${last.count} rows match` +
    (last.duplicates ? ` (${last.duplicates} duplicates, allowed at-least-once)` : ''));
  if (settleMs > 0) {
    await sleep(settleMs);
    const { rows } = await readDeltaRows(table.dir);
    const again = compareRows(rows, expectedRows, { exact });
    check(again.ok, `table ${table.name}: ${again.extra.length} unexpected rows appeared later ` +
      `(e.g. ${short(again.extra.slice(0, 3).join(' '))}), ${again.missing.length} missing`);
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Protobuf: a hand-built DescriptorProto for the table, and a record encoder
// ---------------------------------------------------------------------------------------------

const descriptorRoot = protobuf.Root.fromJSON(require('protobufjs/google/protobuf/descriptor.json'));
const DescriptorProto = descriptorRoot.lookupType('google.protobuf.DescriptorProto');

// A serialized google.protobuf.DescriptorProto with one field per column (field numbers 1..n,
// proto2 required for NOT NULL, optional otherwise). overrides: {column: protoTypeNumber}.
function descriptorFor(columns, overrides = {}) {
  const msg = {
    name: 'TableRow',
    field: columns.map((c, i) => ({
      name: c.name,
      number: i + 1,
      label: c.nullable ? 1 /* LABEL_OPTIONAL */ : 2 /* LABEL_REQUIRED */,
      type: overrides[c.name] ?? kTypes[c.type].protoType,
    })),
  };
  const err = DescriptorProto.verify(msg);
  if (err) throw new Error(`descriptor: ${err}`);
  return Buffer.from(DescriptorProto.encode(DescriptorProto.fromObject(msg)).finish());
}

// Encoder built independently of the descriptor bytes (protobufjs reflection).
function protoEncoderFor(columns) {
  const type = new protobuf.Type('TableRow');
  columns.forEach((c, i) => type.add(new protobuf.Field(c.name, i + 1, kTypes[c.type].proto,
    c.nullable ? 'optional' : 'required')));
  new protobuf.Root().add(type);
  return (row) => {
    const err = type.verify(row);
    if (err) throw new Error(`record: ${err}`);
    return Buffer.from(type.encode(type.fromObject(row)).finish());
  };
}

// ---------------------------------------------------------------------------------------------
// SDK helpers
// ---------------------------------------------------------------------------------------------

// One SDK object (= one HTTP/2 connection) per stream keeps cases independent.
function newSdk() {
  // Second argument: the Unity Catalog URL, used only for OAuth; unused with a headers provider.
  return new Z.ZerobusSdk(`http://${config.grpc}`, `http://${config.http}`,
    { applicationName: 'nobus-interop' });
}

// Headers provider: the callback must return [[name, value], ...] synchronously (an async
// callback aborts the node process). Both headers are mandatory for the SDK.
const headersFor = (name, token) => ({
  getHeadersCallback: () => [
    ['authorization', `Bearer ${token}`],
    ['x-databricks-zerobus-table-name', name],
  ],
});

// Default options for cases that expect success: generous timeouts, default recovery.
const kOkOptions = { flushTimeoutMs: 120000, serverLackOfAckTimeoutMs: 60000 };

// Options for error cases: a retriable failure would take >= kRetries * kBackoffMs (creation)
// or hit the flush timeout (mid-stream), a non-retriable one fails at once (auth rejections at
// creation get exactly one retry, i.e. one backoff).
const kBackoffMs = 1500;
const kRetries = 4;
const kFastFailMs = 2 * kBackoffMs;
const kErrOptions = {
  recoveryRetries: kRetries, recoveryBackoffMs: kBackoffMs, recoveryTimeoutMs: 10000,
  flushTimeoutMs: 30000, serverLackOfAckTimeoutMs: 30000,
};

async function openStream(table, { json = true, descriptor, token = config.token, options = kOkOptions,
  name = table.name } = {}) {
  const sdk = newSdk();
  const props = { tableName: name };
  if (!json) props.descriptorProto = (descriptor ?? descriptorFor(table.columns)).toString('base64');
  const opts = { ...options, recordType: json ? Z.RecordType.Json : Z.RecordType.Proto };
  const stream = await sdk.createStream(props, '', '', opts, headersFor(name, token));
  return { sdk, stream };
}

// gRPC code names by tonic's Code::description() text, which the SDK puts in its messages.
const kTonicCodes = {
  'The operation completed successfully': 'OK',
  'The operation was cancelled': 'CANCELLED',
  'Unknown error': 'UNKNOWN',
  'Client specified an invalid argument': 'INVALID_ARGUMENT',
  'Deadline expired before operation could complete': 'DEADLINE_EXCEEDED',
  'Some requested entity was not found': 'NOT_FOUND',
  'Some entity that we attempted to create already exists': 'ALREADY_EXISTS',
  'The caller does not have permission to execute the specified operation': 'PERMISSION_DENIED',
  'Some resource has been exhausted': 'RESOURCE_EXHAUSTED',
  "The system is not in a state required for the operation's execution": 'FAILED_PRECONDITION',
  'The operation was aborted': 'ABORTED',
  'Operation was attempted past the valid range': 'OUT_OF_RANGE',
  'Operation is not implemented or not supported': 'UNIMPLEMENTED',
  'Internal error': 'INTERNAL',
  'The service is currently unavailable': 'UNAVAILABLE',
  'Unrecoverable data loss or corruption': 'DATA_LOSS',
  'The request does not have valid authentication credentials': 'UNAUTHENTICATED',
};
// The codes the SDK never retries (rust/sdk/src/errors.rs UNRETRIABLE_STATUS_CODES).
const kNonRetriable = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'UNAUTHENTICATED',
  'PERMISSION_DENIED', 'OUT_OF_RANGE', 'UNIMPLEMENTED']);

function unescapeRust(s) {
  // Rust Debug string escapes: \" \\ \n \t \r \' \u{hex}.
  return s.replace(/\\u\{([0-9a-fA-F]+)\}/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/\\(["\\'ntr0])/g, (_, c) => ({ n: '\n', t: '\t', r: '\r', 0: '\0' }[c] ?? c));
}

// The SDK throws plain Error objects (code "GenericFailure"; no isRetryable property: the
// exported ZerobusError class is never thrown). The gRPC status is only in the message:
//   "... code: '<tonic description>', message: \"<grpc-message>\"..."  (create, stream closed)
//   "... Invalid argument: <grpc-message>."   (INVALID_ARGUMENT on a record: the SDK's own
//                                             non-retryable InvalidArgument variant)
function parseSdkError(err) {
  const text = String(err?.message ?? err);
  const m = /code: '([^']*)', message: "((?:[^"\\]|\\.)*)"/.exec(text);
  if (m) return { code: kTonicCodes[m[1]] ?? `? ${m[1]}`, serverMessage: unescapeRust(m[2]), text };
  const ia = /Invalid argument: ([\s\S]*?)\.?$/.exec(text);
  if (ia) return { code: 'INVALID_ARGUMENT', serverMessage: ia[1], text };
  return { code: null, serverMessage: null, text };
}

// Runs fn, which must reject with gRPC status `code`, quickly (no retry loop), and with a
// server message mentioning every string in `mentions`. Returns the parsed error.
async function expectNonRetriable(what, fn, { code, mentions = [] }) {
  const t0 = Date.now();
  let err = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  const ms = Date.now() - t0;
  check(err, `${what}: succeeded, expected ${code}`);
  const parsed = parseSdkError(err);
  note(`${what}: rejected in ${ms} ms with ${parsed.code}: ${short(parsed.text)}`);
  check(parsed.code === code, `${what}: expected ${code}, got ${parsed.code ?? 'no status'} ` +
    `after ${ms} ms (${short(parsed.text)})`);
  check(kNonRetriable.has(parsed.code), `${what}: ${parsed.code} is retried by the SDK`);
  check(ms < kFastFailMs, `${what}: took ${ms} ms (>= ${kFastFailMs}): the SDK retried, so the ` +
    'server returned a retriable status first');
  for (const s of mentions) {
    check(parsed.serverMessage?.includes(s),
      `${what}: server message ${JSON.stringify(parsed.serverMessage)} does not mention "${s}"`);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

const cases = [];
const defineCase = (name, run) => cases.push({ name, run });

defineCase('json_single', async () => {
  const table = await createTable('json_single');
  const { stream } = await openStream(table);
  const rows = makeRows(0, 60, 'js');
  // Offsets are assigned per ingest call, 0, 1, 2, ..., returned as bigint when queued.
  for (let i = 0; i < 50; i++) {
    // Both input forms: a plain object (the SDK JSON.stringify's it) and a JSON string.
    const off = await stream.ingestRecordOffset(i % 2 ? rows[i] : JSON.stringify(rows[i]));
    check(off === BigInt(i), `ingestRecordOffset #${i} returned ${off}, expected ${i}n`);
  }
  await stream.waitForOffset(49n);
  // The deprecated form resolves only once the server has acked the record.
  for (let i = 50; i < 60; i++) {
    const off = await stream.ingestRecord(rows[i]);
    check(off === BigInt(i), `ingestRecord #${i} returned ${off}`);
  }
  await stream.close();
  await expectTableRows(table, rows);
});

defineCase('json_batch', async () => {
  const table = await createTable('json_batch');
  const { stream } = await openStream(table);
  const sizes = [1, 7, 100, 250, 3];
  let next = 0;
  const expected = [];
  for (let b = 0; b < sizes.length; b++) {
    const rows = makeRows(next, sizes[b], 'jb');
    next += sizes[b];
    expected.push(...rows);
    // Mix objects and strings inside a batch too.
    const off = await stream.ingestRecordsOffset(rows.map((r, k) => (k % 3 ? r : JSON.stringify(r))));
    check(off === BigInt(b), `batch ${b}: offset ${off}, expected ${b}n (one offset per batch)`);
  }
  // An empty batch is not sent at all.
  check(await stream.ingestRecordsOffset([]) === null, 'empty batch did not return null');
  // The deprecated form waits for the ack.
  const rows = makeRows(next, 20, 'jb');
  expected.push(...rows);
  const off = await stream.ingestRecords(rows);
  check(off === BigInt(sizes.length), `ingestRecords returned ${off}`);
  await stream.flush();
  await stream.close();
  await expectTableRows(table, expected);
});

defineCase('proto_single', async () => {
  const table = await createTable('proto_single');
  const encode = protoEncoderFor(table.columns);
  const { stream } = await openStream(table, { json: false });
  const rows = makeRows(0, 50, 'ps');
  let last;
  for (const r of rows) last = await stream.ingestRecordOffset(encode(r));
  check(last === 49n, `last offset ${last}`);
  await stream.waitForOffset(last);
  await stream.close();
  await expectTableRows(table, rows);
});

defineCase('proto_batch', async () => {
  const table = await createTable('proto_batch');
  const encode = protoEncoderFor(table.columns);
  const { stream } = await openStream(table, { json: false });
  const expected = [];
  let next = 0;
  for (const [b, size] of [1, 50, 300, 2].entries()) {
    const rows = makeRows(next, size, 'pb');
    next += size;
    expected.push(...rows);
    const off = await stream.ingestRecordsOffset(rows.map(encode));
    check(off === BigInt(b), `batch ${b}: offset ${off}`);
  }
  // Single records and batches interleave on one stream.
  const single = makeRow(next, 'pb');
  expected.push(single);
  check(await stream.ingestRecordOffset(encode(single)) === 4n, 'single after batches: offset');
  await stream.flush();
  await stream.close();
  await expectTableRows(table, expected);
});

defineCase('flush', async () => {
  // flush() returns once everything queued is acked; the rows then reach the table while the
  // stream stays open (no close needed), and the stream keeps working afterwards.
  const table = await createTable('flush');
  const { stream } = await openStream(table);
  const first = makeRows(0, 40, 'fl');
  let last;
  for (const r of first) last = await stream.ingestRecordOffset(r);
  await stream.flush();
  await stream.waitForOffset(last); // already acked: must resolve at once
  await expectTableRows(table, first);
  await stream.flush(); // nothing pending
  const second = makeRows(40, 40, 'fl');
  await stream.ingestRecordsOffset(second.slice(0, 20));
  for (const r of second.slice(20)) await stream.ingestRecordOffset(r);
  await stream.flush();
  await expectTableRows(table, [...first, ...second]);
  await stream.close();
});

defineCase('close', async () => {
  // close() without flush: it must flush (wait for acks) itself, then end the call
  // (half-close; the SDK cancels the call 0.5 s later if the server has not ended it).
  const table = await createTable('close');
  const { stream } = await openStream(table);
  const rows = makeRows(0, 100, 'cl');
  await stream.ingestRecordsOffset(rows.slice(0, 50));
  for (const r of rows.slice(50)) await stream.ingestRecordOffset(r);
  await stream.close();
  let after = null;
  try {
    await stream.ingestRecordOffset(makeRow(1000, 'cl'));
  } catch (e) {
    after = e;
  }
  check(after && /closed/i.test(after.message), `ingest after close: ${after?.message ?? 'accepted'}`);
  await stream.close(); // second close is a no-op
  // An idle stream (no records) opens and closes cleanly.
  const idle = await openStream(table);
  await idle.stream.close();
  await expectTableRows(table, rows);
});

defineCase('server_close', async () => {
  // POST /admin/v1/streams/close-all: the server sends close_stream_signal to every open
  // stream, then ends them with UNAVAILABLE. The SDK must reconnect (new call, offsets from 0)
  // and resend what was unacked; every record lands at least once.
  const table = await createTable('server_close');
  const { stream } = await openStream(table);
  const expected = [];
  let next = 0;
  const ingest = async (n, batch) => {
    const rows = makeRows(next, n, 'sc');
    next += n;
    expected.push(...rows);
    if (batch) await stream.ingestRecordsOffset(rows);
    else for (const r of rows) await stream.ingestRecordOffset(r);
  };
  // The admin call; `closed_streams` (if the reply has it) counts the streams it closed.
  const closeAll = async (label, { expectOpen }) => {
    const res = await httpJson('POST', '/admin/v1/streams/close-all', {}, config.adminToken);
    check(res.status >= 200 && res.status < 300, `${label}: HTTP ${res.status} ${short(res.text)}`);
    note(`${label}: HTTP ${res.status} ${short(res.text)}`);
    const n = res.json?.closed_streams;
    if (expectOpen && typeof n === 'number') check(n >= 1, `${label}: closed_streams=${n}, our stream was open`);
  };
  await ingest(100, false);
  await stream.flush();
  // Close while records are in flight: start the admin call and keep ingesting (paced, singles
  // and batches) until it has returned and a little longer.
  for (let round = 0; round < 2; round++) {
    let returned = false;
    const closing = closeAll(`close-all #${round}`, { expectOpen: true })
      .finally(() => { returned = true; });
    for (let k = 0; !returned || k < 20; k++) {
      await ingest(5, false);
      await ingest(5, true);
      await sleep(5);
    }
    await closing;
    await ingest(50, false);
    await stream.flush();
    await sleep(500);
  }
  // And once with nothing in flight.
  await closeAll('close-all (idle stream)', { expectOpen: true });
  await sleep(500);
  await ingest(30, true);
  await stream.flush();
  await stream.close();
  await expectTableRows(table, expected, { exact: false });
});

defineCase('invalid_argument_record', async () => {
  // A string in a BIGINT column fails the call with INVALID_ARGUMENT naming the column; the
  // records acked before stay, nothing of the bad request lands.
  const table = await createTable('invalid_record');
  const good = makeRows(0, 5, 'ia');
  {
    const { stream } = await openStream(table, { options: kErrOptions });
    await stream.ingestRecordsOffset(good);
    await stream.flush();
    await stream.ingestRecordOffset({ ...makeRow(5, 'ia'), event_id: 'not-a-number' });
    await expectNonRetriable('flush after a bad record', () => stream.flush(),
      { code: 'INVALID_ARGUMENT', mentions: ['event_id'] });
    await stream.close().catch(() => {}); // releases the failed stream
  }
  // Batch: all-or-nothing. One good record acked first, then a batch with one bad record.
  const { stream } = await openStream(table, { options: kErrOptions });
  const ok = makeRow(100, 'ia');
  await stream.ingestRecordOffset(ok);
  await stream.flush();
  const batch = makeRows(101, 4, 'ia');
  const badBatch = batch.map((r, k) => (k === 2 ? { ...r, item_count: 'seven' } : r));
  await stream.ingestRecordsOffset(badBatch);
  await expectNonRetriable('flush after a bad batch', () => stream.flush(),
    { code: 'INVALID_ARGUMENT', mentions: ['item_count'] });
  await stream.close().catch(() => {});
  await expectTableRows(table, [...good, ok], { settleMs: 3000 });
});

defineCase('invalid_argument_descriptor', async () => {
  // A protobuf descriptor that does not match the table (event_id as string) is refused at
  // stream creation.
  const table = await createTable('invalid_descriptor');
  const descriptor = descriptorFor(table.columns, { event_id: 9 /* TYPE_STRING */ });
  await expectNonRetriable('create_stream with a mismatched descriptor',
    () => openStream(table, { json: false, descriptor, options: kErrOptions }),
    { code: 'INVALID_ARGUMENT', mentions: ['event_id'] });
});

defineCase('not_found', async () => {
  const name = tableName('missing'); // matches the prefix, never created
  await expectNonRetriable('create_stream on an unknown table',
    () => openStream({ name, columns: kColumns }, { options: kErrOptions }),
    { code: 'NOT_FOUND' });
});

defineCase('unauthenticated', async () => {
  const table = await createTable('unauthenticated');
  await expectNonRetriable('create_stream with an unknown token',
    () => openStream(table, { token: `no-such-token-${kRunId}`, options: kErrOptions }),
    { code: 'UNAUTHENTICATED' });
});

defineCase('permission_denied', async () => {
  const table = await createTable('permission_denied');
  await expectNonRetriable('create_stream with a token lacking access',
    () => openStream(table, { token: config.readonlyToken, options: kErrOptions }),
    { code: 'PERMISSION_DENIED' });
  await expectTableRows(table, [], { settleMs: 1000 });
});

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

async function runCase(c) {
  currentLog = [];
  const t0 = Date.now();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CaseFailure(`timed out after ${config.caseTimeoutMs} ms`)),
      config.caseTimeoutMs);
  });
  try {
    await Promise.race([c.run(), timeout]);
    process.stdout.write(`PASS ${c.name} (${((Date.now() - t0) / 1000).toFixed(2)}s)\n`);
    return true;
  } catch (e) {
    const reason = e instanceof CaseFailure ? e.message : `unexpected error: ${e?.stack ?? e}`;
    process.stdout.write(`FAIL ${c.name}: ${reason}\n`);
    if (!config.verbose) for (const l of currentLog) process.stdout.write(`    ${l}\n`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const sdkVersion = require('@databricks/zerobus-ingest-sdk-linux-x64-gnu/package.json').version;
  process.stdout.write(`official SDK ${sdkVersion} interop: grpc=${config.grpc} ` +
    `http=${config.http} tables=${config.prefix}*_${kRunId}\n`);
  const selected = cases.filter((c) => !config.filter || config.filter.test(c.name));
  if (selected.length === 0) usage(`no case matches ${config.filter}`);
  let failed = 0;
  for (const c of selected) if (!(await runCase(c))) failed++;
  process.stdout.write(`${selected.length - failed}/${selected.length} passed\n`);
  // The native module keeps the event loop alive (tokio runtime, open channels): exit explicitly.
  process.exit(failed ? 1 : 0);
}

main();
