#!/usr/bin/env python3
"""Fault tests of `floorgate run` on a real 3-broker Kafka cluster (tests/faults/run.sh).

Every scenario produces a known set of declarations from a client that is not floorgate
(made with `floorgate gen`, Confluent-framed here), injects one fault while floorgate is
working, lets floorgate finish, reads both output topics at read_committed and checks,
input offset by input offset (outputs carry source_topic/partition/offset):

  exactly_once   exactly one assessment or dead letter per input;
  at_least_once  at least one, and every repeat byte-identical to the first;
  both           nothing for a position the test did not produce, nothing for an input no
                 run consumed, and every output equal (apart from where it came from) to
                 what `floorgate assess` makes of the same declaration in file mode with
                 the reference data the output names in reference_data_version.

Scenarios (names as printed):
  crash-restart    kill -9 of floorgate mid-stream, restart with run.max_messages (clean
                   stop: nothing past the committed offsets is answered), restart to EOF
  group-failover   two instances in one group, one killed with kill -9; the survivor takes
                   its partitions and answers every input
  broker-kill      the group coordinator's broker killed (kill -9) mid-stream and started
                   again; leaders move twice
  poison           truncated frames, unknown schema ids, garbage, invalid declarations, a
                   null and an empty value, an enormous message: all dead-lettered with the
                   input bytes, nothing blocks its partition, exit 0
  reload           the files in data.dir replaced and SIGHUP sent mid-stream (mid
                   transaction in exactly_once): every assessment's numbers match the data
                   set its reference_data_version names, and both sets were used
  tls-sasl         floorgate over SASL_SSL (PLAIN) assesses, and the SASL password appears
                   nowhere in its output (progress lines, final stats, errors, librdkafka
                   logs)

Each scenario runs in exactly_once mode when this floorgate knows processing.guarantee
(SKIP otherwise) and in at_least_once mode. Prints `PASS|FAIL|SKIP <scenario>/<mode> ...`
lines and ends with `faults: N passed, M failed, K skipped`; exit 1 if anything failed.
"""

import argparse
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

try:
    import fastavro
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient
    import test_kafka_e2e as e2e  # Results, schemas, framing, drain, stop_group
    from fgkafka import committed, create_topics  # on sys.path through test_kafka_e2e
except ImportError as e:  # pragma: no cover - environment problem
    print(f"faults: cannot import test dependencies ({e}); use the venv of scripts/pyenv.sh",
          file=sys.stderr)
    print("faults: 0 passed, 1 failed")
    sys.exit(1)

PARTITIONS = 4
MODES = ("exactly_once", "at_least_once")
# Fields that say where an output came from (differ between file and Kafka mode) or that
# the per-input checks compare separately (the dead letter's copy of the input).
WHERE = {"source_topic", "source_partition", "source_offset", "source_index", "source_file",
         "payload", "message"}


def log(msg):
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Results(e2e.Results):
    def summary(self):
        return "faults" + super().summary()[3:]


# ------------------------------------------------------------------------------ inputs


class Input:
    """One message the test produces; `expect` says what its output must be."""

    def __init__(self, label, key, value, index=None, reason=None):
        self.label = label
        self.key = key
        self.value = value        # bytes, or None for a null value
        self.index = index        # position in the generated file (expected outputs)
        self.reason = reason      # dead-letter reason expected for a poison input
        self.partition = None
        self.offset = None


class Expected:
    """What file mode makes of the generated declarations, per reference data set."""

    def __init__(self, binary, work, count, seed, data_dirs):
        self.avro = os.path.join(work, f"gen-{count}-{seed}.avro")
        run([binary, "gen", "--count", str(count), "--seed", str(seed), "--out", self.avro])
        with open(self.avro, "rb") as f:
            self.records = list(fastavro.reader(f))
        self.by_version = {}   # reference_data_version -> {index: (kind, normalised record)}
        self.version_of = {}   # data set name -> its reference_data_version
        for name, d in data_dirs.items():
            a = os.path.join(work, f"expected-{name}-{count}-{seed}.a.avro")
            dl = os.path.join(work, f"expected-{name}-{count}-{seed}.d.avro")
            run([binary, "assess", "--quiet", "--data", d, "--in", self.avro, "--out", a,
                 "--dlq", dl])
            outs, versions = {}, set()
            for kind, path in (("assessment", a), ("deadletter", dl)):
                with open(path, "rb") as f:
                    for rec in fastavro.reader(f):
                        outs[rec["source_index"]] = normalise(kind, rec)
                        versions.add(rec["reference_data_version"])
            if len(versions) != 1 or len(outs) != count:
                raise SystemExit(f"faults: file mode on {d}: {len(outs)} outputs for {count} "
                                 f"inputs, versions {versions}")
            self.version_of[name] = versions.pop()
            self.by_version[self.version_of[name]] = outs
        # source_index may count from 0 or 1: find the base that matches ids.
        first = next(iter(self.by_version.values()))
        self.base = 0 if all(first.get(i, (None, {}))[1].get("declaration_id") ==
                             self.records[i]["declaration_id"] for i in range(3)) else 1

    def inputs(self, decl_schema, tag):
        out = []
        for i, rec in enumerate(self.records):
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, decl_schema, rec)
            out.append(Input(f"{tag} #{i} {rec['declaration_id']} v{rec['version']}",
                             rec["declaration_id"].encode(), e2e.frame(1, buf.getvalue()),
                             index=i))
        return out

    def lookup(self, inp, version):
        outs = self.by_version.get(version)
        if outs is None:
            return None
        return outs.get(inp.index + self.base)


