"""CPU time and peak memory of the processes a contender runs, and of the
broker: read from /proc while a process lives, from wait4's rusage once it
has exited on its own (the passthrough and the Python script stop at the
end of their input; everything else is stopped by the harness)."""
import os

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_secs(pid):
    """User + system CPU seconds a live process (all threads) has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_peak_mb(pid):
    """VmHWM: the peak resident set of a live process, in MB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Watch:
    """One child process (a subprocess.Popen): its CPU seconds and peak
    RSS as of the last sample(). Once it has exited, sample() reaps it with
    wait4 and keeps the final figures (the Popen then reports its exit
    status without waiting again)."""

    def __init__(self, popen):
        self.popen = popen
        self.cpu = 0.0
        self.rss = 0.0
        self.exit_code = None

    def sample(self):
        if self.exit_code is not None:
            return
        pid, status, ru = os.wait4(self.popen.pid, os.WNOHANG)
        if pid:
            self.exit_code = os.waitstatus_to_exitcode(status)
            self.popen.returncode = self.exit_code
            self.cpu = ru.ru_utime + ru.ru_stime
            self.rss = max(self.rss, ru.ru_maxrss / 1024.0)
            return
        try:
            self.cpu = cpu_secs(self.popen.pid)
            self.rss = max(self.rss, rss_peak_mb(self.popen.pid))
        except OSError:  # exited between wait4 and the read
            pass


def broker_pid(broker):
    """The process serving the broker: weir-broker itself, or the JVM of
    a one-node Apache Kafka started by scripts/kafka."""
    if hasattr(broker, "popen"):
        return broker.pid
    with open(os.path.join(broker.data_dir, "node1", "pid")) as f:
        return int(f.read().strip())
