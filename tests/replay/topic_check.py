#!/usr/bin/env python3
"""Replay of a topic equals what `floorgate run` recorded for it, byte for byte.

Against a running broker (tests/replay/topic.sh starts one):
  1. produces generated declarations (plus two malformed messages) to a 3-partition
     topic, the first half stamped T0, the second half T0 + 60 s;
  2. runs `floorgate run` over it (exit_on_eof) and drains its assessments and dead
     letters: the live record, keyed by source (partition, offset);
  3. `floorgate replay --topic --offsets` (every offset) to files: each output's
     record bytes equal the live payload after its 5-byte frame, one per input;
  4. `floorgate replay --from T0+30s`: exactly the second half, same bytes;
  5. `floorgate replay --produce` to other topics: the framed payloads equal the live ones;
  6. `floorgate replay --version as-recorded` with the live outputs as the record;
  7. the live group's committed offsets did not move through all of it.
Prints one line per check (ok/FAIL) and exits 1 on any failure.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import time
import uuid

import fastavro
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "pylib"))
import ocfraw  # noqa: E402
from fgkafka import committed, create_topics  # noqa: E402

T0 = 1780000000000  # 2026-05-28T20:26:40Z
failures = 0


def check(name, problems):
    global failures
    if problems:
        failures += 1
        print(f"FAIL {name}")
        for p in problems[:10]:
            print(f"     {p}")
    else:
        print(f"ok   {name}")


def drain(bootstrap, topic, expect):
    """Every record of topic: [(partition, offset, value)], stopping once `expect` are read."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"replay-check-{uuid.uuid4()}",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    md = c.list_topics(topic, timeout=10)
    c.assign([TopicPartition(topic, p, 0) for p in md.topics[topic].partitions])
    out, eof = [], set()
    deadline = time.time() + 60
    while time.time() < deadline and not (len(out) >= expect and
                                          len(eof) == len(md.topics[topic].partitions)):
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
            continue
        eof.discard(m.partition())
        out.append((m.partition(), m.offset(), m.value()))
    c.close()
    return out


