// The MQTT load of bench/mqtt_bench.sh: raw TCP sockets in one Node process, packets generated
// once with mqtt-packet (test/node_modules) and patched per message (packet id, record id), and a
// minimal reader of the server's answers (fixed header framing; CONNACK, PUBACK, DISCONNECT).
// MQTT 5.0, QoS 1, every CONNECT with the Zerobus table header. Prints one JSON line.
//
// Usage: node bench/mqtt/load.mjs '<JSON>'
//   common: {"mode": "fleet" | "rate", "address": "127.0.0.1:PORT", "topic": "c.s.t",
//            "server_pid": PID (nobusd or the broker: RSS and CPU from /proc), "clk_tck": 100,
//            "first_id": N (record ids from here, 10 digits)}
//   fleet:  {"connections": 10000, "seconds": 60, "idle_s": 5, "connect_concurrency": 200}
//           every connection publishes one message per second, the connections' sends spread
//           evenly over each second (N messages/s in all); PUBACK latency of every message.
//   rate:   {"seconds": 20, "window": 1000, "warmup_s": 2}
//           one connection, min(window, the CONNACK's Receive Maximum) messages in flight, a new
//           one sent per PUBACK; the rate and latency after the warm-up.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../../test/package.json', import.meta.url));
const mqttPacket = require('mqtt-packet');

const spec = JSON.parse(process.argv[2]);
const [host, port] = [spec.address.slice(0, spec.address.lastIndexOf(':')),
  Number(spec.address.slice(spec.address.lastIndexOf(':') + 1))];
