#!/usr/bin/env python3
"""Reads every Delta table under the given roots with reference Delta readers and checks them.

Usage: reference_readers.py [--no-spark] [--spark-per-shape] [--expect FILE] [--max-rows N] ROOT...

Every directory under a ROOT (recursively) that holds a `_delta_log/` is a table. For each table:

- log: our own view, from the log files alone (JSON commits parsed here, checkpoints read with
  pyarrow): the latest version and, for every version that can be rebuilt, the live files and the
  sum of their `numRecords`. Also checked: every commit parses; each checkpoint equals the JSON
  replay at its version; `_last_checkpoint` names a checkpoint and its size/numOfAddFiles/
  sizeInBytes are right; every live file exists with the logged size and as many rows as its
  `numRecords`; every file's min/max statistics bound its values and nullCount is exact; a
  timestamp_ntz column has the timestampNtz table feature; no "" partition value.
- duckdb: `read_parquet` of the live files (partition values injected from the log): the rows.
- deltalake (delta-rs): version, live files, rows, `count()`, `history()` (one entry per commit
  file, operation = commitInfo.operation), txn versions, `load_as_version` of older versions (the
  first with data, the one before the latest and the two newest checkpoints), and a
  checkpoint-only copy of the table (the commits up to the latest checkpoint left out).
- spark (one SparkSession for all tables, after the others): the same through
  `spark.read.format("delta")`, `DESCRIBE HISTORY` and `VERSION AS OF`.
- dat-expected: for Delta Acceptance Testing cases (a `delta/` table beside `expected/`), the
  expected rows and version metadata.

The rows of all readers must be equal as multisets, in a canonical JSON form (below). With
--expect FILE ({"<table path>": {"ids": [...], "row": "reading"}}) every listed id must be in the
table (duplicates allowed and counted, ids not listed are failures) and each row must be the
"reading" row of its id (see test/sdk/README.md), for delta-rs and Spark (and DuckDB). With
"unique": true in a table's entry (exactly-once streams) a duplicate id is a failure too.

Output: one line per table and reader on stderr; on stdout a JSON summary {"tables", "failures":
[{"table", "reader", "check", "detail"}], "readers": {package: version}, "timings"}, then the line
"N passed, M failed" (tables). Exit code 1 when anything failed.
"""
import argparse
import collections
import datetime as dt
import decimal
import json
import math
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import traceback
import urllib.parse

# Nothing here may depend on the machine's time zone (Spark's session zone is set to UTC too).
os.environ["TZ"] = "UTC"
time.tzset()

import pyarrow.parquet as pq  # noqa: E402

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
COMMIT_RE = re.compile(r"^(\d{20})\.json$")
CHECKPOINT_RE = re.compile(r"^(\d{20})\.checkpoint\.parquet$")
MULTIPART_RE = re.compile(r"^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$")
V2_CHECKPOINT_RE = re.compile(r"^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$")
READING_TS0 = 1767225600000000  # the "reading" rows: ts = READING_TS0 + id * 1000 microseconds
SAMPLES = 3  # differences shown per check


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def short(value, limit=400):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def error_text(exc):
    """The first lines of an exception (Py4J errors carry a whole Java stack trace)."""
    text = f"{type(exc).__name__}: {exc}"
    lines = [l for l in text.splitlines() if l.strip() and not l.strip().startswith("at ")]
    return short(" | ".join(lines[:3]), 600)


class Failures:
    PER_KIND = 5  # failures kept per (table, reader, kind of check); the rest are counted

    def __init__(self):
        self.items = []
        self.kinds = collections.Counter()

    def add(self, table, reader, check, detail):
        kind = (table, reader, check.split("@")[0].split(" ")[0])
        self.kinds[kind] += 1
        n = self.kinds[kind]
        if n > self.PER_KIND:
            return
        if n == self.PER_KIND:
            check += " (further ones of this kind are only counted)"
        self.items.append({"table": table, "reader": reader, "check": check,
                           "detail": short(detail, 2000)})
        log(f"  FAIL [{reader}] {check}: {short(detail, 600)}")

    def finish(self):
        for (table, reader, kind), n in sorted(self.kinds.items()):
            if n > self.PER_KIND:
                self.items.append({"table": table, "reader": reader, "check": kind,
                                   "detail": f"{n - self.PER_KIND + 1} more failures of this kind"})

    def tables(self):
        return {f["table"] for f in self.items}


# ---------------------------------------------------------------------------------------------
# Delta schema: parsing, conforming raw Parquet values (DuckDB) and partition values to it.

def parse_type(t):
    """A Delta type as a small tree: ("prim", name) | ("decimal", p, s) | ("struct", [(name,
    type, physical name)]) | ("array", type) | ("map", ktype, vtype)."""
    if isinstance(t, str):
        m = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", t)
        if m:
            return ("decimal", int(m.group(1)), int(m.group(2)))
        return ("prim", t)
    kind = t.get("type")
    if kind == "struct":
        fields = []
        for f in t["fields"]:
            meta = f.get("metadata") or {}
            physical = meta.get("delta.columnMapping.physicalName", f["name"])
            fields.append((f["name"], parse_type(f["type"]), physical))
        return ("struct", fields)
    if kind == "array":
        return ("array", parse_type(t["elementType"]))
    if kind == "map":
        return ("map", parse_type(t["keyType"]), parse_type(t["valueType"]))
    return ("prim", json.dumps(t))


def conform(value, typ, column_mapping):
    """A value read from a Parquet file by DuckDB, shaped like the Delta schema says: struct fields
    a file lacks (schema evolution) become null, fields the schema lacks are dropped, physical
    names (column mapping) become logical, and a "timestamp" (an instant) that the file stores
    without the UTC flag (Spark's INT96, isAdjustedToUTC=false) is taken as UTC, as Delta defines
    it. Nothing else is converted: a wrong value or type still shows as a difference."""
    if value is None:
        return None
    kind = typ[0]
    if kind == "struct" and isinstance(value, dict):
        out = {}
        for name, ftype, physical in typ[1]:
            key = physical if column_mapping else name
            out[name] = conform(value.get(key), ftype, column_mapping)
        return out
    if kind == "array" and isinstance(value, list):
        return [conform(v, typ[1], column_mapping) for v in value]
    if kind == "map" and isinstance(value, list):
        return [(conform(k, typ[1], column_mapping), conform(v, typ[2], column_mapping))
                for k, v in value]
    if typ == ("prim", "timestamp") and isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def parse_partition_value(text, typ):
    """A partition value as the log stores it (a string, or null) in the column's type."""
    if text is None:
        return None
    kind = typ[0]
    name = typ[1] if kind == "prim" else kind
    if text == "" and name != "string":
        return None
    if name == "string":
        return text
    if name in ("long", "integer", "short", "byte"):
        return int(text)
    if name == "boolean":
        if text not in ("true", "false"):
            raise ValueError(f"boolean partition value {text!r}")
        return text == "true"
    if name == "double":
        return float(text)
    if name == "float":  # a 32-bit float: "1.1" is 1.1f, as every reader returns it
        return _float32(float(text))
    if name == "date":
        return dt.date.fromisoformat(text)
    if kind == "decimal":
        return decimal.Decimal(text).quantize(decimal.Decimal(1).scaleb(-typ[2]))
    if name in ("timestamp", "timestamp_ntz"):
        # "1970-01-01 00:00:00[.ffffff]" or ISO-8601 "1970-01-01T00:00:00.123456Z".
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if name == "timestamp":
            # Without an offset the value is UTC (spec; DAT multi_partitioned_2 agrees).
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return parsed
    if name == "binary":
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            return text.encode("utf-8")
    raise ValueError(f"partition column of type {name} not handled")


