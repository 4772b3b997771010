// The markdown report shared by bench/tables_bench.sh and bench/streams_bench.sh (imported by
// their inline node scripts, which get the arguments finish_runs leaves in nobusd_lib.sh):
//   disk-baseline-line load-before load-after cores stamp build-note run-line...
// report(argv, what, header, row) prints the "Run ..." line, a table with one row per run and
// the raw fdatasync baseline measured in the same run.
export const f = (x, d = 0) =>
  x == null ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function report(argv, what, header, row) {
  const [disk, loadBefore, loadAfter, nproc, stamp, buildNote, ...rest] = argv;
  const runs = rest.map((s) => JSON.parse(s));
  const out = [];
  out.push(`Run ${stamp}: ${nproc} cores, load average ${loadBefore} before, ${loadAfter} after; ` +
    `${runs[0].duration_s.toFixed(0)} s per configuration, ${what}; ${buildNote}.`, '');
  out.push(`| ${header.map((h) => h[0]).join(' | ')} |`, `|${header.map((h) => h[1]).join('|')}|`);
  for (const r of runs) out.push(`| ${row(r).join(' | ')} |`);
  out.push('', '| raw write + fdatasync, bytes per sync | syncs/s | fdatasync p50 / p99 (ms) |',
    '|---:|---:|---|');
  for (const r of JSON.parse(disk).results)
    out.push(`| ${f(r.chunk_bytes)} | ${f(r.syncs_per_s)} | ${f(r.sync_p50_ms, 2)} / ${f(r.sync_p99_ms, 2)} |`);
  console.log(out.join('\n'));
}
