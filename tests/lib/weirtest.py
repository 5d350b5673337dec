"""Process helpers for weir's integration and fault tests (Python side).

Starts real binaries on loopback ports chosen at run time, waits for their
"ready" line, and always stops them. Mirrors common/proc.c for C tests.

    with Cluster() as c:              # temp dir, cleaned up
        broker = c.broker()           # weir-broker on a free port
        ...broker.bootstrap...

Scripts and tests run under /usr/bin/python3 (Debian's confluent_kafka).
"""
import atexit
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
            p.popen.kill()
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

    def pause(self):
        self.popen.send_signal(signal.SIGSTOP)

    def resume(self):
        self.popen.send_signal(signal.SIGCONT)


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
        port = port or free_port()
        data_dir = data_dir or self.path(name + "-data", "x")[:-2]
        os.makedirs(data_dir, exist_ok=True)
        args = ["--listen", "127.0.0.1:%d" % port, "--data-dir", data_dir] + list(extra)
        proc = self.start(name, "weir-broker", args, env=env, ready="ready listen=")
        proc.bootstrap = "127.0.0.1:%d" % port
        proc.port = port
        proc.data_dir = data_dir
        return proc
