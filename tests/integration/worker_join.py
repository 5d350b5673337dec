"""examples/enrich-clicks.yaml (a stream-table join) on generated input,
its output compared record by record with a reference computed here from
the input topics (read_committed): per partition, the users table and the
clicks merged in timestamp order (a table row before a click of the same
time), each click joined with the user's profile as it then stood.

    worker_join.py          one run
    worker_join.py backlog  one partition, every table row older than every
                            click and more of each than a task queues per
                            input: the rows must all be read before the
                            clicks, however many clicks wait
    worker_join.py faults   the worker exits at every crash site of the
                            commit cycle and the restore, on the same data
                            directory and on an emptied one, and is
                            SIGKILLed; the output must still be exact

All input is in the topics before the worker starts, so the order in which
the task sees the two topics, and so the output, is the same on every run.
"""
import json
import os
import random
import sys

from worker_common import (SOURCE_DIR, create_topic, produce_records,
                           read_committed, recent_base_ms, run_crash_sites,
                           test_dir, wait_until, weirtest, worker)

PARTITIONS = 4
USERS = 300
EVENTS = 24000


def job_text():
    with open(os.path.join(SOURCE_DIR, "examples", "enrich-clicks.yaml")) as f:
        text = f.read()
    # Under load a fetch may take a while: wait for it rather than guess.
    return text.replace("commit_interval_ms: 100\n",
                        "commit_interval_ms: 100\nmax_task_idle_ms: 20000\n")


def generate(rng, events=EVENTS):
    """(topic, ts, key, value) in time order: profile updates, deletions
    (value None) and clicks, some of users not (or no longer) known."""
    out, ts = [], recent_base_ms()
    countries = ["NZ", "SE", "FR", "BR", "JP", "KE"]
    for i in range(events):
        ts += rng.choice([0, 0, 1, 7, 150])
        user = "u%d" % rng.randrange(USERS)
        r = rng.random()
        if r < 0.15:
            out.append(("users", ts, user, json.dumps(
                {"name": user.upper(), "country": rng.choice(countries)})))
        elif r < 0.18:
            out.append(("users", ts, user, None))
        else:
            out.append(("clicks", ts, user, json.dumps(
                {"page": "/p%d" % rng.randrange(40), "n": i})))
    return out


def reference(bs):
    """Expected outputs per user, in order: the task's merge of both topics
    by timestamp, the table applied before a click of the same time."""
    users, clicks = read_committed(bs, "users"), read_committed(bs, "clicks")
    expected = {}
    for p in clicks:
        table, u, c = {}, users.get(p, []), clicks[p]
        i = j = 0
        while j < len(c):
            if i < len(u) and u[i][0] <= c[j][0]:
                _, key, value = u[i]
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = json.loads(value)
                i += 1
                continue
            _, key, value = c[j]
            row = table.get(key)
            expected.setdefault(key, []).append({
                "page": json.loads(value)["page"], "user": key,
                "country": row["country"] if row else None})
            j += 1
    return expected


def actual(bs):
    got = {}
    for recs in read_committed(bs, "clicks-enriched").values():
        for _, key, value in recs:
            got.setdefault(key, []).append(json.loads(value))
    return got


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    faults, backlog = mode == "faults", mode == "backlog"
    rng = random.Random(int(os.environ.get("WEIR_FAULT_SEED", "7")))
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        for t in ("users", "clicks"):
            create_topic(bs, t, 1 if backlog else PARTITIONS)
        records = generate(rng, 100000 if backlog else EVENTS)
        if backlog:  # every row older than every click
            records = [r for r in records if r[0] == "users"] + [
                (t, ts + 86400000, k, v) for t, ts, k, v in records
                if t == "clicks"]
        produce_records(bs, records)
        expected = reference(bs)
        n = sum(map(len, expected.values()))
        job = c.path("enrich-clicks.yaml")
        with open(job, "w") as f:
            f.write(job_text())
        data = test_dir(c, "w")
        if faults:
            run_crash_sites(c, job, bs, data,
                            lambda: sum(map(len, actual(bs).values())), n)
        w = worker(c, "w", job, bs, data)
        wait_until(lambda: sum(map(len, actual(bs).values())) >= n, 120,
                   "%d joined clicks" % n, interval=0.5)
        got = actual(bs)
        diff = [k for k in set(got) | set(expected)
                if got.get(k) != expected.get(k)]
        if diff:
            print("%d keys differ of %d; got %d records for %d keys" % (
                len(diff), len(expected), sum(map(len, got.values())),
                len(got)), flush=True)
            for k in diff[:3]:
                print(k, len(got.get(k, [])), len(expected.get(k, [])),
                      got.get(k, [])[:2], expected.get(k, [])[:2])
        for key in expected:
            assert got.get(key) == expected[key], (
                key, got.get(key, [])[:5], expected[key][:5])
        assert set(got) == set(expected), set(got) ^ set(expected)
        nulls = sum(r["country"] is None for v in got.values() for r in v)
        assert 0 < nulls < n, nulls  # both sides of the left join occur
        assert not any(read_committed(bs, "enrich-clicks-dlq").values())
        print("exact: %d clicks joined (%d without a user)" % (n, nulls))
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
