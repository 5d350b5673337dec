"""The cluster under test, as the scenarios see it: workers to kill, pause,
cut off or starve, a coordinator and a broker to kill, and the job's task
states. LocalCluster starts its own in a temporary directory;
ExternalCluster acts on one that runs already (docs/chaos.md)."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

from .procs import Proc, find_binary, free_port, wait_until

SESSION_MS = 3000
TMPFS_SIZE = "512m"


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


class LocalCluster(Cluster):
    """weir-broker (or Apache Kafka), a coordinator and N workers in dir."""

    def __init__(self, dir, bin_dir, workers, job_name, net=None, kafka_script=None,
                 tmpfs=False, log=print):
        self.dir = dir
        self.bin_dir = bin_dir
        self.net = net
        self.log = log
        self.kafka_script = kafka_script
        self.procs = {}
        self.mounts = []
        self.clock_files = {}
        self.broker_admin = None
        self.capabilities = {"worker-signals", "coordinator-signals", "broker-kill",
                             "restart", "data-dir", "clock"}
        self.on_restart = None
        self.stopping = threading.Event()
        try:
            self._start_all(workers, job_name, tmpfs)
        except BaseException:
            self.close()
            raise
        self.supervisor = threading.Thread(target=self._supervise, daemon=True)
        self.supervisor.start()

    def _supervise(self):
        """Restarts a process that exited by itself a second later, as a
        restart policy (docker's, systemd's) would, and says so."""
        while not self.stopping.wait(1.0):
            for name, p in list(self.procs.items()):
                try:
                    code = p.restart_if_exited()
                except OSError as e:
                    code = "cannot start: %s" % e
                if code is not None and self.on_restart:
                    self.on_restart(name, code)

    def _start_all(self, workers, job_name, tmpfs):
        net = self.net
        self._start_broker()
        coord_host = net.coordinator_ip if net else "127.0.0.1"
        self.coord_port, self.http_port = free_port(coord_host), free_port(coord_host)
        super().__init__(self.bin_dir, "tcp://%s:%d" % (coord_host, self.coord_port), job_name)
        self.coordinator_http = "%s:%d" % (coord_host, self.http_port)
        self._start_coordinator(coord_host)
        self.workers = ["w%d" % (i + 1) for i in range(workers)]
        if net:
            self.capabilities.add("network")
            if net.netem:
                self.capabilities.add("netem")
        if tmpfs:
            self.capabilities.add("disk")
        for i, name in enumerate(self.workers):
            self._start_worker(i + 1, name, tmpfs)

    def path(self, *parts):
        p = os.path.join(self.dir, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def _start(self, name, binary, args, ready, prefix=(), env=None, timeout=30):
        argv = list(prefix) + [find_binary(self.bin_dir, binary)] + args
        p = Proc(name, argv, os.path.join(self.path("logs"), name + ".log"), env, ready,
                 timeout)
        self.procs[name] = p
        return p

    # -- broker
    def _start_broker(self):
        if self.kafka_script:
            self.kafka_dir = self.path("kafka")
            out = self._kafka("start", "--brokers", "3", timeout=600)
            self.bootstrap = out.strip().splitlines()[-1]
            return
        host = self.net.broker_ip if self.net else "127.0.0.1"
        port, admin = free_port(host), free_port()
        self.bootstrap = "%s:%d" % (host, port)
        self.broker_admin = "127.0.0.1:%d" % admin
        self.capabilities.add("broker-admin")
        self._start("broker", "weir-broker",
                    ["--listen", self.bootstrap, "--data-dir", self.path("broker-data"),
                     "--admin", self.broker_admin, "--default-partitions", "4"],
                    "ready listen=")

    def _kafka(self, *args, timeout=300):
        with open(os.path.join(self.path("logs"), "kafka.log"), "ab") as log:
            r = subprocess.run([self.kafka_script] + list(args) + ["--data-dir", self.kafka_dir],
                               stdout=subprocess.PIPE, stderr=log, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("scripts/kafka %s failed (see %s/logs/kafka.log)" % (
                " ".join(args), self.dir))
        return r.stdout.decode()

    def kill_broker(self, rng):
        """SIGKILL the broker (one Kafka node); what was killed."""
        if self.kafka_script:
            self.killed_node = rng.randint(1, 3)
            self._kafka("kill", str(self.killed_node))
            return "kafka node %d" % self.killed_node
        self.procs["broker"].kill()
        return "weir-broker"

    def restart_broker(self):
        if self.kafka_script:
            self._kafka("restart", str(self.killed_node))
        else:
            self.procs["broker"].start("ready listen=")

    def admin(self, path):
        req = urllib.request.Request("http://%s%s" % (self.broker_admin, path), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    # -- coordinator
    def _start_coordinator(self, host):
        self._start("coordinator", "weir-coordinator",
                    ["--listen", self.coordinator_url, "--http", self.coordinator_http,
                     "--data-dir", self.path("coordinator-data"), "--bootstrap", self.bootstrap,
                     "--session-timeout-ms", str(SESSION_MS)], "ready listen=")

    def kill_coordinator(self):
        self.procs["coordinator"].kill()

    def restart_coordinator(self):
        self.procs["coordinator"].start("ready listen=")

    # -- workers
    def _start_worker(self, index, name, tmpfs):
        data = self.path(name + "-data")
        if tmpfs:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "tmpfs", data],
                           check=True)
            self.mounts.append(data)
        # the worker's wall clock, skewed by weir-chaos (a fault-injection
        # build reads WEIR_CLOCK_SKEW_FILE: common/clock.c)
        clock = os.path.join(self.dir, name + ".clock")
        with open(clock, "w") as f:
            f.write("+0\n")
        self.clock_files[name] = clock
        env = {"WEIR_CLOCK_SKEW_FILE": clock}
        prefix = []
        args = ["--coordinator", self.coordinator_url, "--id", name, "--data-dir", data,
                "--bootstrap", self.bootstrap, "--threads", "2",
                "--progress-interval-ms", "0"]
        if self.net:
            _, addr = self.net.add_worker(index)
            prefix = self.net.exec_prefix(index)
            args += ["--query-listen", "tcp://%s:0" % addr, "--address", addr]
        self._start(name, "weir-worker", args, "ready cluster", prefix, env)

    @property
    def victims(self):
        return self.workers

    def worker_index(self, name):
        return self.workers.index(name) + 1

    def signal_worker(self, name, sig):
        if sig == signal.SIGKILL:
            self.procs[name].kill()
        else:
            self.procs[name].signal(sig)

    def log_size(self, name):
        return os.path.getsize(self.procs[name].log_path)

    def wait_log(self, name, needle, timeout, since=0):
        """The first line of the worker's log after byte since with needle,
        waiting up to timeout seconds; None if none."""
        deadline = time.monotonic() + timeout
        while True:
            with open(self.procs[name].log_path, "rb") as f:
                f.seek(since)
                for line in f.read().decode("utf-8", "replace").splitlines():
                    if needle in line:
                        return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def restart_worker(self, name, wipe=False, ready=True):
        p = self.procs[name]
        if p.alive():
            p.kill()
        if wipe:
            data = os.path.join(self.dir, name + "-data")
            for entry in os.listdir(data):
                full = os.path.join(data, entry)
                if os.path.isdir(full):
                    shutil.rmtree(full)
                else:
                    os.unlink(full)
        p.start("ready cluster" if ready else None)

    def fill_disk(self, name):
        """Fills the worker's data dir's file system to the last block; the
        filler's path. (One fallocate of all the free space fails whole on
        tmpfs: it is taken in shrinking pieces.)"""
        data = os.path.join(self.dir, name + "-data")
        filler = os.path.join(data, "chaos-disk-full")
        with open(filler, "wb") as f:
            size, piece = 0, 64 << 20
            while piece >= 4096:
                try:
                    os.posix_fallocate(f.fileno(), size, piece)
                    size += piece
                except OSError:
                    piece //= 2
        st = os.statvfs(data)
        self.log("          %s's data dir: %d bytes free" % (name, st.f_bavail * st.f_frsize))
        return filler

    def set_clock(self, name, offset_s):
        """Skews the worker's wall clock by offset_s; waits until it says so."""
        with open(self.clock_files[name] + ".tmp", "w") as f:
            f.write("%+d\n" % offset_s)
        os.replace(self.clock_files[name] + ".tmp", self.clock_files[name])
        self.procs[name].wait_line("clock skew now %+d s" % offset_s, 10)

    def coordinator_log(self):
        return self.procs["coordinator"].log(since_start=False)

    def close(self):
        self.stopping.set()
        for name in getattr(self, "workers", []):
            if name in self.procs:
                self.procs[name].signal(signal.SIGCONT)
        for name in list(self.procs)[::-1]:
            self.procs[name].kill()
        if self.kafka_script:
            try:
                self._kafka("stop", timeout=120)
            except Exception as e:  # reported, the rest still cleaned up
                self.log("stopping Kafka: %s" % e)
        for m in self.mounts:
            subprocess.run(["umount", "-l", m], capture_output=True)


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

    admin = LocalCluster.admin

    def coordinator_log(self):
        return ""

    def close(self):
        pass


def wait_tasks_running(cluster, owners, timeout):
    """Seconds until every task runs on owners (None: on any worker)."""
    t0 = time.monotonic()
    wait_until(lambda: cluster.all_running(owners), timeout, "every task running", 0.2)
    return time.monotonic() - t0
