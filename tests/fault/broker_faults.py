"""weir-broker fault injection (--admin): every fault makes librdkafka
clients recover without loss or duplication.

- Produce failing with retriable errors, and Produce answers lost after the
  append (connection dropped): the idempotent producer retries, the broker
  deduplicates by sequence: no duplicates, no gaps, order kept.
- Dropping every connection, delaying Produce, pausing all handling and
  failing EndTxn once, during a transactional copy loop: exactly once.
- Crash (exit without flushing) and restart: acknowledged data is kept.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from broker_common import (Consumer, TopicPartition, admin, check, create_topic,  # noqa: E402
                           producer, read_all, restart, start_broker, weirtest)


def test_idempotent_faults(b):
    bs = b.bootstrap
    create_topic(bs, "idem", 3)
    p = producer(bs, enable_idempotence=True, retry_backoff_ms=20,
                 message_timeout_ms=60000, batch_num_messages=20)
    admin(b, "/fault/fail?api=Produce&count=3&error=7")   # REQUEST_TIMED_OUT
    admin(b, "/fault/lose?api=Produce&count=3")           # appended, answer lost
    n = 3000
    errors = []
    for i in range(n):
        p.produce("idem", value="%06d" % i, partition=i % 3,
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
        if i % 500 == 250:
            admin(b, "/fault/lose?api=Produce&count=1")
        p.poll(0)
    check(p.flush(60) == 0 and not errors, "all %d records acknowledged despite faults" % n)
    recs = read_all(bs, "idem", 3, "read_uncommitted")
    vals = [r[3] for r in recs]
    check(len(vals) == n and len(set(vals)) == n,
          "no duplicates, no gaps after lost answers and failed produces (%d)" % len(vals))
    for part in range(3):
        seq = [int(r[3]) for r in recs if r[0] == part]
        check(seq == sorted(seq), "partition %d keeps the produce order" % part)


def copy_loop(bs, stop, stats):
    """Transactional copy src -> dst until stop is set and src is drained."""
    p = producer(bs, transactional_id="fault-copy", transaction_timeout_ms=30000)
    p.init_transactions(30)
    c = Consumer({"bootstrap.servers": bs, "group.id": "fault-copy",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.assign([TopicPartition("src", i, 0) for i in range(2)])
    idle = 0
    while not (stop.is_set() and idle > 5):
        msgs = [m for m in c.consume(50, 0.5) if not m.error()]
        if not msgs:
            idle += 1
            continue
        idle = 0
        try:
            p.begin_transaction()
            for m in msgs:
                p.produce("dst", value=m.value(), partition=m.partition())
            p.send_offsets_to_transaction(
                c.position([TopicPartition("src", i) for i in range(2)]),
                c.consumer_group_metadata(), 30)
            p.commit_transaction(30)
            stats["commits"] += 1
        except Exception as e:  # abortable: abort and rewind to committed
            stats["aborts"] += 1
            print("copy loop: %s" % e)
            if e.args and hasattr(e.args[0], "txn_requires_abort") and e.args[0].txn_requires_abort():
                p.abort_transaction(30)
            elif e.args and hasattr(e.args[0], "retriable") and e.args[0].retriable():
                p.abort_transaction(30)
            else:
                raise
            for tp in c.committed([TopicPartition("src", i) for i in range(2)], timeout=30):
                c.seek(TopicPartition("src", tp.partition, max(tp.offset, 0)))
    c.close()


def test_txn_faults(b):
    bs = b.bootstrap
    create_topic(bs, "src", 2)
    create_topic(bs, "dst", 2)
    stop = threading.Event()
    stats = {"commits": 0, "aborts": 0}
    failure = []

    def run():
        try:
            copy_loop(bs, stop, stats)
        except Exception as e:
            failure.append(e)

    t = threading.Thread(target=run)
    t.start()
    p = producer(bs, enable_idempotence=True)
    n = 0
    faults = ["/fault/drop", "/fault/delay?api=Produce&ms=300", "/fault/pause?ms=1000",
              "/fault/fail?api=EndTxn&count=1&error=15", "/fault/delay?api=Produce&ms=0",
              "/fault/drop", "/fault/fail?api=AddPartitionsToTxn&count=1&error=15",
              "/fault/drop"]
    for f in faults:
        for _ in range(150):
            p.produce("src", value="r%05d" % n, partition=n % 2)
            n += 1
        p.flush(30)
        admin(b, f)
        time.sleep(0.3)  # let the copy loop run into the fault
    p.flush(30)
    stop.set()
    t.join(180)
    check(not t.is_alive() and not failure, "copy loop survives every fault: %s" % failure)
    out = [r[3] for r in read_all(bs, "dst", 2)]
    check(sorted(out) == ["r%05d" % i for i in range(n)],
          "exactly once through drop/delay/pause/fail: %d records, %d commits, %d aborts"
          % (len(out), stats["commits"], stats["aborts"]))


def test_crash(cluster, b):
    bs = b.bootstrap
    create_topic(bs, "crashy", 2)
    p = producer(bs, enable_idempotence=True)
    for i in range(500):
        p.produce("crashy", value="c%d" % i, partition=i % 2)
    check(p.flush(20) == 0, "500 records acknowledged before the crash")
    try:
        admin(b, "/fault/crash")
    except Exception:
        pass  # the broker exits before answering
    weirtest.wait_until(lambda: not b.alive(), 10, "broker to crash")
    b2 = restart(cluster, b, "after-crash", kill=True)
    vals = [r[3] for r in read_all(b2.bootstrap, "crashy", 2, "read_uncommitted")]
    check(sorted(vals) == sorted("c%d" % i for i in range(500)),
          "after a crash without flushing every acknowledged record is there")
    return b2


def main():
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster)
        test_idempotent_faults(b)
        test_txn_faults(b)
        b = test_crash(cluster, b)
        check(b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
