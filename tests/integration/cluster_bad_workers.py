"""Workers that would black-hole tasks are kept out (issue 12, item 3): a
worker that cannot reach Kafka registers but gets no tasks, and `weirctl
workers` says KAFKA UNREACHABLE; a second process with a live worker's
--id is refused with a clear error while the live one keeps its tasks; the
word count stays exact throughout."""
import sys
import time

from cluster_common import (Feeder, free_port, seed_lines, setup, wait_exact,
                            wait_running, wait_until, weirctl, weirctl_json,
                            weirtest, worker)


def owners(coord):
    return {t["owner"] for t in weirctl_json(coord, "describe",
                                             "wordcount")["tasks"]}


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=1)
        bs = broker.bootstrap
        wait_running(coord, {"w1"})
        lines = seed_lines()
        feed = Feeder(bs, "text-lines", lines[: len(lines) // 2])

        # A worker with a wrong --bootstrap: registered, no tasks.
        wrong = "127.0.0.1:%d" % free_port()
        bad = worker(c, "wbad", coord, wrong)

        def flagged():
            for w in weirctl_json(coord, "workers")["workers"]:
                if w["worker_id"] == "wbad":
                    return w["kafka"] == "KAFKA_UNREACHABLE" and w
            return None
        info = wait_until(flagged, 20, "wbad to be reported unreachable")
        assert info["kafka_error"], info
        _, out, _ = weirctl(coord, "workers")
        assert "KAFKA UNREACHABLE" in out, out
        # A second process with w1's id: refused, w1 keeps every task.
        dup = c.start("w1-dup", "weir-worker",
                      ["--coordinator", coord.url, "--id", "w1", "--data-dir",
                       c.path("w1-dup-data", "x")[:-2], "--bootstrap", bs,
                       "--progress-interval-ms", "0"], ready=None)
        dup.wait_line("is in use by a live worker", 20)
        registered = ws[0].log().count("registered worker=w1")
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert owners(coord) == {"w1"}, owners(coord)
            time.sleep(0.3)
        assert ws[0].log().count("registered worker=w1") == registered
        assert weirctl_json(coord, "describe", "wordcount")["job"][
            "running_tasks"] == 8
        for w in weirctl_json(coord, "workers")["workers"]:
            if w["worker_id"] == "wbad":
                assert w.get("active_tasks", 0) == 0, w
        dup.stop()

        feed.join()
        Feeder(bs, "text-lines", lines[len(lines) // 2:],
               start_key=len(lines) // 2).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=90))
        assert bad.stop() == 0
        for w in ws:
            assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
