"""A failed task is impossible to miss (issue 12, item 5): under
on_error: fail a bad record fails its task; the job reads FAILED in
`weirctl jobs`, `weirctl describe` (which exits 1 and shows the task's
error) and /api/jobs. Under on_error: dlq the same record is dead-lettered
and counted in describe, /api/jobs and /metrics (item 6)."""
import json
import sys

from cluster_common import (coordinator, create_topic, http_get, produce,
                            wait_until, weirctl, weirctl_json, weirtest,
                            worker)
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
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
