"""weir-broker transactions against librdkafka: commit, abort, read_committed
vs read_uncommitted, mixed transactions across partitions in one fetch,
fencing, transactional offsets (pending, aborted, committed) and an
exactly-once consume-transform-produce loop."""
import time

from broker_common import (protocol_errors, Consumer, TopicPartition, check, create_topic, producer,
                           read_all, start_broker, values, weirtest)
from confluent_kafka import KafkaException


def test_commit_abort_mixed(bs):
    create_topic(bs, "mixed", 3)
    a = producer(bs, transactional_id="mixed-a")
    b = producer(bs, transactional_id="mixed-b")
    a.init_transactions(10)
    b.init_transactions(10)
    expect = []
    for rnd in range(4):
        a.begin_transaction()
        b.begin_transaction()
        for i in range(12):  # interleaved on every partition
            a.produce("mixed", value="a%d-%d" % (rnd, i), partition=i % 3)
            b.produce("mixed", value="b%d-%d" % (rnd, i), partition=i % 3)
            a.poll(0)
            b.poll(0)
        a.flush(10)
        b.flush(10)
        if rnd % 2 == 0:
            a.commit_transaction(10)
            b.abort_transaction(10)
            expect += ["a%d-%d" % (rnd, i) for i in range(12)]
        else:
            b.commit_transaction(10)
            a.abort_transaction(10)
            expect += ["b%d-%d" % (rnd, i) for i in range(12)]
    committed = read_all(bs, "mixed", 3, "read_committed")
    check(values(committed) == sorted(expect),
          "read_committed sees exactly the committed records (%d)" % len(expect))
    uncommitted = read_all(bs, "mixed", 3, "read_uncommitted")
    check(len(uncommitted) == 4 * 24,
          "read_uncommitted sees all %d records" % len(uncommitted))


def test_fencing(bs):
    create_topic(bs, "fence", 2)
    old = producer(bs, transactional_id="fence-id")
    old.init_transactions(10)
    old.begin_transaction()
    old.produce("fence", value="zombie-1", partition=0)
    old.flush(10)
    new = producer(bs, transactional_id="fence-id")
    new.init_transactions(10)  # aborts and fences the old one
    fenced = False
    try:
        old.produce("fence", value="zombie-2", partition=1)
        old.flush(10)
        old.commit_transaction(10)
    except KafkaException as e:
        fenced = e.args[0].fatal() or "fenced" in str(e).lower()
        print("old producer:", e)
    check(fenced, "the old producer is fenced")
    new.begin_transaction()
    new.produce("fence", value="owner", partition=1)
    new.commit_transaction(10)
    check(values(read_all(bs, "fence", 2)) == ["owner"],
          "zombie records never become visible")


def test_offsets(bs):
    create_topic(bs, "offs", 1)
    p = producer(bs, transactional_id="offs-id")
    p.init_transactions(10)
    c = Consumer({"bootstrap.servers": bs, "group.id": "offs-group",
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    tp = [TopicPartition("offs", 0)]
    meta = c.consumer_group_metadata()
    p.begin_transaction()
    p.produce("offs", value="x", partition=0)
    p.send_offsets_to_transaction([TopicPartition("offs", 0, 5)], meta, 10)
    pending = None
    try:
        pending = c.committed(tp, timeout=1.5)
    except KafkaException as e:
        print("committed() while pending:", e)
    check(pending is None, "RequireStable OffsetFetch does not answer while offsets are pending")
    p.abort_transaction(10)
    check(c.committed(tp, timeout=10)[0].offset < 0, "offsets of an aborted transaction are not committed")
    p.begin_transaction()
    p.produce("offs", value="y", partition=0)
    p.send_offsets_to_transaction([TopicPartition("offs", 0, 7)], meta, 10)
    p.commit_transaction(10)
    check(c.committed(tp, timeout=10)[0].offset == 7, "offsets of a committed transaction are committed")
    c.close()


def test_consume_transform_produce(bs):
    """Copies 'src' to 'dst' in transactions, aborting every third one and
    rewinding: dst must hold every source record exactly once."""
    create_topic(bs, "src", 2)
    create_topic(bs, "dst", 2)
    n = 200
    src = producer(bs, enable_idempotence=True)
    for i in range(n):
        src.produce("src", key=str(i), value="m%d" % i, partition=i % 2)
    src.flush(10)
    p = producer(bs, transactional_id="ctp")
    p.init_transactions(10)
    c = Consumer({"bootstrap.servers": bs, "group.id": "ctp-group",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    parts = [TopicPartition("src", i, 0) for i in range(2)]
    c.assign(parts)
    done, txns = 0, 0
    deadline = time.monotonic() + 60
    while done < n and time.monotonic() < deadline:
        msgs = c.consume(20, 1.0)
        msgs = [m for m in msgs if not m.error()]
        if not msgs:
            continue
        p.begin_transaction()
        for m in msgs:
            p.produce("dst", key=m.key(), value=m.value().upper(), partition=m.partition())
        positions = c.position([TopicPartition("src", i) for i in range(2)])
        p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), 10)
        txns += 1
        if txns % 3 == 0:
            p.abort_transaction(10)
            committed = c.committed([TopicPartition("src", i) for i in range(2)], timeout=10)
            for tp in committed:
                c.seek(TopicPartition("src", tp.partition, tp.offset if tp.offset >= 0 else 0))
        else:
            p.commit_transaction(10)
            done += len(msgs)
    c.close()
    out = values(read_all(bs, "dst", 2))
    check(out == sorted("M%d" % i for i in range(n)),
          "consume-transform-produce: %d records exactly once over %d transactions" % (n, txns))


def main():
    with weirtest.Cluster() as cluster:
        broker = start_broker(cluster)
        bs = broker.bootstrap
        test_commit_abort_mixed(bs)
        test_fencing(bs)
        test_offsets(bs)
        test_consume_transform_produce(bs)
        check(not protocol_errors(), "no protocol errors in client logs: %s" % protocol_errors())
        rc = broker.stop()
        check(rc == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
