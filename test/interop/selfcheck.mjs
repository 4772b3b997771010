// Checks the interop harness itself: runs official_sdk_test.mjs against fake_nobusd.mjs, once
// healthy (every case must pass) and once per deliberate fault (the named cases must fail, or
// pass where the fault is legal behaviour). Takes about a minute.
//
// Usage: node test/interop/selfcheck.mjs
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));

// [fault, case regex, expected exit code of the test]
const kScenarios = [
  [null, '.', 0],
  ['dup-after-signal', '^server_close$', 0],
  ['drop-after-signal', '^server_close$', 1],
  ['retriable-bad-record', '^invalid_argument_record$', 1],
  ['vague-message', '^invalid_argument_(record|descriptor)$', 1],
  ['partial-batch', '^invalid_argument_record$', 1],
  ['not-found-as-denied', '^not_found$', 1],
  ['lose-last', '^(json_single|proto_batch|close)$', 1],
];

function startFake(fault) {
  const child = spawn(process.execPath, [here('fake_nobusd.mjs'), ...(fault ? ['--fault', fault] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY grpc=(\S+) http=(\S+)/.exec(out);
      if (m) resolve({ child, grpc: m[1], http: m[2] });
    });
    child.on('exit', (code) => reject(new Error(`fake exited with ${code}: ${out}`)));
  });
}

function runTest(fake, filter) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [here('official_sdk_test.mjs'), filter], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NOBUSD_GRPC: fake.grpc, NOBUSD_HTTP: fake.http,
        NOBUSD_TABLE_TIMEOUT_MS: '5000' },
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

let bad = 0;
for (const [fault, filter, want] of kScenarios) {
  const fake = await startFake(fault);
  const { code, out } = await runTest(fake, filter);
  fake.child.kill();
  const ok = code === want;
  if (!ok) bad++;
  process.stdout.write(`${ok ? 'ok  ' : 'BAD '} fault=${fault ?? 'none'} cases=${filter} ` +
    `exit=${code} (want ${want})\n`);
  const lines = out.split('\n').filter((l) => /^(PASS|FAIL)|duplicates/.test(l.trim()));
  for (const l of lines) process.stdout.write(`       ${l.trim().slice(0, 220)}\n`);
}
process.stdout.write(bad ? `${bad} scenario(s) wrong\n` : 'harness self-check passed\n');
process.exit(bad ? 1 : 0);
