#!/usr/bin/env python3
"""End-to-end test of `floorgate run` against a real Kafka broker.

For each case set (the public cases in ../shared/cases/public, and every tests/cases/X that
has a declarations.jsonl) this script:

1. turns each JSONL declaration into an Avro body (fastavro, schemas/declaration.avsc) in
   the Confluent wire format (magic 0, schema id 1 big-endian, body), and adds malformed
   frames: 3 bytes, magic byte 1, unknown schema id 999, truncated body;
2. produces them, keyed by declaration_id, to the set's input topic and records every
   message's (partition, offset) from the delivery reports;
3. writes a floorgate config and runs `floorgate run -c CONF` with run.exit_on_eof = true,
   killing it after --timeout seconds;
4. reads the set's assessment and dead-letter topics from the beginning and decodes each
   record with the writer schema named by the id in its frame (schema dir, `<id>.avsc`);
5. checks that every input position got exactly one output, that dead letters carry the
   input bytes untouched, the reasons for the malformed frames, and each declaration's
   outcome against expected.jsonl (same order as declarations.jsonl).

A line of a declarations.jsonl may also be {"frame_hex": "..."}: those bytes are produced
as they are (for cases about framing); its expected line is then {"dlq": REASON}.

Not pytest: prints one PASS/FAIL line per check and ends with `e2e: N passed, M failed`
(`, K skipped` when case sets are absent). Exit status 0 when nothing failed, else 1.
"""

import argparse
import datetime
import decimal
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "pylib"))

try:
    import fastavro
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    from fgkafka import create_topics
except ImportError as e:  # pragma: no cover - environment problem
    print(f"e2e: cannot import test dependencies ({e}); run scripts/pyenv.sh and use its venv",
          file=sys.stderr)
    print("e2e: 0 passed, 1 failed")
    sys.exit(1)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DECLARATION_SCHEMA_ID = 1
MALFORMED_UNKNOWN_ID = 999
MAX_SHOWN = 8  # mismatches listed per check

# ------------------------------------------------------------------------------ results


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name, problems):
        """Record one check; `problems` is a list of strings (empty: pass)."""
        if not problems:
            self.passed += 1
            print(f"PASS {name}")
            return True
        self.failed += 1
        print(f"FAIL {name}: {len(problems)} problem(s)")
        for p in problems[:MAX_SHOWN]:
            print(f"     - {p}")
        if len(problems) > MAX_SHOWN:
            print(f"     - ... and {len(problems) - MAX_SHOWN} more")
        return False

    def skip(self, name, why):
        self.skipped += 1
        print(f"SKIP {name}: {why}")

    def summary(self):
        line = f"e2e: {self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        return line


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------ schemas


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return fastavro.parse_schema(json.load(f), named_schemas={})


class Registry:
    """Writer schemas by id, from `<dir>/<id>.avsc`, parsed once each."""

    def __init__(self, directory):
        self.dir = directory
        self.cache = {}

    def get(self, schema_id):
        if schema_id not in self.cache:
            path = os.path.join(self.dir, f"{schema_id}.avsc")
            self.cache[schema_id] = load_schema(path) if os.path.isfile(path) else None
        return self.cache[schema_id]


def frame(schema_id, body):
    return b"\x00" + struct.pack(">i", schema_id) + body


def unframe(data, registry):
    """Decode a Confluent-framed Avro record. Returns (schema_id, record) or raises ValueError."""
    if len(data) < 5:
        raise ValueError(f"frame of {len(data)} bytes")
    if data[0] != 0:
        raise ValueError(f"magic byte {data[0]}")
    (schema_id,) = struct.unpack(">i", data[1:5])
    schema = registry.get(schema_id)
    if schema is None:
        raise ValueError(f"schema id {schema_id} not in {registry.dir}")
    buf = io.BytesIO(data[5:])
    try:
        rec = fastavro.schemaless_reader(buf, schema)
    except Exception as e:  # fastavro raises several types on bad input
        raise ValueError(f"body does not decode with schema {schema_id}: {e!r}") from e
    if buf.tell() != len(data) - 5:
        raise ValueError(f"{len(data) - 5 - buf.tell()} trailing bytes after the Avro body")
    return schema_id, rec


