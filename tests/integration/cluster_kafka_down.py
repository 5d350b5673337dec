"""A coordinator that cannot reach Kafka says so and keeps serving (issue
12, item 2): Kafka calls run on their own thread, so /healthz, weirctl and
workers' heartbeats are answered at once while a submit waits for Kafka;
/healthz answers 503 "kafka unreachable" and `weirctl status` says
UNREACHABLE; once a broker appears on the bootstrap address both recover
and a submit goes through."""
import sys
import threading
import time
import urllib.error
import urllib.request

from cluster_common import (coordinator, free_port, wait_until, weirctl,
                            weirctl_json, weirtest, worker, wordcount_yaml)


def healthz(coord):
    """(status, body, seconds it took)"""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen("http://%s/healthz" % coord.http,
                                    timeout=10) as r:
            code, body = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        code, body = e.code, e.read().decode()
    return code, body, time.monotonic() - t0


def main():
    with weirtest.Cluster() as c:
        port = free_port()
        bs = "127.0.0.1:%d" % port  # nothing listens there yet
        coord = coordinator(c, bootstrap=bs,
                            extra=("--kafka-timeout-ms", "4000"))

        def unreachable():
            code, body, took = healthz(coord)
            assert took < 1.5, took
            return code == 503 and "kafka unreachable" in body and body
        print(wait_until(unreachable, 20, "/healthz to say kafka is down"))
        _, out, _ = weirctl(coord, "status")
        assert "UNREACHABLE" in out, out
        assert "kafka unreachable" in coord.log(), coord.log()[-2000:]

        # A submit waits for Kafka on the Kafka thread; meanwhile the loop
        # answers at once and a worker registers and heartbeats.
        job = wordcount_yaml(c.path("wordcount.yaml"))
        result = {}

        def submit():
            result["r"] = weirctl(coord, "submit", job, check=False)
        t = threading.Thread(target=submit)
        t.start()
        time.sleep(0.3)
        for _ in range(5):
            _, _, took = healthz(coord)
            assert took < 1.5, took
            t0 = time.monotonic()
            weirctl(coord, "jobs")
            assert time.monotonic() - t0 < 1.5
        w = worker(c, "w1", coord, bs)
        wait_until(lambda: any(x["alive"] for x in
                               weirctl_json(coord, "workers")["workers"]),
                   10, "the worker to register")
        t.join(30)
        code, _, err = result["r"]
        assert code == 1 and "kafka" in err.lower(), (code, err)

        # Kafka appears: the coordinator notices and a submit goes through.
        c.broker(port=port)
        wait_until(lambda: healthz(coord)[0] == 200, 30,
                   "/healthz to be ok again")
        _, out, _ = weirctl(coord, "status")
        assert "UNREACHABLE" not in out, out
        _, out, _ = weirctl(coord, "submit", job)
        assert "submitted job wordcount" in out, out
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
