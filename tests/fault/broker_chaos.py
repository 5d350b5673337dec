"""Exactly-once through weir-broker under a seeded storm of faults: two
transactional copy workers (one transactional.id per input partition pair)
move every record of 'in' to 'out' while the broker drops connections,
loses and fails answers of Produce, AddPartitionsToTxn, TxnOffsetCommit
and EndTxn, delays and pauses; workers are replaced now and then by a new
producer with the same transactional.id (fencing the old one), and a
worker hit by a fatal error is replaced the same way. At the end 'out'
read_committed holds every input record exactly once."""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from broker_common import (Consumer, TopicPartition, admin, check, create_topic,  # noqa: E402
                           producer, read_all, start_broker)
import weirtest  # noqa: E402

N = 3000
PARTS = 4
SEED = int(os.environ.get("WEIR_CHAOS_SEED", "4242"))


class Worker:
    """Copies in[parts] -> out[parts] in transactions under one txn id."""

    def __init__(self, bs, tid, parts, stats):
        self.bs, self.tid, self.parts, self.stats = bs, tid, parts, stats
        self.generation = 0
        self.replace = threading.Event()

    def start_instance(self):
        self.generation += 1
        p = producer(self.bs, transactional_id=self.tid, transaction_timeout_ms=20000,
                     message_timeout_ms=15000, socket_timeout_ms=5000)
        p.init_transactions(30)
        c = Consumer({"bootstrap.servers": self.bs, "group.id": "chaos-" + self.tid,
                      "isolation.level": "read_committed", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        committed = c.committed([TopicPartition("in", q) for q in self.parts], timeout=30)
        c.assign([TopicPartition("in", tp.partition, max(tp.offset, 0)) for tp in committed])
        return p, c

    def run(self, stop):
        p, c = self.start_instance()
        while not stop.is_set():
            if self.replace.is_set():
                self.replace.clear()
                # A new instance fences this one; the old one is dropped.
                p2, c2 = self.start_instance()
                try:
                    p.begin_transaction()
                    p.produce("out", value=b"zombie", partition=self.parts[0])
                    p.commit_transaction(10)
                    self.stats["zombie_commits"] += 1
                except Exception:
                    pass
                c.close()
                p, c = p2, c2
                self.stats["takeovers"] += 1
            msgs = [m for m in c.consume(50, 0.3) if not m.error()]
            if not msgs:
                continue
            try:
                p.begin_transaction()
                for m in msgs:
                    p.produce("out", value=m.value(), partition=m.partition())
                p.send_offsets_to_transaction(
                    c.position([TopicPartition("in", q) for q in self.parts]),
                    c.consumer_group_metadata(), 30)
                p.commit_transaction(30)
                self.stats["commits"] += 1
            except Exception as e:
                err = e.args[0] if e.args else None
                self.stats["errors"] += 1
                if err is not None and hasattr(err, "txn_requires_abort") and \
                        err.txn_requires_abort():
                    try:
                        p.abort_transaction(30)
                        self.stats["aborts"] += 1
                    except Exception:
                        self.replace.set()
                        continue
                else:
                    # Fatal (fenced) or unknown: a new instance, whose
                    # init_transactions aborts what this one left open.
                    self.replace.set()
                    continue
                committed = c.committed([TopicPartition("in", q) for q in self.parts],
                                        timeout=30)
                for tp in committed:
                    c.seek(TopicPartition("in", tp.partition, max(tp.offset, 0)))
        c.close()


def main():
    rnd = random.Random(SEED)
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster)
        bs = b.bootstrap
        create_topic(bs, "in", PARTS)
        create_topic(bs, "out", PARTS)
        stats = {"commits": 0, "aborts": 0, "errors": 0, "takeovers": 0, "zombie_commits": 0}
        workers = [Worker(bs, "chaos-a", [0, 1], stats), Worker(bs, "chaos-b", [2, 3], stats)]
        stop = threading.Event()
        failures = []

        def run(w):
            try:
                w.run(stop)
            except Exception as e:
                failures.append(e)
        threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        src = producer(bs, enable_idempotence=True, message_timeout_ms=60000)
        faults = ["/fault/drop", "/fault/lose?api=Produce&count=1",
                  "/fault/lose?api=EndTxn&count=1", "/fault/lose?api=TxnOffsetCommit&count=1",
                  "/fault/lose?api=AddPartitionsToTxn&count=1",
                  "/fault/fail?api=Produce&count=2&error=7",
                  "/fault/fail?api=EndTxn&count=1&error=15",
                  "/fault/fail?api=AddOffsetsToTxn&count=1&error=51",
                  "/fault/delay?api=Fetch&ms=200", "/fault/delay?api=Fetch&ms=0",
                  "/fault/pause?ms=500", "takeover",
                  # Errors the client cannot retry: abort or a new instance.
                  "/fault/fail?api=Produce&count=1&error=47",
                  "/fault/fail?api=EndTxn&count=1&error=48"]
        sent = 0
        while sent < N:
            for _ in range(100):
                src.produce("in", value=b"r%05d" % sent, partition=sent % PARTS)
                sent += 1
            src.poll(0)
            f = rnd.choice(faults)
            if f == "takeover":
                rnd.choice(workers).replace.set()
            else:
                admin(b, f)
            time.sleep(0.15)
        check(src.flush(60) == 0, "the source producer drained its queue")
        admin(b, "/fault/clear")
        # Source batches failed by an injected error are not in 'in' (and
        # were reported failed); the input is what the log holds.
        inputs = read_all(bs, "in", PARTS, "read_uncommitted")
        ends = {}
        for r in inputs:
            ends[r[0]] = max(ends.get(r[0], 0), r[1] + 1)
        want = sorted(r[3] for r in inputs)
        check(len(want) > N // 2 and len(set(want)) == len(want),
              "%d distinct input records in the log" % len(want))

        def drained():
            done = True
            for w in workers:
                c = Consumer({"bootstrap.servers": bs, "group.id": "chaos-" + w.tid})
                try:
                    for tp in c.committed([TopicPartition("in", q) for q in w.parts],
                                          timeout=5):
                        done = done and tp.offset == ends.get(tp.partition, 0)
                except Exception:
                    done = False  # offsets still pending in a transaction
                finally:
                    c.close()
            return done
        try:
            weirtest.wait_until(drained, 120, "the workers to commit every input", interval=1)
        finally:
            stop.set()
        for t in threads:
            t.join(60)
        check(not failures, "workers ran without unexpected errors: %s" % failures)
        out = sorted(r[3] for r in read_all(bs, "out", PARTS))
        check(out == want,
              "exactly once under chaos: %d records, stats %s" % (len(out), stats))
        check(b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
