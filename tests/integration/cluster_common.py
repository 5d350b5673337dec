"""Helpers for the cluster's integration and fault tests: a weir-broker, a
weir-coordinator, cluster-mode weir-workers, weirctl, the HTTP API, and the
word-count exactly-once checker (worker_verify, read_committed)."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))

import weirtest  # noqa: E402
from weirtest import BIN_DIR, free_port, wait_until  # noqa: E402,F401
from worker_common import (create_topic, produce, seed_lines,  # noqa: E402,F401
                           wait_exact, wait_live, wordcount_yaml)

SESSION_MS = 3000
# Liveness (docs/exactly-once.md): once the last fault is over, every task
# runs again within the session timeout plus a restart (and the output is
# complete within worker_common.LIVENESS_S).
RECOVERY_S = SESSION_MS / 1000.0 + 5


def coordinator(c, name="coordinator", bootstrap=None, data_dir=None,
                port=None, http_port=None, extra=(), env=None):
    port = port or free_port()
    http_port = http_port or free_port()
    data_dir = data_dir or c.path(name + "-data", "x")[:-2]
    os.makedirs(data_dir, exist_ok=True)
    args = ["--listen", "tcp://127.0.0.1:%d" % port,
            "--http", "127.0.0.1:%d" % http_port,
            "--data-dir", data_dir, "--bootstrap", bootstrap] + list(extra)
    p = c.start(name, "weir-coordinator", args, env=env, ready="ready listen=")
    p.url = "tcp://127.0.0.1:%d" % port
    p.http = "127.0.0.1:%d" % http_port
    p.port, p.http_port, p.data_dir = port, http_port, data_dir
    p.restart_args = dict(name=name, bootstrap=bootstrap, data_dir=data_dir,
                          port=port, http_port=http_port, extra=extra, env=env)
    return p


def worker(c, name, coord, bootstrap, extra=(), env=None, data_dir=None,
           ready="ready cluster"):
    data_dir = data_dir or c.path(name + "-data", "x")[:-2]
    os.makedirs(data_dir, exist_ok=True)
    args = ["--coordinator", coord.url, "--id", name, "--data-dir", data_dir,
            "--bootstrap", bootstrap, "--threads", "2",
            "--progress-interval-ms", "0"] + list(extra)
    p = c.start(name, "weir-worker", args, env=env, ready=ready, timeout=30)
    p.data_dir = data_dir
    return p


def weirctl(coord, *args, token=None, check=True, timeout=30):
    """Runs weirctl; returns (exit code, stdout, stderr)."""
    argv = [os.path.join(BIN_DIR, "weirctl")]
    if coord is not None:
        argv += ["--coordinator", coord if isinstance(coord, str) else coord.url]
    if token:
        argv += ["--token", token]
    argv += list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("weirctl %s: exit %d: %s" % (
            " ".join(args), r.returncode, r.stderr.strip()))
    return r.returncode, r.stdout, r.stderr


def weirctl_json(coord, *args, token=None):
    _, out, _ = weirctl(coord, "--json", *args, token=token)
    return json.loads(out)


def http_get(coord, path, token=None, headers=None):
    """(status, body) of an HTTP GET to the coordinator."""
    req = urllib.request.Request("http://%s%s" % (coord.http, path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def tasks(coord, job="wordcount", token=None):
    """{task name: (owner, state)} from weirctl describe --json."""
    d = weirctl_json(coord, "describe", job, token=token)
    out = {}
    for t in d.get("tasks", []):
        name = "%d_%d" % (t["task"]["subtopology"], t["task"]["partition"])
        st = t["status"]["state"] if t.get("status") else "NONE"
        out[name] = (t["owner"], st)
    return out


def wait_running(coord, owners=None, job="wordcount", timeout=60, token=None):
    """Waits until every task of job runs (state RUNNING), on owners (a set
    of worker ids that must each own at least one task) when given.
    Returns the {task: owner} map."""
    def ok():
        ts = tasks(coord, job, token=token)
        if not ts or any(st != "TASK_RUNNING" or not o for o, st in ts.values()):
            return None
        have = {o for o, _ in ts.values()}
        if owners is not None and have != set(owners):
            return None
        return {k: o for k, (o, _) in ts.items()}
    return wait_until(ok, timeout, "tasks running on %s" % (
        sorted(owners) if owners else "any worker"), interval=0.2)


def wait_recovered(coord, last_fault, owners=None, job="wordcount",
                   bound=RECOVERY_S):
    """Waits until every task runs again and asserts that it happened
    within bound seconds of last_fault (time.monotonic()); returns the
    recovery time in seconds."""
    wait_running(coord, owners, job=job, timeout=bound + 30)
    took = time.monotonic() - last_fault
    print("recovered: every task running %.2f s after the last fault" % took,
          flush=True)
    assert took <= bound, "tasks running only %.1f s after the last fault " \
        "(bound %.1f s)" % (took, bound)
    return took


class Feeder:
    """Produces lines in the background, slowly, so that faults land in
    the middle of processing."""

    def __init__(self, bootstrap, topic, lines, start_key=0, batch=50,
                 pause=0.05):
        self.args = (bootstrap, topic, lines, start_key, batch, pause)
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        bootstrap, topic, lines, start, batch, pause = self.args
        try:
            for i in range(0, len(lines), batch):
                produce(bootstrap, topic, lines[i:i + batch], start_key=start + i)
                time.sleep(pause)
        except Exception as e:  # reported by join()
            self.error = e
        finally:
            self.done.set()

    def join(self, timeout=120):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("feeder still running")
        if self.error:
            raise self.error


def emit_mode(argv):
    """A cluster fault test's optional argument: the count's emit mode."""
    return argv[1] if len(argv) > 1 else "update"


def setup(c, n_workers=1, partitions=4, coord_extra=(), worker_extra=(),
          emit=None):
    """Broker, topic, coordinator, workers and the submitted word count
    (with the count's emit mode, if given)."""
    broker = c.broker()
    bs = broker.bootstrap
    create_topic(bs, "text-lines", partitions)
    coord = coordinator(c, bootstrap=bs, extra=coord_extra)
    ws = [worker(c, "w%d" % (i + 1), coord, bs, extra=worker_extra)
          for i in range(n_workers)]
    job = wordcount_yaml(c.path("wordcount.yaml"), emit=emit)
    _, out, _ = weirctl(coord, "submit", job)
    assert "submitted job wordcount" in out, out
    return broker, coord, ws
