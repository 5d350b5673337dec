"""SIGKILL a worker mid-job: after the session timeout its tasks resume on
the other workers (from their standbys), and the word counts are exact.
With the argument `latest`, the count emits latest (pre-aggregated).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (emit_mode, Feeder, seed_lines, setup,  # noqa: E402
                            wait_live, wait_recovered, wait_running,
                            weirctl_json, weirtest)


def main():
    with weirtest.Cluster() as c:
        emit = emit_mode(sys.argv)
        broker, coord, ws = setup(c, n_workers=3, emit=emit)
        bs = broker.bootstrap
        wait_running(coord, {"w1", "w2", "w3"})
        lines = seed_lines()
        feed = Feeder(bs, "text-lines", lines, batch=40, pause=0.05)
        # kill once w2 is committing
        time.sleep(1.0)
        t0 = time.monotonic()
        ws[1].kill()
        wait_recovered(coord, t0, {"w1", "w3"})
        feed.join()
        wait_live(bs, t0, emit=emit)
        workers = {w["worker_id"]: w for w in weirctl_json(coord, "workers")["workers"]}
        assert not workers["w2"]["alive"], workers["w2"]
        assert "session expired worker=w2" in coord.log()
        for w in (ws[0], ws[2]):
            assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
