// Runs the official-SDK interop test (official_sdk_test.mjs) against a real nobusd: starts
// $NOBUS_BIN_DIR/nobusd on loopback port 0 with a fresh data dir and a token config, runs the
// test, then stops the server with SIGTERM and requires a clean exit (0). Used by ctest.
//
// Usage: NOBUS_BIN_DIR=build/bin node test/interop/run_interop.mjs [CASE_REGEX]
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const binDir = process.env.NOBUS_BIN_DIR ?? 'build/bin';
const dir = mkdtempSync(join(tmpdir(), 'nobus-interop-'));
const config = {
  tokens: [
    { token: 'interop-token', tables: ['interop.sdk.*'] },
    { token: 'readonly-token', tables: ['other.none.*'] },
    { token: 'admin-token', admin: true },
  ],
};
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));

function startServer() {
  const child = spawn(join(binDir, 'nobusd'), [
    '--data-dir', join(dir, 'data'), '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0',
    '--flush-interval-ms', '200', '--config', join(dir, 'config.json'),
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /nobusd listening grpc=(\S+) http=(\S+)/.exec(out);
      if (m) resolve({ child, grpc: m[1], http: m[2] });
    });
    child.on('exit', (code) => reject(new Error(`nobusd exited with ${code} before listening`)));
  });
}

function run(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? 128));
  });
}

let status = 1;
try {
  const server = await startServer();
  const exited = new Promise((resolve) => server.child.on('exit', (code) => resolve(code)));
  status = await run(process.execPath, [
    fileURLToPath(new URL('official_sdk_test.mjs', import.meta.url)), ...process.argv.slice(2),
  ], {
    NOBUSD_GRPC: server.grpc, NOBUSD_HTTP: server.http, NOBUSD_TABLE_PREFIX: 'interop.sdk.t_',
    NOBUSD_ADMIN_TOKEN: 'admin-token',
  });
  server.child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) {
    console.error(`run_interop: nobusd exited with ${code} after SIGTERM (expected 0)`);
    status = status || 1;
  }
} catch (e) {
  console.error(`run_interop: ${e.message}`);
} finally {
  // Keep the tables for the reference readers at the end of the ctest run (test/readers).
  const corpus = process.env.NOBUS_READER_CORPUS ?? join(binDir, '..', 'reader-corpus');
  if (existsSync(corpus) && existsSync(join(dir, 'data', 'tables'))) {
    cpSync(join(dir, 'data', 'tables'), join(corpus, `interop-${process.pid}`), { recursive: true });
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
