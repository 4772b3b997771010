// A small fake of nobusd, used only to check the interop harness itself (official_sdk_test.mjs)
// while the real server is not available. It is NOT a reference implementation: one Delta commit
// per request, no WAL, no batching, no recovery. What it does follow is the wire behaviour the
// official SDK expects (SDK_NOTES.md): gRPC over h2c with response headers sent at once,
// create_stream validation and status codes, cumulative acks, close_stream_signal + UNAVAILABLE.
//
// Usage: node test/interop/fake_nobusd.mjs [--grpc-port N] [--http-port N] [--root DIR]
//                                          [--prefix interop.sdk.t_] [--fault NAME]
// Prints "READY grpc=127.0.0.1:N http=127.0.0.1:M root=DIR" once listening.
// Tokens: "interop-token" may write tables whose name starts with the prefix; "readonly-token"
// is valid but may write nothing; anything else is unknown.
//
// --fault makes the fake misbehave on purpose, to check that the harness notices (see kFaults).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const opts = {
  grpcPort: Number(args['grpc-port'] ?? 0),
  httpPort: Number(args['http-port'] ?? 0),
  root: args.root ?? null,
  prefix: args.prefix ?? 'interop.sdk.t_',
  closeSignalSeconds: Number(args['close-signal-seconds'] ?? 5),
  fault: args.fault ?? null,
};
// Deliberate bugs; the comment says what official_sdk_test.mjs should report.
const kFaults = {
  'dup-after-signal': 'commit but never ack records received after close_stream_signal -> ' +
    'the SDK resends them: duplicates, still PASS (at-least-once)',
  'drop-after-signal': 'ack records received after close_stream_signal without committing ' +
    'them -> FAIL server_close (missing rows)',
  'retriable-bad-record': 'a bad record ends the call with UNAVAILABLE -> FAIL invalid_argument_record',
  'vague-message': 'INVALID_ARGUMENT messages do not name the column -> FAIL invalid_argument_*',
  'partial-batch': 'commit the valid records of a batch before failing it -> FAIL invalid_argument_record',
  'not-found-as-denied': 'unknown table -> PERMISSION_DENIED -> FAIL not_found',
  'lose-last': 'never commit the last request of a call (still acked) -> FAIL json_*, proto_*, ...',
};
if (opts.fault && !kFaults[opts.fault]) {
  process.stderr.write(`unknown fault ${opts.fault}; one of ${Object.keys(kFaults).join(', ')}\n`);
  process.exit(2);
}
// Without --root the tables go to a temporary directory, removed on SIGTERM/SIGINT.
if (!opts.root) {
  opts.root = mkdtempSync(join(tmpdir(), 'fake-nobusd-'));
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      rmSync(opts.root, { recursive: true, force: true });
      process.exit(0);
    });
  }
}
const kTokens = { 'interop-token': { writePrefix: opts.prefix }, 'readonly-token': { writePrefix: null } };

// gRPC status codes used here.
const Code = { OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, PERMISSION_DENIED: 7, UNAVAILABLE: 14,
  UNAUTHENTICATED: 16 };

// ---------------------------------------------------------------------------------------------
// Protocol messages (hand-written from ../shared/specs/zerobus-wire.md)
// ---------------------------------------------------------------------------------------------

