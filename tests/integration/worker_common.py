"""Shared helpers for the worker's integration and fault tests."""
import glob
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))

import weirtest  # noqa: E402
from weirtest import SOURCE_DIR, wait_until  # noqa: E402,F401
import worker_verify  # noqa: E402

from confluent_kafka import (Consumer, KafkaError, Producer,  # noqa: E402
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

# The word count job, used when examples/wordcount.yaml is absent.
WORDCOUNT_YAML = """\
job: wordcount
guarantee: exactly_once          # or at_least_once
commit_interval_ms: 100
sources:
  lines: { topic: text-lines, key: string, value: string }
pipeline:
  - from: lines
  - flat_map_values: "split(lower(value), '[^a-z0-9]+')"
  - filter: "value != ''"
  - group_by: value              # new key = the word; repartitions through an internal topic
  - count: { store: counts }
  - to: { topic: wordcounts, value: string }   # key = word, value = the count in decimal
"""


def wordcount_yaml(path, input_topic="text-lines", output_topic="wordcounts",
                   guarantee=None, emit=None):
    """Writes the word count job with only its topic names (and guarantee,
    or the count's emit mode) changed."""
    example = os.path.join(SOURCE_DIR, "examples", "wordcount.yaml")
    text = open(example).read() if os.path.exists(example) else WORDCOUNT_YAML
    text = text.replace("topic: text-lines", "topic: " + input_topic)
    text = text.replace("topic: wordcounts", "topic: " + output_topic)
    if guarantee:
        text = text.replace("guarantee: exactly_once", "guarantee: " + guarantee)
    if emit:
        assert "count: { store: counts }" in text
        text = text.replace("count: { store: counts }",
                            "count: { store: counts, emit: %s }" % emit)
    with open(path, "w") as f:
        f.write(text)
    return path


def seed_lines():
    """The seed text of examples/data/*.txt, one record per line."""
    lines = []
    for p in sorted(glob.glob(os.path.join(SOURCE_DIR, "examples", "data", "*.txt"))):
        with open(p, "rb") as f:
            lines.extend(l.rstrip(b"\n") for l in f)
    return lines


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(name, partitions, -1)], operation_timeout=10)
    for f in fs.values():
        f.result(15)
    wait_until(lambda: name in admin.list_topics(timeout=5).topics,
               15, "topic %s" % name)


def produce(bootstrap, topic, lines, start_key=0):
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                  "linger.ms": 5})
    for i, line in enumerate(lines):
        while True:
            try:
                p.produce(topic, key=str(start_key + i).encode(), value=line)
                break
            except BufferError:
                p.poll(0.05)
    left = p.flush(30)
    if left:
        raise RuntimeError("%d records not delivered to %s" % (left, topic))


def recent_base_ms():
    """A base for generated event times: two days ago, to the hour. Old
    times would make Apache Kafka delete the records they are written with
    (retention.ms, 7 days by default) while a test reads them."""
    return (int(time.time()) // 3600 - 48) * 3600000


def produce_records(bs, records):
    """Produces (topic, ts, key, value) records (value None: a tombstone)."""
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True,
                  "linger.ms": 5})
    for topic, ts, key, value in records:
        while True:
            try:
                p.produce(topic, key=key.encode(), value=value and
                          value.encode(), timestamp=ts)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(30) == 0


