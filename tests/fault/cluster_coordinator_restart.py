"""Kill the coordinator mid-job (SIGKILL): the workers keep processing
while it is away; restarted on the same data dir it resumes the same
generation and assignment (nothing moves), and the counts are exact."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (Feeder, coordinator, seed_lines, setup,  # noqa: E402
                            wait_exact, wait_live, wait_recovered,
                            wait_running, weirctl, weirctl_json,
                            weirtest)


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=2)
        bs = broker.bootstrap
        before = wait_running(coord, {"w1", "w2"})
        gen = weirctl_json(coord, "status")["generation"]
        lines = seed_lines()
        third = len(lines) // 3
        Feeder(bs, "text-lines", lines[:third]).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=60))

        coord.kill()
        killed = time.monotonic()
        code, _, err = weirctl(coord, "status", check=False, timeout=30)
        assert code == 1 and "coordinator" in err, (code, err)
        # processing goes on without the coordinator
        Feeder(bs, "text-lines", lines[third:2 * third], start_key=third).join()
        wait_live(bs, killed)

        coord2 = coordinator(c, name="coordinator-2", **{
            k: v for k, v in coord.restart_args.items() if k != "name"})
        restarted = time.monotonic()
        wait_recovered(coord2, restarted, {"w1", "w2"})
        after = wait_running(coord2, {"w1", "w2"}, timeout=30)
        assert after == before, (before, after)
        st = weirctl_json(coord2, "status")
        assert st["generation"] == gen, (gen, st)
        assert "registering again" not in ws[0].log() + ws[1].log()
        Feeder(bs, "text-lines", lines[2 * third:], start_key=2 * third).join()
        wait_live(bs, restarted)
        for w in ws:
            assert w.stop() == 0
        assert coord2.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