const root = protobuf.Root.fromJSON(require('protobufjs/google/protobuf/descriptor.json'));
protobuf.parse(`
syntax = "proto2";
package databricks.zerobus;
message Duration { optional int64 seconds = 1; optional int32 nanos = 2; }
enum RecordType { RECORD_TYPE_UNSPECIFIED = 0; PROTO = 1; JSON = 2; }
message JsonRecordBatch { repeated string records = 1; }
message ProtoEncodedRecordBatch { repeated bytes records = 1; }
message CreateIngestStreamRequest { optional string table_name = 1; optional string stream_id = 2;
  optional bytes descriptor_proto = 3; optional RecordType record_type = 4; }
message CreateIngestStreamResponse { optional string stream_id = 1; optional int64 last_offset_id = 2; }
message IngestRecordRequest { optional int64 offset_id = 1;
  oneof record { bytes proto_encoded_record = 2; string json_record = 3; } }
message IngestRecordBatchRequest { optional int64 offset_id = 1;
  oneof batch { ProtoEncodedRecordBatch proto_encoded_batch = 2; JsonRecordBatch json_batch = 3; } }
message EphemeralStreamRequest { oneof payload { CreateIngestStreamRequest create_stream = 1;
  IngestRecordRequest ingest_record = 2; IngestRecordBatchRequest ingest_record_batch = 3; } }
message IngestRecordResponse { optional int64 durability_ack_up_to_offset = 1; }
message CloseStreamSignal { optional Duration duration = 1; }
message EphemeralStreamResponse { oneof payload { CreateIngestStreamResponse create_stream_response = 1;
  IngestRecordResponse ingest_record_response = 2; CloseStreamSignal close_stream_signal = 3; } }
`, root, { keepCase: true });
const Req = root.lookupType('databricks.zerobus.EphemeralStreamRequest');
const Resp = root.lookupType('databricks.zerobus.EphemeralStreamResponse');
const DescriptorProto = root.lookupType('google.protobuf.DescriptorProto');

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

// SQL type (from UC type_name) -> Delta type, DuckDB type, accepted protobuf field types.
const kTypes = {
  LONG: { delta: 'long', duck: 'BIGINT', proto: [3, 18, 16] },
  INT: { delta: 'integer', duck: 'INTEGER', proto: [5, 17, 15] },
  STRING: { delta: 'string', duck: 'VARCHAR', proto: [9] },
  DOUBLE: { delta: 'double', duck: 'DOUBLE', proto: [1] },
  BOOLEAN: { delta: 'boolean', duck: 'BOOLEAN', proto: [8] },
};
const tables = new Map(); // full name -> {name, dir, columns, version, chain}
const duck = await (await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false', autoload_known_extensions: 'false',
})).connect();

function writeCommit(table, actions) {
  const v = table.version + 1;
  const log = join(table.dir, '_delta_log');
  const tmp = join(log, `.${v}.${randomUUID()}.tmp`);
  writeFileSync(tmp, `${actions.map((a) => JSON.stringify(a)).join('\n')}\n`);
  const dst = join(log, `${String(v).padStart(20, '0')}.json`);
  if (existsSync(dst)) throw new Error(`commit ${v} exists`);
  renameSync(tmp, dst);
  table.version = v;
}

function createTable(body) {
  const { catalog_name: c, schema_name: s, name: t, columns } = body ?? {};
  if (![c, s, t].every((x) => typeof x === 'string' && /^[A-Za-z0-9_]+$/.test(x))) {
    return [400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad table name' }];
  }
  const full = `${c}.${s}.${t}`;
  if (tables.has(full)) return [409, { error_code: 'TABLE_ALREADY_EXISTS', message: full }];
  if (!Array.isArray(columns) || !columns.every((col) => kTypes[col.type_name])) {
    return [400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'unsupported columns' }];
  }
  const cols = [...columns].sort((a, b) => a.position - b.position)
    .map((col) => ({ name: col.name, type: col.type_name, nullable: col.nullable !== false }));
  const dir = join(opts.root, c, s, t);
  mkdirSync(join(dir, '_delta_log'), { recursive: true });
  const table = { name: full, dir, columns: cols, version: -1, chain: Promise.resolve() };
  const schemaString = JSON.stringify({ type: 'struct', fields: cols.map((col) => ({
    name: col.name, type: kTypes[col.type].delta, nullable: col.nullable, metadata: {} })) });
  writeCommit(table, [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    { metaData: { id: randomUUID(), format: { provider: 'parquet', options: {} }, schemaString,
      partitionColumns: [], configuration: {}, createdTime: Date.now() } },
  ]);
  tables.set(full, table);
  return [200, { ...body, full_name: full, storage_location: dir }];
}

