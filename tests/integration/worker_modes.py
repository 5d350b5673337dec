"""Worker modes and operators against a real weir-broker:

- at_least_once word count: exact without faults; after a SIGKILL nothing
  is lost (counts may repeat, never fall short);
- aggregate sum/min/max/avg and reduce over JSON input, with map, filter,
  group_by and peek, every per-key update checked;
- on_error: skip drops bad records (undecodable JSON, a type error at run
  time); on_error: fail stops the worker with status 1 naming the record.
"""
import json
import re
import sys
import time

from worker_common import (create_topic, produce, seed_lines, test_dir,
                           wait_exact, wait_until, weirtest, wordcount_yaml,
                           worker)
import worker_verify
from worker_verify import read_topic

from confluent_kafka import Producer


def at_least_once(c, bs):
    create_topic(bs, "alo-lines", 4)
    job = wordcount_yaml(c.path("alo.yaml"), "alo-lines", "alo-counts",
                         guarantee="at_least_once")
    lines = seed_lines()
    data = test_dir(c, "alo")
    w = worker(c, "alo-1", job, bs, data)
    w.wait_line("all tasks running", 30)
    produce(bs, "alo-lines", lines)
    print("alo:", wait_exact(bs, "alo-lines", "alo-counts"))
    produce(bs, "alo-lines", lines, start_key=len(lines))
    time.sleep(0.3)
    w.kill()
    w = worker(c, "alo-2", job, bs, data)
    expected = worker_verify.wordcount_expected(bs, "alo-lines")

    def nothing_lost():
        last = {}
        for recs in read_topic(bs, "alo-counts").values():
            for k, v in recs:
                last[k.decode()] = max(last.get(k.decode(), 0), int(v))
        short = [w for w, n in expected.items() if last.get(w, 0) < n]
        return not short
    wait_until(nothing_lost, 60, "every word counted at least N times", 0.5)
    assert w.stop() == 0
    print("alo: nothing lost after SIGKILL")


EVENTS = [
    {"user": "ann", "amount": 5}, {"user": "bob", "amount": 3},
    {"user": "ann", "amount": -1}, {"user": "ann", "amount": 10},
    {"user": "cy", "amount": 7}, {"user": "bob", "amount": 4},
    {"user": "ann", "amount": 2}, {"user": "cy", "amount": 1},
]

AGGS = {
    "sum": ("aggregate: { function: sum, store: s }", lambda a, v: a + v, str),
    "min": ("aggregate: { function: min, store: s }", min, str),
    "max": ("aggregate: { function: max, store: s }", max, str),
    "reduce": ('reduce: { value: "agg * 10 + value", store: s }',
               lambda a, v: a * 10 + v, str),
}


def expected_updates(fn, fmt):
    agg, out = {}, {}
    for e in EVENTS:
        if e["amount"] <= 0:
            continue
        u = e["user"]
        agg[u] = e["amount"] if u not in agg else fn(agg[u], e["amount"])
        out.setdefault(u, []).append(fmt(agg[u]))
    return out


def by_key(bs, topic):
    got = {}
    for recs in read_topic(bs, topic).values():
        for k, v in recs:
            got.setdefault(k.decode(), []).append(v.decode())
    return got


def aggregations(c, bs):
    create_topic(bs, "events", 2)
    # Keyed by user: each user's events stay in order in one partition.
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True})
    for e in EVENTS:
        p.produce("events", key=e["user"].encode(), value=json.dumps(e).encode())
    assert p.flush(30) == 0
    cases = dict(AGGS)
    cases["avg"] = ("aggregate: { function: avg, store: s }", None, None)
    for name, (step, fn, fmt) in cases.items():
        job = c.path("agg-%s.yaml" % name)
        with open(job, "w") as f:
            f.write("""job: agg-%s
sources:
  events: { topic: events, key: string, value: json }
pipeline:
  - from: events
  - peek:
  - map: { key: "value.user", value: "value.amount" }
  - filter: "value > 0"
  - group_by: key
  - %s
  - to: { topic: agg-%s-out, key: string, value: string }
""" % (name, step, name))
        if name == "avg":
            sums, counts, want = {}, {}, {}
            for e in EVENTS:
                if e["amount"] > 0:
                    u = e["user"]
                    sums[u] = sums.get(u, 0) + e["amount"]
                    counts[u] = counts.get(u, 0) + 1
                    want.setdefault(u, []).append(sums[u] / counts[u])
        else:
            want = expected_updates(fn, fmt)
        w = worker(c, "agg-" + name, job, bs, test_dir(c, "agg-" + name))
        n = sum(len(v) for v in want.values())
        wait_until(lambda: sum(len(v) for v in by_key(bs, "agg-%s-out" % name).values()) >= n,
                   30, "%s outputs" % name, 0.3)
        got = by_key(bs, "agg-%s-out" % name)
        if name == "avg":
            got = {k: [float(x) for x in v] for k, v in got.items()}
        assert got == want, "%s: got %s, want %s" % (name, got, want)
        assert "peek" in w.log(), "peek logged nothing"
        assert w.stop() == 0
        print("%s: %s" % (name, got))


