"""Runs the word count on a local weir cluster (see scripts/quickstart)."""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
import weirtest  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

ROOT = weirtest.SOURCE_DIR
BIN = weirtest.BIN_DIR
WORD = re.compile(r"[^a-z0-9]+")


def feed(bootstrap, topic, files):
    """Produces every line of the seed files; returns the expected words."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    words = collections.Counter()
    lines = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                producer.produce(topic, value=line.encode())
                producer.poll(0)
                lines += 1
                words.update(w for w in WORD.split(line.lower()) if w)
    producer.flush(30)
    return lines, words


def read_counts(bootstrap, topic, expected_records, timeout):
    """Reads the output read_committed until every update has arrived."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "quickstart-reader",
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "auto.offset.reset": "earliest"})
    md = consumer.list_topics(topic, timeout=10)
    parts = md.topics[topic].partitions if topic in md.topics else {}
    consumer.assign([TopicPartition(topic, p, 0) for p in parts])
    latest = {}
    seen = 0
    deadline = time.monotonic() + timeout
    while seen < expected_records and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        seen += 1
        latest[msg.key().decode()] = int(msg.value().decode())
    consumer.close()
    return seen, latest


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--kafka", action="store_true",
                    help="run on a one-node Apache Kafka (scripts/kafka) "
                         "instead of weir-broker")
    args = ap.parse_args()
    seeds = sorted(glob.glob(os.path.join(ROOT, "examples", "data", "*.txt")))
    job = os.path.join(ROOT, "examples", "wordcount.yaml")

    with weirtest.Cluster(keep=args.keep) as c:
        if args.kafka:
            print("starting Apache Kafka (scripts/kafka, one node)...",
                  flush=True)
            broker = weirtest.KafkaCluster(
                "kafka", c.path("kafka", "x")[:-2], nodes=1)
            c.procs.append(broker)
        else:
            broker = c.broker()
        coord_port, http_port = weirtest.free_port(), weirtest.free_port()
        coord_url = "tcp://127.0.0.1:%d" % coord_port
        c.start("coordinator", "weir-coordinator", [
            "--listen", coord_url, "--http", "127.0.0.1:%d" % http_port,
            "--data-dir", c.path("coordinator", "x")[:-2],
            "--bootstrap", broker.bootstrap], ready="ready listen=")
        for name in ("worker-1", "worker-2"):
            c.start(name, "weir-worker", [
                "--coordinator", coord_url, "--id", name,
                "--data-dir", c.path(name, "x")[:-2]], ready=None)
        print("cluster: broker %s, coordinator %s (http 127.0.0.1:%d), 2 workers"
              % (broker.bootstrap, coord_url, http_port))
        subprocess.run([os.path.join(BIN, "weirctl"), "--coordinator", coord_url,
                        "submit", job], check=True)
        lines, words = feed(broker.bootstrap, "text-lines", seeds)
        expected = sum(words.values())
        print("fed %d lines (%d words, %d distinct) from %d seed files"
              % (lines, expected, len(words), len(seeds)))
        seen, latest = read_counts(broker.bootstrap, "wordcounts", expected, args.timeout)
        subprocess.run([os.path.join(BIN, "weirctl"), "--coordinator", coord_url,
                        "describe", "wordcount"], check=False)
        for p in reversed(c.procs):
            p.stop()
        print("\ntop %d words (read_committed from 'wordcounts', %d updates):"
              % (args.top, seen))
        for word, n in sorted(latest.items(), key=lambda kv: (-kv[1], kv[0]))[:args.top]:
            print("%8d  %s" % (n, word))
        wrong = {w: n for w, n in latest.items() if words.get(w) != n}
        if seen != expected or wrong or len(latest) != len(words):
            print("MISMATCH: %d of %d updates, %d words with wrong counts"
                  % (seen, expected, len(wrong)), file=sys.stderr)
            return 1
        print("\nexact: every word's final count matches the input")
    return 0


if __name__ == "__main__":
    sys.exit(main())
