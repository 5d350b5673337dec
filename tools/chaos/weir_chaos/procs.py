"""Processes the chaos tool starts: a log file each, signals, restarts."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from . import UsageError


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, what, interval=0.1):
    """Polls cond() until it returns a truthy value; raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def find_binary(bin_dir, name):
    """bin_dir/name when given (or next to this tool), else on PATH."""
    for d in (bin_dir, os.environ.get("WEIR_BIN_DIR")):
        if d and os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if os.path.exists(os.path.join(here, name)):
        return os.path.join(here, name)
    found = shutil.which(name)
    if not found:
        raise UsageError("%s not found (use --bin-dir)" % name)
    return found


class Proc:
    """One process of the cluster under test. argv may start with a prefix
    (ip netns exec NS) that execs the binary, so the pid is the binary's."""

    def __init__(self, name, argv, log_path, env=None, ready=None, timeout=30):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.popen = None
        self.lock = threading.RLock()
        self.wanted = False  # should be running: the supervisor restarts it
        self.start(ready, timeout)

    def start(self, ready=None, timeout=30):
        full_env = dict(os.environ)
        full_env.update(self.env or {})
        with self.lock:
            self.log_offset = os.path.getsize(self.log_path) \
                if os.path.exists(self.log_path) else 0
            with open(self.log_path, "ab") as log:
                self.popen = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                              env=full_env, start_new_session=True)
            self.wanted = True
        if ready:
            self.wait_line(ready, timeout)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def log(self, since_start=True):
        with open(self.log_path, "rb") as f:
            if since_start:
                f.seek(self.log_offset)
            return f.read().decode("utf-8", "replace")

    def wait_line(self, needle, timeout=30):
        def found():
            if needle in self.log():
                return True
            if not self.alive():
                raise RuntimeError("%s exited (%s) before '%s':\n%s" % (
                    self.name, self.popen.returncode, needle, self.log()[-3000:]))
            return False
        wait_until(found, timeout, "%s to log '%s'" % (self.name, needle), 0.05)

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def restart_if_exited(self):
        """Starts it again if it exited while wanted (a restart policy);
        its exit status then, else None."""
        with self.lock:
            if not self.wanted or self.popen.poll() is None:
                return None
            code = self.popen.returncode
            self.start()
            return code

    def kill(self):
        with self.lock:
            self.wanted = False
        if self.alive():
            self.popen.send_signal(signal.SIGCONT)
            self.popen.kill()
            self.popen.wait()

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL after timeout; the exit code."""
        with self.lock:
            self.wanted = False
        if self.alive():
            self.popen.send_signal(signal.SIGCONT)
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode
