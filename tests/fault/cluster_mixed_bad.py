"""A mixed run of silent-failure causes (issue 12): one worker cannot reach
Kafka (wrong --bootstrap) and one input record is larger than the worker's
old fetch cap. The job still ends exact, every task runs on the worker
that reaches Kafka, and the problem worker is visible in weirctl and
/metrics (which stays valid Prometheus text)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from confluent_kafka import Producer  # noqa: E402

from cluster_common import (Feeder, coordinator, create_topic, free_port,
                            http_get, seed_lines, wait_exact, wait_running,
                            wait_until, weirctl, weirctl_json, weirtest,
                            worker, wordcount_yaml)  # noqa: E402
import promcheck  # noqa: E402 (tests/lib is on the path once cluster_common is in)


def big_line():
    """About 2.5 MB of 1000-character words: one record over 2 MiB."""
    return " ".join("w%04d" % i + "q" * 995 for i in range(2500)).encode()


def main():
    with weirtest.Cluster() as c:
        broker = c.broker(extra=("--message-max-bytes", "16777216"))
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        coord = coordinator(c, bootstrap=bs)
        good = worker(c, "w1", coord, bs)
        bad = worker(c, "wbad", coord, "127.0.0.1:%d" % free_port())
        _, out, _ = weirctl(coord, "submit",
                            wordcount_yaml(c.path("wordcount.yaml")))
        assert "submitted job wordcount" in out, out
        wait_running(coord, {"w1"}, timeout=60)

        lines = seed_lines()
        feed = Feeder(bs, "text-lines", lines[: len(lines) // 2])
        p = Producer({"bootstrap.servers": bs, "message.max.bytes": 8000000,
                      "enable.idempotence": True})
        p.produce("text-lines", key=b"big", value=big_line())
        assert p.flush(30) == 0
        feed.join()
        Feeder(bs, "text-lines", lines[len(lines) // 2:],
               start_key=len(lines) // 2).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=120))

        _, out, _ = weirctl(coord, "workers")
        wbad_line = [ln for ln in out.splitlines() if "wbad" in ln]
        assert wbad_line and "KAFKA UNREACHABLE" in wbad_line[0], out
        ws = {w["worker_id"]: w for w in weirctl_json(coord, "workers")["workers"]}
        assert ws["wbad"]["kafka"] == "KAFKA_UNREACHABLE", ws
        assert ws["wbad"]["kafka_error"], ws
        assert ws["w1"]["kafka"] == "KAFKA_REACHABLE", ws
        d = weirctl_json(coord, "describe", "wordcount")
        assert {t["owner"] for t in d["tasks"]} == {"w1"}, d["tasks"]
        assert d["job"]["running_tasks"] == 8, d["job"]
        code, body = http_get(coord, "/metrics")
        families = promcheck.check(body)
        running = [s for s in families["weir_tasks"]
                   if s.labels["state"] == "RUNNING"]
        assert running and running[0].value == 8, running
        reach = {s.labels["worker"]: s.value
                 for s in families["weir_worker_kafka_reachable"]}
        assert reach == {"w1": 1, "wbad": 0}, reach
        own = families["weir_kafka_reachable"]
        assert len(own) == 1 and own[0].value == 1, own

        def lag_zero():
            tasks = weirctl_json(coord, "describe", "wordcount")["tasks"]
            return all(t["status"].get("lag", 0) == 0 for t in tasks)
        wait_until(lag_zero, 20, "lag 0 everywhere")
        assert bad.stop() == 0 and good.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
