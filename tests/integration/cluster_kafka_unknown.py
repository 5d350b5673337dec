"""A worker whose Kafka probe has not answered yet gets no tasks while
another worker reaches Kafka (issue 12, item 3). The coordinator's
--bootstrap goes through a TCP relay to the broker; once the job runs on
w1, the relay goes silent (it accepts and never answers) and w2 starts
without --bootstrap: it learns the relay from Welcome, and its probe takes
its whole timeout to fail. All that time its state is UNKNOWN (-1 in
/metrics), then UNREACHABLE (0); it never gets a task."""
import socket
import sys
import threading
import time

from cluster_common import (coordinator, create_topic, http_get, wait_running,
                            wait_until, weirctl, weirctl_json, weirtest,
                            worker, wordcount_yaml)
import promcheck  # noqa: E402 (tests/lib is on the path once cluster_common is in)


class Relay:
    """Forwards 127.0.0.1:port to target until silenced; then accepts
    connections and never answers them."""

    def __init__(self, target):
        self.target = target
        self.silent = False
        self.held = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.silent:
                self.held.append(conn)
                continue
            up = socket.create_connection(self.target)
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pipe, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def kafka_gauge(coord, worker_id):
    code, body = http_get(coord, "/metrics")
    assert code == 200, code
    for s in promcheck.check(body)["weir_worker_kafka_reachable"]:
        if s.labels["worker"] == worker_id:
            return s.value
    return None


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        host, port = bs.rsplit(":", 1)
        relay = Relay((host, int(port)))
        coord = coordinator(c, bootstrap="127.0.0.1:%d" % relay.port)
        worker(c, "w1", coord, bs)
        _, out, _ = weirctl(coord, "submit",
                            wordcount_yaml(c.path("wordcount.yaml")))
        assert "submitted job wordcount" in out, out
        wait_running(coord, {"w1"}, timeout=60)
        relay.silent = True

        c.start("w2", "weir-worker",
                ["--coordinator", coord.url, "--id", "w2", "--data-dir",
                 c.path("w2-data", "x")[:-2], "--threads", "2",
                 "--progress-interval-ms", "0"], ready="registered worker=w2")
        seen = set()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            ws = {w["worker_id"]: w
                  for w in weirctl_json(coord, "workers")["workers"]}
            assert ws["w2"].get("active_tasks", 0) == 0, ws["w2"]
            seen.add(ws["w2"].get("kafka", "KAFKA_UNKNOWN"))
            seen.add(kafka_gauge(coord, "w2"))
            owners = {t["owner"] for t in weirctl_json(
                coord, "describe", "wordcount")["tasks"]}
            assert owners == {"w1"}, owners
            time.sleep(0.2)
        assert {"KAFKA_UNKNOWN", -1} <= seen, seen
        wait_until(lambda: kafka_gauge(coord, "w2") == 0, 20,
                   "w2's probe to fail")
        assert weirctl_json(coord, "describe", "wordcount")["job"][
            "running_tasks"] == 8
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
