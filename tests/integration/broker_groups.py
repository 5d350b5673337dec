"""Consumer groups on weir-broker: subscribing librdkafka consumers share a
topic's partitions (JoinGroup/SyncGroup with the client's range assignor),
rebalance when one leaves, commit offsets with their generation, and a
later member resumes from the committed offsets."""
import time

from broker_common import check, create_topic, producer, start_broker, weirtest
from broker_common import Consumer, protocol_errors
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient


def consumer(bs, name):
    return Consumer({"bootstrap.servers": bs, "group.id": "grp", "client.id": name,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     "partition.assignment.strategy": "range"})


def main():
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster)
        bs = b.bootstrap
        create_topic(bs, "gt", 4)
        p = producer(bs, enable_idempotence=True)
        for i in range(200):
            p.produce("gt", value="m%d" % i, partition=i % 4)
        p.flush(10)
        c1, c2 = consumer(bs, "c1"), consumer(bs, "c2")
        c1.subscribe(["gt"])
        c2.subscribe(["gt"])
        seen = {}
        deadline = time.monotonic() + 60
        while len(seen) < 200 and time.monotonic() < deadline:
            for c in (c1, c2):
                m = c.poll(0.2)
                if m is not None and not m.error():
                    seen.setdefault(m.value().decode(), set()).add(id(c))
        check(len(seen) == 200, "two members consume all 200 records (%d)" % len(seen))
        a1 = {tp.partition for tp in c1.assignment()}
        a2 = {tp.partition for tp in c2.assignment()}
        check(len(a1) == 2 and len(a2) == 2 and not (a1 & a2),
              "range assignment splits 4 partitions 2/2: %s %s" % (sorted(a1), sorted(a2)))
        c1.commit(asynchronous=False)
        c2.commit(asynchronous=False)
        groups = AdminClient({"bootstrap.servers": bs}).list_groups("grp", timeout=10)
        check(len(groups) == 1 and groups[0].state == "Stable" and
              groups[0].protocol == "range" and len(groups[0].members) == 2,
              "ListGroups/DescribeGroups show the stable group with 2 members")
        c2.close()  # LeaveGroup: c1 takes over everything
        weirtest.wait_until(lambda: (c1.poll(0.1), len(c1.assignment()) == 4)[1], 30,
                            "c1 to get all partitions after c2 left")
        check(True, "after a member leaves the other owns all 4 partitions")
        for i in range(40):
            p.produce("gt", value="n%d" % i, partition=i % 4)
        p.flush(10)
        got = set()
        deadline = time.monotonic() + 30
        while len(got) < 40 and time.monotonic() < deadline:
            m = c1.poll(0.2)
            if m is not None and not m.error():
                got.add(m.value().decode())
        check(got == {"n%d" % i for i in range(40)},
              "the remaining member resumes c2's partitions from committed offsets")
        c1.commit(asynchronous=False)
        committed = c1.committed([TopicPartition("gt", i) for i in range(4)], timeout=10)
        check(sum(tp.offset for tp in committed) == 240, "group offsets committed: 240")
        c1.close()
        check(not protocol_errors(), "no protocol errors in client logs: %s" % protocol_errors())
        check(b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
