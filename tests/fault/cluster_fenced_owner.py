"""A fenced owner recovers (liveness, docs/exactly-once.md).

    cluster_fenced_owner.py zombie-outage
        A worker stops itself (a pause point with SIGSTOP) just after
        queueing a record of an open transaction, past the session timeout:
        its tasks move and the new owners' init_transactions fence its
        producers. The coordinator is killed, then the zombie resumes: its
        queued record fails as fenced (a fatal producer error), and only
        then does the paused thread go on into the fenced producer, while
        no coordinator can tell the zombie that its membership is stale. It
        must not restart the task (which would fence the live owner); once
        the coordinator is back it learns it is stale, and every task runs
        within the recovery bound.

    cluster_fenced_owner.py zombie-outage-timed
        The same faults on the field campaign's timing (seeded with
        WEIR_FAULT_SEED): SIGSTOP a worker for 5-8 s, SIGKILL the
        coordinator 1 s before its SIGCONT, restart it 1-6 s later.

    cluster_fenced_owner.py broker-fence
        The broker answers one AddPartitionsToTxn with
        INVALID_PRODUCER_EPOCH (47), then one Produce with 47, then one
        EndTxn with INVALID_TXN_STATE (48): the legitimate owner's producer
        is fenced with nobody else owning the task. The coordinator
        confirms its ownership and the task runs again within the bound.

Each ends with the word counts complete and exact within the liveness
bound after the last fault.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from broker_common import admin, start_broker  # noqa: E402
from cluster_common import (SESSION_MS, Feeder, coordinator,  # noqa: E402
                            create_topic, seed_lines, wait_live,
                            wait_recovered, wait_running, wait_until, weirctl,
                            weirctl_json, weirtest, worker, wordcount_yaml)

FENCED = "fenced, task stopped until the coordinator confirms ownership"
RESTARTED = "ownership confirmed, restarting fenced task"


def start(c, envs, broker_admin=False):
    broker = start_broker(c, admin=broker_admin)
    bs = broker.bootstrap
    create_topic(bs, "text-lines", 4)
    coord = coordinator(c, bootstrap=bs)
    ws = [worker(c, "w%d" % (i + 1), coord, bs, env=env)
          for i, env in enumerate(envs)]
    _, out, _ = weirctl(coord, "submit", wordcount_yaml(c.path("wc.yaml")))
    assert "submitted job wordcount" in out, out
    wait_running(coord, {w.name for w in ws})
    return broker, coord, ws


def not_degraded(coord):
    job = weirctl_json(coord, "describe", "wordcount")["job"]
    assert not job.get("degraded") and not job.get("stuck_tasks"), job


def zombie_outage(c):
    release = c.path("release-w1")
    pause_env = {"WEIR_PAUSE_AT": "produce-in-transaction:300",
                 "WEIR_PAUSE_STOP": "1", "WEIR_PAUSE_FILE": release}
    broker, coord, ws = start(c, [pause_env, None, None])
    w1, w2, w3 = ws
    bs = broker.bootstrap
    lines = seed_lines()
    feed = Feeder(bs, "text-lines", lines * 2, batch=40, pause=0.05)

    # w1 stops itself (SIGSTOP) just after queueing a record of an open
    # transaction, past the session timeout: its tasks move to w2 and w3,
    # whose init_transactions fence its producers.
    line = w1.wait_line("pause point reached site=produce-in-transaction", 60)
    task = line.split("detail=")[1].strip()
    wait_until(lambda: "session expired worker=w1" in coord.log(),
               SESSION_MS / 1000.0 + 10, "w1's session to expire")
    wait_running(coord, {"w2", "w3"}, timeout=30)

    # The coordinator dies; the zombie comes back. The queued record meets
    # the broker with the old epoch and the producer is fatally fenced
    # while the task's thread still waits; then the thread goes on into
    # the fenced producer.
    coord.kill()
    w1.resume()
    wait_until(lambda: "Fatal error" in w1.log() and
               "client=w1-%s#producer" % task in w1.log(), 20,
               "%s's producer to be fenced" % task)
    open(release, "w").close()
    w1.wait_line("pause point released", 10)
    # The zombie stops the task and waits for the coordinator: it does not
    # restart it (which would fence the live owner).
    w1.wait_line("%s task=%s " % (FENCED, task), 30)
    w1.wait_line("heartbeat failed", 30)

    coord = coordinator(c, name="coordinator-2", **{
        k: v for k, v in coord.restart_args.items() if k != "name"})
    last_fault = time.monotonic()
    w1.wait_line("is stale: dropping active tasks", 20)
    wait_recovered(coord, last_fault)
    feed.join()
    wait_live(bs, last_fault)
    # Nothing fenced the live owners: the zombie never restarted a task
    # it was not confirmed to own.
    for w in (w2, w3):
        assert FENCED not in w.log(), "%s was fenced" % w.name
    wait_running(coord, {"w1", "w2", "w3"}, timeout=60)
    not_degraded(coord)
    return ws


def zombie_outage_timed(c):
    """The field campaign's schedule, with seeded random times: SIGSTOP a
    worker for 5-8 s, SIGKILL the coordinator 1 s before its SIGCONT,
    restart the coordinator 1-6 s later."""
    seed = int(os.environ.get("WEIR_FAULT_SEED", "0")) or \
        random.randrange(1 << 30)
    rng = random.Random(seed)
    broker, coord, ws = start(c, [None, None, None])
    bs = broker.bootstrap
    feed = Feeder(bs, "text-lines", seed_lines() * 3, batch=40, pause=0.05)
    victim = ws[rng.randrange(len(ws))]
    stopped_s, down_s = rng.uniform(5, 8), rng.uniform(1, 6)
    print("seed %d: SIGSTOP %s for %.1f s, coordinator down %.1f s" % (
        seed, victim.name, stopped_s, down_s), flush=True)
    # The fault schedule itself is timed; every wait below is a condition.
    time.sleep(rng.uniform(0.5, 2.0))
    victim.pause()
    time.sleep(stopped_s - 1.0)
    coord.kill()
    time.sleep(1.0)
    victim.resume()
    time.sleep(down_s)
    coord = coordinator(c, name="coordinator-2", **{
        k: v for k, v in coord.restart_args.items() if k != "name"})
    last_fault = time.monotonic()
    wait_recovered(coord, last_fault)
    feed.join()
    wait_live(bs, last_fault)
    not_degraded(coord)
    return ws


def broker_fence(c):
    broker, coord, ws = start(c, [None, None], broker_admin=True)
    bs = broker.bootstrap
    lines = seed_lines()
    faults = ["/fault/fail?api=AddPartitionsToTxn&count=1&error=47",
              "/fault/fail?api=Produce&count=1&error=47&client=w",
              "/fault/fail?api=EndTxn&count=1&error=48&client=w"]
    times = []
    for i, fault in enumerate(faults):
        # input flows while the fault waits for its request
        feed = Feeder(bs, "text-lines", lines, start_key=i * len(lines),
                      batch=20, pause=0.05)
        admin(broker, fault)
        wait_until(lambda: sum(w.log().count(FENCED) for w in ws) > i, 30,
                   "a task to be fenced by %s" % fault)
        last_fault = time.monotonic()
        wait_until(lambda: sum(w.log().count(RESTARTED) for w in ws) > i,
                   SESSION_MS / 1000.0 + 5, "the fenced owner to restart")
        times.append(wait_recovered(coord, last_fault))
        feed.join()
    wait_live(bs, last_fault)
    not_degraded(coord)
    print("recovery times: %s" % ", ".join("%.2f s" % t for t in times))
    return ws


def main():
    scenario = sys.argv[1] if len(sys.argv) > 1 else "zombie-outage"
    run = {"zombie-outage": zombie_outage,
           "zombie-outage-timed": zombie_outage_timed,
           "broker-fence": broker_fence}[scenario]
    with weirtest.Cluster() as c:
        for w in run(c):
            assert w.stop() == 0, "%s exit code" % w.name
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
