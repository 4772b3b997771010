// A real MQTT client against nobus: MQTT.js (npm `mqtt`, pinned in test/package.json) connects
// once, without auto-reconnect, and publishes batches of QoS 1 messages to one topic; each batch
// is published at once (all in flight) and awaited before the next. It judges nothing: it prints
// one JSON line with what the client saw and test/mqtt/mqttjs_test.py holds the expectations.
//
// Usage: node mqttjs_publish.mjs '<JSON>'   (or the JSON on stdin when no argument is given)
//   {"url": "mqtt://127.0.0.1:PORT", "protocolVersion": 5 | 4, "clientId": "...",
//    "userProperties": {...},            // 5.0 CONNECT User Properties (optional)
//    "username": "...", "password": "...", // optional
//    "topic": "catalog.schema.table", "qos": 1, "timeout_ms": 120000,
//    "batches": [
//      {"kind": "rows", "first": 0, "count": 1000, "tag": "mqttjs-x"},  // ids first..first+count-1
//      {"kind": "raw", "payload": "...", "hex": "...", "properties": {...}}]}  // one message
// A row's payload: {"id":ID,"tag":TAG,"payload":"row-ID-" + 4 x "0123456789abcdef"}.
// Output: {"connected": bool, "connack": {...}, "batches": [{"sent": n, "acked": n,
//          "errors": [{"index": i, "code": c, "message": m, "puback": {...}}],
//          "unanswered": n}],  // publishes without a callback when the connection closed
//          "events": [{"event": "close" | "offline" | "disconnect" | "error", ...}],
//          "connected_at_end": bool, "error": "..."}
import mqtt from 'mqtt';

const spec = JSON.parse(process.argv[2] ?? (await readStdin()));
const timeoutMs = spec.timeout_ms ?? 120000;
const events = [];
const out = { connected: false, connack: null, batches: [], events, connected_at_end: null, error: null };

function readStdin() {
  return new Promise((resolve) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => { s += d; });
    process.stdin.on('end', () => resolve(s));
  });
}

const rowPayload = (id, tag) =>
  JSON.stringify({ id, tag, payload: `row-${id}-${'0123456789abcdef'.repeat(4)}` });

function plain(v) {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function')
      .map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function publish(client, payload, opts) {
  return new Promise((resolve) => {
    client.publish(spec.topic, payload, opts, (err, packet) => resolve({ err, packet }));
  });
}

let client = null;
const deadline = setTimeout(() => {
  out.error = `timed out after ${timeoutMs} ms`;
  finish(3);
}, timeoutMs);

function finish(code) {
  clearTimeout(deadline);
  if (out.connected_at_end === null) out.connected_at_end = Boolean(client?.connected);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(code);
}

try {
  const options = {
    protocolVersion: spec.protocolVersion,
    clientId: spec.clientId,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0, // no auto-reconnect: a dropped connection must show, not be papered over
    connectTimeout: 30000,
  };
  if (spec.userProperties) options.properties = { userProperties: spec.userProperties };
  if (spec.username !== undefined) options.username = spec.username;
  if (spec.password !== undefined) options.password = spec.password;
  client = mqtt.connect(spec.url, options);
  client.on('connect', (connack) => { out.connected = true; out.connack = plain(connack); });
  client.on('close', () => events.push({ event: 'close' }));
  client.on('offline', () => events.push({ event: 'offline' }));
  client.on('disconnect', (p) => events.push({ event: 'disconnect', packet: plain(p) }));
  client.on('error', (e) => events.push({ event: 'error', message: String(e.message ?? e), code: e.code ?? null }));
  await new Promise((resolve) => {
    client.once('connect', resolve);
    client.once('close', resolve);
  });
  if (!out.connected) finish(1);
  const qos = spec.qos ?? 1;
  const closed = new Promise((resolve) => client.once('close', () => resolve('closed')));
  for (const b of spec.batches) {
    const sends = [];
    if (b.kind === 'rows') {
      for (let i = 0; i < b.count; i++) sends.push({ payload: rowPayload(b.first + i, b.tag) });
    } else {
      sends.push({
        payload: b.hex !== undefined ? Buffer.from(b.hex, 'hex') : b.payload,
        properties: b.properties,
      });
    }
    const batch = { sent: sends.length, acked: 0, errors: [], unanswered: sends.length };
    out.batches.push(batch);
    const all = Promise.all(sends.map((s, index) =>
      publish(client, s.payload, s.properties ? { qos, properties: s.properties } : { qos })
        .then(({ err, packet }) => {
          batch.unanswered--;
          if (err) {
            batch.errors.push({ index, code: err.code ?? null, message: String(err.message), puback: plain(packet) });
          } else {
            batch.acked++;
          }
        })));
    // A closed connection answers nothing more (no auto-reconnect): stop there.
    if (await Promise.race([all.then(() => 'done'), closed]) === 'closed') break;
  }
  out.connected_at_end = client.connected;
  if (client.connected) {
    events.push({ event: 'end' }); // the client's own DISCONNECT: what follows is the test's doing
    await client.endAsync();
  } else {
    client.end(true); // closed by the server: drop what is still waiting for an ack
  }
  finish(0);
} catch (e) {
  out.error = String(e.stack ?? e);
  finish(2);
}
