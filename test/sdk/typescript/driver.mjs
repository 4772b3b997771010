// Driver for the official TypeScript SDK's native core (npm
// @databricks/zerobus-ingest-sdk-linux-x64-gnu, pinned in test/package.json) under the contract
// of test/sdk/README.md. What the module exports and how it behaves: test/interop/SDK_NOTES.md.
// JSON lines on stdout, diagnostics on stderr.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';

const require = createRequire(import.meta.url);
const kPackage = '@databricks/zerobus-ingest-sdk-linux-x64-gnu';
const Z = require(kPackage);
const version = JSON.parse(readFileSync(require.resolve(`${kPackage}/package.json`))).version;

const env = process.env;
const prefix = env.NOBUS_TABLE_PREFIX;
const only = env.NOBUS_CASES ? new Set(env.NOBUS_CASES.split(',')) : null;
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// The Reading message of the contract, as the SDK's docs describe it: a protobufjs type whose
// DescriptorProto (protobufjs/ext/descriptor, base64) goes into the stream's table properties,
// records encoded by protobufjs.
const root = protobuf.loadSync(fileURLToPath(new URL('../reading.proto', import.meta.url))).resolveAll();
const Reading = root.lookupType('Reading');
const descriptorBase64 = Buffer.from(
  descriptorExt.DescriptorProto.encode(Reading.toDescriptor('proto2')).finish()).toString('base64');

const row = (id) => ({ id, device: `dev-${id % 10}`, temp: id / 4, ok: id % 2 === 0,
                       ts: 1767225600000000 + id * 1000 });
const jsonRecord = (id) => JSON.stringify(row(id));
const protoRecord = (id) => Buffer.from(Reading.encode(Reading.fromObject(row(id))).finish());
const range = (from, n) => Array.from({ length: n }, (_, i) => from + i);

const kBackoffMs = 500;
const kOptions = { recovery: true, recoveryTimeoutMs: 15000, recoveryBackoffMs: kBackoffMs,
                   recoveryRetries: 4, flushTimeoutMs: 60000, serverLackOfAckTimeoutMs: 30000 };
// The default flow: https:// endpoint and workspace URL, the service principal's client id and
// secret (the SDK fetches OAuth tokens from the workspace URL itself).
const sdk = new Z.ZerobusSdk(env.NOBUS_ENDPOINT, env.NOBUS_WORKSPACE_URL);
// The token_refresh case's nobusd issues 3-second tokens.
const shortSdk = new Z.ZerobusSdk(env.NOBUS_SHORT_TTL_ENDPOINT, env.NOBUS_SHORT_TTL_WORKSPACE_URL);

function open(table, json = true, via = sdk) {
  const props = { tableName: table };
  if (!json) props.descriptorProto = descriptorBase64;
  return via.createStream(props, env.NOBUS_CLIENT_ID, env.NOBUS_CLIENT_SECRET, {
    ...kOptions, recordType: json ? Z.RecordType.Json : Z.RecordType.Proto,
  });
}

async function control(what) {
  const res = await fetch(`${env.NOBUS_CONTROL}/${what}`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`control ${what}: ${res.status} ${await res.text()}`);
}

// Single records (ingestRecordOffset) then waitForOffset on the last offset.
async function ingestEach(stream, ids, encode) {
  let last = null;
  for (const id of ids) last = await stream.ingestRecordOffset(encode(id));
  await stream.waitForOffset(last);
}

// Batches (ingestRecordsOffset), one offset per batch.
async function ingestBatches(stream, ids, encode, size) {
  let last = null;
  for (let i = 0; i < ids.length; i += size) {
    last = await stream.ingestRecordsOffset(ids.slice(i, i + size).map(encode));
  }
  await stream.waitForOffset(last);
}

