"""The cluster under test, as the scenarios see it: workers to kill, pause,
cut off or starve, a coordinator and a broker to kill, and the job's task
states. LocalCluster (local_cluster.py) starts its own in a temporary
directory; ExternalCluster (external_cluster.py) acts on one that runs
already (docs/chaos.md)."""
import json
import subprocess
import time

from .procs import find_binary, wait_until

# The coordinator's session timeout in a local cluster (and the default
# assumed of an existing one).
SESSION_MS = 3000


class Cluster:
    """What both kinds share: weirctl against the coordinator."""

    def __init__(self, bin_dir, coordinator_url, job):
        self.weirctl = find_binary(bin_dir, "weirctl")
        self.coordinator_url = coordinator_url
        self.job = job

    def ctl(self, *args, timeout=60):
        """Runs weirctl; its output, or raises with its error."""
        r = subprocess.run([self.weirctl, "--coordinator", self.coordinator_url] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("weirctl %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def ctl_json(self, *args):
        """weirctl --json's answer, None when the coordinator does not give one."""
        try:
            r = self.ctl("--timeout-ms", "3000", "--json", *args, timeout=10)
        except (RuntimeError, subprocess.TimeoutExpired):
            return None
        try:
            return json.loads(r)
        except ValueError:
            return None

    def task_owners(self):
        """{task: (owner, state)} of the job, None if the coordinator does
        not answer."""
        d = self.ctl_json("describe", self.job)
        if d is None:
            return None
        out = {}
        for t in d.get("tasks", []):
            name = "%d_%d" % (t["task"]["subtopology"], t["task"]["partition"])
            st = t["status"]["state"] if t.get("status") else "NONE"
            out[name] = (t.get("owner") or "", st)
        return out

    def all_running(self, owners=None):
        """True when every task runs, on exactly the given owners if any."""
        ts = self.task_owners()
        if not ts or any(st != "TASK_RUNNING" or not o for o, st in ts.values()):
            return False
        return owners is None or {o for o, _ in ts.values()} == set(owners)


def wait_tasks_running(cluster, owners, timeout):
    """Seconds until every task runs on owners (None: on any worker)."""
    t0 = time.monotonic()
    wait_until(lambda: cluster.all_running(owners), timeout, "every task running", 0.2)
    return time.monotonic() - t0
