"""SIGSTOP a worker past the session timeout: its tasks move to the others
(the new owners fence it through their transactional ids). SIGCONT it: the
zombie cannot commit, learns its epoch is stale, says Hello again, and the
word counts stay exact.
With the argument `latest`, the count emits latest (pre-aggregated).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (emit_mode, SESSION_MS, Feeder, seed_lines, setup,  # noqa: E402
                            wait_live, wait_recovered, wait_running,
                            wait_until, weirtest)


def main():
    with weirtest.Cluster() as c:
        emit = emit_mode(sys.argv)
        broker, coord, ws = setup(c, n_workers=3, emit=emit)
        bs = broker.bootstrap
        wait_running(coord, {"w1", "w2", "w3"})
        lines = seed_lines()
        third = len(lines) // 3
        feed = Feeder(bs, "text-lines", lines[:2 * third], batch=40, pause=0.05)
        time.sleep(1.0)
        ws[1].pause()
        paused = time.monotonic()
        wait_until(lambda: "session expired worker=w2" in coord.log(),
                   SESSION_MS / 1000.0 + 10, "w2's session to expire")
        wait_recovered(coord, paused, {"w1", "w3"})
        feed.join()
        # the others have committed past the zombie's last transaction
        wait_live(bs, paused, emit=emit)
        assert time.monotonic() - paused > SESSION_MS / 1000.0
        ws[1].resume()
        resumed = time.monotonic()
        wait_until(lambda: "is stale: dropping active tasks" in ws[1].log(), 20,
                   "the zombie to learn its epoch is stale")
        # it rejoins and gets a share back (two-phase, no double owner)
        wait_recovered(coord, resumed, {"w1", "w2", "w3"})
        Feeder(bs, "text-lines", lines[2 * third:], start_key=2 * third).join()
        wait_live(bs, resumed, emit=emit)
        for w in ws:
            assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
