// One scripted MQTT exchange over raw TCP sockets: packets built with mqtt-packet's generate()
// (any packet, also those real clients never send) or given as hex, and every packet nobus sends
// back parsed with mqtt-packet's parser. It judges nothing: it prints what happened as one JSON
// line and the Python test (test/mqtt/mqtt_packet_test.py) holds the expectations.
//
// Usage: node raw_session.mjs '<JSON>'   (or the JSON on stdin when no argument is given)
//   {"address": "127.0.0.1:PORT",
//    "timeout_ms": 10000,          // the longest any step waits
//    "linger_ms": 300,             // after the last step: how long to watch for more packets
//    "steps": [STEP, ...]}
//   STEP: {"conn": 0,              // which connection (opened at its first step), default 0
//          "version": 5,           // the connection's protocol level, for generate() and the
//                                  // parser (default: the CONNECT's, else 5)
//          "send": PACKET,         // an mqtt-packet packet object, or
//          "hex": "c000",          // raw bytes
//          "limit_bytes": N,       // send only the first N bytes of it
//          "connect_flags": F,     // a CONNECT: overwrite its Connect Flags byte with F (what
//                                  // generate() refuses to build, e.g. an empty client id
//                                  // without Clean Start)
//          "expect": K,            // wait until K more packets came on this connection
//          "expect_close": true}   // wait until this connection is closed by the server
//   In PACKET, {"$hex": "..."} and {"$utf8": "..."} stand for Buffers.
// Output: {"conns": [{"packets": [{...parsed, "step": i}], "closed": bool, "close_step": i,
//          (i: the step that was running, on any connection, when it came)
//          "parse_errors": [...], "socket_errors": [...]}], "steps": [{"waited": "ok" |
//          "closed" | "timeout"}], "error": "..."}
// Buffers in the output: {"$hex": "...", "$utf8": "..." (when valid UTF-8)}.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

const input = process.argv[2] ?? (await readStdin());
const spec = JSON.parse(input);
const [host, port] = splitAddress(spec.address);
const timeoutMs = spec.timeout_ms ?? 10000;
const lingerMs = spec.linger_ms ?? 300;

function readStdin() {
  return new Promise((resolve) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => { s += d; });
    process.stdin.on('end', () => resolve(s));
  });
}

function splitAddress(a) {
  const i = a.lastIndexOf(':');
  return [a.slice(0, i).replace(/^\[|\]$/g, ''), Number(a.slice(i + 1))];
}

function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    if (typeof v.$hex === 'string') return Buffer.from(v.$hex, 'hex');
    if (typeof v.$utf8 === 'string') return Buffer.from(v.$utf8, 'utf8');
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
function plain(v) {
  if (Buffer.isBuffer(v)) {
    const out = { $hex: v.toString('hex') };
    try { out.$utf8 = decoder.decode(v); } catch { /* not UTF-8 */ }
    return out;
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function')
      .map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

class Conn {
  constructor(index, version) {
    this.index = index;
    this.version = version;
    this.packets = [];
    this.closed = false;
    this.closeStep = null;
    this.parseErrors = [];
    this.socketErrors = [];
    this.waiters = new Set();
    this.parser = mqttPacket.parser({ protocolVersion: version === 5 ? 5 : 4 });
    this.parser.on('packet', (p) => {
      const { length, topic, payload, ...rest } = p;
      const out = plain(rest);
      if (topic !== undefined && topic !== null) out.topic = topic;
      if (payload !== undefined && payload !== null) out.payload = plain(payload);
      out.step = currentStep;
      this.packets.push(out);
      this.wake();
    });
    this.parser.on('error', (e) => { this.parseErrors.push(String(e.message ?? e)); this.wake(); });
  }

  open() {
    return new Promise((resolve, reject) => {
      this.socket = net.connect({ host, port }, resolve);
      this.socket.setNoDelay(true);
      this.socket.on('data', (d) => this.parser.parse(d));
      this.socket.on('error', (e) => {
        this.socketErrors.push(`${e.code ?? ''} ${e.message}`.trim());
        reject(e);
      });
      this.socket.on('close', () => {
        if (!this.closed) { this.closed = true; this.closeStep = currentStep; }
        this.wake();
      });
    });
  }

  wake() { for (const w of [...this.waiters]) w(); }

  // Resolves with "ok" once pred() holds, "closed" when the connection closed first, "timeout".
  wait(pred, ms) {
    return new Promise((resolve) => {
      let timer = null;
      const check = () => {
        let r = null;
        if (pred()) r = 'ok';
        else if (this.closed) r = 'closed';
        if (r) { clearTimeout(timer); this.waiters.delete(check); resolve(r); }
      };
      timer = setTimeout(() => { this.waiters.delete(check); resolve(pred() ? 'ok' : 'timeout'); }, ms);
      this.waiters.add(check);
      check();
    });
  }

  write(buf) {
    return new Promise((resolve) => {
      if (this.closed || this.socket.destroyed) { resolve(false); return; }
      this.socket.write(buf, (err) => resolve(!err));
    });
  }
}

const conns = [];
const steps = [];
let currentStep = -1; // packets and closes are labelled with the step running when they came
let fatal = null;
try {
  for (let i = 0; i < spec.steps.length; i++) {
    const st = spec.steps[i];
    const ci = st.conn ?? 0;
    let conn = conns[ci];
    if (!conn) {
      const version = st.version ?? st.send?.protocolVersion ?? 5;
      conn = conns[ci] = new Conn(ci, version);
      await conn.open();
    }
    currentStep = i;
    const before = conn.packets.length;
    let bytes = null;
    if (st.send) bytes = mqttPacket.generate(revive(st.send), { protocolVersion: st.version ?? conn.version });
    else if (st.hex !== undefined) bytes = Buffer.from(st.hex, 'hex');
    if (bytes && st.connect_flags !== undefined) {
      let at = 1;
      while (bytes[at] & 0x80) at++; // Remaining Length
      at += 1 + 2 + bytes.readUInt16BE(at + 1) + 1; // protocol name, level
      bytes[at] = st.connect_flags;
    }
    if (bytes && st.limit_bytes !== undefined) bytes = bytes.subarray(0, st.limit_bytes);
    const result = { conn: ci, sent_bytes: bytes ? bytes.length : 0 };
    if (bytes) result.written = await conn.write(bytes);
    if (st.expect) result.waited = await conn.wait(() => conn.packets.length - before >= st.expect, timeoutMs);
    if (st.expect_close) result.waited_close = await conn.wait(() => conn.closed, timeoutMs);
    steps.push(result);
  }
  // Anything more the server sends, or a close, shortly after the last step.
  await new Promise((r) => setTimeout(r, lingerMs));
} catch (e) {
  fatal = String(e.stack ?? e);
}
const report = conns.map((c) => ({
  packets: c.packets, closed: c.closed, close_step: c.closeStep,
  parse_errors: c.parseErrors, socket_errors: c.socketErrors,
}));
for (const c of conns) c.socket?.destroy();
process.stdout.write(JSON.stringify({
  conns: report,
  steps,
  error: fatal,
}) + '\n');