def normalise(kind, rec):
    return kind, {k: v for k, v in rec.items() if k not in WHERE}


def run(cmd, timeout=120):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"faults: {' '.join(cmd)} exited {p.returncode}:\n"
                         f"{p.stdout.decode(errors='replace')[-2000:]}")
    return p.stdout.decode(errors="replace")


# ------------------------------------------------------------------------------ kafka


class StreamProducer(threading.Thread):
    """Produces `inputs` in order, `rate` messages a second (0: all at once), recording
    each message's partition and offset from its delivery report."""

    def __init__(self, bootstrap, topic, inputs, rate, extra_conf=None):
        super().__init__(daemon=True)
        conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                "linger.ms": 5, "message.timeout.ms": 60000}
        conf.update(extra_conf or {})
        self.p = Producer(conf)
        self.topic, self.inputs, self.rate = topic, inputs, rate
        self.errors = []
        self.done = threading.Event()

    def run(self):
        t0 = time.time()
        try:
            for n, inp in enumerate(self.inputs):
                if self.rate:
                    ahead = t0 + n / self.rate - time.time()
                    if ahead > 0:
                        self.p.poll(ahead)
                while True:
                    try:
                        self.p.produce(self.topic, key=inp.key, value=inp.value,
                                       on_delivery=lambda err, msg, inp=inp:
                                       self._delivered(err, msg, inp))
                        break
                    except BufferError:
                        self.p.poll(0.1)
                self.p.poll(0)
            left = self.p.flush(60)
            if left:
                self.errors.append(f"{left} message(s) still undelivered after 60 s")
            self.errors += [f"{i.label}: no delivery report" for i in self.inputs
                            if i.partition is None and not left]
        except Exception as e:  # noqa: BLE001 - reported as a test problem
            self.errors.append(f"producer: {e!r}")
        finally:
            self.done.set()

    def _delivered(self, err, msg, inp):
        if err is not None:
            self.errors.append(f"{inp.label}: {err}")
        else:
            inp.partition, inp.offset = msg.partition(), msg.offset()


def high_watermarks(bootstrap, topics):
    """Sum of the high watermarks of `topics` (counts records written, committed or not).
    A partition whose leader is moving counts 0 this time (the caller polls again)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "faults-hw",
                  "enable.auto.commit": False})
    try:
        total = 0
        for t in topics:
            for p in range(PARTITIONS):
                try:
                    _, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=5,
                                                    cached=False)
                except KafkaException:
                    continue
                total += hi
        return total
    finally:
        c.close()


def leaders(bootstrap, topics):
    """{(topic, partition): leader node id} from a fresh metadata request."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    md = admin.list_topics(timeout=10)
    return {(t, p.id): p.leader for t in topics if t in md.topics
            for p in md.topics[t].partitions.values()}


def group_coordinator(bootstrap, group):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        d = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
        return d.coordinator.id
    except Exception:  # noqa: BLE001 - a fallback node is fine
        return None


# ------------------------------------------------------------------------------ floorgate


RUNNING = []   # every Floorgate started, so that an interrupted run ends them all
LOGS = set()   # log files opened by this run (a restart appends to its instance's log)