const sqlLit = (v, col) => {
  if (v === null || v === undefined) return `CAST(NULL AS ${kTypes[col.type].duck})`;
  if (typeof v === 'string') return `CAST('${v.replaceAll("'", "''")}' AS ${kTypes[col.type].duck})`;
  return `CAST(${String(v)} AS ${kTypes[col.type].duck})`;
};

// Appends rows as one Parquet file + one commit; serialized per table.
function appendRows(table, rows) {
  const run = async () => {
    const file = `part-${randomUUID()}.parquet`;
    const path = join(table.dir, file);
    const values = rows.map((r) => `(${table.columns.map((c) => sqlLit(r[c.name], c)).join(', ')})`);
    const names = table.columns.map((c) => `"${c.name}"`).join(', ');
    await duck.run(`COPY (SELECT * FROM (VALUES ${values.join(', ')}) t(${names}))
                    TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
    writeCommit(table, [{ add: { path: file, partitionValues: {}, size: statSync(path).size,
      modificationTime: Date.now(), dataChange: true } }]);
  };
  table.chain = table.chain.then(run);
  return table.chain;
}

// ---------------------------------------------------------------------------------------------
// Record validation
// ---------------------------------------------------------------------------------------------

class StatusError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const invalid = (m) => new StatusError(Code.INVALID_ARGUMENT,
  opts.fault === 'vague-message' ? 'invalid record' : m);

function checkValue(col, v) {
  if (v === null || v === undefined) {
    if (!col.nullable) throw invalid(`column "${col.name}": NULL in a NOT NULL column`);
    return null;
  }
  const bad = (what) => invalid(`column "${col.name}": expected ${col.type}, got ${what}`);
  switch (col.type) {
    case 'LONG': case 'INT': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(JSON.stringify(v));
      if (col.type === 'INT' && (n < -(2 ** 31) || n >= 2 ** 31)) throw bad(`${n} (out of range)`);
      return n;
    }
    case 'DOUBLE': if (typeof v !== 'number') throw bad(JSON.stringify(v)); return v;
    case 'STRING': if (typeof v !== 'string') throw bad(JSON.stringify(v)); return v;
    case 'BOOLEAN': if (typeof v !== 'boolean') throw bad(JSON.stringify(v)); return v;
    default: throw bad('unsupported type');
  }
}

function checkRow(table, obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw invalid('record is not a JSON object');
  for (const k of Object.keys(obj)) {
    if (!table.columns.some((c) => c.name === k)) throw invalid(`unknown column "${k}"`);
  }
  return Object.fromEntries(table.columns.map((c) => [c.name, checkValue(c, obj[c.name])]));
}

// Validates a DescriptorProto against the table; returns a decoder for records.
function protoDecoder(table, bytes) {
  let desc;
  try {
    desc = DescriptorProto.toObject(DescriptorProto.decode(bytes), { enums: Number });
  } catch (e) {
    throw invalid(`descriptor_proto does not parse: ${e.message}`);
  }
  const fields = desc.field ?? [];
  for (const c of table.columns) {
    const f = fields.find((x) => x.name === c.name);
    if (!f) throw invalid(`descriptor has no field for column "${c.name}"`);
    if (!kTypes[c.type].proto.includes(f.type)) {
      throw invalid(`column "${c.name}": field type ${f.type} does not match ${c.type}`);
    }
  }
  for (const f of fields) {
    if (!table.columns.some((c) => c.name === f.name)) throw invalid(`field "${f.name}" is not a column`);
  }
  const typeNames = { 1: 'double', 3: 'int64', 5: 'int32', 8: 'bool', 9: 'string', 15: 'sfixed32',
    16: 'sfixed64', 17: 'sint32', 18: 'sint64' };
  const type = new protobuf.Type(desc.name || 'Row');
  for (const f of fields) {
    type.add(new protobuf.Field(f.name, f.number, typeNames[f.type],
      f.label === 2 ? 'required' : f.label === 3 ? 'repeated' : 'optional'));
  }
  new protobuf.Root().add(type);
  return (buf) => {
    let msg;
    try {
      msg = type.toObject(type.decode(buf), { longs: Number });
    } catch (e) {
      throw invalid(`record does not decode: ${e.message}`);
    }
    return checkRow(table, msg);
  };
}

// ---------------------------------------------------------------------------------------------
// gRPC (h2c) server
// ---------------------------------------------------------------------------------------------

const openCalls = new Set();

function frame(msg) {
  const body = Resp.encode(Resp.fromObject(msg)).finish();
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  Buffer.from(body).copy(out, 5);
  return out;
}

function handleCall(stream, headers) {
  // Response headers first: the SDK sends create_stream only after it has them.
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  const call = { stream, ended: false, chain: Promise.resolve(), table: null, nextOffset: 0,
    trailers: { 'grpc-status': '0' } };
  openCalls.add(call);
  stream.on('wantTrailers', () => stream.sendTrailers(call.trailers));
  stream.on('close', () => openCalls.delete(call));
  stream.on('error', () => {});
  call.send = (msg) => { if (!call.ended && !stream.destroyed) stream.write(frame(msg)); };
  call.end = (code, message) => {
    if (call.ended || stream.destroyed) return;
    call.ended = true;
    call.trailers = { 'grpc-status': String(code) };
    if (message) call.trailers['grpc-message'] = encodeURIComponent(message);
    stream.end();
  };
  const fail = (e) => {
    if (e instanceof StatusError) call.end(e.code, e.message);
    else call.end(13, `internal: ${e.message}`);
  };

  let buf = Buffer.alloc(0);
  stream.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const msg = Req.toObject(Req.decode(buf.subarray(5, 5 + len)),
        { longs: Number, bytes: Buffer, enums: String, oneofs: true });
      buf = buf.subarray(5 + len);
      call.chain = call.chain.then(() => (call.ended ? null : onRequest(call, headers, msg))).catch(fail);
    }
  });
  // Client half-close: finish what is queued, then end OK.
  stream.on('end', () => { call.chain = call.chain.then(() => call.end(Code.OK)).catch(fail); });
}

async function onRequest(call, headers, msg) {
  if (!call.table) {
    const cs = msg.create_stream;
    if (!cs) throw invalid('the first request must be create_stream');
    const name = cs.table_name ?? '';
    if (name.split('.').length !== 3) throw invalid(`table name "${name}" is not catalog.schema.table`);
    const hdr = headers['x-databricks-zerobus-table-name'];
    if (hdr !== undefined && hdr !== name) throw invalid(`header table "${hdr}" != "${name}"`);
    const auth = /^Bearer (.+)$/.exec(headers.authorization ?? '');
    const grant = auth && kTokens[auth[1]];
    if (!grant) throw new StatusError(Code.UNAUTHENTICATED, 'unknown or missing bearer token');
    if (!grant.writePrefix || !name.startsWith(grant.writePrefix)) {
      throw new StatusError(Code.PERMISSION_DENIED, `token may not write to ${name}`);
    }
    const table = tables.get(name);
    if (!table) {
      throw new StatusError(opts.fault === 'not-found-as-denied' ? Code.PERMISSION_DENIED : Code.NOT_FOUND,
        `table ${name} does not exist`);
    }
    const rt = cs.record_type ?? 'PROTO';
    if (rt === 'JSON') call.decode = (s) => {
      let obj;
      try {
        obj = JSON.parse(s);
      } catch (e) {
        throw invalid(`record is not JSON: ${e.message}`);
      }
      return checkRow(table, obj);
    };
    else if (rt === 'PROTO') {
      if (!cs.descriptor_proto?.length) throw invalid('PROTO stream without descriptor_proto');
      call.decode = protoDecoder(table, cs.descriptor_proto);
    } else throw invalid(`record_type ${rt} is not supported`);
    call.recordType = rt;
    call.table = table;
    call.send({ create_stream_response: { stream_id: randomUUID() } });
    return;
  }
  const single = msg.ingest_record;
  const batch = msg.ingest_record_batch;
  const req = single ?? batch;
  if (!req) throw invalid('create_stream sent twice');
  if (req.offset_id !== call.nextOffset) {
    throw invalid(`offset_id ${req.offset_id}, expected ${call.nextOffset}`);
  }
  let records;
  if (single) records = [single.json_record ?? single.proto_encoded_record];
  else records = batch.json_batch?.records ?? batch.proto_encoded_batch?.records ?? [];
  const isJson = single ? single.json_record !== undefined : batch.json_batch !== undefined;
  if (isJson !== (call.recordType === 'JSON')) throw invalid('record kind does not match record_type');
  let rows;
  try {
    rows = records.map((r) => call.decode(r)); // all-or-nothing: validate all first
  } catch (e) {
    if (opts.fault === 'retriable-bad-record') throw new StatusError(Code.UNAVAILABLE, e.message);
    if (opts.fault === 'partial-batch') {
      const good = [];
      for (const r of records) try { good.push(call.decode(r)); } catch { /* skip */ }
      if (good.length) await appendRows(call.table, good);
    }
    throw e;
  }
  call.nextOffset++;
  if (call.signalled && opts.fault === 'drop-after-signal') rows = [];
  if (opts.fault === 'lose-last') {
    // Commit the previous request's rows only when the next one arrives.
    const held = call.held ?? [];
    call.held = rows;
    rows = held;
  }
  if (rows.length) await appendRows(call.table, rows);
  if (call.signalled && opts.fault === 'dup-after-signal') return;
  call.send({ ingest_record_response: { durability_ack_up_to_offset: req.offset_id } });
}

// close_stream_signal to every open call; once what each has queued is done, end UNAVAILABLE.
function closeAll() {
  const calls = [...openCalls].filter((c) => !c.ended && c.table);
  for (const c of calls) {
    c.send({ close_stream_signal: { duration: { seconds: opts.closeSignalSeconds, nanos: 0 } } });
    c.signalled = true;
    setTimeout(() => {
      c.chain = c.chain.then(() => c.end(Code.UNAVAILABLE, 'server is closing the stream'));
    }, 100);
  }
  return calls.length;
}

const grpcServer = http2.createServer();
grpcServer.on('stream', (stream, headers) => {
  if (headers[':path'] !== '/databricks.zerobus.Zerobus/EphemeralStream') {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
      { endStream: true });
    return;
  }
  handleCall(stream, headers);
});
grpcServer.on('sessionError', () => {});

// ---------------------------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------------------------

const httpServer = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const reply = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    try {
      if (req.method === 'POST' && req.url === '/api/2.1/unity-catalog/tables') {
        return reply(...createTable(body ? JSON.parse(body) : null));
      }
      if (req.method === 'POST' && req.url === '/admin/v1/streams/close-all') {
        return reply(200, { closed_streams: closeAll() });
      }
      return reply(404, { error_code: 'NOT_FOUND', message: `${req.method} ${req.url}` });
    } catch (e) {
      return reply(500, { error_code: 'INTERNAL_ERROR', message: e.message });
    }
  });
});

await new Promise((r) => grpcServer.listen(opts.grpcPort, '127.0.0.1', r));
await new Promise((r) => httpServer.listen(opts.httpPort, '127.0.0.1', r));
process.stdout.write(`READY grpc=127.0.0.1:${grpcServer.address().port} ` +
  `http=127.0.0.1:${httpServer.address().port} root=${opts.root}` +
  `${opts.fault ? ` fault=${opts.fault}` : ''}\n`);