# ---------------------------------------------------------------------------------------------
# Canonical rows: one JSON string per row, keys sorted. int -> number; float -> number (repr:
# exact, keeps -0.0) or "NaN"/"Infinity"/"-Infinity"; Decimal -> exact string with its scale;
# date -> "YYYY-MM-DD"; timestamp (aware) -> "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC; timestamp_ntz
# (naive) -> the same without "Z"; binary -> "0x" + hex; struct -> object; list -> array;
# map -> {"$map": [[k, v], ...]} sorted (maps are unordered; an empty map is []).

def canon(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(UTC)
            suffix = "Z"
        else:
            suffix = ""
        return (f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:"
                f"{v.second:02d}.{v.microsecond:06d}{suffix}")
    if isinstance(v, dt.date):
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "0x" + bytes(v).hex()
    if isinstance(v, dict):
        return {str(k): canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(e, tuple) and len(e) == 2 for e in v):
            pairs = [[canon(k), canon(x)] for k, x in v]
            return {"$map": sorted(pairs, key=lambda p: json.dumps(p, sort_keys=True))}
        return [canon(e) for e in v]
    return {"$unknown": f"{type(v).__name__}:{v!r}"}


def canon_row(row):
    return json.dumps(canon(row), sort_keys=True, separators=(",", ":"), allow_nan=False)


def multiset(rows):
    return collections.Counter(canon_row(r) for r in rows)


def reading_row(i):
    return canon_row({"id": i, "device": f"dev-{i % 10}", "temp": i / 4.0, "ok": i % 2 == 0,
                      "ts": EPOCH + dt.timedelta(microseconds=READING_TS0 + i * 1000)})


# ---------------------------------------------------------------------------------------------
# Our own view of the log.

def map_to_dict(m):
    """A Parquet map from pyarrow (list of pairs) or JSON (dict) as a dict."""
    if m is None:
        return {}
    if isinstance(m, dict):
        return m
    return {k: v for k, v in m}


def num_records(add):
    stats = add.get("stats")
    if stats:
        try:
            n = json.loads(stats).get("numRecords")
            if n is not None:
                return int(n)
        except (ValueError, AttributeError):
            return None
    parsed = add.get("stats_parsed")
    if isinstance(parsed, dict) and parsed.get("numRecords") is not None:
        return int(parsed["numRecords"])
    return None


def file_key(action):
    dv = action.get("deletionVector")
    dv_id = None
    if dv:
        dv_id = f"{dv.get('storageType')}{dv.get('pathOrInlineDv')}@{dv.get('offset')}"
    return (urllib.parse.unquote(action["path"]), dv_id)


class State:
    """The table at one version: protocol, metaData, live files (by decoded path), txns."""

    def __init__(self, other=None):
        self.protocol = dict(other.protocol) if other and other.protocol else None
        self.metadata = other.metadata if other else None
        self.files = dict(other.files) if other else {}
        self.txns = dict(other.txns) if other else {}

    def apply(self, actions):
        removes = [a["remove"] for a in actions if a.get("remove")]
        adds = [a["add"] for a in actions if a.get("add")]
        for a in actions:
            if a.get("protocol"):
                self.protocol = a["protocol"]
            if a.get("metaData"):
                self.metadata = a["metaData"]
            if a.get("txn"):
                self.txns[a["txn"]["appId"]] = a["txn"]["version"]
        for r in removes:
            self.files.pop(file_key(r), None)
        for a in adds:
            a = dict(a)
            a["partitionValues"] = map_to_dict(a.get("partitionValues"))
            self.files[file_key(a)] = a

    def num_records(self):
        """Sum of numRecords over the live files, None when a file has none."""
        total = 0
        for add in self.files.values():
            n = num_records(add)
            if n is None:
                return None
            total += n
        return total

    def schema(self):
        return parse_type(json.loads(self.metadata["schemaString"]))

    def partition_columns(self):
        return list(self.metadata.get("partitionColumns") or [])

    def column_mapping(self):
        conf = map_to_dict(self.metadata.get("configuration"))
        return conf.get("delta.columnMapping.mode", "none") in ("name", "id")


class LogView:
    def __init__(self, path, failures):
        self.path = path
        self.fail = lambda check, detail: failures.add(path, "log", check, detail)
        self.log_dir = os.path.join(path, "_delta_log")
        self.commits = {}          # version -> [action dicts]
        self.checkpoints = {}      # version -> [part file names]
        self.v2_checkpoints = []
        self.last_checkpoint = None
        self.states = {}           # version -> State, for every version we can rebuild
        self.latest = None
        self.notes = []
        self._read()

    def _read(self):
        names = sorted(os.listdir(self.log_dir))
        multipart = collections.defaultdict(dict)
        for name in names:
            if m := COMMIT_RE.match(name):
                self.commits[int(m.group(1))] = None
            elif m := CHECKPOINT_RE.match(name):
                self.checkpoints[int(m.group(1))] = [name]
            elif m := MULTIPART_RE.match(name):
                multipart[(int(m.group(1)), int(m.group(3)))][int(m.group(2))] = name
            elif m := V2_CHECKPOINT_RE.match(name):
                self.v2_checkpoints.append(int(m.group(1)))
        for (v, n), parts in multipart.items():
            if sorted(parts) == list(range(1, n + 1)) and v not in self.checkpoints:
                self.checkpoints[v] = [parts[i] for i in range(1, n + 1)]
        if self.v2_checkpoints:
            self.notes.append(f"V2 checkpoints at {sorted(self.v2_checkpoints)} not read by our view")
        for v in list(self.commits):
            self.commits[v] = self._read_commit(v)
        lc = os.path.join(self.log_dir, "_last_checkpoint")
        if os.path.exists(lc):
            try:
                with open(lc) as f:
                    self.last_checkpoint = json.load(f)
            except ValueError as e:
                self.fail("_last_checkpoint", f"does not parse: {e}")
        versions = set(self.commits) | set(self.checkpoints)
        if not versions:
            self.fail("listing", "_delta_log holds no commit and no checkpoint")
            return
        self.latest = max(versions)
        self._replay()
        self._check_checkpoints()
        self.check_protocol()

    def _read_commit(self, v):
        actions = []
        path = os.path.join(self.log_dir, f"{v:020d}.json")
        with open(path, "rb") as f:
            for n, line in enumerate(f.read().split(b"\n"), 1):
                if not line.strip():
                    continue
                try:
                    action = json.loads(line)
                except ValueError as e:
                    self.fail(f"commit {v}", f"line {n} is not JSON: {e}")
                    continue
                if not isinstance(action, dict) or len(action) != 1:
                    self.fail(f"commit {v}", f"line {n} is not one action: {short(line.decode(errors='replace'))}")
                    continue
                actions.append(action)
        return actions

    def read_checkpoint(self, v):
        """The checkpoint's rows as action dicts ({"add": {...}}, ...)."""
        actions = []
        for name in self.checkpoints[v]:
            for row in pq.read_table(os.path.join(self.log_dir, name)).to_pylist():
                for key, value in row.items():
                    if value is not None:
                        if key == "metaData":
                            value = dict(value, configuration=map_to_dict(value.get("configuration")))
                        actions.append({key: value})
        return actions

    def _replay(self):
        # Start from the oldest point from which every later commit exists: commit 0 (empty
        # state) or a checkpoint.
        starts = ([-1] if 0 in self.commits else []) + sorted(self.checkpoints)
        start = None
        for s in starts:
            if all(v in self.commits for v in range(s + 1, self.latest + 1)):
                start = s
                break
        if start is None:
            missing = [v for v in range(max(starts or [-1]) + 1, self.latest + 1) if v not in self.commits]
            self.fail("replay", f"cannot rebuild version {self.latest}: commits missing {missing[:10]}")
            return
        if start >= 0:
            state = State()
            try:
                state.apply(self.read_checkpoint(start))
            except Exception as e:  # noqa: BLE001
                self.fail(f"checkpoint {start}", f"unreadable: {error_text(e)}")
                return
            self.states[start] = state
        else:
            state = State()
        for v in range(start + 1, self.latest + 1):
            state = State(state)
            state.apply(self.commits[v])
            self.states[v] = state
        first = min(self.states)
        if self.states[first].protocol is None or self.states[first].metadata is None:
            self.fail("replay", f"version {first} has no protocol or no metaData")
            self.states = {}

    def _check_checkpoints(self):
        for v, parts in sorted(self.checkpoints.items()):
            try:
                actions = self.read_checkpoint(v)
            except Exception as e:  # noqa: BLE001
                self.fail(f"checkpoint {v}", f"unreadable by pyarrow: {error_text(e)}")
                continue
            cp = State()
            cp.apply(actions)
            replayed = self.states.get(v)
            if replayed is not None and min(self.states) < v:
                self._compare_states(f"checkpoint {v}", cp, replayed)
            if self.last_checkpoint and self.last_checkpoint.get("version") == v:
                lc = self.last_checkpoint
                if "size" in lc and lc["size"] != len(actions):
                    self.fail("_last_checkpoint", f"size {lc['size']}, checkpoint {v} has {len(actions)} actions")
                adds = sum(1 for a in actions if "add" in a)
                if "numOfAddFiles" in lc and lc["numOfAddFiles"] != adds:
                    self.fail("_last_checkpoint", f"numOfAddFiles {lc['numOfAddFiles']}, checkpoint {v} has {adds}")
                nbytes = sum(os.path.getsize(os.path.join(self.log_dir, p)) for p in parts)
                if "sizeInBytes" in lc and lc["sizeInBytes"] != nbytes:
                    self.fail("_last_checkpoint", f"sizeInBytes {lc['sizeInBytes']}, files have {nbytes}")
                if len(parts) > 1 and lc.get("parts") != len(parts):
                    self.fail("_last_checkpoint", f"parts {lc.get('parts')}, checkpoint {v} has {len(parts)}")
        if self.last_checkpoint is not None:
            v = self.last_checkpoint.get("version")
            if v not in self.checkpoints and v not in self.v2_checkpoints:
                newer = [c for c in self.checkpoints if c > (v or -1)]
                if not newer:  # a stale hint with a newer checkpoint listed is allowed
                    self.fail("_last_checkpoint", f"names version {v}, no such checkpoint "
                              f"(have {sorted(self.checkpoints)})")

    def _compare_states(self, what, cp, replayed):
        if set(cp.files) != set(replayed.files):
            only_cp = sorted(p for p, _ in set(cp.files) - set(replayed.files))
            only_json = sorted(p for p, _ in set(replayed.files) - set(cp.files))
            self.fail(what, f"live files differ from the JSON replay: only in checkpoint "
                      f"{only_cp[:SAMPLES]} ({len(only_cp)}), only in replay {only_json[:SAMPLES]} ({len(only_json)})")
        else:
            for key, add in replayed.files.items():
                a, b = num_records(add), num_records(cp.files[key])
                if a is not None and b is not None and a != b:
                    self.fail(what, f"{key[0]}: numRecords {b}, JSON commit says {a}")
                    break
                if add.get("size") != cp.files[key].get("size"):
                    self.fail(what, f"{key[0]}: size {cp.files[key].get('size')}, JSON commit says {add.get('size')}")
                    break
                if {k: v for k, v in add["partitionValues"].items()} != cp.files[key]["partitionValues"]:
                    self.fail(what, f"{key[0]}: partitionValues {cp.files[key]['partitionValues']}, "
                              f"JSON commit says {add['partitionValues']}")
                    break
        pa_, pb = cp.protocol or {}, replayed.protocol or {}
        for k in ("minReaderVersion", "minWriterVersion"):
            if pa_.get(k) != pb.get(k):
                self.fail(what, f"protocol {k} {pa_.get(k)}, replay {pb.get(k)}")
        for k in ("readerFeatures", "writerFeatures"):
            if sorted(pa_.get(k) or []) != sorted(pb.get(k) or []):
                self.fail(what, f"protocol {k} {pa_.get(k)}, replay {pb.get(k)}")
        ma, mb = cp.metadata or {}, replayed.metadata or {}
        if ma.get("id") != mb.get("id"):
            self.fail(what, f"metaData.id {ma.get('id')}, replay {mb.get('id')}")
        try:
            same_schema = json.loads(ma.get("schemaString") or "null") == json.loads(mb.get("schemaString") or "null")
        except ValueError:
            same_schema = False
        if not same_schema:
            self.fail(what, "metaData.schemaString differs from the replay")
        if list(ma.get("partitionColumns") or []) != list(mb.get("partitionColumns") or []):
            self.fail(what, f"partitionColumns {ma.get('partitionColumns')}, replay {mb.get('partitionColumns')}")
        if map_to_dict(ma.get("configuration")) != map_to_dict(mb.get("configuration")):
            self.fail(what, f"configuration {ma.get('configuration')}, replay {mb.get('configuration')}")
        if cp.txns != replayed.txns:
            self.fail(what, f"txn versions {short(cp.txns)}, replay {short(replayed.txns)}")

    def check_protocol(self):
        """Table features the schema needs must be in the protocol (timestampNtz)."""
        state = self.states.get(self.latest)
        if state is None:
            return
        if '"timestamp_ntz"' in state.metadata.get("schemaString", ""):
            proto = state.protocol
            rf, wf = proto.get("readerFeatures") or [], proto.get("writerFeatures") or []
            if not (proto.get("minReaderVersion", 0) >= 3 and proto.get("minWriterVersion", 0) >= 7
                    and "timestampNtz" in rf and "timestampNtz" in wf):
                self.fail("protocol", f"a timestamp_ntz column needs protocol (3,7) with the "
                          f"timestampNtz reader and writer feature; the table has "
                          f"{json.dumps(proto, sort_keys=True)}")

    def operation(self, v):
        for a in self.commits.get(v) or []:
            if a.get("commitInfo"):
                return a["commitInfo"].get("operation")
        return None

    def check_files(self, versions):
        """Every live file of these versions exists, with the logged size and numRecords rows."""
        seen = set()
        empty_reported = False
        for v in versions:
            for key, add in self.states[v].files.items():
                if key in seen:
                    continue
                seen.add(key)
                full = os.path.join(self.path, key[0])
                if not os.path.exists(full):
                    self.fail(f"files@v{v}", f"live file missing: {key[0]}")
                    continue
                size = os.path.getsize(full)
                if add.get("size") is not None and add["size"] != size:
                    self.fail(f"files@v{v}", f"{key[0]}: add.size {add['size']}, file has {size} bytes")
                n = num_records(add)
                if n is not None and key[1] is None:
                    try:
                        rows = pq.ParquetFile(full).metadata.num_rows
                    except Exception as e:  # noqa: BLE001
                        self.fail(f"files@v{v}", f"{key[0]}: footer unreadable by pyarrow: {error_text(e)}")
                        continue
                    if rows != n:
                        self.fail(f"files@v{v}", f"{key[0]}: stats numRecords {n}, file has {rows} rows")
                missing = set(self.states[v].partition_columns()) - set(add["partitionValues"])
                if missing:
                    self.fail(f"files@v{v}", f"{key[0]}: partitionValues lack {sorted(missing)}")
                empty = sorted(p for p, x in add["partitionValues"].items() if x == "")
                if empty and not empty_reported:
                    empty_reported = True
                    self.fail(f"files@v{v}", f"{key[0]}: partitionValues {empty} = \"\": an empty "
                              "string partition value is ambiguous (Spark writes null for it; "
                              "delta-rs reads \"\" as null, Spark as \"\")")


# ---------------------------------------------------------------------------------------------
# Readers.

class DuckReader:
    def __init__(self):
        import duckdb
        self.con = duckdb.connect()
        self.cache = {}

    def file_rows(self, full):
        if full not in self.cache:
            literal = "'" + full.replace("'", "''") + "'"
            # No hive_partitioning: partition values come from the log, never from directory
            # names (DuckDB would URL-decode them and fail on non-UTF-8 bytes).
            query = f"SELECT * FROM read_parquet({literal}, hive_partitioning = false)"
            self.cache[full] = self.con.sql(query).to_arrow_table().to_pylist()
        return self.cache[full]

    def rows(self, view, v):
        """The rows of version v: each live file, conformed to the schema, partition values in."""
        state = view.states[v]
        schema = state.schema()
        cm = state.column_mapping()
        parts = state.partition_columns()
        ptypes = {name: t for name, t, _ in schema[1]}
        out = []
        for key, add in sorted(state.files.items(), key=lambda kv: kv[0][0]):
            if key[1] is not None:
                raise RuntimeError("deletion vectors: a plain read_parquet would return deleted rows")
            pvals = {p: parse_partition_value(add["partitionValues"].get(p), ptypes[p]) for p in parts}
            for raw in self.file_rows(os.path.join(view.path, key[0])):
                row = conform(raw, schema, cm)
                row.update(pvals)
                out.append(row)
        return out

    def parquet_dir_rows(self, directory, schema):
        out = []
        for name in sorted(os.listdir(directory)):
            if name.endswith(".parquet") and not name.startswith("."):
                out.extend(conform(r, schema, False) for r in self.file_rows(os.path.join(directory, name)))
        return out


def spark_project(df):
    """df with every TIMESTAMP / TIMESTAMP_NTZ as microseconds and every DATE as days since the
    epoch (nested ones too). pyspark's own conversion to Python datetimes cannot return every
    valid value: for 0001-01-01T00:00:00Z it fails with "year 0 is out of range" (CPython's
    fromtimestamp probes a day earlier), so the conversion is done here, exactly, from integers."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    def needs(dtype):
        if isinstance(dtype, (T.TimestampType, T.TimestampNTZType, T.DateType)):
            return True
        if isinstance(dtype, T.StructType):
            return any(needs(f.dataType) for f in dtype.fields)
        if isinstance(dtype, T.ArrayType):
            return needs(dtype.elementType)
        if isinstance(dtype, T.MapType):
            return needs(dtype.keyType) or needs(dtype.valueType)
        return False

    def conv(c, dtype):
        if not needs(dtype):
            return c
        if isinstance(dtype, T.TimestampNTZType):
            return F.unix_micros(c.cast("timestamp"))  # session time zone is UTC: wall clock
        if isinstance(dtype, T.TimestampType):
            return F.unix_micros(c)
        if isinstance(dtype, T.DateType):
            return F.unix_date(c)
        if isinstance(dtype, T.StructType):
            fields = [conv(c.getField(f.name), f.dataType).alias(f.name) for f in dtype.fields]
            return F.when(c.isNull(), F.lit(None)).otherwise(F.struct(*fields))
        if isinstance(dtype, T.ArrayType):
            return F.transform(c, lambda x: conv(x, dtype.elementType))
        return F.map_from_entries(F.transform(F.map_entries(c), lambda e: F.struct(
            conv(e.getField("key"), dtype.keyType).alias("key"),
            conv(e.getField("value"), dtype.valueType).alias("value"))))

    return df.select(*[conv(F.col("`" + f.name.replace("`", "``") + "`"), f.dataType).alias(f.name)
                       for f in df.schema.fields])


def spark_rows(df):
    """The rows of a Spark DataFrame in the plain form of Arrow's to_pylist()."""
    schema = df.schema
    return [spark_plain(r, schema) for r in spark_project(df).collect()]


def spark_plain(v, dtype):
    """A value of spark_project()'s output, as Arrow's to_pylist() would give the original."""
    from pyspark.sql import types as T
    if v is None:
        return None
    if isinstance(dtype, T.StructType):
        return {f.name: spark_plain(v[i], f.dataType) for i, f in enumerate(dtype.fields)}
    if isinstance(dtype, T.ArrayType):
        return [spark_plain(e, dtype.elementType) for e in v]
    if isinstance(dtype, T.MapType):
        return [(spark_plain(k, dtype.keyType), spark_plain(x, dtype.valueType)) for k, x in v.items()]
    if isinstance(dtype, T.TimestampNTZType):
        return (EPOCH + dt.timedelta(microseconds=v)).replace(tzinfo=None)
    if isinstance(dtype, T.TimestampType):
        return EPOCH + dt.timedelta(microseconds=v)
    if isinstance(dtype, T.DateType):
        return dt.date(1970, 1, 1) + dt.timedelta(days=v)
    if isinstance(dtype, T.BinaryType):
        return bytes(v)
    return v


class Job:
    """One table: our view, and the rows each reader returned per version."""

    def __init__(self, path, view):
        self.path = path
        self.view = view
        self.rows = collections.defaultdict(dict)   # version -> reader -> Counter
        self.counts = {}                             # version -> expected row count
        self.check_versions = []                     # older versions read by every reader
        self.expect = None
        self.ckpt_copy = None
        self.keep_rows = True


def choose_versions(job):
    view = job.view
    if not view.states or view.latest not in view.states:
        return []
    older = [v for v in sorted(view.states) if v < view.latest]
    chosen = set()
    with_data = [v for v in older if view.states[v].files]
    if with_data:
        chosen.add(with_data[0])
    if view.latest - 1 in view.states:
        chosen.add(view.latest - 1)
    # The two newest checkpoints: every checkpoint comes from the same writer, and reading all of
    # them (a table with 50 commits and an interval of 3 has 16) cost most of the CI run's reads.
    chosen.update(sorted(c for c in view.checkpoints if c in older)[-2:])
    return sorted(v for v in chosen if files_present(view, v))


def files_present(view, v):
    """Whether every live file of older version v is still there. Files removed since may have
    been vacuumed (legal in Delta; DAT no_replay ships none of version 2's): such a version is
    not read, and this is noted. Missing live files of the latest version are failures."""
    gone = [k[0] for k in view.states[v].files if not os.path.exists(os.path.join(view.path, k[0]))]
    if gone and v != view.latest:
        view.notes.append(f"v{v} not read: {len(gone)} of its files are gone (vacuumed)")
    return not gone or v == view.latest


def checkpoint_only_copy(view, tmp_root):
    """A copy of the table (data by symlink) whose log has only the latest checkpoint, its commit
    and the later ones, and _last_checkpoint, as Delta's log cleanup leaves it (Spark needs the
    checkpoint's own commit file to find the version): a reader must use the checkpoint to read
    it. None when the log already starts at that checkpoint, or there is none."""
    if not view.checkpoints or not view.states:
        return None
    c = max(view.checkpoints)
    if not any(v < c for v in view.commits):
        return None
    copy = tempfile.mkdtemp(prefix="ckpt-only-", dir=tmp_root)
    for name in os.listdir(view.path):
        if name != "_delta_log":
            os.symlink(os.path.join(view.path, name), os.path.join(copy, name))
    log_dir = os.path.join(copy, "_delta_log")
    os.mkdir(log_dir)
    keep = list(view.checkpoints[c]) + [f"{v:020d}.json" for v in view.commits if v >= c]
    if view.last_checkpoint is not None:
        keep.append("_last_checkpoint")
    for name in keep:
        shutil.copyfile(os.path.join(view.log_dir, name), os.path.join(log_dir, name))
    return copy, c


def run_deltalake(job, failures):
    from deltalake import DeltaTable
    view, path = job.view, job.path
    fail = lambda check, detail: failures.add(path, "deltalake", check, detail)  # noqa: E731
    notes = []
    try:
        table = DeltaTable(path)
    except Exception as e:  # noqa: BLE001
        fail("open", error_text(e))
        return "open failed"
    if table.version() != view.latest:
        fail("version", f"version() {table.version()}, log latest {view.latest}")
    latest_state = view.states.get(view.latest)
    if latest_state is not None:
        ours = {os.path.normpath(os.path.join(path, k[0])) for k in latest_state.files}
        theirs = {os.path.normpath(urllib.parse.unquote(u[7:]) if u.startswith("file://") else u)
                  for u in table.file_uris()}
        if ours != theirs:
            fail("live files", f"only in log {sorted(ours - theirs)[:SAMPLES]}, "
                 f"only in delta-rs {sorted(theirs - ours)[:SAMPLES]}")
        for app_id, version in latest_state.txns.items():
            got = table.transaction_version(app_id)
            if got != version:
                fail("txn", f"transaction_version({app_id!r}) {got}, log {version}")
    try:
        hist = table.history()
        check_history(view, {h.get("version"): h.get("operation") for h in hist}, fail)
        notes.append(f"history {len(hist)}")
    except Exception as e:  # noqa: BLE001
        fail("history", error_text(e))
    # Rows and counts, latest and older versions.
    for v in [view.latest] + job.check_versions:
        try:
            t = table if v == view.latest else DeltaTable(path, version=v)
            if t.version() != v:
                fail(f"load v{v}", f"version() {t.version()}")
            data = t.to_pyarrow_table()
        except Exception as e:  # noqa: BLE001
            fail(f"read v{v}", error_text(e))
            continue
        want = job.counts.get(v)
        if want is not None and data.num_rows != want:
            fail(f"count v{v}", f"{data.num_rows} rows, log says {want}")
        if v == view.latest:
            try:
                n = table.count()
                if want is not None and n != want:
                    fail("count()", f"count() {n}, log says {want}")
            except Exception as e:  # noqa: BLE001
                fail("count()", error_text(e))
        if job.keep_rows:
            job.rows[v]["deltalake"] = multiset(data.to_pylist())
        notes.append(f"v{v}={data.num_rows}")
    if job.ckpt_copy:
        copy, c = job.ckpt_copy
        try:
            t = DeltaTable(copy)
            data = t.to_pyarrow_table()
            if t.version() != view.latest:
                fail("checkpoint-only", f"copy from checkpoint {c}: version() {t.version()}, want {view.latest}")
            if job.keep_rows:
                job.rows[view.latest]["deltalake[checkpoint-only]"] = multiset(data.to_pylist())
            notes.append(f"checkpoint {c} only: {data.num_rows}")
        except Exception as e:  # noqa: BLE001
            fail("checkpoint-only", f"copy with only checkpoint {c} and later commits: {error_text(e)}")
    return ", ".join(notes)


def check_history(view, got, fail):
    """A reader's history ({version: operation}) against the log: one entry per commit file we
    have, operation = commitInfo.operation."""
    want = set(view.commits)
    if set(got) != want:
        fail("history", f"versions {sorted(got)[:20]}, commit files {sorted(want)[:20]}")
    for v in sorted(want & set(got)):
        op = view.operation(v)
        if op is not None and got[v] != op:
            fail("history", f"version {v}: operation {got[v]!r}, commitInfo says {op!r}")
            break


def spark_scan(df, keep_rows):
    """(rows, count): the rows collected when they are compared across readers; otherwise None and
    a count made in Spark over every value of every row (a large table's rows, collected, lose
    their task results in a 2 GB driver)."""
    if keep_rows:
        rows = spark_rows(df)
        return rows, len(rows)
    return None, df.selectExpr("count(*) AS n", "sum(length(to_json(struct(*)))) AS b").collect()[0]["n"]


def run_spark(spark, job, failures):
    view, path = job.view, job.path
    fail = lambda check, detail: failures.add(path, "spark", check, detail)  # noqa: E731
    quoted = "delta.`" + path.replace("`", "``") + "`"
    notes = []
    try:
        df = spark.read.format("delta").load(path)
        rows, scanned = spark_scan(df, job.keep_rows)
    except Exception as e:  # noqa: BLE001
        fail("read", error_text(e))
        return "read failed"
    want = job.counts.get(view.latest)
    if want is not None and scanned != want:
        fail(f"count v{view.latest}", f"{scanned} rows scanned, log says {want}")
    try:
        n = df.count()  # Delta may answer this from the log's numRecords alone
        if want is not None and n != want:
            fail("count()", f"count() {n}, log says {want}")
    except Exception as e:  # noqa: BLE001
        fail("count()", error_text(e))
    if job.keep_rows:
        job.rows[view.latest]["spark"] = multiset(rows)
    notes.append(f"v{view.latest}={scanned}")
    latest_state = view.states.get(view.latest)
    if latest_state is not None:
        ours = {os.path.normpath(os.path.join(path, k[0])) for k in latest_state.files}
        theirs = set()
        for u in df.inputFiles():
            p = u[5:] if u.startswith("file:") else u
            p = "/" + p.lstrip("/")
            theirs.add(os.path.normpath(p if os.path.exists(p) else urllib.parse.unquote(p)))
        if ours != theirs:
            fail("live files", f"only in log {sorted(ours - theirs)[:SAMPLES]}, "
                 f"only in Spark {sorted(theirs - ours)[:SAMPLES]}")
    try:
        hist = spark.sql(f"DESCRIBE HISTORY {quoted}").select("version", "operation").collect()
        check_history(view, {r["version"]: r["operation"] for r in hist}, fail)
        notes.append(f"history {len(hist)}")
    except Exception as e:  # noqa: BLE001
        fail("history", error_text(e))
    for v in job.check_versions:
        try:
            vdf = spark.sql(f"SELECT * FROM {quoted} VERSION AS OF {v}")
            vrows, vcount = spark_scan(vdf, job.keep_rows)
        except Exception as e:  # noqa: BLE001
            fail(f"read v{v}", error_text(e))
            continue
        want = job.counts.get(v)
        if want is not None and vcount != want:
            fail(f"count v{v}", f"{vcount} rows, log says {want}")
        if job.keep_rows:
            job.rows[v]["spark"] = multiset(vrows)
        notes.append(f"v{v}={vcount}")
    if job.ckpt_copy:
        copy, c = job.ckpt_copy
        try:
            cdf = spark.read.format("delta").load(copy)
            crows, ccount = spark_scan(cdf, job.keep_rows)
            if job.keep_rows:
                job.rows[view.latest]["spark[checkpoint-only]"] = multiset(crows)
            notes.append(f"checkpoint {c} only: {ccount}")
        except Exception as e:  # noqa: BLE001
            fail("checkpoint-only", f"copy with only checkpoint {c} and later commits: {error_text(e)}")
    return ", ".join(notes)


def start_spark(cache_dir, tmp_root):
    import pyspark
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession
    # Spark (Derby, the warehouse) writes relative to the working directory: keep it out of the repo.
    os.chdir(tmp_root)
    builder = (SparkSession.builder.master("local[2]").appName("nobus-reference-readers")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.databricks.delta.snapshotPartitions", "2")
               .config("spark.driver.memory", "2g")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", f"-Duser.timezone=UTC -Dderby.system.home={tmp_root}")
               .config("spark.sql.warehouse.dir", os.path.join(tmp_root, "warehouse"))
               .config("spark.jars.ivy", os.path.join(cache_dir, "ivy"))
               .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
               .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"))
    # Adds io.delta:delta-spark_<spark major.minor>_2.13:<delta-spark version> to spark.jars.packages.
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark, pyspark.__version__


# ---------------------------------------------------------------------------------------------
# File statistics: what data skipping relies on. Every bound must hold for the file's rows (a
# wrong bound makes delta-rs and Spark skip a file that matches a filter), and nullCount must be
# exact. Checked for primitive leaves (struct fields recursively); arrays and maps carry only a
# nullCount whose meaning writers differ on, booleans and binary no bounds: not checked.

def _float32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def _stat_value(stat, typ):
    """A minValues/maxValues entry (parsed with Decimal for JSON fractions) as a comparable value,
    or None when the type has no bounds we check."""
    kind = typ[0]
    name = typ[1] if kind == "prim" else kind
    if name in ("long", "integer", "short", "byte"):
        return int(stat)
    if name == "double":
        return float(stat)
    if name == "float":  # float32 columns: readers compare in float32 ("1.1" means 1.1f)
        return _float32(stat)
    if kind == "decimal":
        return decimal.Decimal(str(stat))
    if name == "string":
        return str(stat)
    if name == "date":
        return dt.date.fromisoformat(stat)
    if name in ("timestamp", "timestamp_ntz"):
        parsed = dt.datetime.fromisoformat(stat.replace("Z", "+00:00"))
        if name == "timestamp":
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return parsed.replace(tzinfo=None)
    return None


def _check_leaf(where, typ, values, minv, maxv, nullc, problems):
    kind = typ[0]
    if kind == "struct":
        for name, ftype, _ in typ[1]:
            sub = [None if v is None else v.get(name) for v in values]
            pick = lambda d: d.get(name) if isinstance(d, dict) else None  # noqa: E731
            _check_leaf(f"{where}.{name}", ftype, sub, pick(minv), pick(maxv), pick(nullc), problems)
        return
    if kind in ("array", "map"):
        return
    nulls = sum(1 for v in values if v is None)
    if isinstance(nullc, int) and nullc != nulls:
        problems.append(f"{where}: nullCount {nullc}, the file has {nulls} nulls")
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present:
        return
    slack = dt.timedelta(milliseconds=1) if typ[1:] and typ[1] in ("timestamp", "timestamp_ntz") else None
    for label, stat in (("minValues", minv), ("maxValues", maxv)):
        if stat is None or isinstance(stat, dict):
            continue
        try:
            bound = _stat_value(stat, typ)
        except (ValueError, TypeError, decimal.InvalidOperation) as e:
            problems.append(f"{where}: {label} {stat!r} does not parse as {typ}: {e}")
            continue
        if bound is None:
            continue
        try:
            if label == "minValues":
                bad = [v for v in present if v < bound]
            else:  # timestamps are truncated to milliseconds: readers widen max by 1 ms
                try:
                    top = bound + slack if slack else bound
                except OverflowError:  # 9999-12-31T23:59:59.999 + 1 ms: nothing is above it
                    continue
                bad = [v for v in present if v > top]
        except TypeError as e:
            problems.append(f"{where}: {label} {stat!r} not comparable with the values: {e}")
            continue
        if bad:
            worst = min(bad) if label == "minValues" else max(bad)
            problems.append(f"{where}: {label} {stat!r}, but the file holds {canon(worst)!r}")


def check_stats(view, versions, duck, failures):
    checked = set()
    for v in versions:
        state = view.states[v]
        schema = state.schema()
        parts = set(state.partition_columns())
        for key, add in state.files.items():
            if key in checked or key[1] is not None or not add.get("stats"):
                continue
            checked.add(key)
            full = os.path.join(view.path, key[0])
            if not os.path.exists(full):
                continue
            try:
                stats = json.loads(add["stats"], parse_float=decimal.Decimal)
                rows = [conform(r, schema, state.column_mapping()) for r in duck.file_rows(full)]
            except Exception as e:  # noqa: BLE001
                failures.add(view.path, "log", "stats", f"{key[0]}: {error_text(e)}")
                continue
            problems = []
            for name, ftype, _ in schema[1]:
                if name in parts:
                    continue
                get = lambda k: (stats.get(k) or {}).get(name) if isinstance(stats.get(k), dict) else None  # noqa: E731
                _check_leaf(name, ftype, [r.get(name) for r in rows], get("minValues"),
                            get("maxValues"), get("nullCount"), problems)
            for p in problems[:SAMPLES]:
                failures.add(view.path, "log", "stats", f"{key[0]}: {p}")


# ---------------------------------------------------------------------------------------------
# Comparisons.

def compare_rows(job, failures):
    """Per version, the readers' multisets must be equal. Readers are grouped by equal results;
    the reference group is the DAT expected data if present, else the largest group (a tie is
    said so: two readers that disagree cannot tell which is right)."""
    ok = True
    for v, sources in sorted(job.rows.items()):
        groups = []
        for name, rows in sources.items():
            for g in groups:
                if sources[g[0]] == rows:
                    g.append(name)
                    break
            else:
                groups.append([name])
        if len(groups) <= 1:
            continue
        ok = False
        ref = next((g for g in groups if "dat-expected" in g), None)
        tie = False
        if ref is None:
            # One vote per reader: the checkpoint-only reads ("deltalake[checkpoint-only]") are
            # the same reader again.
            votes = lambda g: len({n.split("[")[0] for n in g})  # noqa: E731
            groups.sort(key=lambda g: (-votes(g), "duckdb" not in g))
            ref = groups[0]
            tie = votes(groups[1]) == votes(ref)
        for g in groups:
            if g is ref:
                continue
            a, b = sources[ref[0]], sources[g[0]]
            only_ref, only_g = a - b, b - a
            detail = (f"version {v}: {sum(b.values())} rows, {'+'.join(ref)} has {sum(a.values())}; "
                      f"{sum(only_g.values())} rows only here, e.g. {list(only_g)[:SAMPLES]}; "
                      f"{sum(only_ref.values())} only in {'+'.join(ref)}, e.g. {list(only_ref)[:SAMPLES]}")
            if tie:
                detail += " (readers split evenly: either side may be wrong)"
            for name in g:
                failures.add(job.path, name.split("[")[0] if name != "dat-expected" else name,
                             f"rows v{v}" + (f" {name}" if "[" in name else ""), detail)
    return ok


def check_expect(job, failures):
    """Every expected id present (duplicates counted; a failure when "unique"), no other id, every
    row = reading_row(id)."""
    ids = job.expect.get("ids", [])
    if job.expect.get("row", "reading") != "reading":
        failures.add(job.path, "expect", "row kind", f"unknown row kind {job.expect.get('row')!r}")
        return ""
    wanted = collections.Counter(ids)
    notes = []
    v = job.view.latest
    for reader, rows in sorted(job.rows.get(v, {}).items()):
        if reader not in ("deltalake", "spark", "duckdb"):
            continue
        present = collections.Counter()
        bad = []
        for text, n in rows.items():
            row = json.loads(text)
            i = row.get("id") if isinstance(row, dict) else None
            if not isinstance(i, int) or isinstance(i, bool):
                bad.append(text)
                continue
            present[i] += n
            if text != reading_row(i):
                bad.append(f"{text} (want {reading_row(i)})")
        missing = sorted(set(wanted) - set(present))
        extra = sorted(set(present) - set(wanted))
        dups = sum(n - 1 for n in present.values() if n > 1)
        if missing:
            failures.add(job.path, reader, "expect ids", f"{len(missing)} of {len(wanted)} acked ids missing, e.g. {missing[:10]}")
        if extra:
            failures.add(job.path, reader, "expect ids", f"{len(extra)} ids not acked are in the table, e.g. {extra[:10]}")
        if bad:
            failures.add(job.path, reader, "expect rows", f"{len(bad)} rows differ from the reading row of their id, e.g. {bad[:SAMPLES]}")
        if dups and job.expect.get("unique"):
            twice = sorted(i for i, n in present.items() if n > 1)
            failures.add(job.path, reader, "expect unique", f"{dups} duplicate rows ({len(twice)} ids more than once, e.g. {twice[:10]})")
        notes.append(f"{reader}: {len(wanted)} ids, {dups} duplicates")
    return "; ".join(notes)


def dat_expected(job, duck, failures):
    """Delta Acceptance Testing layout: <case>/delta is the table, <case>/expected/{latest,vN}."""
    case = os.path.dirname(job.path)
    exp_dir = os.path.join(case, "expected")
    if os.path.basename(job.path) != "delta" or not os.path.isdir(exp_dir):
        return None
    notes = []
    view = job.view
    for name in sorted(os.listdir(exp_dir)):
        v = view.latest if name == "latest" else int(name[1:]) if re.fullmatch(r"v\d+", name) else None
        content = os.path.join(exp_dir, name, "table_content")
        if v is None or not os.path.isdir(content):
            continue
        meta_path = os.path.join(exp_dir, name, "table_version_metadata.json")
        if name == "latest" and os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
            if meta.get("version") != view.latest:
                failures.add(job.path, "dat-expected", "version", f"expected {meta.get('version')}, log {view.latest}")
            state = view.states.get(view.latest)
            if state is not None:
                proto = state.protocol
                if (meta.get("min_reader_version"), meta.get("min_writer_version")) != (
                        proto.get("minReaderVersion"), proto.get("minWriterVersion")):
                    failures.add(job.path, "dat-expected", "protocol", f"expected {meta}, log {proto}")
                if meta.get("properties", {}) != map_to_dict(state.metadata.get("configuration")):
                    failures.add(job.path, "dat-expected", "properties",
                                 f"expected {meta.get('properties')}, log {state.metadata.get('configuration')}")
        if v not in view.states:
            notes.append(f"{name}: version {v} not rebuildable from the log")
            continue
        if v != view.latest and v not in job.check_versions:
            if not files_present(view, v):
                notes.append(f"{name}: files of version {v} are gone")
                continue
            job.check_versions.append(v)
            job.check_versions.sort()
        rows = duck.parquet_dir_rows(content, view.states[v].schema())
        job.rows[v]["dat-expected"] = multiset(rows)
        if job.counts.get(v) is None:
            job.counts[v] = view.states[v].num_records()
        notes.append(f"{name}={len(rows)}")
    return ", ".join(notes)


# ---------------------------------------------------------------------------------------------

def spark_shape(job):
    """What Spark's reading of a table depends on: protocol and features, configuration keys,
    partitioning, the column types (not names), the operations in its history, checkpoints and
    how many older versions are read, DAT and --expect tables. --spark-per-shape reads one table
    of each shape, the smallest, with Spark (every table is still read by delta-rs and DuckDB)."""
    view = job.view
    state = view.states.get(view.latest)
    if state is None or job.expect is not None or os.path.isdir(os.path.join(job.path, "..", "expected")):
        return None  # unreadable by our view, --expect or DAT: always read by Spark
    proto = state.protocol or {}
    meta = state.metadata or {}
    conf = map_to_dict(meta.get("configuration"))
    schema = json.loads(meta.get("schemaString") or "{}")
    types = sorted({json.dumps(f.get("type"), sort_keys=True) for f in schema.get("fields", [])})
    ops = sorted({a["commitInfo"].get("operation", "") for acts in view.commits.values() if acts
                  for a in acts if a.get("commitInfo")})
    return json.dumps([proto.get("minReaderVersion"), proto.get("minWriterVersion"),
                       sorted(proto.get("readerFeatures") or []), sorted(proto.get("writerFeatures") or []),
                       sorted(conf), len(state.partition_columns()), types, ops,
                       bool(view.checkpoints), bool(view.last_checkpoint), len(job.check_versions),
                       job.ckpt_copy is not None, job.keep_rows], sort_keys=True)


def find_tables(root):
    found = []
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        if "_delta_log" in dirnames and os.path.isdir(os.path.join(dirpath, "_delta_log")):
            found.append(os.path.realpath(dirpath))
        dirnames[:] = sorted(d for d in dirnames if d != "_delta_log")
    return found


def package_version(name):
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roots", nargs="+", metavar="ROOT")
    ap.add_argument("--no-spark", action="store_true", help="skip Spark (delta-rs and DuckDB only)")
    ap.add_argument("--spark-per-shape", action="store_true",
                    help="Spark reads one table of each shape (spark_shape(): protocol, "
                         "configuration, partitioning, column types, operations, checkpoints) and "
                         "every --expect and DAT table; delta-rs and DuckDB still read every table")
    ap.add_argument("--expect", help="JSON file {table path: {ids: [...], row: 'reading'}}")
    ap.add_argument("--max-rows", type=int, default=1_000_000,
                    help="tables with more rows are compared by counts only (memory)")
    ap.add_argument("--max-bytes", type=int, default=64 << 20,
                    help="tables whose live files are larger are compared by counts only (memory: "
                         "Spark's collect of a 300 MB table loses its task results in 2 GB)")
    opts = ap.parse_args()
    started = time.monotonic()
    # stdout carries only the summary: anything else written to it (the JVM inherits it) goes to
    # stderr, so callers can parse the JSON.
    summary_out = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    failures = Failures()
    cache_dir = (os.environ.get("NOBUS_READERS_CACHE") or os.environ.get("NOBUS_SDK_CACHE")
                 or os.path.expanduser("~/.cache/nobus"))
    tmp_root = tempfile.mkdtemp(prefix="nobus-readers-")
    readers = {"deltalake": package_version("deltalake"), "duckdb": package_version("duckdb"),
               "pyarrow": package_version("pyarrow")}
    if not opts.no_spark:
        readers["pyspark"] = package_version("pyspark")
        readers["delta-spark"] = package_version("delta-spark")
    timings = collections.defaultdict(float)

    tables = []
    for root in opts.roots:
        if not os.path.isdir(root):
            failures.add(os.path.abspath(root), "harness", "root", "not a directory")
            continue
        tables.extend(find_tables(root))
    tables = sorted(set(tables))
    expect = {}
    if opts.expect:
        with open(opts.expect) as f:
            expect = {os.path.realpath(k): v for k, v in json.load(f).items()}
        for path in sorted(set(expect) - set(tables)):
            failures.add(path, "expect", "table", "listed in --expect but not found under the roots")
    log(f"reference readers: {len(tables)} tables; deltalake {readers['deltalake']}, duckdb "
        f"{readers['duckdb']}" + ("" if opts.no_spark else f", pyspark {readers['pyspark']}, "
                                   f"delta-spark {readers['delta-spark']}"))

    duck = DuckReader()
    jobs = []
    for path in tables:
        log(f"table {path}")
        t0 = time.monotonic()
        try:
            view = LogView(path, failures)
        except Exception as e:  # noqa: BLE001
            failures.add(path, "log", "read", error_text(e))
            continue
        job = Job(path, view)
        job.expect = expect.get(path)
        jobs.append(job)
        job.check_versions = choose_versions(job)
        for v in [view.latest] + job.check_versions:
            if v in view.states:
                job.counts[v] = view.states[v].num_records()
        if view.states:
            try:
                view.check_files([view.latest] + job.check_versions)
            except Exception as e:  # noqa: BLE001
                failures.add(path, "log", "files", error_text(e))
        latest_count = job.counts.get(view.latest)
        latest_bytes = (sum(add.get("size") or 0 for add in view.states[view.latest].files.values())
                        if view.latest in view.states else 0)
        # An --expect table is always compared row by row.
        job.keep_rows = job.expect is not None or latest_count is None or (
            latest_count <= opts.max_rows and latest_bytes <= opts.max_bytes)
        if not job.keep_rows:
            log(f"  {latest_count} rows, {latest_bytes} bytes > --max-rows {opts.max_rows} or "
                f"--max-bytes {opts.max_bytes}: row values not compared")
        timings["log"] += time.monotonic() - t0
        log(f"  [log] latest v{view.latest}, {len(view.commits)} commits, checkpoints "
            f"{sorted(view.checkpoints)}, rows {latest_count}, older versions checked "
            f"{job.check_versions}{'; ' + '; '.join(view.notes) if view.notes else ''} "
            f"({time.monotonic() - t0:.2f} s)")

        t0 = time.monotonic()
        try:
            dat = dat_expected(job, duck, failures)
        except Exception as e:  # noqa: BLE001
            failures.add(path, "dat-expected", "read", error_text(e))
            dat = None
        if dat is not None:
            log(f"  [dat-expected] {dat} ({time.monotonic() - t0:.2f} s)")

        t0 = time.monotonic()
        duck_notes = []
        for v in [view.latest] + job.check_versions:
            if v not in view.states:
                continue
            try:
                rows = duck.rows(view, v)
            except Exception as e:  # noqa: BLE001
                failures.add(path, "duckdb", f"read v{v}", error_text(e))
                continue
            if job.counts.get(v) is None:
                job.counts[v] = len(rows)  # no numRecords: the files' rows are the count
            elif len(rows) != job.counts[v]:
                failures.add(path, "duckdb", f"count v{v}", f"{len(rows)} rows in the live files, "
                             f"numRecords sum {job.counts[v]}")
            if job.keep_rows:
                job.rows[v]["duckdb"] = multiset(rows)
            duck_notes.append(f"v{v}={len(rows)}")
        if view.states:
            try:
                check_stats(view, [view.latest] + job.check_versions, duck, failures)
            except Exception as e:  # noqa: BLE001
                failures.add(path, "log", "stats", error_text(e) + " " + short(traceback.format_exc(), 800))
        timings["duckdb"] += time.monotonic() - t0
        log(f"  [duckdb] {', '.join(duck_notes)} ({time.monotonic() - t0:.2f} s)")

        try:
            job.ckpt_copy = checkpoint_only_copy(view, tmp_root)
        except OSError as e:
            failures.add(path, "harness", "checkpoint-only copy", error_text(e))
        t0 = time.monotonic()
        try:
            notes = run_deltalake(job, failures)
        except Exception as e:  # noqa: BLE001
            failures.add(path, "deltalake", "unexpected", error_text(e) + " " + short(traceback.format_exc(), 800))
            notes = "error"
        timings["deltalake"] += time.monotonic() - t0
        log(f"  [deltalake] {notes} ({time.monotonic() - t0:.2f} s)")

    if not opts.no_spark and jobs:
        t0 = time.monotonic()
        log("starting Spark (local[2]) ...")
        spark = None
        try:
            spark, version = start_spark(cache_dir, tmp_root)
            timings["spark_start"] = time.monotonic() - t0
            log(f"Spark {version} up in {timings['spark_start']:.1f} s")
        except Exception as e:  # noqa: BLE001
            for job in jobs:
                failures.add(job.path, "spark", "start", error_text(e))
        if spark is not None:
            # Per shape, the smallest table (rows, then commits) stands for the others.
            shapes = {job.path: spark_shape(job) if opts.spark_per_shape else None for job in jobs}
            chosen = {}
            for job in jobs:
                shape = shapes[job.path]
                if shape is None:
                    continue
                size = (job.counts.get(job.view.latest) or 0, len(job.view.commits), job.path)
                if shape not in chosen or size < chosen[shape][0]:
                    chosen[shape] = (size, job.path)
            for job in jobs:
                shape = shapes[job.path]
                if shape is not None and chosen[shape][1] != job.path:
                    log(f"spark {job.path}: not read, same shape as {chosen[shape][1]}")
                    timings["spark_skipped_same_shape"] += 1
                    continue
                t0 = time.monotonic()
                try:
                    notes = run_spark(spark, job, failures)
                except Exception as e:  # noqa: BLE001
                    failures.add(job.path, "spark", "unexpected", error_text(e))
                    notes = "error"
                timings["spark"] += time.monotonic() - t0
                log(f"spark {job.path}: {notes} ({time.monotonic() - t0:.2f} s)")
            t0 = time.monotonic()
            spark.stop()
            timings["spark_stop"] = time.monotonic() - t0

    for job in jobs:
        same = compare_rows(job, failures)
        expect_notes = check_expect(job, failures) if job.expect is not None else ""
        readers_seen = sorted({r for per_v in job.rows.values() for r in per_v})
        verdict = "FAIL" if job.path in failures.tables() else "ok"
        log(f"{verdict} {job.path}: rows {'equal' if same else 'DIFFER'} across {', '.join(readers_seen)}"
            + (f"; expect: {expect_notes}" if expect_notes else ""))

    shutil.rmtree(tmp_root, ignore_errors=True)
    failures.finish()
    failed_tables = failures.tables()
    passed = sum(1 for t in tables if t not in failed_tables)
    timings["total"] = time.monotonic() - started
    summary = {"tables": len(tables), "failures": failures.items, "readers": readers,
               "timings": {k: round(v, 2) for k, v in timings.items()}}
    print(json.dumps(summary, indent=1), file=summary_out)
    print(f"{passed} passed, {len(failed_tables)} failed", file=summary_out)
    summary_out.flush()
    return 1 if failures.items else 0


if __name__ == "__main__":
    sys.exit(main())
