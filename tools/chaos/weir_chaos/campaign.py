"""One chaos run: input fed for the duration, the chosen faults at seeded
random times (one after another, each undone and recovered from before the
next), then the output waited for and checked exactly once (weir-verify)."""
import os
import random
import subprocess
import time

from . import report
from .cluster import wait_tasks_running
from .feed import Feeder
from .procs import find_binary, wait_until
from .progress import OutputWatcher, marker_lines, partition_counts
from .scenarios import choose

RECOVERY_TIMEOUT_S = 120


class Context:
    """What a scenario acts through: the cluster, the seeded random source
    and the run's timeline."""

    def __init__(self, cluster, rng, session_s, t0, echo):
        self.cluster, self.rng, self.session_s = cluster, rng, session_s
        self.t0 = t0
        self.echo = echo
        self.timeline = []

    def now(self):
        return time.monotonic() - self.t0

    def event(self, kind, what):
        e = {"t": round(self.now(), 2), "kind": kind, "what": what}
        self.timeline.append(e)
        self.echo("%7.1f s  %-8s %s" % (e["t"], kind, what))
        return e["t"]

    def pick_worker(self):
        if not self.cluster.victims:
            raise RuntimeError("no worker this tool may act on (--pid, --target)")
        return self.rng.choice(self.cluster.victims)

    def wait_fenced(self, w):
        """Until the coordinator has declared w dead (its tasks move)."""
        def dead():
            d = self.cluster.ctl_json("workers")
            return d is not None and any(x["worker_id"] == w and not x["alive"]
                                         for x in d.get("workers", []))
        wait_until(dead, self.session_s + 30, "%s to be declared dead" % w, 0.2)
        self.event("fenced", "%s's session expired: its tasks move to the others" % w)


def wait_recovered(cluster, feeder, watcher, partitions, tag, owners):
    """Until every task runs (on owners) and marker lines written now have
    gone through every partition of the job (progress.py)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    wait_tasks_running(cluster, owners, RECOVERY_TIMEOUT_S)
    lines, words = marker_lines(tag, *partitions)
    for partition, line in lines:
        feeder.inject(partition, line)
    wait_until(lambda: watcher.has(words), max(1, deadline - time.monotonic()),
               "marker words in the committed output", 0.1)


def parse_verify(out):
    """exact | incomplete (a count still short: may yet arrive) | violation."""
    lines = [l for l in out.splitlines() if l.strip()]
    if any(l.startswith("exact:") for l in lines):
        return "exact"
    if lines and all("last count" in l for l in lines if l.startswith("violation")):
        return "incomplete"
    return "violation"


def run_verify(opts, bootstrap):
    r = subprocess.run([find_binary(opts.bin_dir, "weir-verify"), "--bootstrap", bootstrap,
                        "--input", opts.input_topic, "--output", opts.output_topic,
                        "--emit", opts.emit, "--timeout-ms", "30000", "--log-level", "warn"],
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    return (parse_verify(out) if r.returncode in (0, 1) else "error"), out


def wait_verdict(opts, bootstrap, settle_s, echo):
    """Runs the check until the output is exact (twice, a few commits
    apart), a violation shows, or settle_s pass."""
    deadline = time.monotonic() + settle_s
    while True:
        verdict, out = run_verify(opts, bootstrap)
        if verdict == "exact":
            time.sleep(1.0)
            verdict, out = run_verify(opts, bootstrap)
            if verdict == "exact":
                return verdict, out
        if verdict in ("violation", "error") or time.monotonic() > deadline:
            return verdict, out
        echo("          output not complete yet: %s" % out.strip().splitlines()[-1][:100])
        time.sleep(2.0)


def inject_faults(ctx, faults, duration, feeder, watcher, partitions):
    """Each fault at a seeded time in its slot of the duration's first 80%
    (later if the one before took longer), undone, then recovered from.
    Marker words carry a token of this run, so that an earlier run's
    output never counts."""
    token = os.urandom(3).hex()
    done = []
    slot = 0.7 * duration / max(1, len(faults))
    for i, s in enumerate(faults):
        due = 0.1 * duration + i * slot + ctx.rng.uniform(0, 0.3 * slot)
        if due > ctx.now():
            time.sleep(due - ctx.now())
        f = {"scenario": s.name, "injected_at": round(ctx.now(), 2), "healed_at": None,
             "recovered_at": None, "recovery_s": None}
        done.append(f)
        try:
            owners = s.run(ctx)
            f["healed_at"] = round(ctx.now(), 2)
            wait_recovered(ctx.cluster, feeder, watcher, partitions, "%sf%d" % (token, i),
                           owners)
            f["recovered_at"] = ctx.event("recovered", "every task running%s, markers "
                                          "through every partition" % (
                                              " on " + ", ".join(owners) if owners else ""))
            f["recovery_s"] = round(f["recovered_at"] - f["healed_at"], 2)
        except Exception as e:  # the run goes on; the verdict says so
            f["error"] = str(e)
            ctx.event("error", "%s: %s" % (s.name, e))
    return done


def verdict_of(check, out, faults):
    """(verdict, detail): the check's, unless a fault was not recovered from."""
    unrecovered = [f["scenario"] for f in faults if f["recovered_at"] is None]
    if check == "exact" and unrecovered:
        return "not-recovered", "the output is exact, but the cluster did not recover " \
            "in %d s from: %s" % (RECOVERY_TIMEOUT_S, ", ".join(unrecovered))
    if check == "exact":
        return check, ""
    lines = out.strip().splitlines()
    return check, next((l for l in lines if l.startswith("violation")),
                       lines[-1] if lines else "weir-verify printed nothing")


