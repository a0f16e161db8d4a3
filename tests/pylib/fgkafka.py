"""fgkafka: the Kafka chores the Python test drivers share (topics, committed offsets).

tests/e2e/test_kafka_e2e.py, tests/faults/test_faults.py, tests/replay/topic_check.py and
tests/audit/audit_check.py import it after putting tests/pylib on sys.path. It needs
confluent_kafka (the venv of scripts/pyenv.sh).
"""
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def create_topics(bootstrap, names, partitions, config=None, timeout_s=30.0):
    """Creates the topics (one that exists already is kept) with a replication factor of
    up to 3, one per broker listed in `bootstrap`, and waits until the metadata shows
    each with `partitions` partitions that all have a leader."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    rf = min(3, len(bootstrap.split(",")))
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=rf, config=config or {})
         for n in names], operation_timeout=30, request_timeout=30)
    for fut in futures.values():
        try:
            fut.result()
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    deadline = time.time() + timeout_s
    while True:
        md = admin.list_topics(timeout=10)
        if all(n in md.topics and md.topics[n].error is None
               and len(md.topics[n].partitions) == partitions
               and all(p.leader >= 0 for p in md.topics[n].partitions.values())
               for n in names):
            return
        if time.time() > deadline:
            raise SystemExit(f"topics {names} not ready after {timeout_s:.0f} s")
        time.sleep(0.2)


def committed(bootstrap, group, topics, partitions=None, read_committed=False):
    """{(topic, partition): committed offset} of `group` (negative: none) on every
    partition of `topics` (or partitions 0..partitions-1 of each). Asks up to three
    times: a coordinator may still be loading right after a failover."""
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    if read_committed:
        conf["isolation.level"] = "read_committed"
    c = Consumer(conf)
    try:
        if partitions is None:
            md = c.list_topics(timeout=10)
            tps = [TopicPartition(t, p) for t in topics for p in sorted(md.topics[t].partitions)]
        else:
            tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
        for attempt in range(3):
            try:
                return {(tp.topic, tp.partition): tp.offset
                        for tp in c.committed(tps, timeout=20)}
            except KafkaException:
                if attempt == 2:
                    raise
                time.sleep(1.0)
    finally:
        c.close()