# ------------------------------------------------------------------------------ inputs


def json_to_avro_record(d):
    """A declarations.jsonl object -> the Python values fastavro writes for declaration.avsc."""
    rec = dict(d)
    rec["acceptance_date"] = datetime.date.fromisoformat(d["acceptance_date"])
    lines = []
    for line in d["lines"]:
        ln = dict(line)
        ln["net_mass_kg"] = decimal.Decimal(line["net_mass_kg"])
        ln["customs_value"] = decimal.Decimal(line["customs_value"])
        content = line.get("content")
        if content is not None:
            ln["content"] = {"element": content["element"],
                             "percent": decimal.Decimal(content["percent"])}
        lines.append(ln)
    rec["lines"] = lines
    return rec


def encode_declaration(d, schema):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, json_to_avro_record(d))
    return frame(DECLARATION_SCHEMA_ID, buf.getvalue())


class Input:
    """One message the test produces."""

    def __init__(self, label, key, value, decl=None, expected=None, malformed_reason=None):
        self.label = label              # for messages: "HX101-0000007 v2" or "malformed: ..."
        self.key = key
        self.value = value
        self.decl = decl                # the JSON declaration, or None
        self.expected = expected        # the expected.jsonl object, or None
        self.malformed_reason = malformed_reason
        self.partition = None
        self.offset = None


def malformed_inputs(good_body):
    """The four broken frames every set carries, built from one valid framed declaration."""
    body = good_body[5:]
    return [
        Input("malformed: 3-byte frame", b"malformed-short", b"\x00\x00\x00",
              malformed_reason="DECODE_ERROR"),
        Input("malformed: magic byte 1", b"malformed-magic", b"\x01" + good_body[1:],
              malformed_reason="DECODE_ERROR"),
        Input("malformed: unknown schema id 999", b"malformed-schema",
              frame(MALFORMED_UNKNOWN_ID, body), malformed_reason="UNKNOWN_SCHEMA"),
        Input("malformed: truncated body", b"malformed-truncated",
              good_body[: 5 + max(1, len(body) // 2)], malformed_reason="DECODE_ERROR"),
    ]


def read_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"e2e: {path}:{n}: not JSON: {e}")
    return out


def build_inputs(case, decl_schema):
    decls = read_jsonl(case["declarations"])
    expected = read_jsonl(case["expected"]) if case["expected"] else None
    if expected is not None and len(expected) != len(decls):
        raise SystemExit(f"e2e: {case['expected']} has {len(expected)} lines, "
                         f"{case['declarations']} has {len(decls)}")
    inputs = []
    for i, d in enumerate(decls):
        exp = expected[i] if expected is not None else None
        if "frame_hex" in d:
            inputs.append(Input(f"raw frame #{i + 1}", f"raw-{i + 1}".encode(),
                                bytes.fromhex(d["frame_hex"]), expected=exp))
            continue
        value = encode_declaration(d, decl_schema)
        inputs.append(Input(f"{d['declaration_id']} v{d['version']} (line {i + 1})",
                            d["declaration_id"].encode(), value, decl=d, expected=exp))
    good = next((x.value for x in inputs if x.decl is not None and len(x.value) > 12), None)
    if good is None:  # a set of raw frames only: borrow a minimal valid-looking body
        good = frame(DECLARATION_SCHEMA_ID, b"\x02" * 40)
    return inputs + malformed_inputs(good)


# ------------------------------------------------------------------------------ kafka


def produce(bootstrap, topic, inputs):
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                  "acks": "all", "linger.ms": 5})
    errors = []

    def on_delivery(err, msg, inp):
        if err is not None:
            errors.append(f"{inp.label}: {err}")
        else:
            inp.partition, inp.offset = msg.partition(), msg.offset()

    for inp in inputs:
        while True:
            try:
                p.produce(topic, key=inp.key, value=inp.value,
                          on_delivery=lambda err, msg, inp=inp: on_delivery(err, msg, inp))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(30)
    if left:
        errors.append(f"{left} message(s) still undelivered after 30 s")
    errors += [f"{i.label}: no delivery report" for i in inputs
               if i.partition is None and not left]
    return errors


