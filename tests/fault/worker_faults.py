"""Fault scenarios for the standalone worker (label fault).

While input is produced continuously, the worker is killed again and again
(SIGKILL at random moments, or an immediate _exit at a numbered crash site
in the commit cycle or the restore), and restarted on the same data
directory or on an empty one. At the end the checker must find every word's
committed outputs exactly 1..N.

    worker_faults.py crash-points    every crash site, twice
    worker_faults.py kill            SIGKILL at random moments
    worker_faults.py zombie          SIGSTOP one worker, start another,
                                     SIGCONT the first: it must be fenced
    worker_faults.py broker          broker fault injection (dropped
                                     connections, failed and lost EndTxn,
                                     failed TxnOffsetCommit, slow Produce)
    worker_faults.py broker-restart  SIGKILL and restart the broker twice

A second argument, `latest`, runs the job with `count: {emit: latest}`
(and so pre-aggregation): counts must then rise strictly to the total.
"""
import os
import random
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from worker_common import (create_topic, produce, seed_lines, test_dir,  # noqa: E402
                           wait_live, wait_until, weirtest, wordcount_yaml,
                           worker)

SITES = ["after-produce", "after-send-offsets",
         "after-commit-before-checkpoint", "during-restore"]


class Feeder(threading.Thread):
    """Produces the seed text in small chunks until stopped."""

    def __init__(self, bootstrap, topic):
        super().__init__(daemon=True)
        self.bs, self.topic = bootstrap, topic
        self.lines = seed_lines()
        self.stop_flag = threading.Event()
        self.sent = 0
        self.error = None

    def run(self):
        try:
            i = 0
            while not self.stop_flag.is_set():
                chunk = [self.lines[(i + k) % len(self.lines)] for k in range(40)]
                produce(self.bs, self.topic, chunk, start_key=self.sent)
                self.sent += len(chunk)
                i += len(chunk)
                time.sleep(0.05)
        except Exception as e:  # reported by the main thread
            self.error = e

    def finish(self):
        self.stop_flag.set()
        self.join(60)
        if self.error:
            raise self.error


def wait_exit(proc, timeout):
    wait_until(lambda: not proc.alive(), timeout, "%s to exit" % proc.name)
    return proc.popen.returncode


def changelog_end(bs):
    from confluent_kafka import Consumer, TopicPartition
    topic = "wordcount-counts-changelog"
    con = Consumer({"bootstrap.servers": bs, "group.id": "weir-fault-check"})
    try:
        parts = con.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(con.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                   for p in parts)
    finally:
        con.close()


def changelog_records(bs, c, job, data):
    """Makes sure the changelog holds enough to crash a restore part way
    (runs the worker normally for a while if not); returns its size, an
    upper bound of what a full restore replays (it counts markers too)."""
    n = 0
    while changelog_end(bs) < 200:
        n += 1
        w = worker(c, "fill%d" % n, job, bs, data)
        w.wait_line("all tasks running", 30)
        time.sleep(2)
        w.stop()
    # Markers are at most half of the offsets (one per transaction and
    # partition, each after at least one record).
    return changelog_end(bs) // 2


