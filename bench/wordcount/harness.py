"""Runs one contender on one broker and measures it, the same way for all:
timed from starting its program(s) until the broker shows the whole input
committed (committed.py); CPU is the program's and the broker's over that
time; peak RSS is the program's (VmHWM); then the program is stopped and
the records it wrote are counted and its final counts checked
(records.py)."""
import os
import subprocess
import time

from committed import Committed
from measure import Watch, broker_pid, cpu_secs
from confluent_kafka import Consumer
import records
import weirtest
from workload import LINES, PARTS
from worker_common import create_topic

POLL_S = 0.05
RUN_TIMEOUT_S = float(os.environ.get("WEIR_BENCH_TIMEOUT_S", "1800"))


class Context:
    """One broker with the input on it, and what contenders need lazily:
    the compiled Kafka Streams app, the Quix virtualenv."""

    def __init__(self, c, broker, broker_name, input_topic, lines=LINES,
                 expected=None):
        self.c, self.broker, self.broker_name = c, broker, broker_name
        self.bs = broker.bootstrap
        self.input, self.lines, self.expected = input_topic, lines, expected
        self.broker_pid = broker_pid(broker)
        self._classpath = self._quix = None
        self._errors = {}

    def _lazy(self, what, make):
        if what not in self._errors:
            try:
                self._errors[what] = None
                return make()
            except Exception as e:  # reported as the contender's n/a
                self._errors[what] = "%s: %s" % (type(e).__name__, e)
        return None

    def streams_classpath(self):
        if self._classpath is None:
            import kafka_streams_wordcount
            self._classpath = self._lazy(
                "streams", lambda: kafka_streams_wordcount.build(self.c))
        return self._classpath

    def streams_classpath_error(self):
        self.streams_classpath()
        return self._errors.get("streams")

    def quix_python(self):
        if self._quix is None:
            import quix_env
            self._quix = self._lazy("quix", quix_env.quix_python)
        return self._quix

    def quix_python_error(self):
        self.quix_python()
        return self._errors.get("quix")

    def weirctl_topology(self, job):
        """None when weirctl compiles job, else its error."""
        r = subprocess.run([os.path.join(weirtest.BIN_DIR, "weirctl"),
                            "topology", job], capture_output=True, text=True,
                           timeout=30)
        return None if r.returncode == 0 else r.stderr.strip()


class Result:
    def __init__(self, contender, secs, cpu, rss, lines):
        self.contender = contender
        self.secs = secs
        self.rate = lines / secs
        self.cpu_us = cpu * 1e6 / lines  # per input line
        self.rss = rss
        self.moved = None   # Kafka records moved per input line
        self.counts = {}
        self.check = ""


def _wait_done(ctx, prog, procs, watches, name):
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        for w in watches:
            w.sample()
        if prog.done():
            return
        for p, w in zip(procs, watches):
            if w.exit_code not in (None, 0):
                raise RuntimeError("%s exited with %d before committing its "
                                   "input:\n%s" % (p.name, w.exit_code,
                                                   p.log()[-4000:]))
        if time.monotonic() > deadline:
            raise TimeoutError("%s: %d input records not committed after "
                               "%.0f s" % (name, prog.lag(), RUN_TIMEOUT_S))
        time.sleep(POLL_S)


def run(ctx, contender, group):
    """Runs contender as group on ctx's broker; returns a Result."""
    output = group + "-out"
    create_topic(ctx.bs, output, PARTS)
    prog = Committed(ctx.bs, group, ctx.input,
                     lambda t: contender.internal(group, t) == "repartition",
                     contender.n_repartition)
    broker_cpu = cpu_secs(ctx.broker_pid)
    t0 = time.monotonic()
    procs = contender.start(ctx, group, output)
    watches = [Watch(p.popen) for p in procs]
    try:
        _wait_done(ctx, prog, procs, watches, group)
        secs = time.monotonic() - t0
        for w in watches:
            w.sample()
        cpu = sum(w.cpu for w in watches) + cpu_secs(ctx.broker_pid) - broker_cpu
    finally:
        prog.close()
        for p in reversed(procs):
            p.stop(timeout=60)
    r = Result(contender, secs, cpu, sum(w.rss for w in watches), ctx.lines)
    if ctx.expected is not None:
        _count_and_check(ctx, contender, group, output, r)
    return r


def _count_and_check(ctx, contender, group, output, r):
    c = Consumer({"bootstrap.servers": ctx.bs, "group.id": "bench-lister"})
    topics = c.list_topics(timeout=10).topics
    c.close()
    internal = {t: contender.internal(group, t) for t in topics}
    internal = {t: k for t, k in internal.items() if k}
    r.counts, last = records.written(ctx.bs, output, internal)
    r.moved = records.moved(ctx.lines, r.counts) / ctx.lines
    if not contender.counts:
        n = r.counts["output"]
        r.check = "copied every line" if n == ctx.lines else \
            "copied %d of %d lines" % (n, ctx.lines)
        return
    r.check = records.check_final(last, ctx.expected)
    if contender.every_update and r.check == "exact":
        ok, text = records.weir_verify(ctx.bs, ctx.input, output)
        r.check = "exact, weir-verify ok" if ok else "weir-verify: " + text
    if r.counts["estimated"]:
        r.check += "; %d deleted repartition records estimated" % (
            r.counts["estimated"])