class Floorgate:
    """One `floorgate run` process in its own session, output to a log file."""

    def __init__(self, binary, conf, logpath, args=()):
        self.logpath = logpath
        self.logf = open(logpath, "ab" if logpath in LOGS else "wb")
        LOGS.add(logpath)
        self.proc = subprocess.Popen([binary, "run", "-c", conf, *args],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        RUNNING.append(self)

    def kill9(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.logf.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit status, or None (after killing it) when it did not exit in time."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Already a failure; a hung process may not answer SIGTERM either.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
            rc = None
        self.logf.close()
        return rc

    def stop(self, timeout=15):
        """SIGTERM, then the exit status (None when it needed killing)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def tail(self, n=12):
        return e2e.tail(self.logpath, n)


class Scenario:
    """Topics, config and checks of one scenario in one mode."""

    def __init__(self, h, name, mode, data_dir=None, input_config=None):
        self.h, self.name, self.mode = h, name, mode
        tag = f"{name}.{mode}.{uuid.uuid4().hex[:6]}"
        self.topics = {"input": f"in.{tag}", "output": f"as.{tag}", "deadletter": f"dl.{tag}"}
        self.group = f"floorgate-{tag}"
        self.data_dir = data_dir or os.path.join(ROOT, "data")
        self.problems = []
        create_topics(h.bootstrap, [self.topics["input"]], PARTITIONS, config=input_config)
        create_topics(h.bootstrap, [self.topics["output"], self.topics["deadletter"]],
                      PARTITIONS)
        self.nconf = 0

    def conf(self, instance, exit_on_eof, extra=None, bootstrap=None):
        self.nconf += 1
        path = os.path.join(self.h.work, f"{self.name}-{self.mode}-{self.nconf}.conf")
        lines = [
            f"kafka.bootstrap.servers = {bootstrap or self.h.bootstrap}",
            f"kafka.group.id = {self.group}",
            f"kafka.group.instance.id = {self.group}-{instance}",
            "kafka.auto.offset.reset = earliest",
            "kafka.session.timeout.ms = 3000",
            "kafka.heartbeat.interval.ms = 500",
            f"input.topic = {self.topics['input']}",
            f"output.topic = {self.topics['output']}",
            f"deadletter.topic = {self.topics['deadletter']}",
            f"data.dir = {self.data_dir}",
            f"schema.dir = {self.h.schema_dir}",
            "run.batch_size = 100",
            "run.progress_interval_ms = 1000",
            f"run.exit_on_eof = {'true' if exit_on_eof else 'false'}",
        ]
        if self.mode == "exactly_once":
            lines += ["processing.guarantee = exactly_once",
                      "run.commit_interval_ms = 500",
                      # A killed instance's open transaction must not hold back
                      # read_committed readers for the default minute.
                      "kafka.transaction.timeout.ms = 10000"]
        else:
            lines += ["processing.guarantee = at_least_once"] if self.h.eos else []
        extra = extra or {}
        lines = [ln for ln in lines if ln.split(" = ")[0] not in extra]
        lines += [f"{k} = {v}" for k, v in extra.items()]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, instance, exit_on_eof, extra=None, args=()):
        logpath = os.path.join(self.h.work, f"{self.name}-{self.mode}-{instance}.log")
        return Floorgate(self.h.binary, self.conf(instance, exit_on_eof, extra), logpath, args)

    def stream(self, inputs, rate):
        sp = StreamProducer(self.h.bootstrap, self.topics["input"], inputs, rate,
                            {"message.max.bytes": 2_000_000})
        sp.start()
        return sp

    def out_topics(self):
        return [self.topics["output"], self.topics["deadletter"]]

    def wait_written(self, n, timeout, fg=()):
        """Until the output topics hold at least n records (committed or not)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if high_watermarks(self.h.bootstrap, self.out_topics()) >= n:
                return True
            for f in fg:
                if f.proc.poll() is not None:
                    self.problems.append(f"floorgate exited {f.proc.returncode} early; "
                                         f"log {f.logpath}")
                    self.problems += f.tail()
                    return False
            time.sleep(0.1)
        self.problems.append(f"fewer than {n} outputs written within {timeout} s")
        return False

    def read(self):
        outs, errs = e2e.drain(self.h.bootstrap, self.out_topics(), idle_s=0.5, overall_s=60)
        self.problems += errs
        got, bad = {}, []
        for kind, topic in (("assessment", self.topics["output"]),
                            ("deadletter", self.topics["deadletter"])):
            for part, off, value in outs[topic]:
                where = f"{kind} at {topic}[{part}]@{off}"
                try:
                    _, rec = e2e.unframe(value, self.h.registry)
                except ValueError as e:
                    bad.append(f"{where}: {e}")
                    continue
                if rec.get("source_topic") != self.topics["input"]:
                    bad.append(f"{where}: source_topic {rec.get('source_topic')!r}")
                    continue
                got.setdefault((rec["source_partition"], rec["source_offset"]), []).append(
                    (kind, rec, value, where))
        self.problems += bad
        return got

    def covered(self, inputs):
        """Positions of `inputs` that have an output visible at read_committed."""
        got = self.read()
        return sum(1 for i in inputs if (i.partition, i.offset) in got), got

    def wait_covered(self, inputs, timeout, fg=()):
        deadline = time.time() + timeout
        n = 0
        while time.time() < deadline:
            before = len(self.problems)
            n, _ = self.covered(inputs)
            del self.problems[before:]    # drain errors while waiting are not results
            if n >= len(inputs):
                return True
            for f in fg:
                if f.proc.poll() is not None:
                    self.problems.append(f"floorgate exited {f.proc.returncode} before "
                                         f"answering every input; log {f.logpath}")
                    self.problems += f.tail()
                    return False
            time.sleep(1.0)
        self.problems.append(f"only {n} of {len(inputs)} inputs answered within {timeout} s")
        return False

    def check(self, inputs, got, versions=None, unconsumed_ok=None):
        """The per-offset checks (see the module comment). `versions`: the reference data
        versions allowed (default: any the expected outputs know)."""
        p = self.problems
        by_pos = {(i.partition, i.offset): i for i in inputs}
        self.repeated = sum(1 for pos, outs in got.items() if pos in by_pos and len(outs) > 1)
        # The input topic as it is: a record no delivery report named can be a second
        # copy of an input, which the test's idempotent producer writes when a broker
        # failure makes librdkafka bump its epoch and resend. A copy is an input like
        # any other and must be answered like the one it repeats.
        by_value = {i.value: i for i in inputs if i.partition is not None}
        topic_in, errs = e2e.drain(self.h.bootstrap, [self.topics["input"]], idle_s=0.5,
                                   overall_s=60)
        p += errs
        self.input_copies = 0
        for part, off, value in topic_in[self.topics["input"]]:
            if (part, off) not in by_pos and value in by_value:
                by_pos[(part, off)] = by_value[value]
                self.input_copies += 1
        for pos, outs in sorted(got.items()):
            if pos not in by_pos:
                p.append(f"output for partition {pos[0]} offset {pos[1]}, which the test did "
                         f"not produce ({outs[0][3]})")
        for pos, inp in sorted(by_pos.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0)):
            if inp.partition is None:
                continue   # the producer reported it
            outs = got.get(pos, [])
            if unconsumed_ok is not None and pos in unconsumed_ok:
                continue
            if not outs:
                p.append(f"{inp.label} at {pos[0]}@{pos[1]}: no output")
                continue
            if self.mode == "exactly_once" and len(outs) > 1:
                p.append(f"{inp.label} at {pos[0]}@{pos[1]}: {len(outs)} outputs "
                         f"({', '.join(o[3] for o in outs)})")
            if any(o[2] != outs[0][2] for o in outs[1:]):
                p.append(f"{inp.label} at {pos[0]}@{pos[1]}: repeated outputs differ "
                         f"({', '.join(o[3] for o in outs)})")
            kind, rec, _, where = outs[0]
            p += self.check_content(inp, kind, rec, where, versions)

    def check_content(self, inp, kind, rec, where, versions):
        if kind == "deadletter":
            payload = rec.get("payload") or b""
            value = inp.value or b""
            # An input too big to fit a dead letter under the producer's
            # message.max.bytes keeps its first bytes, and the message says so.
            cut = (len(payload) < len(value) and value.startswith(payload) and
                   f"payload truncated to its first {len(payload)} of {len(value)} bytes"
                   in (rec.get("message") or ""))
            if payload != value and not cut:
                return [f"{where}: dead letter payload is not the input's bytes "
                        f"({len(payload)} vs {len(value)} bytes)"]
        if inp.reason is not None:
            if kind != "deadletter" or rec.get("reason") != inp.reason:
                return [f"{inp.label}: {kind} {rec.get('reason')!r}, expected dead letter "
                        f"{inp.reason}"]
            return []
        if inp.index is None:
            return []
        v = rec.get("reference_data_version")
        if versions is not None and v not in versions:
            return [f"{where}: reference_data_version {v!r} is not one of {sorted(versions)}"]
        exp = self.h.expected.lookup(inp, v)
        if exp is None:
            return [f"{where}: reference_data_version {v!r} names no known data set"]
        if exp != normalise(kind, rec):
            diff = [k for k in set(exp[1]) | set(rec) if k not in WHERE
                    and exp[1].get(k) != rec.get(k)]
            return [f"{where} ({inp.label}): differs from file mode with data {v[:12]}: "
                    f"{exp[0]} vs {kind}, fields {sorted(diff)[:6]}"]
        return []

    def finish(self, title):
        rep = getattr(self, "repeated", 0)
        if rep:
            title += f", {rep} answered more than once"
        copies = getattr(self, "input_copies", 0)
        if copies:
            title += f", {copies} input(s) written twice by the test's producer"
        self.h.res.check(f"{self.name}/{self.mode} {title}", self.problems)


# ------------------------------------------------------------------------------ scenarios


def sc_crash_restart(h, mode):
    s = Scenario(h, "crash-restart", mode)
    inputs = h.expected.inputs(h.decl_schema, "crash-restart")
    n = len(inputs)
    sp = s.stream(inputs, rate=n / 4.0)
    fg = s.start("a", exit_on_eof=False)
    if s.wait_written(n // 5, 60, [fg]):
        fg.kill9()
        log(f"crash-restart/{mode}: floorgate killed (-9) after {n // 5}+ outputs")
    else:
        fg.stop()
    sp.join(90)
    s.problems += sp.errors
    # What was answered before the restart; a clean stop after max_messages must not
    # answer anything past the offsets it commits.
    before = s.read()
    fg = s.start("a", exit_on_eof=True, extra={"run.max_messages": n // 5})
    rc = fg.wait(60)
    if rc != 0:
        s.problems += [f"restart with run.max_messages: exit {rc}"] + fg.tail()
    com = {p: off for (_, p), off in committed(h.bootstrap, s.group, [s.topics["input"]],
                                                  PARTITIONS, read_committed=True).items()}
    mid = s.read()
    for inp in inputs:
        pos = (inp.partition, inp.offset)
        c = com.get(inp.partition, -1001)
        if c < 0:
            c = 0
        if inp.offset is not None and inp.offset >= c and \
                len(mid.get(pos, [])) != len(before.get(pos, [])):
            s.problems.append(f"{inp.label} at {pos[0]}@{pos[1]}: answered by the "
                              f"max_messages run but not committed (committed {c})")
            break
    fg = s.start("a", exit_on_eof=True)
    rc = fg.wait(90)
    if rc != 0:
        s.problems += [f"restart to EOF: exit {rc}"] + fg.tail()
    s.check(inputs, s.read())
    s.finish(f"kill -9 mid-stream, restarts ({n} inputs)")


def sc_group_failover(h, mode):
    s = Scenario(h, "group-failover", mode)
    inputs = h.expected.inputs(h.decl_schema, "group-failover")
    n = len(inputs)
    fa = s.start("a", exit_on_eof=False)
    fb = s.start("b", exit_on_eof=False)
    time.sleep(2.0)      # both join before the stream starts
    sp = s.stream(inputs, rate=n / 5.0)
    if s.wait_written(n // 4, 60, [fa, fb]):
        fa.kill9()
        log(f"group-failover/{mode}: instance a killed (-9) after {n // 4}+ outputs")
    sp.join(90)
    s.problems += sp.errors
    s.wait_covered(inputs, 45, [fb])
    rc = fb.stop(15)
    if rc != 0:
        s.problems += [f"survivor: exit {rc} after SIGTERM"] + fb.tail()
    a_log = open(fa.logpath, "rb").read().decode(errors="replace")
    if not re.search(r"assigned [1-9][0-9]* partition", a_log):
        s.problems.append("the killed instance had no partitions: nothing to take over "
                          f"(log {fa.logpath})")
    s.check(inputs, s.read())
    s.finish(f"two instances, one killed, survivor takes over ({n} inputs)")


def sc_broker_kill(h, mode):
    s = Scenario(h, "broker-kill", mode)
    inputs = h.expected.inputs(h.decl_schema, "broker-kill")
    n = len(inputs)
    # The coordinator moves after the broker's 3 s session: give the consumer's session
    # room to outlive that (a 3 s one expires first; see the README on static members).
    # Its transactions get librdkafka's default minute (outputs to a partition whose
    # leader is moving can wait longer than the 10 s the other scenarios use).
    extra = {"kafka.session.timeout.ms": 10000}
    if mode == "exactly_once":
        extra["kafka.transaction.timeout.ms"] = 60000
    fg = s.start("a", exit_on_eof=False, extra=extra)
    sp = s.stream(inputs, rate=n / 8.0)
    if s.wait_written(n // 5, 60, [fg]):
        node = group_coordinator(h.bootstrap, s.group) or 2
        log(f"broker-kill/{mode}: kill -9 of node {node} (group coordinator)")
        topics = [s.topics["input"]] + s.out_topics()
        led = [tp for tp, l in leaders(h.bootstrap, topics).items() if l == node]
        h.kafka("kill-node", str(node))
        # The node's session times out and its partitions get leaders among the others.
        deadline = time.time() + 20
        while time.time() < deadline:
            now = leaders(h.bootstrap, topics)
            if all(now.get(tp, node) not in (node, -1) for tp in led):
                break
            time.sleep(0.5)
        else:
            s.problems.append(f"partitions led by node {node} got no new leader in 20 s")
        log(f"broker-kill/{mode}: {len(led)} partition leaders moved off node {node}")
        time.sleep(1.0)
        h.kafka("start-node", str(node))
        log(f"broker-kill/{mode}: node {node} back")
    sp.join(120)
    s.problems += sp.errors
    s.wait_covered(inputs, 60, [fg])
    rc = fg.stop(15)
    if rc != 0:
        s.problems += [f"exit {rc} after SIGTERM"] + fg.tail()
    s.check(inputs, s.read())
    s.finish(f"broker kill -9 and restart mid-stream ({n} inputs)")


def sc_fenced(h, mode):
    s = Scenario(h, "fenced", mode)
    inputs = h.expected.inputs(h.decl_schema, "fenced")
    n = len(inputs)
    old = s.start("a", exit_on_eof=False)
    sp = s.stream(inputs, rate=n / 5.0)
    new = None
    if s.wait_written(n // 5, 60, [old]):
        # A second instance with the same group.instance.id (a redeployed pod while the
        # old one still runs): the broker fences the old one, which must stop, not linger.
        new = Floorgate(h.binary, s.conf("a", exit_on_eof=False),
                        os.path.join(h.work, f"fenced-{mode}-new.log"))
        log(f"fenced/{mode}: second instance with the same group.instance.id started")
        rc = old.wait(15)
        if rc is None:
            s.problems += ["the fenced instance was still running 15 s after a new one took "
                           "its group.instance.id (killed)"] + old.tail(6)
        elif rc == 0:
            s.problems.append("the fenced instance exited 0; a Kafka failure is exit 1")
    sp.join(90)
    s.problems += sp.errors
    if new is not None:
        s.wait_covered(inputs, 45, [new])
        rc = new.stop(15)
        if rc != 0:
            s.problems += [f"new instance: exit {rc} after SIGTERM"] + new.tail()
    else:
        old.stop(30)
    s.check(inputs, s.read())
    s.finish(f"an instance fenced by its replacement stops, the replacement answers "
             f"everything ({n} inputs)")


def poison_inputs(h, good):
    """The poison messages, built around valid framed declarations `good`."""
    rng = random.Random(9)
    body = good[0].value[5:]
    recs = h.expected.records
    no_lines = dict(recs[0], lines=[])
    dup = dict(recs[1], lines=[recs[1]["lines"][0], recs[1]["lines"][0]])

    def enc(rec):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, h.decl_schema, rec)
        return e2e.frame(1, buf.getvalue())

    return [
        Input("poison: 3-byte frame", b"p-short", b"\x00\x00\x00", reason="DECODE_ERROR"),
        Input("poison: header only", b"p-header", e2e.frame(1, b""), reason="DECODE_ERROR"),
        Input("poison: empty value", b"p-empty", b"", reason="DECODE_ERROR"),
        Input("poison: null value", b"p-null", None, reason="DECODE_ERROR"),
        Input("poison: truncated body", b"p-trunc", good[0].value[:5 + len(body) // 2],
              reason="DECODE_ERROR"),
        Input("poison: unknown schema id 999", b"p-999", e2e.frame(999, body),
              reason="UNKNOWN_SCHEMA"),
        Input("poison: unknown schema id -1", b"p-neg", b"\x00\xff\xff\xff\xff" + body,
              reason="UNKNOWN_SCHEMA"),
        Input("poison: magic byte 7", b"p-magic", b"\x07" + good[0].value[1:],
              reason="DECODE_ERROR"),
        Input("poison: garbage bytes", b"p-garbage", bytes(rng.randrange(256) for _ in
                                                          range(300)), reason=None),
        Input("poison: schema 1, garbage body", b"p-garbody",
              e2e.frame(1, bytes(rng.randrange(256) for _ in range(500))),
              reason="DECODE_ERROR"),
        Input("poison: no lines", b"p-nolines", enc(no_lines), reason="NO_LINES"),
        Input("poison: duplicate item", b"p-dup", enc(dup), reason="DUPLICATE_ITEM"),
    ]


def enormous_input():
    """Legal for a topic with the broker's default max.message.bytes (1048588), but a
    dead letter with all of it would be over librdkafka's default producer
    message.max.bytes (1000000): floorgate keeps its first bytes and says so."""
    big = 1_040_000
    rng = random.Random(10)
    return Input(f"poison: enormous ({big} bytes, schema 1, garbage body)", b"p-big",
                 e2e.frame(1, rng.randbytes(big - 5)), reason="DECODE_ERROR")


def sc_poison(h, mode, name="poison", enormous=False):
    s = Scenario(h, name, mode)
    good = h.expected.inputs(h.decl_schema, name)[:400]
    poison = [enormous_input()] if enormous else poison_inputs(h, good)
    for p in poison:
        p.garbage = p.reason is None
    # Every poison message goes to every partition (keys pick the partition), each
    # followed by valid declarations on the same partition.
    inputs, k = [], 0
    for part in range(PARTITIONS):
        for p in poison:
            inputs.append(Input(f"{p.label} (partition {part})", p.key + b"-%d" % part,
                                p.value, reason=p.reason))
            inputs[-1].garbage = p.garbage
            inputs[-1].want_partition = part
            inputs += good[k:k + 5]
            k += 5
    inputs += good[k:]
    producer = Producer({"bootstrap.servers": h.bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5, "message.max.bytes": 2_000_000})
    # Pin each poison message to its partition; valid ones go by key.
    errors = []

    def deliver(err, msg, inp):
        if err is not None:
            errors.append(f"{inp.label}: {err}")
        else:
            inp.partition, inp.offset = msg.partition(), msg.offset()

    for inp in inputs:
        kw = {"partition": inp.want_partition} if hasattr(inp, "want_partition") else {}
        producer.produce(s.topics["input"], key=inp.key, value=inp.value,
                         on_delivery=lambda err, msg, inp=inp: deliver(err, msg, inp), **kw)
        producer.poll(0)
    if producer.flush(60):
        errors.append("poison inputs not all delivered in 60 s")
    s.problems += errors
    fg = s.start("a", exit_on_eof=True)
    rc = fg.wait(15 if enormous else 60)
    if rc != 0:
        s.problems += [f"exit {rc} (expected 0: poison is dead-lettered, not fatal; None: "
                       "did not exit, killed)"] + fg.tail()
    got = s.read()
    # Garbage bytes may read as a frame or not; any dead letter reason will do, but it
    # must be a dead letter.
    for inp in inputs:
        if getattr(inp, "garbage", False):
            outs = got.get((inp.partition, inp.offset), [])
            if outs and outs[0][0] != "deadletter":
                s.problems.append(f"{inp.label}: assessed, expected a dead letter")
    s.check(inputs, got)
    s.finish(f"{len(poison)} kinds of poison on every partition, {len(good)} valid "
             f"declarations after them")


def sc_reload(h, mode):
    data_a, data_b = h.data_dirs["a"], h.data_dirs["b"]
    live = os.path.join(h.work, f"reload-{mode}-data")
    shutil.rmtree(live, ignore_errors=True)
    shutil.copytree(data_a, live)
    s = Scenario(h, "reload", mode, data_dir=live)
    inputs = h.expected.inputs(h.decl_schema, "reload")
    n = len(inputs)
    fg = s.start("a", exit_on_eof=False)
    sp = s.stream(inputs, rate=n / 5.0)
    if s.wait_written(n // 3, 60, [fg]):
        for f in os.listdir(data_b):
            shutil.copyfile(os.path.join(data_b, f), os.path.join(live, f + ".new"))
            os.replace(os.path.join(live, f + ".new"), os.path.join(live, f))
        fg.signal(signal.SIGHUP)
        log(f"reload/{mode}: data.dir replaced and SIGHUP sent after {n // 3}+ outputs")
    sp.join(90)
    s.problems += sp.errors
    s.wait_covered(inputs, 45, [fg])
    rc = fg.stop(15)
    if rc != 0:
        s.problems += [f"exit {rc} after SIGTERM"] + fg.tail()
    got = s.read()
    va, vb = h.expected.version_of["a"], h.expected.version_of["b"]
    s.check(inputs, got, versions={va, vb})
    used = {o[1].get("reference_data_version") for outs in got.values() for o in outs}
    for v, name in ((va, "before"), (vb, "after")):
        if v not in used:
            s.problems.append(f"no output names the data set {name} the reload ({v[:12]}): "
                              "the reload did not happen mid-stream")
    # Per partition, outputs switch from a to b once and never back.
    for part in range(PARTITIONS):
        seq = [got[(i.partition, i.offset)][0][1]["reference_data_version"]
               for i in sorted(inputs, key=lambda x: x.offset or 0)
               if i.partition == part and (i.partition, i.offset) in got]
        if vb in seq and va in seq[seq.index(vb):]:
            s.problems.append(f"partition {part}: data set goes back to the old one after "
                              "the reload")
    s.finish(f"SIGHUP with new reference data mid-stream ({n} inputs)")


def sc_tls(h, mode):
    if not h.tls:
        h.res.skip(f"tls-sasl/{mode}", "the cluster has no SASL_SSL listener")
        return
    s = Scenario(h, "tls-sasl", mode)
    inputs = h.expected.inputs(h.decl_schema, "tls")[:300]
    sp = s.stream(inputs, rate=0)
    sp.join(60)
    s.problems += sp.errors
    secret = h.tls["password"]
    args = ["-X", "kafka.security.protocol=SASL_SSL",
            "-X", f"kafka.ssl.ca.location={h.tls['ca']}",
            "-X", "kafka.sasl.mechanisms=PLAIN",
            "-X", f"kafka.sasl.username={h.tls['user']}",
            "-X", f"kafka.sasl.password={secret}",
            "-X", "kafka.statistics.interval.ms=500",
            "-X", "kafka.debug=security,conf,broker"]
    logpath = os.path.join(h.work, f"tls-sasl-{mode}.log")
    conf = s.conf("a", exit_on_eof=True, bootstrap=h.tls["bootstrap"])
    fg = Floorgate(h.binary, conf, logpath, args)
    rc = fg.wait(90)
    if rc != 0:
        s.problems += [f"exit {rc} over SASL_SSL"] + fg.tail()
    s.check(inputs, s.read())
    # Errors that echo configuration: a bad mechanism and an unreachable TLS broker.
    leaks = []
    for extra, what in ((["-X", "kafka.sasl.mechanisms=NOPE"], "bad sasl.mechanisms"),
                        (["-X", "kafka.ssl.ca.location=/nonexistent/ca.pem"], "missing CA"),
                        (["-X", f"kafka.sasl.pasword={secret}"], "misspelt key"),
                        (["-X", "kafka.bootstrap.servers=127.0.0.1:1",
                          "-X", "run.connect_timeout_ms=1000"], "unreachable broker")):
        p = subprocess.run([h.binary, "run", "-c", conf, *args, *extra],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode(errors="replace")
        with open(logpath, "a", encoding="utf-8") as f:
            f.write(f"\n==== {what}: exit {p.returncode}\n{out}")
        if p.returncode == 0:
            s.problems.append(f"{what}: exit 0, expected an error")
        if secret in out:
            leaks.append(what)
    with open(logpath, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for ln in text.splitlines():
        if secret in ln:
            leaks.append(f"log line: {ln[:160]}")
            break
    if leaks:
        s.problems.append(f"the SASL password appears in floorgate's output: {leaks[:4]} "
                          f"(log {logpath})")
    s.finish(f"SASL_SSL (PLAIN) assesses {len(inputs)} inputs, password never printed")


SCENARIOS = {
    "crash-restart": sc_crash_restart,
    "group-failover": sc_group_failover,
    "broker-kill": sc_broker_kill,
    "fenced": sc_fenced,
    "poison": sc_poison,
    "poison-enormous": lambda h, mode: sc_poison(h, mode, "poison-enormous", enormous=True),
    "reload": sc_reload,
    "tls-sasl": sc_tls,
}


# ------------------------------------------------------------------------------ main


class Harness:
    """What every scenario shares: cluster, binary, schemas, expected outputs, results."""


def make_data_b(src, dst):
    """Data set b: every reference price tripled (so floors and duties change)."""
    import csv
    import decimal
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    path = os.path.join(dst, "reference_prices.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("price_usd")
    for r in rows[1:]:
        if r and r[col]:
            r[col] = str(decimal.Decimal(r[col]) * 3)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--kafka-dir", required=True, help="instance dir of scripts/kafka.sh")
    ap.add_argument("--floorgate", default=os.environ.get("FLOORGATE", "build/floorgate"))
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=2000, help="declarations per scenario")
    ap.add_argument("--only", action="append", choices=sorted(SCENARIOS),
                    help="run this scenario (repeatable; default all)")
    ap.add_argument("--mode", action="append", choices=MODES,
                    help="run in this mode (repeatable; default both)")
    args = ap.parse_args()

    h = Harness()
    h.res = Results()
    h.bootstrap = args.bootstrap
    h.binary = args.floorgate if os.path.isabs(args.floorgate) else os.path.join(
        ROOT, args.floorgate)
    h.work = os.path.abspath(args.work)
    os.makedirs(h.work, exist_ok=True)
    h.schema_dir = os.path.join(ROOT, "schemas", "registry")
    h.registry = e2e.Registry(h.schema_dir)
    h.decl_schema = e2e.load_schema(os.path.join(ROOT, "schemas", "declaration.avsc"))
    kdir = os.path.abspath(args.kafka_dir)

    def kafka(*a):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "kafka.sh"), *a, "--dir", kdir],
                       check=True, timeout=120)
    h.kafka = kafka
    h.tls = None
    tls = os.path.join(kdir, "tls")
    if os.path.isfile(os.path.join(kdir, "bootstrap-tls")):
        rd = lambda f: open(os.path.join(tls, f), encoding="utf-8").read().strip()  # noqa
        h.tls = {"bootstrap": open(os.path.join(kdir, "bootstrap-tls")).read().strip(),
                 "ca": os.path.join(tls, "ca.pem"), "user": rd("sasl.user"),
                 "password": rd("sasl.password")}
    help_config = run([h.binary, "run", "--help-config"])
    h.eos = "processing.guarantee" in help_config
    h.data_dirs = {"a": os.path.join(ROOT, "data"), "b": os.path.join(h.work, "data-b")}
    make_data_b(h.data_dirs["a"], h.data_dirs["b"])
    log(f"generating {args.count} declarations and their file-mode outputs")
    h.expected = Expected(h.binary, h.work, args.count, 20261126, h.data_dirs)

    for name in args.only or list(SCENARIOS):
        for mode in args.mode or MODES:
            if mode == "exactly_once" and not h.eos:
                h.res.skip(f"{name}/{mode}", "this floorgate has no processing.guarantee "
                           "(exactly_once not merged yet)")
                continue
            t0 = time.time()
            log(f"{name}/{mode}: start")
            try:
                SCENARIOS[name](h, mode)
            except (KafkaException, subprocess.SubprocessError, OSError) as e:
                h.res.check(f"{name}/{mode}", [f"{type(e).__name__}: {e}"])
            log(f"{name}/{mode}: {time.time() - t0:.1f} s")
    print(h.res.summary(), flush=True)
    return 0 if h.res.failed == 0 else 1


def end_all():
    for f in RUNNING:
        if f.proc.poll() is None:
            try:
                os.killpg(f.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("faults: interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        end_all()
