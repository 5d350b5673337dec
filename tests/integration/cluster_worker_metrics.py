"""weir-worker --http: /metrics is strict Prometheus text (tests/lib/
promcheck.py) with the worker's own per-task numbers, which grow as the
word count runs; /healthz says ok; any other path is 404."""
import re
import sys
import urllib.error
import urllib.request

from cluster_common import (Feeder, seed_lines, setup, wait_exact,
                            wait_running, wait_until, weirtest, worker)
import promcheck  # noqa: E402 (tests/lib is on the path once cluster_common is in)


def get(addr, path):
    """(status, body) of an HTTP GET to addr (HOST:PORT)."""
    try:
        with urllib.request.urlopen("http://%s%s" % (addr, path),
                                    timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def records_in(addr):
    """({task: records in} of the running active tasks, families)."""
    code, body = get(addr, "/metrics")
    assert code == 200, (code, body)
    families = promcheck.check(body)
    out = {}
    for s in families["weir_worker_task_records_in"]:
        if s.name.endswith("_total") and s.labels["state"] == "RUNNING":
            assert s.labels["job"] == "wordcount", s
            out[s.labels["task"]] = s.value
    return out, families


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=0)
        bs = broker.bootstrap
        w = worker(c, "w1", coord, bs, extra=["--http", "127.0.0.1:0"])
        line = w.wait_line("ready cluster")
        m = re.search(r"http=(\S+)", line)
        assert m and m.group(1) != "none", line
        addr = m.group(1)
        assert re.match(r"127\.0\.0\.1:[1-9][0-9]*$", addr), addr

        code, body = get(addr, "/healthz")
        assert code == 200 and body.strip() == "ok", (code, body)
        code, _ = get(addr, "/no-such-path")
        assert code == 404, code
        code, _ = get(addr, "/metricsx")
        assert code == 404, code

        wait_running(coord, {"w1"})
        before, _ = records_in(addr)
        assert len(before) == 8, before  # 2 subtopologies x 4 partitions
        lines = seed_lines()
        Feeder(bs, "text-lines", lines).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=90))

        def grown():
            now, fams = records_in(addr)
            total = sum(now.values())
            return (fams, now) if total >= len(lines) and all(
                now[t] >= before.get(t, 0) for t in now) else None
        families, after = wait_until(grown, 30, "records in to grow")
        print("records in per task:", after)
        assert sum(after.values()) > sum(before.values()), (before, after)
        # the first subtopology's tasks read every line once
        first = sum(v for t, v in after.items() if t.startswith("0_"))
        assert first == len(lines), (first, len(lines))

        tasks = {s.labels["state"]: s.value
                 for s in families["weir_worker_tasks"]}
        assert tasks["RUNNING"] == 8, tasks
        assert "STANDBY" in tasks and "FAILED" in tasks, tasks
        kafka = families["weir_kafka_reachable"][0]
        assert kafka.value == 1 and not kafka.labels, kafka
        lat = families["weir_worker_task_commit_latency_ms"]
        counts = [s for s in lat if s.name.endswith("_count")]
        assert len(counts) == sum(tasks.values()), (counts, tasks)
        assert sum(s.value for s in counts) > 0, counts
        for name in ("weir_worker_task_records_out", "weir_worker_task_lag",
                     "weir_worker_task_commits",
                     "weir_worker_task_dead_lettered",
                     "weir_worker_task_skipped", "weir_worker_task_late",
                     "weir_worker_task_restored_records"):
            assert families.get(name), name
        code, _ = get(addr, "/metrics?x=1")
        assert code == 200, code

        assert w.stop() == 0, "w1 did not stop cleanly"
        assert coord.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