def run(opts, cluster, lines, echo):
    """The campaign on a running cluster with the job submitted; the report."""
    rng = random.Random(opts.seed)
    faults, skipped = choose(opts.scenarios, cluster.capabilities, rng, opts.duration)
    ctx = Context(cluster, rng, opts.session_s, time.monotonic(), echo)
    for s in skipped:
        echo("          skipped: %s" % s)
    crashes = []

    def restarted(name, code):
        crashes.append({"process": name, "status": code, "t": round(ctx.now(), 2)})
        ctx.event("crash", "%s exited by itself (status %s): restarted" % (name, code))
    if hasattr(cluster, "on_restart"):
        cluster.on_restart = restarted
    ctx.event("start", "%d workers, %d faults over %d s of input" % (
        len(cluster.workers), len(faults), opts.duration))
    partitions = partition_counts(cluster.bootstrap, opts.input_topic, cluster.job)
    watcher = OutputWatcher(cluster.bootstrap, opts.output_topic)
    feeder = Feeder(cluster.bootstrap, opts.input_topic, lines, opts.duration)
    done = inject_faults(ctx, faults, opts.duration, feeder, watcher, partitions)
    records_in = feeder.join(opts.duration + 600)
    ctx.event("input", "%d lines delivered" % records_in)
    check, out = wait_verdict(opts, cluster.bootstrap, opts.settle, echo)
    ctx.event("verdict", check)
    verdict, detail = verdict_of(check, out, done)
    updates = watcher.records
    for line in out.splitlines():
        if line.startswith("exact:"):  # "exact: W words, U updates"
            updates = int(line.split(",")[1].split()[0])
    watcher.close()
    r = {"verdict": verdict, "detail": detail, "scenarios": opts.scenarios,
         "seed": opts.seed, "duration_s": opts.duration, "elapsed_s": round(ctx.now(), 1),
         "cluster": opts.cluster_summary, "job": opts.job_label, "emit": opts.emit,
         "records_in": records_in, "records_out": updates, "skipped": skipped,
         "faults": done, "crashes": crashes, "timeline": ctx.timeline, "verify_output": out}
    report.write(opts.report, r)
    return r
