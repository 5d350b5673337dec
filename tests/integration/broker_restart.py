"""weir-broker restarts (SIGTERM, then SIGKILL) keep every acknowledged and
committed record, committed offsets (plain and transactional), producer
epochs (a pre-restart zombie is still fenced), idempotence state (a live
idempotent producer continues without duplicates or gaps) and keep aborted
records invisible."""
from broker_common import (protocol_errors, Consumer, TopicPartition, check, create_topic, producer,
                           read_all, restart, start_broker, values, weirtest)
from confluent_kafka import KafkaException


def committed(bs, group, topic, parts):
    c = Consumer({"bootstrap.servers": bs, "group.id": group,
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    try:
        return {tp.partition: tp.offset for tp in
                c.committed([TopicPartition(topic, p) for p in range(parts)], timeout=15)}
    finally:
        c.close()


def produce_phase(bs, phase, idem, expect):
    """Idempotent and transactional records, some aborted; plain and
    transactional offset commits."""
    for i in range(100):
        v = "idem-%s-%d" % (phase, i)
        idem.produce("data", value=v, partition=i % 3)
        expect.append(v)
    idem.flush(20)
    t = producer(bs, transactional_id="rs-%s" % phase)
    t.init_transactions(10)
    for k in range(4):
        t.begin_transaction()
        for i in range(9):
            t.produce("data", value="tx-%s-%d-%d" % (phase, k, i), partition=i % 3)
        t.flush(10)
        if k == 2:
            t.abort_transaction(10)
        else:
            if k == 3:
                c = Consumer({"bootstrap.servers": bs, "group.id": "txg-%s" % phase})
                t.send_offsets_to_transaction(
                    [TopicPartition("data", p, 100 + p) for p in range(3)],
                    c.consumer_group_metadata(), 10)
                c.close()
            t.commit_transaction(10)
            expect += ["tx-%s-%d-%d" % (phase, k, i) for i in range(9)]
    c = Consumer({"bootstrap.servers": bs, "group.id": "plain-%s" % phase,
                  "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("data", p, 10 + p) for p in range(3)],
             asynchronous=False)
    c.close()


def verify(bs, phases, expect):
    check(values(read_all(bs, "data", 3)) == sorted(expect),
          "after restart read_committed sees exactly the %d committed records" % len(expect))
    for ph in phases:
        check(committed(bs, "plain-%s" % ph, "data", 3) == {0: 10, 1: 11, 2: 12},
              "plain committed offsets of phase %s survive" % ph)
        check(committed(bs, "txg-%s" % ph, "data", 3) == {0: 100, 1: 101, 2: 102},
              "transactional committed offsets of phase %s survive" % ph)


def zombie_fenced(bs, zombie, tid):
    owner = producer(bs, transactional_id=tid)
    owner.init_transactions(15)
    try:
        zombie.produce("data", value="zombie-late", partition=0)
        zombie.flush(10)
        zombie.commit_transaction(10)
        return False
    except KafkaException as e:
        print("zombie:", e)
        return True


def main():
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster, name="b0")
        bs = b.bootstrap
        create_topic(bs, "data", 3)
        expect = []
        idem = producer(bs, enable_idempotence=True, message_timeout_ms=60000)
        produce_phase(bs, "one", idem, expect)
        # A zombie with an open transaction across the restart.
        zombie = producer(bs, transactional_id="zombie-1")
        zombie.init_transactions(10)
        zombie.begin_transaction()
        zombie.produce("data", value="zombie-open", partition=1)
        zombie.flush(10)

        b = restart(cluster, b, "b1")  # SIGTERM, exit 0
        check(zombie_fenced(bs, zombie, "zombie-1"),
              "pre-restart zombie is fenced by a new owner (SIGTERM)")
        verify(bs, ["one"], expect)
        produce_phase(bs, "two", idem, expect)  # same idempotent producer
        zombie2 = producer(bs, transactional_id="zombie-2")
        zombie2.init_transactions(10)
        zombie2.begin_transaction()
        zombie2.produce("data", value="zombie2-open", partition=2)
        zombie2.flush(10)

        b = restart(cluster, b, "b2", kill=True,  # SIGKILL
                    extra=["--fsync", "always"])
        check(zombie_fenced(bs, zombie2, "zombie-2"),
              "pre-restart zombie is fenced by a new owner (SIGKILL)")
        verify(bs, ["one", "two"], expect)
        for i in range(50):
            v = "idem-three-%d" % i
            idem.produce("data", value=v, partition=i % 3)
            expect.append(v)
        idem.flush(20)
        check(values(read_all(bs, "data", 3)) == sorted(expect),
              "idempotent producer spanning two restarts: no duplicates, no gaps")
        check(not protocol_errors(), "no protocol errors in client logs: %s" % protocol_errors())
        check(b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
