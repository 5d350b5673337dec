"""examples/access-per-minute.yaml end to end against a real weir-broker:
the sample log in, the exact sequence of per-minute counts out (every
update, in order), late records dropped after the grace period, and the
unreadable lines in the dead-letter topic with their error headers."""
import datetime
import os
import re
import sys
import time

from worker_common import SOURCE_DIR, produce, test_dir, wait_until, weirtest, worker
from worker_verify import read_topic

from confluent_kafka import Consumer, TopicPartition

MINUTE_MS = 60000
GRACE_MS = 30000


def expected(lines):
    """The job's semantics in Python: (outputs, bad line count)."""
    out, bad = [], 0
    counts = {}
    stream_time = None
    for line in lines:
        m = re.search(r"\[([^]]+)\]", line.decode("utf-8", "replace"))
        try:
            t = datetime.datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
        except (AttributeError, ValueError):
            bad += 1
            continue
        ts = int(t.timestamp() * 1000)
        stream_time = ts if stream_time is None else max(stream_time, ts)
        start = ts - ts % MINUTE_MS
        if start + MINUTE_MS + GRACE_MS <= stream_time:
            continue  # late: its window closed
        counts[start] = counts.get(start, 0) + 1
        key = datetime.datetime.fromtimestamp(start / 1000, datetime.timezone.utc)
        out.append((key.strftime("%Y-%m-%d %H:%M:%S").encode(),
                    str(counts[start]).encode()))
    return out, bad


def expected_hopping(lines, size, advance):
    """emit: update over hopping windows: one update per window holding
    the record, oldest window first."""
    out, counts, stream_time = [], {}, None
    for line in lines:
        m = re.search(r"\[([^]]+)\]", line.decode("utf-8", "replace"))
        try:
            t = datetime.datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
        except (AttributeError, ValueError):
            continue
        ts = int(t.timestamp() * 1000)
        stream_time = ts if stream_time is None else max(stream_time, ts)
        last = ts - ts % advance
        starts = [s for s in range(last - size + advance, last + 1, advance)
                  if s <= ts < s + size]
        for s in starts:
            if s + size + GRACE_MS <= stream_time:
                continue
            counts[s] = counts.get(s, 0) + 1
            key = datetime.datetime.fromtimestamp(s / 1000, datetime.timezone.utc)
            out.append((key.strftime("%Y-%m-%d %H:%M:%S").encode(),
                        str(counts[s]).encode()))
    return out


def expected_final(lines):
    """emit: final: each window once, when stream time passes its end plus
    the grace period, in window order; windows still open are not out."""
    out, counts, stream_time = [], {}, None
    for line in lines:
        m = re.search(r"\[([^]]+)\]", line.decode("utf-8", "replace"))
        try:
            t = datetime.datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
        except (AttributeError, ValueError):
            continue
        ts = int(t.timestamp() * 1000)
        stream_time = ts if stream_time is None else max(stream_time, ts)
        start = ts - ts % MINUTE_MS
        if start + MINUTE_MS + GRACE_MS > stream_time:
            counts[start] = counts.get(start, 0) + 1
        for s in sorted(counts):
            if s + MINUTE_MS + GRACE_MS <= stream_time:
                key = datetime.datetime.fromtimestamp(s / 1000, datetime.timezone.utc)
                out.append((key.strftime("%Y-%m-%d %H:%M:%S").encode(),
                            str(counts.pop(s)).encode()))
    return out


def dlq_headers(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "weir-dlq-check",
                  "isolation.level": "read_committed",
                  "enable.partition.eof": True})
    md = c.list_topics(topic, timeout=10).topics[topic]
    c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
    found, pending = [], set(md.partitions)
    while pending:
        m = c.poll(5)
        assert m is not None, "DLQ read timed out"
        if m.error():
            pending.discard(m.partition())
            continue
        found.append(dict(m.headers() or []))
    c.close()
    return found



def run_variant(c, bs, text, name, want):
    """Runs a variant of the example as job access-<name> writing to topic
    access_<name>; waits until its outputs are exactly want (every prefix
    on the way must match) and returns the running worker."""
    job = c.path("access-%s.yaml" % name)
    with open(job, "w") as f:
        f.write(text.replace("job: access-per-minute", "job: access-" + name)
                .replace("topic: access_summary", "topic: access_" + name))
    w = worker(c, "worker-" + name, job, bs, test_dir(c, "w" + name))

    def outputs():
        recs = read_topic(bs, "access_" + name).get(0, [])
        assert recs == want[:len(recs)], "%s outputs differ:\n%s\nexpected\n%s" % (
            name, recs, want)
        return len(recs) == len(want)
    wait_until(outputs, 60, "the %s per-minute counts" % name, interval=0.5)
    return w

def main():
    job = os.path.join(SOURCE_DIR, "examples", "access-per-minute.yaml")
    with open(os.path.join(SOURCE_DIR, "examples", "data", "access.log"), "rb") as f:
        lines = [l.rstrip(b"\n") for l in f if l.strip()]
    want, bad = expected(lines)
    assert bad > 0 and len(want) < len(lines) - bad, "sample lacks bad or late lines"
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        # The worker creates the missing source topic with the job's
        # partitions (one), so the log stays in order.
        w = worker(c, "worker", job, bs, test_dir(c, "w"))
        w.wait_line("all tasks running", 30)
        produce(bs, "access_logs", lines)

        def outputs():
            recs = read_topic(bs, "access_summary").get(0, [])
            assert recs == want[:len(recs)], "outputs differ:\n%s\nexpected prefix of\n%s" % (
                recs, want)
            return len(recs) == len(want)
        wait_until(outputs, 60, "all per-minute counts", interval=0.5)
        hdrs = wait_until(lambda: (lambda h: h if len(h) == bad else None)(
            dlq_headers(bs, "access-per-minute-dlq")), 30, "DLQ records")
        for h in hdrs:
            for k in ("weir.error", "weir.operator", "weir.source.offset"):
                assert k in h, "DLQ header %s missing: %s" % (k, h)
        assert w.stop() == 0
        print("exact: %d updates, %d lines in the DLQ, last %s" % (
            len(want), bad, want[-1]))

        # The same job with emit: final: each closed minute exactly once.
        final = expected_final(lines)
        assert final, "the sample closes no window"
        with open(job) as f:
            text = f.read()
        assert "emit: update" in text
        w = run_variant(c, bs, text.replace("emit: update", "emit: final"),
                        "final", final)
        time.sleep(1.0)  # nothing more may come
        assert read_topic(bs, "access_final").get(0, []) == final
        assert w.stop() == 0
        print("emit final: %s" % final)

        # Hopping windows: 1 minute every 30 seconds.
        hop = expected_hopping(lines, MINUTE_MS, 30000)
        w = run_variant(c, bs, text.replace(
            "type: tumbling", "type: hopping\n      advance: 30s"), "hop", hop)
        assert w.stop() == 0
        print("hopping: %d updates, last %s" % (len(hop), hop[-1]))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
