"""Scale out from 1 to 3 workers mid-job: tasks spread over all three
(two-phase moves), the word counts stay exact, and the coordinator's views
(weirctl, /api, /metrics) agree. On Apache Kafka (3 nodes) the topics
Weir creates get 3 replicas."""
import json
import sys

from cluster_common import (Feeder, http_get, seed_lines, setup, wait_exact,
                            wait_running, wait_until, weirctl, weirctl_json,
                            weirtest, worker)
import promcheck  # noqa: E402 (tests/lib is on the path once cluster_common is in)
from confluent_kafka.admin import AdminClient  # noqa: E402


def main():
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=1)
        bs = broker.bootstrap
        wait_running(coord, {"w1"})
        lines = seed_lines()
        half = len(lines) // 2
        feed = Feeder(bs, "text-lines", lines[:half])
        # scale out while the first half is being processed
        ws.append(worker(c, "w2", coord, bs))
        ws.append(worker(c, "w3", coord, bs))
        owners = wait_running(coord, {"w1", "w2", "w3"}, timeout=60)
        feed.join()
        Feeder(bs, "text-lines", lines[half:], start_key=half).join()
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=90))

        per = {}
        for o in owners.values():
            per[o] = per.get(o, 0) + 1
        assert sorted(per.values()) == [2, 3, 3], per
        workers = weirctl_json(coord, "workers")["workers"]
        assert {w["worker_id"] for w in workers if w["alive"]} == {"w1", "w2", "w3"}
        for w in workers:
            assert w["standby_tasks"] > 0, w  # standby_replicas 1 by default
        _, out, _ = weirctl(coord, "workers")
        assert "w3" in out and "alive" in out, out
        _, out, _ = weirctl(coord, "describe", "wordcount")
        assert "8/8 tasks running" in out, out
        # Once the output is complete every task's lag is 0, also behind the
        # repartition topic's transaction markers, and the tasks that write
        # the repartition topic count what they wrote.
        def caught_up():
            tasks = weirctl_json(coord, "describe", "wordcount")["tasks"]
            return all(t["status"].get("lag", 0) == 0 for t in tasks) and tasks
        tasks = wait_until(caught_up, 20, "every task's lag to reach 0")
        for t in tasks:
            if t["task"].get("subtopology", 0) == 0:
                assert t["status"]["records_out"] > 0, t
        st = weirctl_json(coord, "status")
        assert st["tasks"] == 8 and st["unassigned_tasks"] == 0, st
        code, body = http_get(coord, "/api/workers")
        assert code == 200 and '"w2"' in body, body
        api_workers = json.loads(body)
        assert sorted(w["worker_id"] for w in api_workers) == ["w1", "w2", "w3"]
        code, body = http_get(coord, "/api/jobs")
        assert code == 200 and json.loads(body)[0]["state"] == "running", body
        code, body = http_get(coord, "/api/tasks")
        api_tasks = json.loads(body)
        assert code == 200 and len(api_tasks) == 8, body
        assert {t["owner"] for t in api_tasks} == {"w1", "w2", "w3"}, api_tasks
        assert all(t["state"] == "RUNNING" for t in api_tasks), api_tasks
        code, body = http_get(coord, "/")
        assert code == 200 and "dashboard/app.js" in body, body  # tests/ui
        code, body = http_get(coord, "/metrics")
        assert code == 200 and 'weir_tasks{state="RUNNING"} 8' in body, body
        assert "weir_commit_latency_ms_bucket" in body
        families = promcheck.check(body)
        assert len([s for s in families["weir_task_lag"]]) == 8, families
        code, body = http_get(coord, "/healthz")
        assert code == 200 and body.strip() == "ok"
        if weirtest.TEST_BROKER == "kafka":
            # internal topics take the cluster's replication (3 nodes: 3),
            # never a silent 1
            md = AdminClient({"bootstrap.servers": bs}).list_topics(timeout=10)
            internal = [t for t in md.topics if t.startswith("wordcount-")]
            assert len(internal) >= 3, sorted(md.topics)
            for t in internal:
                for p in md.topics[t].partitions.values():
                    assert len(p.replicas) == 3, (t, p.id, p.replicas)
        for w in ws:
            assert w.stop() == 0, "%s did not stop cleanly" % w.name
        # a clean stop says Leave: the coordinator knows at once
        workers = weirctl_json(coord, "workers")["workers"]
        assert not any(w["alive"] for w in workers), workers
        assert coord.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
