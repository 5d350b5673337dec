"""The three join and session examples in cluster mode, a worker SIGKILLed
mid-job: examples/enrich-clicks.yaml (stream-table), ad-attribution.yaml
(stream-stream, outer) and user-sessions.yaml (session windows, emit:
final) run as three jobs on three workers; once every task runs, w2 is
killed, its tasks move to the others (restoring their stores), and each
job's output equals the reference computed from its input, as in the
standalone tests (worker_join.py, worker_stream_join.py,
worker_sessions.py). All input is in the topics before the jobs start.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (RECOVERY_S, coordinator,  # noqa: E402
                            create_topic, wait_recovered, wait_running,
                            weirctl, weirtest, worker)
from weirtest import wait_until  # noqa: E402
from worker_common import produce_records  # noqa: E402
import worker_join  # noqa: E402
import worker_sessions  # noqa: E402
import worker_stream_join  # noqa: E402

MINUTE = 60000


def sessions_job():
    with open(os.path.join(worker_join.SOURCE_DIR, "examples",
                           "user-sessions.yaml")) as f:
        text = f.read()
    return text.replace("topic: clicks", "topic: session-clicks").replace(
        "topic: sessions", "topic: sessions-out")


def main():
    rng = random.Random(int(os.environ.get("WEIR_FAULT_SEED", "3")))
    with weirtest.Cluster() as c:
        bs = c.broker().bootstrap
        for t in ("users", "clicks", "impressions", "ad-clicks",
                  "session-clicks"):
            create_topic(bs, t, 4)
        produce_records(bs, worker_join.generate(rng))
        produce_records(bs, worker_stream_join.generate(rng))
        produce_records(bs, worker_sessions.generate(
            rng, [0, 1000, 20000, 60000, 3 * MINUTE], 0, "session-clicks"))
        ref, _ = worker_sessions.reference(bs, 30 * MINUTE, 0,
                                           "session-clicks")
        checks = {
            "enrich-clicks": (worker_join.job_text(),
                              worker_join.reference(bs),
                              lambda: worker_join.actual(bs)),
            "ad-attribution": (worker_stream_join.job_text("outer"),
                               worker_stream_join.reference(bs, "outer")[0],
                               lambda: worker_stream_join.actual(bs)),
            "user-sessions": (sessions_job(),
                              worker_sessions.closed_sessions(ref),
                              lambda: worker_sessions.final_actual(
                                  bs, "sessions-out")),
        }
        coord = coordinator(c, bootstrap=bs)
        ws = [worker(c, "w%d" % (i + 1), coord, bs) for i in range(3)]
        for job, (text, _, _) in checks.items():
            path = c.path(job + ".yaml")
            with open(path, "w") as f:
                f.write(text)
            _, out, _ = weirctl(coord, "submit", path)
            assert "submitted job " + job in out, out
        for job in checks:
            wait_running(coord, job=job)
        _, out, _ = weirctl(coord, "describe", "enrich-clicks")
        assert "table users: topic users, store users" in out, out
        assert "join join-2: left join with table users" in out, out
        _, out, _ = weirctl(coord, "describe", "ad-attribution")
        assert "join join-2: outer join of two streams within 600000 ms, " \
            "grace 60000 ms, store join-2" in out, out
        t0 = time.monotonic()
        ws[1].kill()
        for job in checks:  # three jobs' tasks restart: a wider bound
            wait_recovered(coord, t0, {"w1", "w3"}, job=job,
                           bound=RECOVERY_S + 10)
        for job, (_, expected, actual) in checks.items():
            wait_until(lambda: actual() == expected, 120,
                       "%s's output equal to the reference" % job,
                       interval=0.5)
            print("exact: %s (%d keys)" % (job, len(expected)), flush=True)
        for w in (ws[0], ws[2]):
            assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
