"""examples/ad-attribution.yaml (a stream-stream join) on generated input,
its output compared with a reference computed here from the input topics
(read_committed), per partition: the two topics merged in timestamp order
as the task takes them (the pipeline's record first on a tie), stream
time the largest timestamp seen, a record more than grace behind it late,
every pair of the same key at most within apart joined, and under left
(outer) the impressions (and clicks) that never matched emitted once
stream time passed their time + within + grace.

    worker_stream_join.py inner|left|outer [faults]

With faults, the worker exits at every crash site of the commit cycle and
the restore, on the same data directory and on an emptied one, and is
SIGKILLed; the output must still be exact. All input is in the topics
before the worker starts, so the output is the same on every run (up to
the order of a key's unmatched records among its matches, which follows
the commits: each key's records are compared as a multiset).
"""
import json
import os
import random
import sys

from worker_common import (SOURCE_DIR, create_topic, produce_records,
                           read_committed, recent_base_ms, run_crash_sites,
                           test_dir, wait_until, weirtest, worker)

PARTITIONS = 4
KEYS = 150
EVENTS = 16000
MINUTE = 60000
WITHIN, GRACE = 10 * MINUTE, MINUTE


def generate(rng):
    """Impressions and clicks in rough time order: some records up to two
    minutes out of order (some of them late)."""
    out, ts = [], recent_base_ms()
    for i in range(EVENTS):
        ts += rng.choice([0, 500, 2000, 10000])
        t = ts - (rng.randrange(2 * MINUTE) if rng.random() < 0.1 else 0)
        key = "u%d:ad%d" % (rng.randrange(KEYS), rng.randrange(3))
        if rng.random() < 0.6:
            out.append(("impressions", t, key, json.dumps(
                {"campaign": "c%d" % rng.randrange(5), "n": i})))
        else:
            out.append(("ad-clicks", t, key, json.dumps(
                {"page": "/p%d" % rng.randrange(9), "n": i})))
    return out


def result(left, right):
    return {"campaign": left["campaign"] if left else None,
            "page": right["page"] if right else None}


def reference(bs, join_type):
    """{key: sorted json of each output}, and how many records were late."""
    imps, clicks = read_committed(bs, "impressions"), read_committed(
        bs, "ad-clicks")
    out, late = {}, 0
    for p in imps:
        a, b = imps[p], clicks.get(p, [])
        i = j = 0
        st = None
        buf = {"L": [], "R": []}  # [ts, key, value, matched]
        while i < len(a) or j < len(b):
            if j >= len(b) or (i < len(a) and a[i][0] <= b[j][0]):
                (ts, key, value), side, i = a[i], "L", i + 1
            else:
                (ts, key, value), side, j = b[j], "R", j + 1
            st = ts if st is None else max(st, ts)
            if ts + GRACE < st:
                late += 1
                continue
            value = json.loads(value)
            rec = [ts, key, value, False]
            for o in buf["R" if side == "L" else "L"]:
                if o[1] == key and abs(o[0] - ts) <= WITHIN:
                    rec[3] = o[3] = True
                    pair = (value, o[2]) if side == "L" else (o[2], value)
                    out.setdefault(key, []).append(result(*pair))
            buf[side].append(rec)
        sides = {"inner": "", "left": "L", "outer": "LR"}[join_type]
        for side in sides:
            for ts, key, value, matched in buf[side]:
                if not matched and ts + WITHIN + GRACE < st:
                    pair = (value, None) if side == "L" else (None, value)
                    out.setdefault(key, []).append(result(*pair))
    return canonical(out), late


def canonical(per_key):
    return {k: sorted(json.dumps(v, sort_keys=True) for v in vs)
            for k, vs in per_key.items()}


def actual(bs):
    got = {}
    for recs in read_committed(bs, "attributed-clicks").values():
        for _, key, value in recs:
            got.setdefault(key, []).append(json.loads(value))
    return canonical(got)


def job_text(join_type):
    with open(os.path.join(SOURCE_DIR, "examples",
                           "ad-attribution.yaml")) as f:
        text = f.read()
    # Under load a fetch may take a while: wait for it rather than guess.
    return text.replace("type: inner", "type: " + join_type).replace(
        "commit_interval_ms: 100\n",
        "commit_interval_ms: 100\nmax_task_idle_ms: 20000\n")


def main():
    join_type = sys.argv[1]
    faults = len(sys.argv) > 2 and sys.argv[2] == "faults"
    rng = random.Random(int(os.environ.get("WEIR_FAULT_SEED", "5")))
    with weirtest.Cluster() as c:
        bs = c.broker().bootstrap
        for t in ("impressions", "ad-clicks"):
            create_topic(bs, t, PARTITIONS)
        produce_records(bs, generate(rng))
        expected, late = reference(bs, join_type)
        n = sum(map(len, expected.values()))
        job = c.path("ad-attribution.yaml")
        with open(job, "w") as f:
            f.write(job_text(join_type))
        data = test_dir(c, "w")

        def outputs():
            return sum(map(len, actual(bs).values()))
        if faults:
            run_crash_sites(c, job, bs, data, outputs, n)
        w = worker(c, "w", job, bs, data)
        wait_until(lambda: outputs() >= n, 120, "%d joined records" % n,
                   interval=0.5)
        got = actual(bs)
        wrong = sorted(k for k in set(got) | set(expected)
                       if got.get(k) != expected.get(k))
        assert not wrong, [(k, got.get(k), expected.get(k)) for k in wrong[:3]]
        unmatched = sum(r.count("null") for v in got.values() for r in v)
        assert late > 0
        assert (unmatched > 0) == (join_type != "inner"), unmatched
        assert not any(read_committed(bs, "ad-attribution-dlq").values())
        print("exact: %d %s-joined records (%d with a null side), %d late"
              % (n, join_type, unmatched, late))
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
