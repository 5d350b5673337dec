"""The SQL examples against their YAML twins: examples/NAME.sql and
examples/NAME.yaml run side by side on the same input topic (weir-broker,
standalone workers; the SQL job writes to NAME's topic + '-sql'), and
their outputs must be the same records: for every key the same values,
timestamps and order.

    sql_examples.py wordcount|access-per-minute|page-latency
"""
import json
import os
import random
import sys

from worker_common import (SOURCE_DIR, create_topic, produce, produce_records,
                           read_committed, recent_base_ms, seed_lines,
                           test_dir, wait_until, weirtest, worker)

MINUTE = 60000


def per_key(bs, topic):
    """{key: [(timestamp, value)]} in the order of the topic."""
    out = {}
    for recs in read_committed(bs, topic).values():
        for ts, key, value in recs:
            out.setdefault(key, []).append((ts, value))
    return out


def wordcount_input(bs):
    lines = seed_lines()
    # One partition: the order in which a word's occurrences reach its count
    # (and so each update's timestamp) is the input's, the same for both.
    create_topic(bs, "text-lines", 1)
    produce(bs, "text-lines", lines)
    words = sum(len([w for w in __import__("re").split(
        "[^a-z0-9]+", line.decode(errors="replace").lower()) if w])
        for line in lines)
    return "wordcounts", words


def access_input(bs):
    with open(os.path.join(SOURCE_DIR, "examples", "data", "access.log"),
              "rb") as f:
        lines = [line.rstrip(b"\n") for line in f if line.strip()]
    create_topic(bs, "access_logs", 1)
    produce(bs, "access_logs", lines)
    sys.path.insert(0, os.path.dirname(__file__))
    from worker_access import expected
    return "access_summary", len(expected(lines)[0])


def latency_input(bs):
    """Requests in time order; then one an hour later per page, so that
    every earlier window closes."""
    rng = random.Random(9)
    pages = ["/Home", "/home", "/Cart", "/api/items", "/About", "/search"]
    recs, ts, windows = [], recent_base_ms(), set()
    for i in range(3000):
        ts += rng.choice([0, 100, 1000, 5000])
        page, status = rng.choice(pages), rng.choice([200, 200, 404, 503])
        recs.append(("requests", ts, "r%d" % i, json.dumps(
            {"page": page, "status": status, "ms": rng.randrange(1, 900)})))
        if status < 500:
            first = (ts // MINUTE - 4) * MINUTE
            windows.update((page.lower(), s) for s in range(
                first, ts + 1, MINUTE) if s <= ts < s + 5 * MINUTE)
    for page in sorted({p.lower() for p in pages}):
        recs.append(("requests", ts + 3600000, "end", json.dumps(
            {"page": page, "status": 200, "ms": 1})))
    # One partition: the aggregation's input arrives in time order (from
    # several, the repartition topic would interleave them by timing, and
    # which records are late would differ from run to run).
    create_topic(bs, "requests", 1)
    produce_records(bs, recs)
    return "page-latency", len(windows)


INPUTS = {"wordcount": wordcount_input, "access-per-minute": access_input,
          "page-latency": latency_input}


def main():
    name = sys.argv[1]
    with weirtest.Cluster() as c:
        bs = c.broker().bootstrap
        topic, n = INPUTS[name](bs)
        ws = []
        for kind in ("yaml", "sql"):
            with open(os.path.join(SOURCE_DIR, "examples",
                                   "%s.%s" % (name, kind))) as f:
                text = f.read()
            if kind == "sql":
                text = text.replace("KAFKA_TOPIC='%s'" % topic,
                                    "KAFKA_TOPIC='%s-sql'" % topic)
                assert "%s-sql" % topic in text
            job = c.path("%s-%s.%s" % (name, kind, kind))
            with open(job, "w") as f:
                f.write(text)
            ws.append(worker(c, "w-" + kind, job, bs, test_dir(c, kind)))

        def done():
            a, b = per_key(bs, topic), per_key(bs, topic + "-sql")
            return sum(map(len, a.values())) >= n and a == b
        try:
            wait_until(done, 120, "%d equal records from both jobs" % n,
                       interval=0.5)
        finally:
            a, b = per_key(bs, topic), per_key(bs, topic + "-sql")
            wrong = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            print("yaml %d records, sql %d; %d keys differ: %s" % (
                sum(map(len, a.values())), sum(map(len, b.values())),
                len(wrong), [(k, a.get(k), b.get(k)) for k in wrong[:3]]))
        print("equal: %d records of %d keys" % (sum(map(len, a.values())),
                                                len(a)))
        for w in ws:
            assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
