"""Process helpers for weir's integration and fault tests (Python side).

Starts real binaries on loopback ports chosen at run time, waits for their
"ready" line, and always stops them. Mirrors common/proc.c for C tests.

    with Cluster() as c:              # temp dir, cleaned up
        broker = c.broker()           # weir-broker on a free port
        ...broker.bootstrap...

Scripts and tests run under /usr/bin/python3 (Debian's confluent_kafka).
"""
import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN_DIR = os.environ.get("WEIR_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
SOURCE_DIR = os.environ.get("WEIR_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, what="condition", interval=0.02):
    """Polls cond() until it returns a truthy value; raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# Every process started by this module, so that a test killed by its time
# limit (SIGTERM from ctest or timeout) or exiting on an uncaught error never
# leaves a broker or worker running: they live in sessions of their own and
# would not see the test's death otherwise.
_live_procs = []


def _kill_live_procs():
    for p in list(_live_procs):
        try:
            p.hard_kill()
        except Exception:
            pass


def _on_term(signum, frame):
    _kill_live_procs()
    raise SystemExit(128 + signum)


atexit.register(_kill_live_procs)
if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_term)


class Proc:
    """One running binary with its output in a log file."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        full_env = dict(os.environ)
        full_env.update(env or {})
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                      env=full_env, start_new_session=True)
        _live_procs.append(self)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_line(self, needle, timeout=20.0):
        """Waits for a log line containing needle; returns that line."""
        def found():
            for line in self.log().splitlines():
                if needle in line:
                    return line
            if not self.alive():
                raise RuntimeError("%s exited (%s) before '%s':\n%s" % (
                    self.name, self.popen.returncode, needle, self.log()[-4000:]))
            return None
        return wait_until(found, timeout, "%s to log '%s'" % (self.name, needle))

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after timeout. Returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGCONT)
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode

    def kill(self):
        if self.alive():
            self.popen.kill()
            self.popen.wait()
        self._log.close()

    def hard_kill(self):
        """SIGKILL without waiting (the test is being torn down)."""
        self.popen.kill()

    def pause(self):
        self.popen.send_signal(signal.SIGSTOP)

    def resume(self):
        self.popen.send_signal(signal.SIGCONT)


# The broker the tests run against: "weir" (weir-broker, the default) or
# "kafka" (Apache Kafka in KRaft mode from scripts/kafka, WEIR_TEST_KAFKA_NODES
# nodes, 3 by default). The same tests run on both (the "kafka" label).
TEST_BROKER = os.environ.get("WEIR_TEST_BROKER", "weir")
KAFKA_SCRIPT = os.path.join(SOURCE_DIR, "scripts", "kafka")


class KafkaCluster:
    """An Apache Kafka cluster standing in for weir-broker: the surface the
    tests use (bootstrap, data_dir, stop, kill, alive, log), plus faults on
    one node (kill_node, restart_node)."""

    def __init__(self, name, data_dir, nodes):
        self.name = name
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "scripts-kafka.log")
        self.nodes = nodes
        self.stopped = False
        _live_procs.append(self)
        out = self._run("start", "--brokers", str(nodes), timeout=600)
        self.bootstrap = out.strip().splitlines()[-1]
        self.port = int(self.bootstrap.split(",")[0].rsplit(":", 1)[1])

    def _run(self, *args, timeout=300):
        with open(self.log_path, "ab") as log:
            r = subprocess.run([KAFKA_SCRIPT] + list(args) +
                               ["--data-dir", self.data_dir],
                               stdout=subprocess.PIPE, stderr=log,
                               timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("scripts/kafka %s failed (%d):\n%s" % (
                " ".join(args), r.returncode, self.log()[-4000:]))
        return r.stdout.decode()

    def alive(self):
        return not self.stopped

    def log(self):
        parts = []
        for path in [self.log_path] + sorted(glob.glob(
                os.path.join(self.data_dir, "*", "*.log"))):
            try:
                with open(path, "rb") as f:
                    parts.append("== %s\n%s" % (
                        path, f.read()[-3000:].decode("utf-8", "replace")))
            except OSError:
                pass
        return "\n".join(parts)

    def stop(self, timeout=15.0):
        if not self.stopped:
            self.stopped = True
            self._run("stop")
        return 0

    kill = stop

    def hard_kill(self):
        if not self.stopped:
            self.stop()

    def kill_node(self, node):
        """SIGKILL one node (1..nodes)."""
        self._run("kill", str(node))

    def restart_node(self, node):
        """Starts a killed node again on its data."""
        self._run("restart", str(node))


class Cluster:
    """A temp directory and the processes started in it; stops them all."""

    def __init__(self, keep=False):
        self.dir = tempfile.mkdtemp(prefix="weir-test-")
        self.procs = []
        self.keep = keep or os.environ.get("WEIR_KEEP_TEST_DIR") == "1"

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for p in reversed(self.procs):
            try:
                p.kill()
            except Exception:
                pass
        if exc_type is not None:
            for p in self.procs:
                print("---- log of %s (%s) ----" % (p.name, p.log_path))
                print(p.log()[-6000:])
        if not self.keep and exc_type is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def path(self, *parts):
        p = os.path.join(self.dir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def start(self, name, binary, args, env=None, ready="ready", timeout=20.0):
        argv = [os.path.join(BIN_DIR, binary)] + list(args)
        proc = Proc(name, argv, self.path("logs", name + ".log"), env)
        self.procs.append(proc)
        if ready:
            proc.wait_line(ready, timeout)
        return proc

    def broker(self, name="broker", data_dir=None, port=None, extra=(), env=None):
        """weir-broker, or Apache Kafka when WEIR_TEST_BROKER=kafka (which
        takes none of weir-broker's options: tests that need them, such
        as its fault injection, run on weir-broker only)."""
        if TEST_BROKER == "kafka":
            assert not extra and not port, "weir-broker options on Kafka"
            data_dir = data_dir or self.path(name + "-kafka", "x")[:-2]
            os.makedirs(data_dir, exist_ok=True)
            kafka = KafkaCluster(name, data_dir,
                                 int(os.environ.get("WEIR_TEST_KAFKA_NODES", "3")))
            self.procs.append(kafka)
            return kafka
        port = port or free_port()
        data_dir = data_dir or self.path(name + "-data", "x")[:-2]
        os.makedirs(data_dir, exist_ok=True)
        args = ["--listen", "127.0.0.1:%d" % port, "--data-dir", data_dir] + list(extra)
        proc = self.start(name, "weir-broker", args, env=env, ready="ready listen=")
        proc.bootstrap = "127.0.0.1:%d" % port
        proc.port = port
        proc.data_dir = data_dir
        return proc
