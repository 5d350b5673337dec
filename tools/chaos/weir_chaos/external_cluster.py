"""A cluster weir-chaos did not start: the faults it can cause from
outside, on processes given as pids or through command templates."""
import os
import signal
import subprocess

from .cluster import Cluster
from .local_cluster import post


class ExternalCluster(Cluster):
    """A cluster weir-chaos did not start: faults it can cause from outside.
    Processes are named (worker names, "coordinator", "broker") and given as
    pids (signals) or through command templates ({name} replaced)."""

    def __init__(self, bin_dir, coordinator_url, job, bootstrap, pids, kill_cmd, restart_cmd,
                 pause_cmd, resume_cmd, broker_admin, targets):
        super().__init__(bin_dir, coordinator_url, job)
        self.bootstrap = bootstrap
        self.pids = pids
        self.cmds = {"kill": kill_cmd, "restart": restart_cmd, "pause": pause_cmd,
                     "resume": resume_cmd}
        self.broker_admin = broker_admin
        self.net = None
        names = set(pids) | set(targets)
        d = self.ctl_json("workers") or {}
        self.workers = sorted(w["worker_id"] for w in d.get("workers", []) if w.get("alive"))
        if not self.workers:
            raise RuntimeError("the coordinator at %s lists no live worker" % coordinator_url)
        # the workers faults may act on: those named, else (--kill-cmd
        # without --target) every worker, by its id
        named = sorted(n for n in names if n in self.workers)
        self.victims = named or (list(self.workers) if kill_cmd else [])
        self.capabilities = set()
        if self.victims:
            self.capabilities.add("worker-signals")
            if "coordinator" in names:
                self.capabilities.add("coordinator-signals")
            if "broker" in names:
                self.capabilities.add("broker-kill")
        if restart_cmd:
            self.capabilities.add("restart")
        if broker_admin:
            self.capabilities.add("broker-admin")

    def forget(self, name):
        """name is gone for good (killed, nothing restarts it)."""
        self.workers = [w for w in self.workers if w != name]
        self.victims = [w for w in self.victims if w != name]

    def _act(self, action, name, sig):
        if name in self.pids:
            os.kill(self.pids[name], sig)
            return
        cmd = self.cmds[action]
        if not cmd:
            raise RuntimeError("no --%s-cmd for %s" % (action, name))
        subprocess.run(cmd.replace("{name}", name), shell=True, check=True, timeout=60)

    def signal_worker(self, name, sig):
        action = {signal.SIGKILL: "kill", signal.SIGSTOP: "pause", signal.SIGCONT: "resume"}[sig]
        self._act(action, name, sig)

    def restart_worker(self, name, wipe=False):
        if wipe:
            raise RuntimeError("emptying a data dir needs a local cluster")
        if self.cmds["restart"]:
            subprocess.run(self.cmds["restart"].replace("{name}", name), shell=True,
                           check=True, timeout=120)
        # else: the process's supervisor restarts it (a restart policy)

    def kill_coordinator(self):
        self._act("kill", "coordinator", signal.SIGKILL)

    def restart_coordinator(self):
        self.restart_worker("coordinator")

    def kill_broker(self, rng):
        self._act("kill", "broker", signal.SIGKILL)
        return "broker"

    def restart_broker(self):
        self.restart_worker("broker")

    def admin(self, path):
        return post(self.broker_admin, path)

    def coordinator_log(self):
        return ""

    def close(self):
        pass
