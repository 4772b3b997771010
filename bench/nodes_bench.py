"""Scale-out on one machine: 1, 2 and 3 nobusd nodes sharing one table root on a real S3 server
(Ceph RGW, test/objstore/rgw.sh), beside one node with its tables on the local disk (the
baseline), all in one run. Each node gets its own `nobus bench` (one stream of 1 KB JSON records,
its own table: what a load balancer hashing by table gives) for the same time, first as fast as
it goes, then at a fixed rate per node (--rate), where commit latency on the object store can be
compared with the local disk at equal load.

Reports aggregate records/s and the ratio to one node on S3, each node's CPU, the S3 server's CPU
(radosgw + its OSD and monitor), and from the nodes' own metrics the commit time (write Parquet +
put the commit: mean, and p50/p99 as the upper bounds of their histogram buckets) and the time to
table (ack -> the commit holding the rows). The nodes share the machine's 2 cores with the load
generators and RGW, so this shows the cost of the object store and of coordination, not the
capacity of a fleet of machines.

Usage: test/server/run_python.sh bench/nodes_bench.py [--seconds 15] [--nodes 1,2,3] [--rate 10000]
Prints a markdown table; the raw lines go to build/nodes-results/<stamp>.jsonl."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "test" / "server"))
sys.path.insert(0, str(REPO / "test" / "objstore"))
import nobusd_process as nb  # noqa: E402
import rgw_env  # noqa: E402

BUCKET = "nobus-bench"


def histogram_quantiles(text, name, qs=(0.5, 0.99)):
    """Quantiles (bucket upper bounds, ms) of a histogram summed over its label sets."""
    buckets = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = re.search(r'[{,]le="([^"]+)"', line)[1]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets[bound] = buckets.get(bound, 0) + float(line.rsplit(" ", 1)[1])
    total = buckets.get(float("inf"), 0)
    out = []
    for q in qs:
        bound = next((b for b in sorted(buckets) if total and buckets[b] >= q * total), None)
        out.append(None if bound is None else round(bound * 1000, 1))
    return out


def cpu_seconds(pids):
    """User + system CPU seconds of these processes so far (/proc/<pid>/stat)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_config(where, n, seconds, work, rgw_pids, stamp, rate):
    root = f"s3://{BUCKET}/{stamp}-{n}-{rate}" if where == "s3" else None
    nodes = []
    for i in range(n):
        args = ["--no-maintenance"] + (["--table-root", root] if root else [])
        nodes.append(nb.Nobusd(work / f"{where}{n}-{rate}-node{i}", kafka=False, mqtt=False,
                               extra_args=args))
    results = [None] * n

    def bench(i):
        node = nodes[i]
        out = subprocess.run(
            [nb.BIN_DIR / "nobus", "bench", "--server", f"http://{node.grpc_address}",
             "--http", f"http://{node.http_address}", "--streams", "1", "--tables", "1",
             "--table-prefix", f"main.bench.node{i}_", "--create-tables",
             "--duration-s", str(seconds), "--server-pid", str(node.proc.pid),
             "--ttt-wait-s", "0", "--rate", str(rate)], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"nobus bench against node {i}: exit {out.returncode}: {out.stderr}")
        results[i] = json.loads(out.stdout.strip().splitlines()[-1])

    threads = [threading.Thread(target=bench, args=(i,)) for i in range(n)]
    s3_cpu = cpu_seconds(rgw_pids)
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s3_cores = (cpu_seconds(rgw_pids) - s3_cpu) / (time.monotonic() - started)
    time.sleep(2)  # the last commits
    metrics = [node.metrics() for node in nodes]
    for node in nodes:
        node.stop()
        shutil.rmtree(node.data_dir, ignore_errors=True)  # GBs of WAL at full speed
    commit = histogram_quantiles("\n".join(metrics), "nobus_table_commit_seconds")
    ttt = histogram_quantiles("\n".join(metrics), "nobus_table_time_to_table_seconds")
    conflicts = sum(nb.metric_value(m, "nobus_table_commit_conflicts_total") for m in metrics)
    commits = sum(nb.metric_value(m, "nobus_table_commit_seconds_count") for m in metrics)
    commit_sum = sum(nb.metric_value(m, "nobus_table_commit_seconds_sum") for m in metrics)
    return {"tables_on": where, "nodes": n, "rate": rate,
            "commit_mean_ms": round(commit_sum / commits * 1000, 1) if commits else None,
            "s3_server_cores": round(s3_cores, 2) if where == "s3" else None, "records_per_s": sum(r["records_per_s"] for r in results),
            "node_records_per_s": [r["records_per_s"] for r in results],
            "node_cpu_cores": [r.get("server_cpu_cores") for r in results],
            "node_us_per_record": [r.get("server_cpu_us_per_record") for r in results],
            "ack_p99_ms": [r.get("ack_p99_ms") for r in results],
            "commit_p50_ms": commit[0], "commit_p99_ms": commit[1],
            "ttt_p50_ms": ttt[0], "ttt_p99_ms": ttt[1], "commits": commits,
            "conflicts": conflicts}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--nodes", default="1,2,3")
    p.add_argument("--rate", type=int, default=10000,
                   help="records/s per node of the fixed-rate configurations (0: none)")
    a = p.parse_args()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    work = REPO / "build" / "nodes-bench-data" / stamp
    rgw_dir = f"/tmp/nobus-bench-rgw-{os.getpid()}"
    # Each configuration writes a few GB of Parquet: the OSD keeps objects in RAM.
    rgw = rgw_env.start(rgw_dir, BUCKET, memstore_bytes=12 << 30)
    os.environ.update(rgw)
    rgw_pids = [int(p.read_text()) for p in Path(rgw_dir, "run").glob("*.pid")]
    lines = []
    try:
        counts = [int(n) for n in a.nodes.split(",")]
        configs = [("local", 1, 0)] + [("s3", n, 0) for n in counts]
        if a.rate:
            configs += [("local", 1, a.rate)] + [("s3", n, a.rate) for n in (counts[0], counts[-1])]
        for where, n, rate in configs:
            nb.log(f"{n} node(s), tables on {where}, {rate or 'full speed'}, {a.seconds:g} s")
            lines.append(run_config(where, n, a.seconds, work, rgw_pids, stamp, rate))
            nb.log(json.dumps(lines[-1]))
    finally:
        rgw_env.stop(rgw_dir)
    results = REPO / "build" / "nodes-results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{stamp}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    one = next((x["records_per_s"] for x in lines
                if x["tables_on"] == "s3" and x["nodes"] == 1 and not x["rate"]), 0)
    print(f"Run {stamp}, {a.seconds:g} s per configuration, one stream of 1 KB JSON records per "
          "node:\n")
    print("| tables on | nodes | rate per node | records/s (× 1 node on S3) | per node: records/s, "
          "CPU cores, µs/record | S3 server CPU cores | commit mean, p50 / p99 (ms) "
          "| time to table p50 / p99 (ms) | commits | conflicts |")
    print("|---|---:|---|---|---|---:|---|---|---:|---:|")
    for x in lines:
        ratio = (f" ({x['records_per_s'] / one:.2f}×)"
                 if one and x["tables_on"] == "s3" and not x["rate"] else "")
        per = "; ".join(f"{r:,.0f}, {c:.2f}, {u:.1f}" for r, c, u in
                        zip(x["node_records_per_s"], x["node_cpu_cores"], x["node_us_per_record"]))
        rate = f"{x['rate']:,}/s" if x["rate"] else "full speed"
        s3 = "" if x["s3_server_cores"] is None else f"{x['s3_server_cores']:.2f}"
        print(f"| {x['tables_on']} | {x['nodes']} | {rate} | {x['records_per_s']:,.0f}{ratio} | "
              f"{per} | {s3} | {x['commit_mean_ms']}, ≤{x['commit_p50_ms']} / ≤{x['commit_p99_ms']} | "
              f"≤{x['ttt_p50_ms']} / ≤{x['ttt_p99_ms']} | {x['commits']:.0f} | {x['conflicts']:.0f} |")

if __name__ == "__main__":
    main()
