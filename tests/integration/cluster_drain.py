"""Drain a worker: its tasks move to the others (revoked first, then
assigned), it ends with no active tasks and may be stopped; the counts stay
exact. Also cancel: a cancelled job's tasks stop everywhere; submitted
again it resumes exactly where it stopped."""
import sys

from cluster_common import (Feeder, seed_lines, setup, wait_exact,
                            wait_running, wait_until, weirctl, weirctl_json,
                            weirtest)


def worker_info(coord, wid):
    for w in weirctl_json(coord, "workers")["workers"]:
        if w["worker_id"] == wid:
            return w
    return None


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=2)
        bs = broker.bootstrap
        wait_running(coord, {"w1", "w2"})
        lines = seed_lines()
        half = len(lines) // 2
        feed = Feeder(bs, "text-lines", lines[:half])
        code, _, err = weirctl(coord, "drain", "nobody", check=False)
        assert code == 1 and "not found" in err, (code, err)
        _, out, _ = weirctl(coord, "drain", "w1")
        assert "draining worker w1" in out, out
        wait_running(coord, {"w2"}, timeout=30)
        w1 = wait_until(lambda: (lambda w: w if w["active_tasks"] == 0 else None)(
            worker_info(coord, "w1")), 20, "w1 to have no active task")
        assert w1["draining"] and w1["alive"], w1
        _, out, _ = weirctl(coord, "workers")
        assert "draining" in out, out
        feed.join()
        assert ws[0].stop() == 0
        Feeder(bs, "text-lines", lines[half:], start_key=half).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=90))

        _, out, _ = weirctl(coord, "cancel", "wordcount")
        assert "cancelled job wordcount" in out
        wait_until(lambda: "task stopped task=wordcount-" in ws[1].log(), 20,
                   "w2 to stop the cancelled job's tasks")
        jobs = weirctl_json(coord, "jobs")["jobs"]
        assert jobs[0]["state"] == "JOB_CANCELLED", jobs
        code, _, err = weirctl(coord, "cancel", "wordcount", check=False)
        assert code == 1 and "already cancelled" in err, (code, err)
        # resubmitted, it resumes from its committed offsets and state
        job = c.path("wordcount.yaml")
        weirctl(coord, "submit", job)
        wait_running(coord, {"w2"}, timeout=30)
        Feeder(bs, "text-lines", lines[:100], start_key=len(lines)).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=60))
        assert ws[1].stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
