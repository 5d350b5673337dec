"""Balance by capacity with real workers: capacities 1 and 3 share 8 tasks
as 2 and 6; a worker restarted with the same id and data dir within the
session timeout gets its tasks back at once; the counts stay exact."""
import sys

from cluster_common import (Feeder, seed_lines, setup, wait_exact,
                            wait_running, weirctl_json, weirtest, worker)


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=0)
        bs = broker.bootstrap
        small = worker(c, "small", coord, bs, extra=["--capacity", "1"])
        big = worker(c, "big", coord, bs, extra=["--capacity", "3"])
        owners = wait_running(coord, {"small", "big"})
        per = {}
        for o in owners.values():
            per[o] = per.get(o, 0) + 1
        assert per == {"small": 2, "big": 6}, per
        caps = {w["worker_id"]: w["capacity"]
                for w in weirctl_json(coord, "workers")["workers"]}
        assert caps == {"small": 1, "big": 3}, caps
        lines = seed_lines()
        half = len(lines) // 2
        Feeder(bs, "text-lines", lines[:half]).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=60))

        # SIGKILL and restart within the session timeout: same id, same data
        # dir, a new epoch, the same tasks
        big.kill()
        big = worker(c, "big-2", coord, bs, data_dir=big.data_dir,
                     extra=["--capacity", "3", "--id", "big"])
        after = wait_running(coord, {"small", "big"}, timeout=30)
        assert after == owners, (owners, after)
        Feeder(bs, "text-lines", lines[half:], start_key=half).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=60))
        assert small.stop() == 0
        assert big.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
