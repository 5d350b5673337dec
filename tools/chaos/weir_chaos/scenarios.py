"""The faults weir-chaos injects. Each scenario breaks one thing, records
what it did on the run's timeline, undoes the fault, and names the workers
that must own tasks again for the cluster to count as recovered.

A scenario needs capabilities of the cluster: a local cluster
(local_cluster.py) has them all (network: when namespaces can be made;
netem: when the kernel has it; disk: when the scenario was chosen, so that
the workers' data dirs are tmpfs mounts); an existing one
(external_cluster.py) those its options give (--pid, --kill-cmd,
--broker-admin, --restart-cmd)."""
import os
import signal
import time

from . import UsageError
from .procs import wait_until


class Scenario:
    name = ""
    summary = ""
    needs = frozenset()

    def run(self, ctx):
        """Injects and undoes the fault; the owners to recover to (None: any)."""
        raise NotImplementedError

    @staticmethod
    def moved(ctx, w):
        """Until w's tasks run on the others (the new owners fence w)."""
        others = [o for o in ctx.cluster.workers if o != w]
        wait_until(lambda: ctx.cluster.all_running(others), 60, "%s's tasks to move" % w, 0.2)
        ctx.event("moved", "%s's tasks run on %s" % (w, ", ".join(others)))


class WorkerKill(Scenario):
    name = "worker-kill"
    summary = "SIGKILL a worker, start it again on the same data dir"
    needs = frozenset({"worker-signals"})
    wipe = False

    def run(self, ctx):
        w = ctx.pick_worker()
        ctx.cluster.signal_worker(w, signal.SIGKILL)
        ctx.event("fault", "SIGKILL %s" % w)
        time.sleep(ctx.rng.uniform(0.5, 2.0))
        if "restart" in ctx.cluster.capabilities:
            ctx.cluster.restart_worker(w, wipe=self.wipe)
            ctx.event("heal", "%s started again%s" % (w, " on an empty data dir" if self.wipe
                                                      else ""))
            return ctx.cluster.workers
        ctx.cluster.forget(w)
        return None


class WorkerKillWipe(WorkerKill):
    name = "worker-kill-wipe"
    summary = "SIGKILL a worker, empty its data dir, start it (state restored from changelogs)"
    needs = frozenset({"worker-signals", "restart", "data-dir"})
    wipe = True


class WorkerPause(Scenario):
    name = "worker-pause"
    summary = "SIGSTOP a worker past the session timeout (a zombie), then SIGCONT it"
    needs = frozenset({"worker-signals"})

    def run(self, ctx):
        w = ctx.pick_worker()
        ctx.cluster.signal_worker(w, signal.SIGSTOP)
        ctx.event("fault", "SIGSTOP %s" % w)
        ctx.wait_fenced(w)
        self.moved(ctx, w)
        ctx.cluster.signal_worker(w, signal.SIGCONT)
        ctx.event("heal", "SIGCONT %s" % w)
        return ctx.cluster.workers


class CoordinatorKill(Scenario):
    name = "coordinator-kill"
    summary = "SIGKILL the coordinator, start it again on its data dir"
    needs = frozenset({"coordinator-signals"})

    def run(self, ctx):
        ctx.cluster.kill_coordinator()
        ctx.event("fault", "SIGKILL coordinator")
        time.sleep(ctx.rng.uniform(1.0, 3.0))
        if "restart" in ctx.cluster.capabilities:
            ctx.cluster.restart_coordinator()
            ctx.event("heal", "coordinator started again")
        return ctx.cluster.workers


class BrokerKill(Scenario):
    name = "broker-kill"
    summary = "SIGKILL the broker (one Apache Kafka node), start it again"
    needs = frozenset({"broker-kill"})

    def run(self, ctx):
        what = ctx.cluster.kill_broker(ctx.rng)
        ctx.event("fault", "SIGKILL %s" % what)
        time.sleep(ctx.rng.uniform(1.0, 3.0))
        if "restart" in ctx.cluster.capabilities:
            ctx.cluster.restart_broker()
            ctx.event("heal", "%s started again" % what)
        return ctx.cluster.workers


class BrokerFaults(Scenario):
    name = "broker-faults"
    summary = "weir-broker answers with errors, loses answers, delays, drops connections"
    needs = frozenset({"broker-admin"})
    FAULTS = [
        "/fault/fail?api=Produce&count=3&error=7",       # REQUEST_TIMED_OUT
        "/fault/lose?api=Produce&count=1",               # appended, answer lost
        "/fault/lose?api=EndTxn&count=1",
        "/fault/lose?api=TxnOffsetCommit&count=1",
        "/fault/fail?api=EndTxn&count=1&error=15",       # COORDINATOR_NOT_AVAILABLE
        "/fault/fail?api=AddPartitionsToTxn&count=1&error=15",
        "/fault/fail?api=AddOffsetsToTxn&count=1&error=51",  # CONCURRENT_TRANSACTIONS
        "/fault/delay?api=Fetch&ms=200",
        "/fault/delay?api=Produce&ms=300",
        "/fault/drop",
        "/fault/pause?ms=800",
    ]

    def run(self, ctx):
        faults = ctx.rng.sample(self.FAULTS, 5)
        for f in faults:
            ctx.cluster.admin(f)
            ctx.event("fault", "broker %s" % f)
            time.sleep(ctx.rng.uniform(0.3, 1.2))
        ctx.cluster.admin("/fault/clear")
        ctx.event("heal", "broker faults cleared")
        return ctx.cluster.workers