def crash_points(c, bs, job, rng):
    data = test_dir(c, "d0")
    n = 0
    for _ in range(2):
        for site in SITES:
            n += 1
            if site == "during-restore":
                # An empty data dir: the run restores everything and dies
                # part way; the next run resumes from its checkpoint.
                total = changelog_records(bs, c, job, data)
                data = test_dir(c, "d%d" % n)
                hit = rng.randint(1, max(1, total // 3))
            else:
                hit = rng.randint(2, 30)
            w = worker(c, "w%d-%s" % (n, site), job, bs, data,
                       env={"WEIR_CRASH_AT": "%s:%d" % (site, hit)}, ready=None)
            code = wait_exit(w, 60)
            w.kill()
            assert code == 99, "worker exited %s, not at crash point %s:%d" % (
                code, site, hit)
            print("crashed at %s:%d" % (site, hit), flush=True)
    return data


def kills(c, bs, job, rng):
    data = test_dir(c, "k0")
    for n in range(6):
        if n % 3 == 2:
            data = test_dir(c, "k%d" % n)  # empty data dir: full restore
        w = worker(c, "w%d" % n, job, bs, data)
        time.sleep(rng.uniform(0.5, 3.0))
        w.kill()
        print("killed run %d" % n, flush=True)
    return data


def zombie(c, bs, job, rng):
    a = worker(c, "zombie", job, bs, test_dir(c, "za"))
    a.wait_line("all tasks running", 30)
    time.sleep(1.5)
    a.pause()
    b = worker(c, "successor", job, bs, test_dir(c, "zb"))
    b.wait_line("all tasks running", 60)
    time.sleep(1.0)
    a.resume()
    a.wait_line("fenced", 60)
    code = wait_exit(a, 60)
    a.kill()
    assert code == 3, "zombie exited %s, expected 3 (fenced)" % code
    print("zombie fenced", flush=True)
    b.stop()
    return test_dir(c, "zb")


def admin(broker, path):
    req = urllib.request.Request("http://%s%s" % (broker.admin, path), data=b"",
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read().decode()
    print("fault %s -> %s" % (path, body.strip()), flush=True)


def broker_faults(c, bs, job, rng):
    broker = c.broker_proc
    data = test_dir(c, "b0")
    w = worker(c, "faulted", job, bs, data)
    w.wait_line("all tasks running", 30)
    faults = [
        "/fault/drop",
        "/fault/fail?api=EndTxn&count=2&error=7",       # REQUEST_TIMED_OUT
        "/fault/lose?api=EndTxn&count=1",               # commit outcome unknown
        "/fault/fail?api=TxnOffsetCommit&count=2&error=15",  # COORDINATOR_NOT_AVAILABLE
        "/fault/fail?api=Produce&count=3&error=7",
        "/fault/delay?api=Produce&ms=300",
        "/fault/drop",
        "/fault/pause?ms=1500",
    ]
    for f in faults:
        time.sleep(rng.uniform(0.5, 1.5))
        admin(broker, f)
    time.sleep(1.0)
    admin(broker, "/fault/clear")
    time.sleep(1.0)
    assert w.alive(), "worker died under broker faults:\n" + w.log()[-3000:]
    assert w.stop() == 0
    return data


def broker_restart(c, bs, job, rng):
    """SIGKILL the broker twice under load and restart it on the same port
    and data directory: the worker reconnects and goes on."""
    data = test_dir(c, "r0")
    w = worker(c, "survivor", job, bs, data)
    w.wait_line("all tasks running", 30)
    broker = c.broker_proc
    for n in range(2):
        time.sleep(rng.uniform(1.0, 2.5))
        broker.kill()
        print("broker killed", flush=True)
        time.sleep(rng.uniform(0.2, 1.0))
        broker = c.broker(name="broker%d" % (n + 2), data_dir=broker.data_dir,
                          port=broker.port)
    time.sleep(2.0)
    assert w.alive(), "worker died when the broker restarted:\n" + w.log()[-3000:]
    assert w.stop() == 0
    return data


def main(argv):
    mode = argv[1] if len(argv) > 1 else "kill"
    emit = argv[2] if len(argv) > 2 else None  # the count's emit: mode
    seed = int(os.environ.get("WEIR_FAULT_SEED", "0")) or random.randrange(1 << 30)
    print("mode %s seed %d" % (mode, seed), flush=True)
    rng = random.Random(seed)
    with weirtest.Cluster() as c:
        extra = []
        if mode == "broker":
            admin_port = weirtest.free_port()
            extra = ["--admin", "127.0.0.1:%d" % admin_port]
        broker = c.broker(extra=extra)
        if mode == "broker":
            broker.admin = "127.0.0.1:%d" % admin_port
        c.broker_proc = broker
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        job = wordcount_yaml(c.path("wordcount.yaml"), emit=emit)
        feeder = Feeder(bs, "text-lines")
        feeder.start()
        try:
            data = {"crash-points": crash_points, "kill": kills,
                    "zombie": zombie,
                    "broker": broker_faults,
                    "broker-restart": broker_restart}[mode](c, bs, job, rng)
        finally:
            feeder.finish()
        print("produced %d lines" % feeder.sent, flush=True)
        last_fault = time.monotonic()
        w = worker(c, "final", job, bs, data)
        wait_live(bs, last_fault, emit=emit or "update")
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
