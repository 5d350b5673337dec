"""A cluster weir-chaos starts in a temporary directory: weir-broker (or
three Apache Kafka nodes), a coordinator and N workers, each worker in a
network namespace when it can be (netns.py), on a tmpfs when disks are to
be filled, with a wall clock it can skew; processes that exit by
themselves are restarted, as a restart policy would."""
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

from .cluster import SESSION_MS, Cluster
from .procs import Proc, find_binary, free_port

TMPFS_SIZE = "512m"


def post(hostport, path):
    """POST to weir-broker's admin API; the answer's body."""
    req = urllib.request.Request("http://%s%s" % (hostport, path), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


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
        self._start_coordinator()
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
        """weir-broker's fault API (docs/broker.md)."""
        return post(self.broker_admin, path)

    # -- coordinator
    def _start_coordinator(self):
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
