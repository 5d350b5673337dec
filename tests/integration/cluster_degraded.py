"""A stuck task is impossible to miss: with no worker to run them, the word
count's tasks stay unassigned past --stuck-task-ms, and the job shows
degraded in weirctl list and describe, /api/jobs, /api/tasks and /metrics.
Once a worker runs them, the job is healthy again."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from cluster_common import (coordinator, create_topic, http_get,  # noqa: E402
                            wait_running, wait_until, weirctl, weirctl_json,
                            weirtest, worker, wordcount_yaml)

STUCK_MS = 1000


def degraded(coord):
    return weirctl_json(coord, "describe", "wordcount")["job"].get("degraded", False)


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        coord = coordinator(c, bootstrap=bs,
                            extra=["--stuck-task-ms", str(STUCK_MS)])
        weirctl(coord, "submit", wordcount_yaml(c.path("wc.yaml")))
        submitted = time.monotonic()
        wait_until(lambda: degraded(coord), 10, "the job to show degraded")
        assert time.monotonic() - submitted >= STUCK_MS / 1000.0 * 0.9
        job = weirctl_json(coord, "describe", "wordcount")["job"]
        assert job["stuck_tasks"] == 8, job
        _, out, _ = weirctl(coord, "describe", "wordcount")
        assert "DEGRADED" in out and "(stuck)" in out, out
        _, out, _ = weirctl(coord, "jobs")
        header, row = out.splitlines()[0].split(), out.splitlines()[1].split()
        assert row[header.index("STUCK")] == "8", out
        code, body = http_get(coord, "/api/jobs")
        jobs = json.loads(body)
        assert code == 200 and jobs[0]["degraded"] is True and \
            jobs[0]["stuck_tasks"] == 8, body
        code, body = http_get(coord, "/api/tasks")
        assert code == 200 and all(t["stuck"] for t in json.loads(body)), body
        code, body = http_get(coord, "/metrics")
        assert 'weir_job_degraded{job="wordcount"} 1' in body, body
        assert "weir_tasks_stuck 8" in body, body
        assert "task stuck, job degraded" in coord.log()

        w = worker(c, "w1", coord, bs)
        wait_running(coord, {"w1"})
        wait_until(lambda: not degraded(coord), 10, "the job to be healthy")
        code, body = http_get(coord, "/metrics")
        assert 'weir_job_degraded{job="wordcount"} 0' in body, body
        assert "weir_tasks_stuck 0" in body, body
        assert "stuck task recovered" in coord.log()
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
