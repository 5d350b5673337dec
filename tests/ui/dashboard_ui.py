"""The coordinator's dashboard in a real browser (label ui): a broker, a
coordinator, two workers and the word count with input flowing; the node
script dashboard.js drives Debian's chromium with playwright-core (from
the npm packages the ui.deps fixture installs into the build tree) and
saves a screenshot into the build tree (ui/dashboard.png)."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (Feeder, http_get, seed_lines, setup,  # noqa: E402
                            wait_running, weirctl, weirtest)


def main():
    npm = os.environ["WEIR_UI_NPM"]
    shot = os.path.join(os.environ["WEIR_UI_OUT"], "dashboard.png")
    started = time.monotonic()
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=2)
        wait_running(coord, {"w1", "w2"})
        # the operators of the topology, from the compiler (not the page)
        _, out, _ = weirctl(None, "--json", "topology", c.path("wordcount.yaml"))
        topo = json.loads(out)
        ops = [op["name"] for s in topo["subtopologies"] for op in s["operators"]]
        code, body = http_get(coord, "/api/jobs/wordcount/graph")
        assert code == 200, (code, body)
        graph = json.loads(body)
        assert sorted(n["name"] for n in graph["nodes"]
                      if n["type"] == "operator") == sorted(ops), graph
        for bad in ("/api/jobs//graph", "/api/jobs/a%2Fb/graph",
                    "/api/jobs/a/b/graph"):
            assert http_get(coord, bad)[0] == 400, bad
        assert http_get(coord, "/api/jobs/nope/graph")[0] == 404
        n_tasks = len(json.loads(http_get(coord, "/api/tasks")[1]))
        # input keeps flowing while the browser looks (about a minute's worth)
        lines = seed_lines()
        feed = Feeder(broker.bootstrap, "text-lines",
                      (lines * (1 + 12000 // max(1, len(lines))))[:12000],
                      batch=20, pause=0.1)
        env = dict(os.environ, NODE_PATH=os.path.join(npm, "node_modules"))
        r = subprocess.run(
            ["node", os.path.join(os.path.dirname(__file__), "dashboard.js"),
             "http://" + coord.http, "wordcount", json.dumps(ops), str(n_tasks),
             shot], env=env, timeout=150)
        assert r.returncode == 0, "dashboard.js failed: exit %d" % r.returncode
        assert feed.error is None, feed.error
        m = http_get(coord, "/metrics")[1]
        for name in ("weir_task_records_in_rate", "weir_task_standby{",
                     "weir_worker_heartbeat_age_seconds",
                     "weir_task_commit_latency_p99_ms",
                     "weir_cluster_events_total"):
            assert name in m, name
        # every series the Grafana dashboard charts is exported
        grafana = os.path.join(os.environ["WEIR_SOURCE_DIR"], "docker",
                               "grafana", "weir-dashboard.json")
        with open(grafana) as f:
            exprs = [t["expr"] for p in json.load(f)["panels"]
                     for t in p["targets"]]
        for name in sorted({n for e in exprs
                            for n in re.findall(r"weir_[a-z0-9_]+", e)}):
            assert "\n" + name in m, "grafana charts %s, /metrics lacks it" % name
    print("screenshot: %s" % shot)
    print("ui test took %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