def body_source(schema, body):
    rec = fastavro.schemaless_reader(io.BytesIO(body), schema, None)
    return rec["source_partition"], rec["source_offset"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--floorgate", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=4000)
    a = ap.parse_args()
    fg, work, bs = a.floorgate, a.work, a.bootstrap
    sfx = uuid.uuid4().hex[:6]
    tin, tout, tdlq = f"decl-{sfx}", f"assess-{sfx}", f"dead-{sfx}"
    rout, rdlq = f"rassess-{sfx}", f"rdead-{sfx}"
    create_topics(bs, [tin, tout, tdlq, rout, rdlq], 3)
    schemas = {n: fastavro.parse_schema(json.load(open(f"schemas/{n}.avsc")))
               for n in ("assessment", "deadletter")}

    # 1. inputs: the generator's bodies, framed with schema id 1, keyed by declaration id
    gen = os.path.join(work, "gen.avro")
    subprocess.run([fg, "gen", "--count", str(a.count), "--seed", "31", "--out", gen], check=True)
    msgs = [(rec["declaration_id"].encode(), b"\0\0\0\0\1" + raw)
            for raw, rec in ocfraw.records(gen)]
    msgs.insert(10, (b"junk", b"\x07not a frame"))
    msgs.insert(20, (None, b"\0\0\0\0\x63" + msgs[0][1][5:]))  # unknown schema id 99
    half = len(msgs) // 2
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "linger.ms": 5})
    for i, (k, v) in enumerate(msgs):
        p.produce(tin, key=k, value=v, timestamp=T0 if i < half else T0 + 60000)
        p.poll(0)
    left = p.flush(30)
    check("inputs produced", [f"{left} undelivered"] if left else [])

    # 2. the live run
    group = f"live-{sfx}"
    conf = os.path.join(work, "live.conf")
    with open(conf, "w") as f:
        f.write(f"kafka.bootstrap.servers = {bs}\nkafka.group.id = {group}\n"
                f"kafka.auto.offset.reset = earliest\ninput.topic = {tin}\n"
                f"output.topic = {tout}\ndeadletter.topic = {tdlq}\ndata.dir = data\n"
                f"schema.dir = schemas/registry\nrun.exit_on_eof = true\n")
    r = subprocess.run([fg, "run", "-c", conf], capture_output=True, timeout=120)
    check("floorgate run over the topic", [] if r.returncode == 0 else
          [f"exit {r.returncode}", r.stderr.decode()[-800:]])
    live = {}
    for topic, kind in ((tout, "assessment"), (tdlq, "deadletter")):
        for _, _, v in drain(bs, topic, 0 if kind == "deadletter" else 1):
            live[body_source(schemas[kind], v[5:])] = (kind, v)
    check("live run answered every input once", [] if len(live) == len(msgs) else
          [f"{len(live)} outputs for {len(msgs)} inputs"])

    committed_before = committed(bs, group, [tin])

    def replay(extra, out_prefix, tables=("--data", "data")):
        cmd = [fg, "replay", "--topic", tin, *tables, "-X",
               f"kafka.bootstrap.servers={bs}", "-X", "schema.dir=schemas/registry",
               "--workers", "2", "--batch-size", "100"] + extra
        if out_prefix:
            cmd += ["--out", f"{out_prefix}-a.avro", "--dlq", f"{out_prefix}-d.avro"]
        return subprocess.run(cmd, capture_output=True, timeout=120)

    def compare(out_prefix, want):
        problems, seen = [], set()
        for suffix, kind in (("a", "assessment"), ("d", "deadletter")):
            for raw, rec in ocfraw.records(f"{out_prefix}-{suffix}.avro"):
                src = (rec["source_partition"], rec["source_offset"])
                if rec["source_topic"] != tin:
                    problems.append(f"{src}: source_topic {rec['source_topic']!r}")
                if src in seen:
                    problems.append(f"{src}: twice")
                seen.add(src)
                lk = live.get(src)
                if lk is None:
                    problems.append(f"{src}: not in the live outputs")
                elif lk[0] != kind or lk[1][5:] != raw:
                    problems.append(f"{src}: {kind} differs from the live {lk[0]}")
        missing = want - seen
        if missing:
            problems.append(f"{len(missing)} inputs without a replayed output, e.g. "
                            f"{sorted(missing)[:3]}")
        return problems

    # 3. every offset
    md = AdminClient({"bootstrap.servers": bs}).list_topics(tin, timeout=10)
    c = Consumer({"bootstrap.servers": bs, "group.id": "wm"})
    ranges, all_src = [], set()
    for part in md.topics[tin].partitions:
        lo, hi = c.get_watermark_offsets(TopicPartition(tin, part), timeout=10)
        if hi > lo:
            ranges.append(f"{part}:{lo}-{hi - 1}")
            all_src |= {(part, o) for o in range(lo, hi)}
    c.close()
    pre = os.path.join(work, "all")
    r = replay(["--offsets", ",".join(ranges)], pre)
    check("replay --offsets (every offset) exits 0", [] if r.returncode == 0 else
          [r.stderr.decode()[-800:]])
    check("replay --offsets equals the live outputs byte for byte, one per input",
          compare(pre, all_src) if r.returncode == 0 else ["no output"])

    # 4. a time range: the second half only
    pre = os.path.join(work, "late")
    r = replay(["--from", str(T0 + 30000), "--to", str(T0 + 120000)], pre)
    late = set()
    if r.returncode == 0:
        # which offsets carry the later timestamp: read them back
        cc = Consumer({"bootstrap.servers": bs, "group.id": f"ts-{sfx}",
                       "enable.partition.eof": True})
        cc.assign([TopicPartition(tin, int(x.split(":")[0]), 0) for x in ranges])
        eof, deadline = 0, time.time() + 30
        while eof < len(ranges) and time.time() < deadline:
            m = cc.poll(0.2)
            if m is None:
                continue
            if m.error():
                eof += m.error().code() == KafkaError._PARTITION_EOF
                continue
            if m.timestamp()[1] >= T0 + 30000:
                late.add((m.partition(), m.offset()))
        cc.close()
    check("replay --from/--to reads exactly the messages stamped in the range",
          (compare(pre, late) + ([] if len(late) == len(msgs) - half else
                                 [f"{len(late)} late messages, wanted {len(msgs) - half}"]))
          if r.returncode == 0 else [r.stderr.decode()[-800:]])

    # 5. to topics
    r = replay(["--produce", "-X", f"output.topic={rout}", "-X", f"deadletter.topic={rdlq}"], None)
    problems = [] if r.returncode == 0 else [r.stderr.decode()[-800:]]
    got = {}
    for topic, kind in ((rout, "assessment"), (rdlq, "deadletter")):
        for _, _, v in drain(bs, topic, 1):
            got[body_source(schemas[kind], v[5:])] = (kind, v)
    if got != live:
        diff = [s for s in set(got) | set(live) if got.get(s) != live.get(s)]
        problems.append(f"{len(diff)} outputs differ from the live ones, e.g. {sorted(diff)[:3]}")
    check("replay --produce writes the same framed payloads as the live run", problems)

    # 6. as-recorded, keyed by (partition, offset): the live outputs, dumped to files,
    #    name the version; the store holds it
    store = os.path.join(work, "store")
    r0 = subprocess.run([fg, "data", "add", "data", "--store", store, "--effective", "2026-01-01",
                         "--by", "replay-test"], capture_output=True, timeout=60)
    recorded = []
    for kind, name in (("assessment", "rec-a.avro"), ("deadletter", "rec-d.avro")):
        path = os.path.join(work, name)
        write_ocf(path, json.dumps(json.load(open(f"schemas/{kind}.avsc"))),
                  [v[5:] for k, v in live.values() if k == kind])
        recorded.append(path)
    pre = os.path.join(work, "asrec")
    r = replay(["--offsets", ",".join(ranges), "--recorded"] + recorded, pre,
               tables=("--store", store, "--version", "as-recorded")) if r0.returncode == 0 else r0
    check("replay --version as-recorded from a topic uses the versions the live outputs name",
          compare(pre, all_src) if r.returncode == 0 else [r.stderr.decode()[-800:]])

    # 7. the live group never moved
    after = committed(bs, group, [tin])
    check("the live group's committed offsets did not move",
          [] if after == committed_before and after else [f"{committed_before} -> {after}"])
    print(f"replay-topic: {'FAILED' if failures else 'all passed'}")
    return 1 if failures else 0


def write_ocf(path, schema_json, bodies):
    """A null-codec Avro container of already-encoded bodies, in one block."""
    def zz(n):
        n = (n << 1) ^ (n >> 63)
        out = bytearray()
        while n >= 0x80:
            out.append((n & 0x7f) | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)

    def b(x):
        return zz(len(x)) + x
    sync = os.urandom(16)
    data = b"".join(bodies)
    with open(path, "wb") as f:
        f.write(b"Obj\x01" + zz(2) + b(b"avro.codec") + b(b"null") + b(b"avro.schema") +
                b(schema_json.encode()) + zz(0) + sync)
        if bodies:
            f.write(zz(len(bodies)) + zz(len(data)) + data + sync)



if __name__ == "__main__":
    sys.exit(main())
