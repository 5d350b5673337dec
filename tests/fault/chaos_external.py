"""weir-chaos against a cluster it did not start (as on a docker-compose
deployment): the test starts weir-broker (with its fault API), a
coordinator, three workers and the word count; weir-chaos gets their
addresses, two workers' pids and the broker's admin address, pauses a
worker past its session, injects broker request faults and SIGKILLs a
worker (nothing restarts it: recovery is every task on the others), and
must end exact."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (coordinator, create_topic, wait_running,  # noqa: E402
                            weirctl, weirtest, worker, wordcount_yaml)


def main():
    with weirtest.Cluster() as c:
        admin = "127.0.0.1:%d" % weirtest.free_port()
        broker = c.broker(extra=["--admin", admin])
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        coord = coordinator(c, bootstrap=bs)
        ws = [worker(c, "w%d" % (i + 1), coord, bs) for i in range(3)]
        weirctl(coord, "submit", wordcount_yaml(c.path("wordcount.yaml")))
        wait_running(coord, {"w1", "w2", "w3"})
        report = tempfile.mkdtemp(prefix="weir-chaos-report-")
        r = subprocess.run(
            [os.path.join(weirtest.BIN_DIR, "weir-chaos"), "run",
             "--bootstrap", bs, "--coordinator", coord.url, "--job", "wordcount",
             "--input-topic", "text-lines", "--output-topic", "wordcounts",
             "--pid", "w2=%d" % ws[1].pid, "--pid", "w3=%d" % ws[2].pid,
             "--broker-admin", admin,
             "--scenario", "worker-pause,broker-faults,worker-kill",
             "--duration", "30s", "--seed", "3", "--report", report],
            capture_output=True, text=True, timeout=900)
        print(r.stdout[-5000:], r.stderr[-2000:])
        assert r.returncode == 0, "weir-chaos exited %d" % r.returncode
        rep = json.load(open(os.path.join(report, "report.json")))
        assert rep["verdict"] == "exact", rep["verdict"]
        assert [f["scenario"] for f in rep["faults"]] == [
            "worker-pause", "broker-faults", "worker-kill"], rep["faults"]
        assert all(f["recovered_at"] is not None for f in rep["faults"]), rep["faults"]
        assert rep["cluster"].startswith("external:"), rep["cluster"]
        killed = [w for w in ws[1:] if not w.alive()]
        assert len(killed) == 1, "one of w2, w3 SIGKILLed"
        for w in ws:
            if w.alive():
                assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