const clkTck = spec.clk_tck ?? 100;
const firstId = spec.first_id ?? 1_000_000_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[load ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

// -- the server process ---------------------------------------------------------------------
function rssKb() {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${spec.server_pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}
function cpuTicks() {
  try {
    const s = readFileSync(`/proc/${spec.server_pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14 and 15)
  } catch { return null; }
}
function cpuWindow() {
  const t0 = cpuTicks(); const w0 = performance.now(); const c0 = process.cpuUsage();
  return () => {
    const wall = (performance.now() - w0) / 1000;
    const c = process.cpuUsage(c0);
    return {
      wall_s: wall,
      server_cpu_pct: t0 == null ? null : ((cpuTicks() - t0) / clkTck / wall) * 100,
      client_cpu_pct: ((c.user + c.system) / 1e6 / wall) * 100,
    };
  };
}

// -- packets ----------------------------------------------------------------------------------
const ROW_FILL = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01';
function connectPacket(clientId) {
  return mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId,
    keepalive: 300, properties: { userProperties: { 'x-databricks-zerobus-table-name': spec.topic } },
  }, { protocolVersion: 5 });
}
// A PUBLISH template: record id 10 digits and packet id patched per message.
const template = mqttPacket.generate({
  cmd: 'publish', topic: spec.topic, qos: 1, messageId: 0x0101, retain: false, dup: false,
  payload: JSON.stringify({ id: 1_000_000_000, tag: `mqtt-bench-${spec.mode}`, payload: ROW_FILL }),
}, { protocolVersion: 5 });
const idOffset = template.indexOf('"id":1000000000') + 5;
let vbiBytes = 1;
while (template[vbiBytes] & 0x80) vbiBytes++;
const midOffset = 1 + vbiBytes + 2 + Buffer.byteLength(spec.topic);
if (idOffset < 5 || template.readUInt16BE(midOffset) !== 0x0101) throw new Error('template offsets');
function publishPacket(recordId, mid) {
  const b = Buffer.from(template);
  b.write(String(recordId), idOffset, 'latin1');
  b.writeUInt16BE(mid, midOffset);
  return b;
}
const DISCONNECT = Buffer.from([0xe0, 0x00]);

// Framing of the server's packets: onPacket(type, buf, bodyOffset, bodyLength).
function reader(onPacket) {
  let pending = null;
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    for (;;) {
      if (buf.length - off < 2) break;
      let len = 0; let mul = 1; let i = off + 1; let done = false;
      for (let k = 0; k < 4 && i < buf.length; k++) {
        const b = buf[i++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80)) { done = true; break; }
      }
      if (!done || buf.length - i < len) break;
      onPacket(buf[off] >> 4, buf, i, len);
      off = i + len;
    }
    pending = off < buf.length ? buf.subarray(off) : null;
  };
}

function percentiles(values, n) {
  const a = Float64Array.from(values.subarray ? values.subarray(0, n) : values).sort();
  const at = (q) => (a.length ? a[Math.min(a.length - 1, Math.floor(q * a.length))] : null);
  return { count: a.length, p50_ms: at(0.5), p99_ms: at(0.99), p999_ms: at(0.999), max_ms: a.length ? a[a.length - 1] : null };
}

// -- one connection ---------------------------------------------------------------------------
class Conn {
  constructor(index, onAck, batchWrites = false) {
    this.index = index;
    this.batchWrites = batchWrites; // the publishes sent while one read is handled: one write
    this.onAck = onAck;
    this.ready = false;
    this.closed = false;
    this.mid = 0;
    this.sentAt = new Map(); // packet id -> performance.now()
    this.disconnect = null;
    this.connack = null;
  }

  open() {
    return new Promise((resolve) => {
      const s = this.socket = net.connect({ host, port });
      s.setNoDelay(true);
      s.on('connect', () => s.write(connectPacket(`bench-${spec.mode}-${this.index}`)));
      const read = reader((type, buf, at, len) => {
        if (type === 2) { // CONNACK
          this.connack = Buffer.from(buf.subarray(at - 2, at + len));
          this.ready = buf[at + 1] === 0;
          resolve(this.ready ? null : `CONNACK 0x${buf[at + 1].toString(16)}`);
        } else if (type === 4) { // PUBACK
          const mid = buf.readUInt16BE(at);
          const reason = len > 2 ? buf[at + 2] : 0;
          const t = this.sentAt.get(mid);
          if (t !== undefined) {
            this.sentAt.delete(mid);
            this.onAck(this, performance.now() - t, reason);
          }
        } else if (type === 14) { // DISCONNECT
          this.disconnect = len > 0 ? buf[at] : 0;
        }
      });
      s.on('data', (chunk) => {
        if (this.batchWrites && !s.writableCorked) {
          s.cork();
          process.nextTick(() => s.uncork());
        }
        read(chunk);
      });
      s.on('error', (e) => { this.error = e.code ?? e.message; resolve(this.error); });
      s.on('close', () => { this.closed = true; this.ready = false; resolve('closed'); });
    });
  }

  publish(recordId) {
    this.mid = this.mid === 0xffff ? 1 : this.mid + 1;
    this.sentAt.set(this.mid, performance.now());
    this.socket.write(publishPacket(recordId, this.mid));
  }

  close() {
    if (!this.closed) this.socket.end(DISCONNECT);
  }
}

function connackProperties(conn) {
  try {
    const p = mqttPacket.parser({ protocolVersion: 5 });
    let out = null;
    p.on('packet', (x) => { out = x; });
    p.parse(conn.connack);
    return out?.properties ?? {};
  } catch { return {}; }
}

// -- fleet: many connections, one message per second each -----------------------------------
async function fleet() {
  const n = spec.connections; const seconds = spec.seconds;
  if (seconds >= 1000 || n > 8_000_000) throw new Error('record ids: seconds < 1000, connections <= 8M');
  const total = n * seconds;
  const latencies = new Float64Array(total);
  let acked = 0; let failed = 0; const failures = {};
  const onAck = (c, ms, reason) => {
    if (reason < 0x80) latencies[acked++] = ms; // 0x10 No matching subscribers (a broker) is a success
    else { failed++; failures[reason] = (failures[reason] ?? 0) + 1; }
  };
  const out = { mode: 'fleet', connections: n, seconds };
  out.rss_before_kb = rssKb();
  // Connect, at most connect_concurrency handshakes at a time.
  const conns = Array.from({ length: n }, (_, i) => new Conn(i, onAck));
  const refusals = {};
  const t0 = performance.now();
  const cpuConnect = cpuWindow();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const c = conns[next++];
      const err = await c.open();
      if (err) refusals[err] = (refusals[err] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: spec.connect_concurrency ?? 200 }, worker));
  out.connect_s = (performance.now() - t0) / 1000;
  out.connect_cpu = cpuConnect();
  out.connected = conns.filter((c) => c.ready).length;
  out.connect_failures = refusals;
  log(`${out.connected} of ${n} connected in ${out.connect_s.toFixed(1)} s`);
  const idle = cpuWindow();
  await sleep((spec.idle_s ?? 5) * 1000);
  out.rss_idle_kb = rssKb();
  out.idle = idle();
  out.open_at_idle = conns.filter((c) => c.ready).length;
  log(`idle: nobusd RSS ${out.rss_idle_kb} kB, CPU ${out.idle.server_cpu_pct?.toFixed(1)} %`);

  // The load: publish p goes to connection p % n at t0 + p / n seconds.
  let sent = 0; let skipped = 0; let rssMax = 0; const rssSamples = [];
  const load = cpuWindow();
  const start = performance.now();
  let lastRss = start;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * n));
      while (sent + skipped < due) {
        const p = sent + skipped;
        const c = conns[p % n];
        if (c.ready) { c.publish(firstId + (p % n) * 1000 + Math.floor(p / n)); sent++; } else skipped++;
      }
      if (now - lastRss >= 1000) {
        lastRss = now;
        const r = rssKb();
        if (r) { rssSamples.push(r); rssMax = Math.max(rssMax, r); }
      }
      if (sent + skipped >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  out.load = load();
  out.rss_load_max_kb = rssMax;
  out.rss_load_end_kb = rssKb();
  log(`load: ${sent} sent in ${out.load.wall_s.toFixed(1)} s, nobusd CPU ${out.load.server_cpu_pct?.toFixed(1)} %`);
  // The last acks.
  const drainUntil = performance.now() + 15000;
  while (acked + failed < sent && performance.now() < drainUntil) await sleep(50);
  out.sent = sent;
  out.skipped_closed = skipped;
  out.acked = acked;
  out.failed = failed;
  out.failures = failures;
  out.unacked = sent - acked - failed;
  out.server_disconnects = {};
  for (const c of conns) {
    if (c.disconnect != null) out.server_disconnects[c.disconnect] = (out.server_disconnects[c.disconnect] ?? 0) + 1;
  }
  out.open_at_end = conns.filter((c) => c.ready).length;
  out.latency = percentiles(latencies, acked);
  out.messages_per_s = sent / out.load.wall_s;
  for (const c of conns) c.close();
  await sleep(500);
  return out;
}

// -- rate: one connection, a window of messages in flight -----------------------------------
async function rate() {
  const seconds = spec.seconds; const warmup = spec.warmup_s ?? 2;
  const lat = [];
  let acked = 0; let failed = 0; let steadyAcks = 0; let sent = 0;
  let measuring = false; let stop = false;
  const failures = {};
  const c = new Conn(0, (conn, ms, reason) => {
    if (reason < 0x80) acked++; else { failed++; failures[reason] = (failures[reason] ?? 0) + 1; }
    if (measuring) { steadyAcks++; lat.push(ms); }
    if (!stop && conn.ready) { conn.publish(firstId + sent); sent++; }
  }, true);
  const err = await c.open();
  if (err) return { mode: 'rate', error: err };
  const props = connackProperties(c);
  const window = Math.min(spec.window ?? 1000, props.receiveMaximum ?? 65535);
  const out = { mode: 'rate', window, receive_maximum: props.receiveMaximum ?? null, seconds, warmup_s: warmup };
  for (let i = 0; i < window; i++) { c.publish(firstId + sent); sent++; }
  await sleep(warmup * 1000);
  measuring = true;
  const w = cpuWindow();
  await sleep((seconds - warmup) * 1000);
  measuring = false;
  out.steady = w();
  stop = true;
  const drainUntil = performance.now() + 15000;
  while (acked + failed < sent && !c.closed && performance.now() < drainUntil) await sleep(20);
  out.sent = sent; out.acked = acked; out.failed = failed; out.failures = failures;
  out.unacked = sent - acked - failed;
  out.server_disconnect = c.disconnect;
  out.closed_by_server = c.closed;
  out.messages_per_s = steadyAcks / out.steady.wall_s;
  out.latency = percentiles(Float64Array.from(lat), lat.length);
  out.rss_kb = rssKb();
  c.close();
  await sleep(200);
  return out;
}

const result = spec.mode === 'fleet' ? await fleet() : await rate();
result.message_bytes = template.length;
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