const dataCases = {
  json_single: async (t) => { const ids = range(0, 200); const s = await open(t);
    await ingestEach(s, ids, jsonRecord); await s.close(); return ids; },
  json_batch: async (t) => { const ids = range(1000, 500); const s = await open(t);
    await ingestBatches(s, ids, jsonRecord, 100); await s.close(); return ids; },
  proto_single: async (t) => { const ids = range(2000, 200); const s = await open(t, false);
    await ingestEach(s, ids, protoRecord); await s.close(); return ids; },
  proto_batch: async (t) => { const ids = range(3000, 500); const s = await open(t, false);
    await ingestBatches(s, ids, protoRecord, 100); await s.close(); return ids; },
  flush_close: async (t) => {
    const ids = range(4000, 200); const s = await open(t);
    for (const id of ids.slice(0, 100)) await s.ingestRecordOffset(jsonRecord(id));
    await s.flush();
    for (const id of ids.slice(100)) await s.ingestRecordOffset(jsonRecord(id));
    await s.close();
    return ids;
  },
  close_signal: async (t) => around(t, 5000, 'close-all'),
  restart: async (t) => around(t, 6000, 'restart'),
  // 300 records over ~8 s on one stream whose tokens last 3 s: nobusd closes the stream as each
  // token expires; the SDK must reconnect with a fresh token and resend what was not acked.
  token_refresh: async (t) => {
    const ids = range(7000, 300); const s = await open(t, true, shortSdk);
    for (const id of ids) {
      await s.ingestRecordOffset(jsonRecord(id));
      await new Promise((r) => setTimeout(r, 8000 / ids.length));
    }
    await s.flush();
    await s.close();
    return ids;
  },
};

// 100 records, flush, the control action, 200 more, flush, close: the SDK recovers by itself.
async function around(table, from, action) {
  const ids = range(from, 300);
  const s = await open(table);
  for (const id of ids.slice(0, 100)) await s.ingestRecordOffset(jsonRecord(id));
  await s.flush();
  await control(action);
  for (const id of ids.slice(100)) await s.ingestRecordOffset(jsonRecord(id));
  await s.flush();
  await s.close();
  return ids;
}

// The native core throws plain Errors with no retryable flag (SDK_NOTES.md "Errors as JS sees
// them"), so non-retriable is read from its behaviour: a retriable code would take at least four
// backoffs (recoveryRetries) before the error reaches us.
async function expectFailure(fn) {
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    const ms = Date.now() - t0;
    return { ok: true, error_class: `Error(code=${e.code}; no retryable flag, failed in ${ms} ms)`,
             non_retriable: ms < 2 * kBackoffMs, message: e.message };
  }
  return { ok: false, detail: 'no error' };
}

const errorCases = {
  bad_record: (t) => expectFailure(async () => {
    const s = await open(t);
    try {
      await s.ingestRecordOffset(JSON.stringify({ id: 'not-a-number' }));
      await s.flush();
    } finally {
      await s.close().catch(() => {});
    }
  }),
  unknown_table: () => expectFailure(() => open(`${prefix}no_such_table`)),
};

emit({ sdk: 'typescript', package: kPackage, version, registry: 'npm', transport: 'TLS (h2)',
       auth: 'OAuth client credentials',
       notes: 'Only the native core is on npm at 1.x (the JS wrapper is stuck at 0.1.1); the driver ' +
              'loads the .node module directly. It exposes no retryable flag: non-retriable is ' +
              'judged by failing within two backoffs.' });
for (const [name, fn] of Object.entries(dataCases)) {
  if (only && !only.has(name)) continue;
  try {
    emit({ case: name, table: prefix + name, acked_ids: await fn(prefix + name), ok: true });
  } catch (e) {
    emit({ case: name, ok: false, detail: String(e.message ?? e) });
  }
}
for (const [name, fn] of Object.entries(errorCases)) {
  if (only && !only.has(name)) continue;
  emit({ case: name, ...(await fn(prefix + name)) });
}
process.exit(0);