def drain(bootstrap, topics, idle_s=0.5, overall_s=60.0):
    """Read every record of `topics` from the beginning (read_committed).

    Returns ({topic: [(partition, offset, value)]}, problems). Stops once every partition
    has reported end-of-partition and nothing new has arrived for `idle_s` seconds.
    """
    c = Consumer({"bootstrap.servers": bootstrap,
                  "group.id": f"floorgate-e2e-check-{uuid.uuid4()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "enable.partition.eof": True, "isolation.level": "read_committed"})
    out = {t: [] for t in topics}
    problems = []
    try:
        md = c.list_topics(timeout=10)
        tps = []
        for t in topics:
            if t not in md.topics or md.topics[t].error is not None:
                problems.append(f"topic {t} missing")
                continue
            tps += [TopicPartition(t, p, 0) for p in md.topics[t].partitions]
        c.assign(tps)
        pending = {(tp.topic, tp.partition) for tp in tps}
        deadline = time.time() + overall_s
        last_new = time.time()
        while time.time() < deadline:
            msg = c.poll(0.2)
            if msg is None:
                if not pending and time.time() - last_new >= idle_s:
                    break
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    pending.discard((msg.topic(), msg.partition()))
                else:
                    problems.append(f"consume error: {msg.error()}")
                continue
            out[msg.topic()].append((msg.partition(), msg.offset(), msg.value() or b""))
            last_new = time.time()
        else:
            problems.append(f"outputs not drained within {overall_s:.0f} s "
                            f"(partitions never at end: {sorted(pending)})")
    finally:
        c.close()
    return out, problems


# ------------------------------------------------------------------------------ floorgate


def write_config(path, bootstrap, set_name, topics, data_dir, schema_dir):
    lines = [
        f"# Generated by tests/e2e/test_kafka_e2e.py for case set {set_name}.",
        f"kafka.bootstrap.servers = {bootstrap}",
        f"kafka.group.id = floorgate-e2e-{set_name}-{uuid.uuid4().hex[:8]}",
        "kafka.auto.offset.reset = earliest",
        f"input.topic = {topics['input']}",
        f"output.topic = {topics['output']}",
        f"deadletter.topic = {topics['deadletter']}",
        f"data.dir = {data_dir}",
        f"schema.dir = {schema_dir}",
        "run.exit_on_eof = true",
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def run_floorgate(binary, conf, logpath, timeout_s):
    """Run floorgate; returns a list of problems (empty when it exited 0 in time)."""
    with open(logpath, "wb") as logf:
        t0 = time.time()
        try:
            proc = subprocess.Popen([binary, "run", "-c", conf], stdin=subprocess.DEVNULL,
                                    stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            return [f"cannot run {binary}: {e}"]
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            return [f"did not exit within {timeout_s} s (killed); log: {logpath}"] + tail(logpath)
        except BaseException:  # Ctrl-C: it runs in its own session, so it must be ended here
            stop_group(proc)
            raise
    log(f"floorgate exited {rc} after {time.time() - t0:.1f} s (log: {logpath})")
    if rc != 0:
        return [f"exit status {rc}; log: {logpath}"] + tail(logpath)
    return []


def stop_group(proc):
    """SIGTERM floorgate's process group, SIGKILL it 10 s later if it is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return ["log| " + ln for ln in lines[-n:]]


# ------------------------------------------------------------------------------ checks


def money(x):
    """A decimal output field (Decimal from fastavro) or an expected string, as Decimal."""
    if x is None:
        return None
    if isinstance(x, decimal.Decimal):
        return x
    return decimal.Decimal(str(x))


def show(x):
    if isinstance(x, decimal.Decimal):
        return format(x, "f")
    return repr(x)


def as_date(x):
    if isinstance(x, datetime.date):
        return x
    if isinstance(x, int):  # an assessment schema without the logical type
        return datetime.date(1970, 1, 1) + datetime.timedelta(days=x)
    return datetime.date.fromisoformat(str(x))


def same(exp, got):
    """Compare an expected.jsonl value with a decoded one (money compared as decimals)."""
    if isinstance(exp, str) and isinstance(got, decimal.Decimal):
        try:
            return decimal.Decimal(exp) == got
        except decimal.InvalidOperation:
            return False
    return exp == got


def compare_assessment(label, exp, rec):
    problems = []
    lines_exp = exp.get("lines", [])
    lines_got = rec.get("lines") or []
    for k, v in exp.items():
        if k == "lines":
            continue
        if k not in rec:
            problems.append(f"{label}: assessment has no field {k!r}")
        elif not same(v, rec[k]):
            problems.append(f"{label}: {k} expected {v!r}, got {show(rec[k])}")
    if len(lines_exp) != len(lines_got):
        problems.append(f"{label}: {len(lines_exp)} lines expected, got {len(lines_got)}")
    for le, lg in zip(lines_exp, lines_got):
        item = le.get("item_no", "?")
        for k, v in le.items():
            if k not in lg:
                problems.append(f"{label} item {item}: line has no field {k!r}")
            elif not same(v, lg[k]):
                problems.append(f"{label} item {item}: {k} expected {v!r}, got {show(lg[k])}")
    return problems


def check_set(res, name, inputs, input_topic, outputs, registry, run_ok=True):
    """All checks on the outputs of one case set.

    When floorgate did not finish cleanly only the coverage check runs (it lists what is
    missing); the others would pass or fail for no telling reason, so they are skipped.
    """
    by_pos = {(i.partition, i.offset): i for i in inputs}
    got = {}            # (partition, offset) -> [(kind, record, where)]
    decode_problems = []
    for kind, topic in (("assessment", "output"), ("deadletter", "deadletter")):
        for part, off, value in outputs[topic]:
            where = f"{kind} at {outputs['names'][topic]}[{part}]@{off}"
            try:
                _, rec = unframe(value, registry)
            except ValueError as e:
                decode_problems.append(f"{where}: {e}")
                continue
            missing = [f for f in ("source_topic", "source_partition", "source_offset")
                       if f not in rec]
            if missing:
                decode_problems.append(f"{where}: no field(s) {missing}")
                continue
            if rec["source_topic"] != input_topic:
                decode_problems.append(f"{where}: source_topic {rec['source_topic']!r}, "
                                       f"expected {input_topic!r}")
            key = (rec["source_partition"], rec["source_offset"])
            got.setdefault(key, []).append((kind, rec, where))

    # 1. Every input position has exactly one output; no output for anything else.
    problems = list(decode_problems)
    for pos, inp in sorted(by_pos.items()):
        outs = got.get(pos, [])
        if not outs:
            problems.append(f"{inp.label} at partition {pos[0]} offset {pos[1]}: no output")
        elif len(outs) > 1:
            problems.append(f"{inp.label} at partition {pos[0]} offset {pos[1]}: "
                            f"{len(outs)} outputs ({', '.join(o[2] for o in outs)})")
    for pos, outs in sorted(got.items()):
        if pos not in by_pos:
            problems.append(f"output for partition {pos[0]} offset {pos[1]}, which the test "
                            f"did not produce ({outs[0][2]})")
    n_out = sum(len(v) for v in outputs.values() if isinstance(v, list))
    res.check(f"[{name}] one output per input ({len(inputs)} inputs, {n_out} outputs)",
              problems)
    if not run_ok:
        res.skip(f"[{name}] checks on the outputs' content", "floorgate did not finish cleanly")
        return

    def only(inp):
        outs = got.get((inp.partition, inp.offset), [])
        return outs[0] if len(outs) == 1 else None

    # 2. Dead letters: the original bytes, untouched; ids when the body decoded.
    problems = []
    n_dl = 0
    for inp in inputs:
        o = only(inp)
        if o is None or o[0] != "deadletter":
            continue
        n_dl += 1
        rec = o[1]
        for f in ("reason", "message", "payload"):
            if f not in rec:
                problems.append(f"{inp.label}: dead letter has no field {f!r}")
        if rec.get("payload") != inp.value:
            problems.append(f"{inp.label}: payload differs from the input "
                            f"({len(rec.get('payload') or b'')} vs {len(inp.value)} bytes)")
        if inp.decl is not None:
            for f in ("declaration_id", "version"):
                if rec.get(f) is not None and rec[f] != inp.decl[f]:
                    problems.append(f"{inp.label}: dead letter {f} {rec[f]!r}, "
                                    f"input has {inp.decl[f]!r}")
    res.check(f"[{name}] dead letters carry the input bytes ({n_dl} dead letters)", problems)

    # 3. The malformed frames.
    problems = []
    for inp in inputs:
        if inp.malformed_reason is None:
            continue
        o = only(inp)
        if o is None:
            problems.append(f"{inp.label}: no single output")
        elif o[0] != "deadletter":
            problems.append(f"{inp.label}: got an assessment, expected dead letter "
                            f"{inp.malformed_reason}")
        elif o[1].get("reason") != inp.malformed_reason:
            problems.append(f"{inp.label}: reason {o[1].get('reason')!r}, expected "
                            f"{inp.malformed_reason!r}")
    res.check(f"[{name}] malformed frames are dead-lettered with the right reason", problems)

    # 4. Assessments agree with their declarations and add up.
    problems = []
    versions = set()
    hexre = re.compile(r"^[0-9a-fA-F]+$")
    n_as = 0
    for inp in inputs:
        o = only(inp)
        if o is None or o[0] != "assessment":
            continue
        n_as += 1
        rec, d = o[1], inp.decl
        if d is None:
            problems.append(f"{inp.label}: assessed, but it is not a declaration")
            continue
        for f in ("declaration_id", "version"):
            if rec.get(f) != d[f]:
                problems.append(f"{inp.label}: {f} {rec.get(f)!r}, input has {d[f]!r}")
        try:
            if as_date(rec.get("acceptance_date")) != datetime.date.fromisoformat(
                    d["acceptance_date"]):
                problems.append(f"{inp.label}: acceptance_date {rec.get('acceptance_date')!r}")
        except (TypeError, ValueError):
            problems.append(f"{inp.label}: acceptance_date {rec.get('acceptance_date')!r}")
        lines = rec.get("lines") or []
        if [ln.get("item_no") for ln in lines] != [ln["item_no"] for ln in d["lines"]]:
            problems.append(f"{inp.label}: line item_nos {[ln.get('item_no') for ln in lines]}"
                            f", input has {[ln['item_no'] for ln in d['lines']]}")
        try:
            for tot, f in (("total_value_usd", "value_usd"), ("total_base_duty", "base_duty"),
                           ("total_floor_duty", "floor_duty"), ("total_duty", "line_duty")):
                s = sum((money(ln.get(f)) for ln in lines), decimal.Decimal(0))
                if money(rec.get(tot)) != s:
                    problems.append(f"{inp.label}: {tot} {show(rec.get(tot))} is not the sum "
                                    f"of the lines' {f} ({s})")
            for ln in lines:
                if money(ln.get("line_duty")) != money(ln.get("base_duty")) + money(
                        ln.get("floor_duty")):
                    problems.append(f"{inp.label} item {ln.get('item_no')}: line_duty is not "
                                    "base_duty + floor_duty")
        except (TypeError, decimal.InvalidOperation) as e:
            problems.append(f"{inp.label}: money fields not decimal: {e}")
        rdv = rec.get("reference_data_version")
        if not isinstance(rdv, str) or not hexre.match(rdv):
            problems.append(f"{inp.label}: reference_data_version {rdv!r} is not hex")
        versions.add(rdv)
    if len(versions) > 1:
        problems.append(f"reference_data_version differs within one run: {sorted(map(str, versions))}")
    res.check(f"[{name}] assessments match their declarations and add up ({n_as} assessments)",
              problems)

    # 5. Outcomes against expected.jsonl.
    with_expected = [i for i in inputs if i.expected is not None]
    if not with_expected:
        res.skip(f"[{name}] outcomes match expected.jsonl", "no expected.jsonl")
        return
    problems = []
    for inp in with_expected:
        exp = inp.expected
        o = only(inp)
        if o is None:
            problems.append(f"{inp.label}: no single output to compare")
            continue
        kind, rec, _ = o
        if "dlq" in exp:
            if kind != "deadletter":
                problems.append(f"{inp.label}: expected dead letter {exp['dlq']}, got an "
                                "assessment")
            elif rec.get("reason") != exp["dlq"]:
                problems.append(f"{inp.label}: reason {rec.get('reason')!r}, expected "
                                f"{exp['dlq']!r}")
        elif "assessment" in exp:
            if kind != "assessment":
                problems.append(f"{inp.label}: expected an assessment, got dead letter "
                                f"{rec.get('reason')!r} ({rec.get('message')!r})")
            else:
                for f in ("declaration_id", "version"):
                    if f in exp and rec.get(f) != exp[f]:
                        problems.append(f"{inp.label}: {f} {rec.get(f)!r}, expected {exp[f]!r}")
                problems += compare_assessment(inp.label, exp["assessment"], rec)
        else:
            problems.append(f"{inp.label}: expected line has neither 'dlq' nor 'assessment'")
    res.check(f"[{name}] outcomes match expected.jsonl ({len(with_expected)} declarations)",
              problems)


# ------------------------------------------------------------------------------ main


def find_case_sets(res, shared_dir):
    sets = []
    public = os.path.join(shared_dir, "cases", "public")
    pub_decl = os.path.join(public, "declarations.jsonl")
    if os.path.isfile(pub_decl):
        exp = os.path.join(public, "expected.jsonl")
        sets.append({"name": "public", "declarations": pub_decl,
                     "expected": exp if os.path.isfile(exp) else None,
                     "data": os.path.join(public, "data")})
    else:
        res.skip("[public] cases", f"{pub_decl} not found")
    own = os.path.join(ROOT, "tests", "cases")
    if os.path.isdir(own):
        for x in sorted(os.listdir(own)):
            d = os.path.join(own, x, "declarations.jsonl")
            if not os.path.isfile(d):
                continue
            exp = os.path.join(own, x, "expected.jsonl")
            sets.append({"name": re.sub(r"[^A-Za-z0-9._-]", "_", x), "declarations": d,
                         "expected": exp if os.path.isfile(exp) else None,
                         "data": os.path.join(own, x, "data")})
    return sets


def topics_for(set_name, suffix=""):
    """The public set uses declarations/assessments/deadletters, set X uses <topic>.X."""
    tail = ("" if set_name == "public" else f".{set_name}") + suffix
    return {"input": f"declarations{tail}", "output": f"assessments{tail}",
            "deadletter": f"deadletters{tail}"}


def check_sigterm(res, bootstrap, binary, schema_dir, work, case, input_topic, n_inputs,
                  partitions):
    """A long-running `floorgate run` (no exit_on_eof) stops cleanly on SIGTERM:
    exit 0 within 30 s, after committing offsets that cover every input it answered."""
    name = "sigterm"
    topics = {"input": input_topic, "output": f"assessments.{name}",
              "deadletter": f"deadletters.{name}"}
    create_topics(bootstrap, [topics["output"], topics["deadletter"]], partitions)
    conf = os.path.join(work, f"{name}.conf")
    write_config(conf, bootstrap, name, topics, os.path.abspath(case["data"]), schema_dir)
    with open(conf, encoding="utf-8") as f:
        text = f.read().replace("run.exit_on_eof = true", "run.exit_on_eof = false")
    text += "run.progress_interval_ms = 300\n"
    group = [l.split("=", 1)[1].strip() for l in text.splitlines()
             if l.startswith("kafka.group.id")][0]
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    logpath = os.path.join(work, f"{name}.log")
    problems = []
    with open(logpath, "wb") as logf:
        proc = subprocess.Popen([binary, "run", "-c", conf], stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # Wait until every input has its output, then ask it to stop.
            deadline = time.time() + 90
            while time.time() < deadline:
                outs, _ = drain(bootstrap, [topics["output"], topics["deadletter"]],
                                idle_s=0.3, overall_s=10)
                if sum(len(v) for v in outs.values()) >= n_inputs:
                    break
                time.sleep(0.5)
            else:
                problems.append("outputs did not all appear within 90 s")
            time.sleep(1.5)  # idle: the progress lines' rate falls to 0
            t0 = time.time()
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
            log(f"floorgate exited {rc} {time.time() - t0:.1f} s after SIGTERM")
            if rc != 0:
                problems.append(f"exit status {rc} after SIGTERM; log: {logpath}")
        except subprocess.TimeoutExpired:
            stop_group(proc)
            problems.append("did not exit within 30 s of SIGTERM")
    # The progress lines give the current rate (0 once idle); the last one the average.
    with open(logpath, encoding="utf-8", errors="replace") as f:
        lines = [l for l in f.read().splitlines() if l.startswith("in ") and "decl/s" in l]
    progress = []
    if len(lines) < 3 or not lines[-2].endswith(" 0 decl/s"):
        progress.append(f"no idle progress line ending ' 0 decl/s' before the stop: {lines[-3:]}")
    m = re.search(r" ([0-9]+) decl/s on average$", lines[-1]) if lines else None
    if not m or int(m.group(1)) == 0:
        progress.append(f"the last progress line is not a non-zero average: {lines[-1:]}")
    res.check("[sigterm] progress lines: the current rate (0 while idle), at the end the average",
              progress)
    if not problems:
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        md = c.list_topics(input_topic, timeout=10)
        tps = [TopicPartition(input_topic, p) for p in md.topics[input_topic].partitions]
        for tp in c.committed(tps, timeout=10):
            lo, hi = c.get_watermark_offsets(tp, timeout=10)
            if hi > lo and tp.offset != hi:
                problems.append(f"partition {tp.partition}: committed {tp.offset}, end {hi}")
        c.close()
    res.check("[sigterm] SIGTERM: exit 0 after committing every answered input", problems)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", default=os.environ.get("FG_E2E_BOOTSTRAP", "127.0.0.1:29092"))
    ap.add_argument("--floorgate", default=os.environ.get("FLOORGATE", "build/floorgate"),
                    help="floorgate binary (relative paths from the repo root)")
    ap.add_argument("--schema-dir", default=os.path.join(ROOT, "schemas", "registry"),
                    help="<id>.avsc writer schemas, given to floorgate and used to decode")
    ap.add_argument("--declaration-schema",
                    default=os.path.join(ROOT, "schemas", "declaration.avsc"))
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"),
                    help="the shared/ folder beside the repo")
    ap.add_argument("--work", default=os.path.join(ROOT, os.environ.get("FG_BUILD", "build"),
                                                   "e2e"),
                    help="where configs and floorgate logs go")
    ap.add_argument("--timeout", type=float,
                    default=float(os.environ.get("FG_E2E_TIMEOUT", "120")),
                    help="seconds floorgate may run per case set")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--topic-suffix", default="",
                    help="appended to every topic name (to rerun against a used broker)")
    args = ap.parse_args()

    res = Results()
    binary = args.floorgate if os.path.isabs(args.floorgate) else os.path.join(ROOT,
                                                                             args.floorgate)
    schema_dir = os.path.abspath(args.schema_dir)
    os.makedirs(args.work, exist_ok=True)
    decl_schema = load_schema(args.declaration_schema)
    registry = Registry(schema_dir)
    reg1 = os.path.join(schema_dir, f"{DECLARATION_SCHEMA_ID}.avsc")
    if os.path.isfile(reg1):
        same_schema = (fastavro.schema.to_parsing_canonical_form(load_schema(reg1))
                       == fastavro.schema.to_parsing_canonical_form(decl_schema))
        if not same_schema:
            print(f"e2e: warning: {reg1} differs from {args.declaration_schema}; "
                  "inputs are written with the latter", flush=True)

    sets = find_case_sets(res, args.shared)
    if not sets:
        print("e2e: no case sets found (no ../shared/cases/public, no tests/cases/*/"
              "declarations.jsonl)")
    for case in sets:
        name = case["name"]
        topics = topics_for(name, args.topic_suffix)
        log(f"case set {name}: {case['declarations']}")
        try:
            inputs = build_inputs(case, decl_schema)
        except (ValueError, KeyError, TypeError, decimal.InvalidOperation) as e:
            res.check(f"[{name}] encode declarations", [f"{type(e).__name__}: {e}"])
            continue
        create_topics(args.bootstrap, list(topics.values()), args.partitions)
        errs = produce(args.bootstrap, topics["input"], inputs)
        parts = sorted({i.partition for i in inputs if i.partition is not None})
        log(f"produced {len(inputs)} messages to {topics['input']} (partitions {parts})")
        if not res.check(f"[{name}] produce {len(inputs)} inputs", errs):
            continue
        conf = os.path.join(args.work, f"{name}.conf")
        write_config(conf, args.bootstrap, name, topics, os.path.abspath(case["data"]),
                     schema_dir)
        if not os.access(binary, os.X_OK):
            res.check(f"[{name}] floorgate run exits 0", [
                f"{binary} is not an executable file (build it first, or set FLOORGATE)"])
            continue
        run_ok = res.check(f"[{name}] floorgate run exits 0",
                           run_floorgate(binary, conf, os.path.join(args.work, f"{name}.log"),
                                         args.timeout))
        outputs, errs = drain(args.bootstrap, [topics["output"], topics["deadletter"]])
        n = len(outputs[topics["output"]]) + len(outputs[topics["deadletter"]])
        log(f"read {len(outputs[topics['output']])} assessments, "
            f"{len(outputs[topics['deadletter']])} dead letters ({n} total)")
        if errs:
            res.check(f"[{name}] read outputs", errs)
        outs = {"output": outputs[topics["output"]],
                "deadletter": outputs[topics["deadletter"]],
                "names": {"output": topics["output"], "deadletter": topics["deadletter"]}}
        check_set(res, name, inputs, topics["input"], outs, registry, run_ok)

    edge = [c for c in sets if c["name"] == "edge"]
    if edge and os.access(binary, os.X_OK):
        n = sum(1 for _ in build_inputs(edge[0], decl_schema))
        check_sigterm(res, args.bootstrap, binary, schema_dir, args.work, edge[0],
                      topics_for("edge", args.topic_suffix)["input"], n, args.partitions)

    print(res.summary())
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("e2e: interrupted", file=sys.stderr)
        sys.exit(130)