class Partition(Scenario):
    """Cuts one worker off from services for longer than the session
    timeout, then heals."""
    needs = frozenset({"network"})
    services = ()

    def run(self, ctx):
        w = ctx.pick_worker()
        i = ctx.cluster.worker_index(w)
        for s in self.services:
            ctx.cluster.net.cut(i, s)
        ctx.event("fault", "%s cut off from the %s" % (w, " and the ".join(self.services)))
        if "coordinator" in self.services:
            ctx.wait_fenced(w)
            self.moved(ctx, w)
        else:
            time.sleep(ctx.session_s + 2)
        for s in self.services:
            ctx.cluster.net.heal(i, s)
        ctx.event("heal", "%s reconnected" % w)
        return ctx.cluster.workers


class PartitionCoordinator(Partition):
    name = "partition-coordinator"
    summary = "cut a worker off from the coordinator (not the broker), then heal"
    services = ("coordinator",)


class PartitionBroker(Partition):
    name = "partition-broker"
    summary = "cut a worker off from the broker (not the coordinator), then heal"
    services = ("broker",)


class PartitionBoth(Partition):
    name = "partition-both"
    summary = "isolate a worker from the broker and the coordinator, then heal"
    services = ("coordinator", "broker")


class SlowNetwork(Scenario):
    name = "slow-network"
    summary = "tc netem: 150 ms +- 50 ms delay and 3% loss on a worker's link for 8 s"
    needs = frozenset({"network", "netem"})

    def run(self, ctx):
        w = ctx.pick_worker()
        i = ctx.cluster.worker_index(w)
        ctx.cluster.net.slow(i, 150, 50, 3)
        ctx.event("fault", "%s's link: delay 150 ms +- 50 ms, loss 3%%" % w)
        time.sleep(8)
        ctx.cluster.net.unslow(i)
        ctx.event("heal", "%s's link restored" % w)
        return ctx.cluster.workers


class DiskFull(Scenario):
    name = "disk-full"
    summary = "fill a worker's data dir: it leaves the cluster and waits for room; free it"
    needs = frozenset({"disk", "restart"})
    LOW = "data dir low on space"

    def run(self, ctx):
        w = ctx.pick_worker()
        since = ctx.cluster.log_size(w)
        filler = ctx.cluster.fill_disk(w)
        ctx.event("fault", "%s's data dir full" % w)
        line = ctx.cluster.wait_log(w, self.LOW, 5, since)
        if not line:  # nothing written yet: a restart must wait for room
            ctx.cluster.restart_worker(w, ready=False)
            ctx.event("fault", "%s started again on the full disk" % w)
            line = ctx.cluster.wait_log(w, self.LOW, 10, since)
        ctx.event("fault", "%s: %s" % (w, line.split(" ", 2)[-1][:160] if line else
                                       "said nothing of the full disk"))
        self.moved(ctx, w)
        os.unlink(filler)
        ctx.event("heal", "%s's data dir has room again" % w)
        return ctx.cluster.workers


class ClockJump(Scenario):
    name = "clock-jump"
    summary = "a worker's wall clock jumps 1 h ahead for 5 s, then 1 h back"
    needs = frozenset({"clock"})

    def run(self, ctx):
        w = ctx.pick_worker()
        ctx.cluster.set_clock(w, 3600)
        ctx.event("fault", "%s's clock +1 h" % w)
        time.sleep(5)
        ctx.cluster.set_clock(w, 0)
        ctx.event("heal", "%s's clock back by 1 h (to the true time)" % w)
        return ctx.cluster.workers


class Drain(Scenario):
    name = "worker-drain"
    summary = "drain a worker through the coordinator, then start it again"
    needs = frozenset({"restart"})

    def run(self, ctx):
        w = ctx.pick_worker()
        ctx.cluster.ctl("drain", w)
        ctx.event("fault", "drain %s" % w)
        self.moved(ctx, w)
        ctx.cluster.restart_worker(w)
        ctx.event("heal", "%s started again" % w)
        return ctx.cluster.workers


SCENARIOS = [WorkerKill(), WorkerKillWipe(), WorkerPause(), Drain(), CoordinatorKill(),
             BrokerKill(), BrokerFaults(), PartitionCoordinator(), PartitionBroker(),
             PartitionBoth(), SlowNetwork(), DiskFull(), ClockJump()]
BY_NAME = {s.name: s for s in SCENARIOS}
MIXED = ("mixed", "a seeded random sequence of the scenarios above that this cluster allows")


def choose(names, capabilities, rng, duration_s):
    """The run's faults in order, and the scenarios skipped (with why)."""
    allowed = [s for s in SCENARIOS if s.needs <= capabilities]
    skipped = []
    faults = []
    for n in names:
        if n == "all":
            faults += rng.sample(allowed, len(allowed))
            skipped += ["%s (needs %s)" % (s.name, ", ".join(sorted(s.needs - capabilities)))
                        for s in SCENARIOS if s not in allowed]
        elif n == "mixed":
            k = max(3, int(duration_s // 15))
            faults += [rng.choice(allowed) for _ in range(k)]
        elif n not in BY_NAME:
            raise UsageError("unknown scenario '%s' (weir-chaos list)" % n)
        elif BY_NAME[n] not in allowed:
            raise UsageError("scenario %s needs %s here" % (
                n, ", ".join(sorted(BY_NAME[n].needs - capabilities))))
        else:
            faults.append(BY_NAME[n])
    return faults, skipped
