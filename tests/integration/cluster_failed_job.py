"""A failed task is impossible to miss (issue 12, item 5): under
on_error: fail a bad record fails its task; the job reads FAILED in
`weirctl jobs`, `weirctl describe` (which exits 1 and shows the task's
error) and /api/jobs. Under on_error: dlq the same record is dead-lettered
and counted in describe, /api/jobs and /metrics (item 6); under on_error:
skip it is skipped, and a record later than its window's grace is late,
each counted once in `weirctl --json describe` and /metrics."""
import json
import sys

from cluster_common import (coordinator, create_topic, http_get, produce,
                            wait_until, weirctl, weirctl_json, weirtest,
                            worker)
from worker_common import produce_records, recent_base_ms
import promcheck  # noqa: E402 (tests/lib is on the path once cluster_common is in)

JOB = """job: strict
on_error: fail
sources:
  raw: { topic: raw, key: string, value: json }
pipeline:
  - from: raw
  - map_values: "value.amount * 2"
  - to: { topic: strict-out, value: string }
"""

# Counts per one-minute window of the record timestamps, no grace: once a
# record two minutes on has raised stream time, one for the first minute
# is late.
WINDOWED = """job: windowed
sources:
  clicks: { topic: clicks, key: string, value: string, partitions: 1 }
pipeline:
  - from: clicks
  - group_by: key
  - window: { type: tumbling, size: 1m, grace: 0s }
  - count: { store: clicks-per-minute }
  - to: { topic: clicks-per-minute, key: string, value: string }
"""


def counted(coord, job, field):
    """The job's count of field in `weirctl --json describe` (the job's
    total and the sum over its tasks, which must agree)."""
    d = weirctl_json(coord, "describe", job)
    per_task = sum(int((t.get("status") or {}).get(field, 0))
                   for t in d["tasks"])
    total = int(d["job"].get(field, 0))
    assert total == per_task, (field, d)
    return total


def metric_sum(coord, family, job):
    code, body = http_get(coord, "/metrics")
    assert code == 200, code
    return sum(s.value for s in promcheck.check(body)[family]
               if s.labels["job"] == job)


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "raw", 1)
        coord = coordinator(c, bootstrap=bs)
        worker(c, "w1", coord, bs)
        path = c.path("strict.yaml")
        with open(path, "w") as f:
            f.write(JOB)
        weirctl(coord, "submit", path)
        produce(bs, "raw", [b'{"amount": 5}', b"not json"])

        def failed():
            jobs = weirctl_json(coord, "jobs")["jobs"]
            return jobs[0]["state"] == "JOB_FAILED" and jobs[0]
        job = wait_until(failed, 60, "the job to read FAILED")
        assert job["failed_tasks"] == 1, job
        _, out, _ = weirctl(coord, "jobs")
        assert "FAILED" in out, out
        code, out, err = weirctl(coord, "describe", "strict", check=False)
        assert code == 1, (code, out, err)
        assert "FAILED" in out and "ERROR" in out and "raw/0@1" in out, out
        code, body = http_get(coord, "/api/jobs")
        assert code == 200 and json.loads(body)[0]["state"] == "failed", body

        lenient = c.path("lenient.yaml")
        with open(lenient, "w") as f:
            f.write(JOB.replace("strict", "lenient").replace(
                "on_error: fail", "on_error: dlq"))
        weirctl(coord, "submit", lenient)

        def dead_lettered():
            code, body = http_get(coord, "/api/jobs")
            jobs = {j["name"]: j for j in json.loads(body)}
            return jobs["lenient"]["dead_lettered"] == 1 and jobs["lenient"]
        job = wait_until(dead_lettered, 60, "the dead letter to be counted")
        assert job["state"] == "running" and job["skipped"] == 0, job
        code, out, _ = weirctl(coord, "describe", "lenient")
        assert "dead-lettered 1, skipped 0, late 0" in out, out
        code, body = http_get(coord, "/metrics")
        families = promcheck.check(body)
        dl = [s for s in families["weir_task_dead_lettered_records"]
              if s.labels["job"] == "lenient"]
        assert sum(s.value for s in dl) == 1, dl

        skipping = c.path("skipping.yaml")
        with open(skipping, "w") as f:
            f.write(JOB.replace("strict", "skipping").replace(
                "on_error: fail", "on_error: skip"))
        weirctl(coord, "submit", skipping)
        wait_until(lambda: counted(coord, "skipping", "skipped") == 1, 60,
                   "the skipped record to be counted")
        assert counted(coord, "skipping", "dead_lettered") == 0
        assert metric_sum(coord, "weir_task_skipped_records",
                          "skipping") == 1
        code, out, _ = weirctl(coord, "describe", "skipping")
        assert "dead-lettered 0, skipped 1, late 0" in out, out

        create_topic(bs, "clicks", 1)
        windowed = c.path("windowed.yaml")
        with open(windowed, "w") as f:
            f.write(WINDOWED)
        weirctl(coord, "submit", windowed)
        base = recent_base_ms()
        produce_records(bs, [("clicks", base, "a", "x"),
                             ("clicks", base + 120000, "a", "x"),
                             ("clicks", base + 1000, "a", "x")])
        wait_until(lambda: counted(coord, "windowed", "late") == 1, 60,
                   "the late record to be counted")
        assert metric_sum(coord, "weir_task_late_records", "windowed") == 1
        code, out, _ = weirctl(coord, "describe", "windowed")
        assert "dead-lettered 0, skipped 0, late 1" in out, out
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