def read_committed(bs, topic, timeout=60):
    """{partition: [(ts, key, value)]} of everything committed in topic."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "weir-test-check",
                  "isolation.level": "read_committed",
                  "enable.partition.eof": True, "enable.auto.commit": False})
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    out, pending = {p: [] for p in parts}, set(parts)

    def more():
        m = c.poll(0.2)
        if m is None:
            return False
        if m.error():
            # Only the end of a partition ends it (a transient error, such
            # as a leader not yet known, is retried by the client).
            if m.error().code() == KafkaError._PARTITION_EOF:
                pending.discard(m.partition())
            else:
                print("read %s: %s" % (topic, m.error()), file=sys.stderr)
        else:
            out[m.partition()].append((m.timestamp()[1], m.key().decode(),
                                       m.value()))
        return not pending
    wait_until(more, timeout, "the end of %s" % topic, interval=0)
    c.close()
    return out


def last_counts(bs, topic):
    """{key: int(value) of its last committed record} (counts in decimal)."""
    last = {}
    for recs in read_committed(bs, topic).values():
        for _, key, value in recs:
            last[key] = int(value)
    return last


def worker(cluster, name, job_path, bootstrap, data_dir, env=None, extra=(),
           ready="ready standalone"):
    args = ["--standalone", job_path, "--bootstrap", bootstrap,
            "--data-dir", data_dir, "--threads", "2",
            "--progress-interval-ms", "2000"] + list(extra)
    return cluster.start(name, "weir-worker", args, env=env, ready=ready,
                         timeout=30)


CRASH_SITES = ["after-produce", "after-send-offsets",
               "after-commit-before-checkpoint", "during-restore"]


def run_crash_sites(c, job, bs, data, outputs, total):
    """Runs the worker to exit at each crash site of the commit cycle (the
    restore's after emptying the data directory), then SIGKILLs one;
    outputs() counts the outputs so far, of total. Each run uses the same
    data directory unless emptied."""
    crashed = 0
    for k, site in enumerate(CRASH_SITES):
        if site == "during-restore":
            shutil.rmtree(data)
            os.makedirs(data)
        env = dict(os.environ, WEIR_CRASH_AT="%s:%d" % (site, 2 + k % 2))
        w = worker(c, "w-%s" % site, job, bs, data, env=env)
        wait_until(lambda: not w.alive() or outputs() >= total * 0.8, 120,
                   "a crash at %s" % site, interval=0.2)
        if not w.alive():
            assert w.popen.returncode == 99, w.log()[-2000:]
            crashed += 1
            print("crashed at %s" % site, flush=True)
        else:
            w.kill()
    assert crashed >= 2, "only %d crash sites reached" % crashed
    w = worker(c, "w-kill", job, bs, data)
    wait_until(lambda: outputs() > 0, 60, "output")
    w.kill()


def wait_exact(bootstrap, input_topic, output_topic, timeout=60.0,
               emit="update"):
    """Waits until the outputs are exactly 1..N for every word of the
    committed input, and returns the checker's message. While the worker is
    still catching up the check fails with a 'last count' shortfall; any
    other violation is final and raised at once."""
    expected = worker_verify.wordcount_expected(bootstrap, input_topic)
    last = [None]

    def exact():
        ok, msg = worker_verify.check_wordcount(bootstrap, input_topic,
                                                output_topic, expected, emit)
        last[0] = msg
        if not ok and "last count" not in msg:
            raise AssertionError("not exactly once: " + msg)
        return ok
    try:
        wait_until(exact, timeout, "exact word counts", interval=0.5)
    except TimeoutError:
        raise AssertionError("outputs incomplete after %.0fs: %s" % (timeout, last[0]))
    if weirtest.TEST_BROKER == "kafka":
        weir_verify(bootstrap, input_topic, output_topic, emit)
    return last[0]


def run_verify(bootstrap, input_topic, output_topic, emit="update"):
    """Runs weir-verify; returns its exit status and output."""
    exe = os.path.join(weirtest.BIN_DIR, "weir-verify")
    r = subprocess.run([exe, "--bootstrap", bootstrap, "--input", input_topic,
                        "--output", output_topic, "--emit", emit],
                       capture_output=True, text=True, timeout=180)
    print("weir-verify --emit %s: %d %s %s" % (
        emit, r.returncode, r.stdout.strip(), r.stderr.strip()), flush=True)
    return r.returncode, r.stdout


def weir_verify(bootstrap, input_topic, output_topic, emit="update"):
    """The independent check: the weir-verify tool must agree."""
    code, out = run_verify(bootstrap, input_topic, output_topic, emit)
    assert code == 0, "weir-verify: %s" % out
    return out


# Liveness: the output of everything produced before the last fault is
# complete and exact within this many seconds of it (docs/exactly-once.md).
LIVENESS_S = 30


def wait_live(bootstrap, last_fault, input_topic="text-lines",
              output_topic="wordcounts", bound=LIVENESS_S, emit="update"):
    """Liveness and safety together: the output is complete and exact
    within bound seconds of last_fault (time.monotonic())."""
    left = max(1.0, bound - (time.monotonic() - last_fault))
    msg = wait_exact(bootstrap, input_topic, output_topic, timeout=left,
                     emit=emit)
    print("complete and exact %.2f s after the last fault: %s" % (
        time.monotonic() - last_fault, msg), flush=True)
    if weirtest.TEST_BROKER != "kafka":  # wait_exact ran it on Kafka
        weir_verify(bootstrap, input_topic, output_topic, emit)
    return msg


def test_dir(cluster, *parts):
    p = cluster.path(*parts, "x")[:-2]
    os.makedirs(p, exist_ok=True)
    return p


def started():
    return time.monotonic()
