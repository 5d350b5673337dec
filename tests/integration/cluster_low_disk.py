"""A worker whose data dir lacks its reserve (--min-free-disk-mb) does not
start: it says why, waits (it never registers, so it is given no tasks),
and stops cleanly on SIGTERM. (A running worker that drops below the
reserve leaves the cluster: weir-chaos's disk-full scenario, chaos.scenarios.)"""
import sys

from cluster_common import (setup, wait_running, weirctl_json, weirtest,
                            worker)


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=1)
        wait_running(coord, {"w1"})
        # a reserve no disk here has: 1 TiB
        low = worker(c, "wlow", coord, broker.bootstrap, extra=[
            "--min-free-disk-mb", "1048576"], ready=None)
        line = low.wait_line("data dir low on space: waiting", 20)
        assert "min_free_disk_mb=1048576" in line, line
        ids = [w["worker_id"] for w in weirctl_json(coord, "workers")["workers"]]
        assert "wlow" not in ids, ids
        assert "ready cluster" not in low.log()
        wait_running(coord, {"w1"})
        assert low.stop(10) == 0, low.log()
        assert ws[0].stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