def on_error(c, bs):
    create_topic(bs, "raw", 1)
    produce(bs, "raw", [b'{"amount": 5}', b"not json", b'{"amount": "x"}',
                        b'{"amount": 7}'])
    for mode in ("skip", "fail"):
        job = c.path("err-%s.yaml" % mode)
        with open(job, "w") as f:
            f.write("""job: err-%s
on_error: %s
sources:
  raw: { topic: raw, key: string, value: json }
pipeline:
  - from: raw
  - map_values: "value.amount * 2"
  - to: { topic: err-%s-out, value: string }
""" % (mode, mode, mode))
        w = worker(c, "err-" + mode, job, bs, test_dir(c, "err-" + mode))
        if mode == "skip":
            wait_until(lambda: len(read_topic(bs, "err-skip-out").get(0, [])) >= 2,
                       30, "skip outputs", 0.3)
            time.sleep(0.5)
            got = [v for _, v in read_topic(bs, "err-skip-out")[0]]
            assert got == [b"10", b"14"], got
            dlq = read_topic(bs, "err-skip-dlq")
            assert not any(dlq.values()), "skip wrote dead letters: %s" % dlq
            assert w.stop() == 0
            print("skip: %s" % got)
        else:
            wait_until(lambda: not w.alive(), 30, "worker to stop on a bad record")
            code = w.popen.returncode
            w.kill()
            assert code == 1, "on_error: fail exited %s" % code
            assert "failed in" in w.log() and "raw/0@1" in w.log(), w.log()[-2000:]
            print("fail: exited 1 at raw/0@1")


def processed(proc):
    """Records the worker consumed so far, from its last progress line."""
    found = re.findall(r"progress .* in=(\d+)", proc.log())
    return int(found[-1]) if found else 0


def stop_during_restore(c, bs):
    """SIGTERM while a 200 000-key store restores into an empty data dir:
    the worker exits 0 at once, and the next start finishes the restore."""
    create_topic(bs, "keys", 2)
    p = Producer({"bootstrap.servers": bs, "linger.ms": 20})
    for i in range(20000):
        p.produce("keys", key=str(i).encode(), value=" ".join(
            "k%07d" % (i * 10 + k) for k in range(10)).encode())
        if i % 5000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    job = wordcount_yaml(c.path("keys.yaml"), "keys", "keys-out")
    w = worker(c, "keys-1", job, bs, test_dir(c, "keys-1"))
    # Sub-topology 0 reads 20 000 lines, sub-topology 1 200 000 words.
    wait_until(lambda: processed(w) >= 220000, 120, "the key store to fill", 0.5)
    assert w.stop() == 0
    empty = test_dir(c, "keys-2")
    w = worker(c, "keys-2", job, bs, empty)
    time.sleep(0.3)
    t0 = time.monotonic()
    code = w.stop(timeout=30)
    took = time.monotonic() - t0
    assert code == 0, "stop during restore exited %s" % code
    assert took < 10, "stop during restore took %.1fs" % took
    w = worker(c, "keys-3", job, bs, empty)
    w.wait_line("all tasks running", 120)
    restored = sum(int(x) for x in re.findall(r"restored task=\S+ records=(\d+)", w.log()))
    assert w.stop() == 0
    print("stop during restore: exited 0 in %.2fs; the next start restored %d" % (
        took, restored))


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        aggregations(c, bs)
        on_error(c, bs)
        at_least_once(c, bs)
        stop_during_restore(c, bs)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
