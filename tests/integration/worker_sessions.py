"""Session windows on generated clicks, the output compared with a reference
computed here from the input topic (read_committed), per partition in
offset order: stream time is the largest timestamp seen, a click older than
stream time - gap - grace is late, a click joins every open session of its
user within gap of it (merging them), and a session closes once stream time
passes its end + gap + grace.

    worker_sessions.py final [faults]   examples/user-sessions.yaml (emit:
        final): one record per closed session, each user's in end order
    worker_sessions.py update [faults]  clicks out of order within a grace,
        emit: update, the session's bounds in the output key: the table the
        output builds (a tombstone deletes a merged-away session) holds
        every session of the reference with its count
    worker_sessions.py latest [faults]  the same with emit: latest

With faults, the worker exits at every crash site of the commit cycle and
the restore, on the same data directory and on an emptied one, and is
SIGKILLed; the output must still be exact. All input is in the topic before
the worker starts, so the output is the same on every run.
"""
import json
import os
import random
import sys

from worker_common import (SOURCE_DIR, create_topic, produce_records,
                           read_committed, recent_base_ms, run_crash_sites,
                           test_dir, wait_until, weirtest, worker)

PARTITIONS = 4
USERS = 60
CLICKS = 12000
MINUTE = 60000

# update / latest: sessions with a 5 minute gap; clicks up to 8 minutes out
# of order, those past the gap and the 2 minute grace late.
UPDATE_JOB = """\
job: sessions-%(emit)s
guarantee: exactly_once
commit_interval_ms: 100
sources:
  clicks: { topic: clicks, key: string, value: json }
pipeline:
  - from: clicks
  - group_by: key
  - window: { type: session, gap: 5m, grace: 2m }
  - count: { store: session-clicks, emit: %(emit)s }
  - select_key: "concat(key, '@', to_string(to_int(window_start)), '-', to_string(to_int(window_end)))"
  - to: { topic: sessions, value: json }
"""


def generate(rng, steps, jitter, topic="clicks"):
    out, ts = [], recent_base_ms()
    for i in range(CLICKS):
        ts += rng.choice(steps)
        t = ts - (rng.randrange(jitter) if jitter else 0)
        user = "u%d" % rng.randrange(USERS)
        out.append((topic, t, user, json.dumps({"page": "/p%d" % (i % 40)})))
    return out


def reference(bs, gap, grace, topic="clicks"):
    """{user: [(start, end, clicks, closed)]} oldest first; late clicks."""
    sessions, late = {}, 0
    for recs in read_committed(bs, topic).values():
        st = None
        for ts, key, _ in recs:
            st = ts if st is None else max(st, ts)
            if ts + gap + grace < st:
                late += 1
                continue
            lst = sessions.setdefault(key, [])
            closed = [s for s in lst if s[1] + gap + grace < st]
            open_ = [s for s in lst if s[1] + gap + grace >= st]
            joined = [s for s in open_ if s[0] - gap <= ts <= s[1] + gap]
            merged = [min([ts] + [s[0] for s in joined]),
                      max([ts] + [s[1] for s in joined]),
                      1 + sum(s[2] for s in joined)]
            rest = [s for s in open_ if s not in joined]
            sessions[key] = closed + sorted(rest + [merged])
        for key, lst in sessions.items():
            for s in lst:
                if len(s) == 3:
                    s.append(s[1] + gap + grace < st)
    return sessions, late


def closed_sessions(ref):
    """What emit: final gives: {user: [(start, end, clicks)]} of the closed
    sessions, in end order."""
    out = {k: [tuple(s[:3]) for s in v if s[3]] for k, v in ref.items()}
    return {k: v for k, v in out.items() if v}


def final_actual(bs, topic="sessions"):
    got = {}
    for recs in read_committed(bs, topic).values():
        for _, key, value in recs:
            v = json.loads(value)
            got.setdefault(key, []).append((v["start"], v["end"], v["clicks"]))
    return got


def table_actual(bs):
    """The table the output builds: user@start-end -> count (a tombstone
    deletes a session emitted before it)."""
    table = {}
    for recs in read_committed(bs, "sessions").values():
        for _, key, value in recs:
            if value is None:
                assert key in table, "a tombstone for %s, never emitted" % key
                table.pop(key, None)
            else:
                table[key] = json.loads(value)
    return table


def main():
    mode = sys.argv[1]
    faults = len(sys.argv) > 2 and sys.argv[2] == "faults"
    rng = random.Random(int(os.environ.get("WEIR_FAULT_SEED", "11")))
    final = mode == "final"
    gap, grace = (30 * MINUTE, 0) if final else (5 * MINUTE, 2 * MINUTE)
    with weirtest.Cluster() as c:
        bs = c.broker().bootstrap
        create_topic(bs, "clicks", PARTITIONS)
        if final:  # in time order: a user clicks every 16 minutes or so
            records = generate(rng, [0, 1000, 20000, 60000, 3 * MINUTE], 0)
        else:  # every 2 minutes, up to 8 minutes out of order
            records = generate(rng, [0, 1000, 5000, 20000], 8 * MINUTE)
        produce_records(bs, records)
        ref, late = reference(bs, gap, grace)
        if final:
            expected = closed_sessions(ref)
            with open(os.path.join(SOURCE_DIR, "examples",
                                   "user-sessions.yaml")) as f:
                text = f.read()
            actual, dlq = final_actual, "user-sessions-dlq"
        else:
            expected = {"%s@%d-%d" % (k, s[0], s[1]): s[2]
                        for k, v in ref.items() for s in v}
            text = UPDATE_JOB % {"emit": mode}
            actual, dlq = table_actual, "sessions-%s-dlq" % mode
        job = c.path("sessions.yaml")
        with open(job, "w") as f:
            f.write(text)
        data = test_dir(c, "w")
        if faults:
            run_crash_sites(c, job, bs, data, lambda: len(actual(bs)),
                            len(expected))
        w = worker(c, "w", job, bs, data)
        wait_until(lambda: actual(bs) == expected, 120,
                   "the reference's %d sessions" % len(expected), interval=0.5)
        got = actual(bs)
        wrong = sorted(k for k in set(got) | set(expected)
                       if got.get(k) != expected.get(k))
        assert not wrong, [(k, got.get(k), expected.get(k)) for k in wrong[:5]]
        n = sum(len(v) for v in ref.values())
        counted = sum(s[2] for v in ref.values() for s in v)
        out = sum(map(len, read_committed(bs, "sessions").values()))
        assert not any(read_committed(bs, dlq).values())
        print("exact: %d sessions of %d clicks, %d late, %d records out"
              % (n, counted, late, out))
        assert counted + late == CLICKS
        if not final:
            assert late > 0
        if mode == "update":  # each click an update, and merges' tombstones
            assert out > counted, (out, counted)
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
