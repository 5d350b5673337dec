#!/usr/bin/python3
"""kafka-python (Debian python3-kafka 2.0.2) against weir-broker: admin
create/delete topics, produce, consume, commit offsets and read them back,
and a subscribing consumer in a group.

    broker_clients_kafka_python.py [case ...]    (cases: CASES at the end)
"""
import logging
import threading
import time

from kafka import errors
from kafka import (KafkaAdminClient, KafkaConsumer, KafkaProducer,
                   TopicPartition)
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

import broker_clients_common as bc
import weirtest

PARTS = 3


class LogCapture(logging.Handler):
    """Keeps kafka-python's log records so a case can scan them."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        try:
            self.lines.append("%s %s %s" % (record.levelname, record.name,
                                            record.getMessage()))
        except Exception:
            pass

    def errors(self):
        return [line for line in self.lines
                if line.startswith(("ERROR", "CRITICAL"))]


CAPTURE = LogCapture()
logging.getLogger("kafka").addHandler(CAPTURE)
logging.getLogger("kafka").setLevel(logging.INFO)


def check_log():
    errs = CAPTURE.errors()
    CAPTURE.lines.clear()
    if errs:
        raise AssertionError("kafka-python logged errors:\n" +
                             "\n".join(errs[:20]))


def admin_client(b):
    return KafkaAdminClient(bootstrap_servers=b.bootstrap,
                            client_id="weir-test-admin",
                            request_timeout_ms=15000)


def create(b, topics, parts=PARTS):
    admin = admin_client(b)
    try:
        resp = admin.create_topics(
            [NewTopic(t, num_partitions=parts, replication_factor=1)
             for t in topics], timeout_ms=10000)
        errs = [(e[0], e[1]) for e in resp.topic_errors]
        bc.eq(sorted(errs), sorted((t, 0) for t in topics),
              "CreateTopics errors")
        bc.wait_until(lambda: set(topics) <= set(admin.list_topics()), 20,
                      "topics listed")
    finally:
        admin.close()


def produce(b, topic, parts=PARTS, per_part=20, **cfg):
    """Sends "v<p>-<i>" with key "k<p>-<i>" and a header to each partition;
    returns {partition: [offsets]} from the record metadata."""
    opts = dict(acks="all", linger_ms=5, retries=3)
    opts.update(cfg)
    producer = KafkaProducer(bootstrap_servers=b.bootstrap, **opts)
    futs = []
    for p in range(parts):
        for i in range(per_part):
            futs.append((p, producer.send(
                topic, partition=p, key=("k%d-%d" % (p, i)).encode(),
                value=("v%d-%d" % (p, i)).encode(),
                headers=[("h", ("%d" % i).encode())])))
    producer.flush(timeout=30)
    offsets = {}
    for p, f in futs:
        md = f.get(timeout=30)
        bc.eq((md.topic, md.partition), (topic, p), "record metadata")
        offsets.setdefault(p, []).append(md.offset)
    producer.close(timeout=10)
    return offsets


def consume_all(consumer, want_count, timeout=30):
    got = []

    def done():
        for recs in consumer.poll(timeout_ms=200).values():
            got.extend(recs)
        return len(got) >= want_count
    bc.wait_until(done, timeout, "%d records" % want_count, interval=0)
    return got


def expect_error(fn, err_type):
    try:
        fn()
    except err_type:
        return
    raise AssertionError("expected %s" % err_type.__name__)


def case_admin():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        create(b, ["kp-a", "kp-b"])
        admin = admin_client(b)
        try:
            desc = {t["topic"]: t for t in admin.describe_topics(
                ["kp-a", "kp-b"])}
            for t in ("kp-a", "kp-b"):
                bc.eq(desc[t]["error_code"], 0, t + " error")
                bc.eq(sorted(p["partition"] for p in desc[t]["partitions"]),
                      list(range(PARTS)), t + " partitions")
                bc.eq({p["leader"] for p in desc[t]["partitions"]}, {1},
                      t + " leaders")
            # Creating it again: TOPIC_ALREADY_EXISTS (36), nothing changes.
            expect_error(lambda: admin.create_topics(
                [NewTopic("kp-a", num_partitions=5, replication_factor=1)],
                timeout_ms=10000), errors.TopicAlreadyExistsError)
            # Invalid partition count: INVALID_PARTITIONS (37).
            expect_error(lambda: admin.create_topics(
                [NewTopic("kp-bad", num_partitions=0, replication_factor=1)],
                timeout_ms=10000), errors.InvalidPartitionsError)
            desc = admin.describe_topics(["kp-a"])
            bc.eq(len(desc[0]["partitions"]), PARTS, "kp-a unchanged")
            if "kp-bad" in admin.list_topics():
                raise AssertionError("kp-bad was created")
            resp = admin.delete_topics(["kp-b"], timeout_ms=10000)
            bc.eq([tuple(e[:2]) for e in resp.topic_error_codes],
                  [("kp-b", 0)], "DeleteTopics")
            bc.wait_until(lambda: "kp-b" not in admin.list_topics(), 20,
                          "kp-b gone")
            bc.eq(sorted(t for t in admin.list_topics()
                         if t.startswith("kp-")), ["kp-a"], "topics left")
        finally:
            admin.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_produce_consume():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        create(b, ["kp-pc"])
        offsets = produce(b, "kp-pc")
        for p in range(PARTS):
            bc.eq(offsets[p], list(range(20)), "offsets of partition %d" % p)
        consumer = KafkaConsumer(bootstrap_servers=b.bootstrap,
                                 enable_auto_commit=False,
                                 check_crcs=True, fetch_max_wait_ms=100)
        tps = [TopicPartition("kp-pc", p) for p in range(PARTS)]
        consumer.assign(tps)
        consumer.seek_to_beginning()
        recs = consume_all(consumer, PARTS * 20)
        got = sorted((r.partition, r.offset, r.key.decode(), r.value.decode(),
                      tuple(r.headers)) for r in recs)
        want = sorted((p, i, "k%d-%d" % (p, i), "v%d-%d" % (p, i),
                       (("h", ("%d" % i).encode()),))
                      for p in range(PARTS) for i in range(20))
        bc.eq(got, want, "records")
        bc.eq(consumer.end_offsets(tps), {tp: 20 for tp in tps},
              "end offsets")
        bc.eq(consumer.beginning_offsets(tps), {tp: 0 for tp in tps},
              "beginning offsets")
        # Fetch long-polls: a fetch with nothing new returns after
        # fetch_max_wait_ms, then new records arrive promptly.
        t0 = time.monotonic()
        bc.eq(consumer.poll(timeout_ms=300), {}, "empty poll")
        produce(b, "kp-pc", per_part=1)
        more = consume_all(consumer, PARTS, timeout=10)
        bc.eq(sorted((r.partition, r.offset) for r in more),
              [(p, 20) for p in range(PARTS)], "records after long poll")
        if time.monotonic() - t0 > 8:
            raise AssertionError("long poll took too long")
        consumer.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_commit_offsets():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        create(b, ["kp-co"])
        produce(b, "kp-co")
        tps = [TopicPartition("kp-co", p) for p in range(PARTS)]
        consumer = KafkaConsumer(bootstrap_servers=b.bootstrap,
                                 group_id="kp-group",
                                 enable_auto_commit=False,
                                 auto_offset_reset="earliest",
                                 fetch_max_wait_ms=100)
        consumer.assign(tps)
        for tp in tps:
            bc.eq(consumer.committed(tp), None, "nothing committed yet")
        consume_all(consumer, PARTS * 20)
        want = {tps[0]: 5, tps[1]: 20, tps[2]: 13}
        consumer.commit({tp: OffsetAndMetadata(o, "meta-%d" % tp.partition)
                         for tp, o in want.items()})
        for tp, o in want.items():
            bc.eq(consumer.committed(tp), o, "committed %s" % (tp,))
        consumer.close()
        # A new consumer in the group starts at the committed offsets.
        consumer = KafkaConsumer(bootstrap_servers=b.bootstrap,
                                 group_id="kp-group",
                                 enable_auto_commit=False,
                                 auto_offset_reset="earliest",
                                 fetch_max_wait_ms=100)
        consumer.assign(tps)
        recs = consume_all(consumer, (20 - 5) + (20 - 13))
        first = {}
        for r in recs:
            first.setdefault(r.partition, r.offset)
        bc.eq(first, {0: 5, 2: 13}, "first offsets after restart")
        bc.eq(len(recs), (20 - 5) + (20 - 13), "records after restart")
        # The admin client reads the same offsets and their metadata.
        admin = admin_client(b)
        try:
            offs = admin.list_consumer_group_offsets("kp-group")
            bc.eq({tp: (om.offset, om.metadata) for tp, om in offs.items()},
                  {tp: (o, "meta-%d" % tp.partition)
                   for tp, o in want.items()}, "admin group offsets")
            bc.eq(admin.list_consumer_group_offsets("kp-other"), {},
                  "unknown group offsets")
        finally:
            admin.close()
        # Recommit moves the offset forward (and back).
        consumer.commit({tps[0]: OffsetAndMetadata(2, "")})
        bc.eq(consumer.committed(tps[0]), 2, "recommitted")
        consumer.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_group():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        create(b, ["kp-g"])
        produce(b, "kp-g", per_part=10)
        consumer = KafkaConsumer("kp-g", bootstrap_servers=b.bootstrap,
                                 group_id="kp-sub",
                                 enable_auto_commit=False,
                                 auto_offset_reset="earliest",
                                 fetch_max_wait_ms=100)
        recs = consume_all(consumer, PARTS * 10, timeout=60)
        bc.eq(len(recs), PARTS * 10, "records via subscription")
        bc.eq(sorted(tp.partition for tp in consumer.assignment()),
              list(range(PARTS)), "assignment")
        consumer.commit()
        tps = [TopicPartition("kp-g", p) for p in range(PARTS)]
        for tp in tps:
            bc.eq(consumer.committed(tp), 10, "committed %s" % (tp,))
        # The admin client sees the group (ListGroups, DescribeGroups).
        admin = admin_client(b)
        try:
            if ("kp-sub", "consumer") not in admin.list_consumer_groups():
                raise AssertionError("ListGroups: %s"
                                     % admin.list_consumer_groups())
            info = admin.describe_consumer_groups(["kp-sub"])[0]
            bc.eq((info.state, info.protocol_type, info.protocol),
                  ("Stable", "consumer", "range"), "DescribeGroups")
            bc.eq([sorted(p for _, ps in m.member_assignment.assignment
                          for p in ps) for m in info.members],
                  [list(range(PARTS))], "member assignment")
        finally:
            admin.close()
        consumer.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_mixed_group():
    """kafka-python and librdkafka consumers in one group (both "range"):
    either client may be the leader that assigns for the other; they split
    the partitions, commit, and when one leaves the other takes over from
    its committed offsets."""
    from confluent_kafka import Consumer as RdConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    with weirtest.Cluster() as c:
        b = start_broker_and_topic(c, "kp-mix", 4)
        produce(b, "kp-mix", parts=4, per_part=25)
        kp = KafkaConsumer("kp-mix", bootstrap_servers=b.bootstrap,
                           group_id="kp-mixed", enable_auto_commit=False,
                           auto_offset_reset="earliest",
                           fetch_max_wait_ms=100,
                           partition_assignment_strategy=[
                               RangePartitionAssignor],
                           session_timeout_ms=10000,
                           heartbeat_interval_ms=500)
        rd = RdConsumer({"bootstrap.servers": b.bootstrap,
                         "group.id": "kp-mixed",
                         "enable.auto.commit": False,
                         "auto.offset.reset": "earliest",
                         "partition.assignment.strategy": "range",
                         "session.timeout.ms": 10000,
                         "heartbeat.interval.ms": 500})
        rd.subscribe(["kp-mix"])
        # Each consumer polls in its own thread: a kafka-python poll blocks
        # while it rejoins, and the rebalance needs librdkafka's member to
        # rejoin too, which it does only once its application has polled.
        seen = {}
        mu = threading.Lock()
        stop = threading.Event()
        rd_assigned = []

        def rd_loop():
            while not stop.is_set():
                msgs = rd.consume(num_messages=100, timeout=0.1)
                with mu:
                    for m in msgs:
                        if not m.error():
                            seen[(m.partition(), m.offset())] = "rd"
                    rd_assigned[:] = [tp.partition for tp in rd.assignment()]
        rd_thread = threading.Thread(target=rd_loop)
        rd_thread.start()
        try:
            def split():
                recs = kp.poll(timeout_ms=100)
                with mu:
                    for rs in recs.values():
                        for r in rs:
                            seen[(r.partition, r.offset)] = "kp"
                    a_kp = {tp.partition for tp in kp.assignment()}
                    a_rd = set(rd_assigned)
                    return (len(seen) == 100 and len(a_kp) == 2 and
                            len(a_rd) == 2 and a_kp | a_rd == {0, 1, 2, 3})
            bc.wait_until(split, 60, "both clients to share kp-mix",
                          interval=0)
        finally:
            stop.set()
            rd_thread.join()
        bc.eq(sorted(seen), sorted((p, o) for p in range(4)
                                   for o in range(25)), "records seen")
        bc.eq(set(seen.values()), {"kp", "rd"}, "both clients consumed")
        kp.commit()
        rd.commit(asynchronous=False)
        rd.close()

        def kp_owns_all():
            poll_kp()
            return len(kp.assignment()) == 4

        def poll_kp():
            for recs in kp.poll(timeout_ms=100).values():
                for r in recs:
                    seen[(r.partition, r.offset)] = "kp-after"
        bc.wait_until(kp_owns_all, 30, "kafka-python to own all partitions",
                      interval=0)
        produce(b, "kp-mix", parts=4, per_part=5)
        bc.wait_until(lambda: poll_kp() or len(seen) == 120, 30,
                      "20 more records", interval=0)
        bc.eq(sorted(k for k, v in seen.items() if v == "kp-after"),
              sorted((p, o) for p in range(4) for o in range(25, 30)),
              "records after the librdkafka member left")
        kp.commit()
        tps = [TopicPartition("kp-mix", p) for p in range(4)]
        bc.eq([kp.committed(tp) for tp in tps], [30] * 4, "committed")
        kp.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_group_protocol():
    """A member whose assignors share none with the group's members is
    refused with INCONSISTENT_GROUP_PROTOCOL; the group goes on."""
    from confluent_kafka import Consumer as RdConsumer
    from kafka.coordinator.assignors.roundrobin import (
        RoundRobinPartitionAssignor)
    with weirtest.Cluster() as c:
        b = start_broker_and_topic(c, "kp-gp", 2)
        produce(b, "kp-gp", parts=2, per_part=5)
        rd = RdConsumer({"bootstrap.servers": b.bootstrap,
                         "group.id": "kp-gp-group",
                         "auto.offset.reset": "earliest",
                         "partition.assignment.strategy": "range"})
        rd.subscribe(["kp-gp"])
        got = []
        bc.wait_until(lambda: got.extend(
            m for m in rd.consume(num_messages=100, timeout=0.1)
            if not m.error()) or len(got) == 10, 30, "librdkafka member",
            interval=0)
        kp = KafkaConsumer("kp-gp", bootstrap_servers=b.bootstrap,
                           group_id="kp-gp-group",
                           partition_assignment_strategy=[
                               RoundRobinPartitionAssignor])
        stop = threading.Event()
        rd_thread = threading.Thread(target=lambda: [
            rd.poll(0.1) for _ in iter(stop.is_set, True)])
        rd_thread.start()
        try:
            expect_error(lambda: kp.poll(timeout_ms=5000),
                         errors.InconsistentGroupProtocolError)
        finally:
            stop.set()
            rd_thread.join()
        bc.eq(sorted(tp.partition for tp in rd.assignment()), [0, 1],
              "librdkafka member keeps its partitions")
        kp.close()
        rd.close()
        CAPTURE.lines.clear()
        bc.eq(b.stop(), 0, "broker exit status")


def case_offsets_for_times():
    """ListOffsets by timestamp: the first record at or after the time, with
    that record's own timestamp; none (offset -1) after the last one."""
    with weirtest.Cluster() as c:
        b = start_broker_and_topic(c, "kp-ts", 1)
        producer = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all",
                                 linger_ms=20)
        base = 1700000000000
        for i in range(10):
            producer.send("kp-ts", partition=0, value=b"v%d" % i,
                          timestamp_ms=base + 1000 * i)
        producer.flush()
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=b.bootstrap)
        tp = TopicPartition("kp-ts", 0)
        for query, want in ((0, (0, base)), (base, (0, base)),
                            (base + 1500, (2, base + 2000)),
                            (base + 9000, (9, base + 9000))):
            got = consumer.offsets_for_times({tp: query})[tp]
            bc.eq((got.offset, got.timestamp) if got else None, want,
                  "offsets_for_times(%d)" % query)
        bc.eq(consumer.offsets_for_times({tp: base + 9001})[tp], None,
              "offsets_for_times after the last record")
        consumer.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_simple_commit_active_group():
    """A simple commit (generation -1, no member id, as from a consumer
    with assign()) into a group that has active members is refused with
    UNKNOWN_MEMBER_ID, as Kafka does; once the group is empty it is taken."""
    from confluent_kafka import Consumer as RdConsumer
    with weirtest.Cluster() as c:
        b = start_broker_and_topic(c, "kp-sc", 1)
        rd = RdConsumer({"bootstrap.servers": b.bootstrap,
                         "group.id": "kp-sc-group",
                         "enable.auto.commit": False})
        rd.subscribe(["kp-sc"])
        bc.wait_until(lambda: rd.poll(0.1) is None and
                      len(rd.assignment()) == 1, 30, "librdkafka member")
        kp = KafkaConsumer(bootstrap_servers=b.bootstrap,
                           group_id="kp-sc-group", enable_auto_commit=False)
        tp = TopicPartition("kp-sc", 0)
        kp.assign([tp])
        expect_error(lambda: kp.commit({tp: OffsetAndMetadata(5, "")}),
                     errors.CommitFailedError)
        bc.eq(kp.committed(tp), None, "offset after the refused commit")
        rd.close()
        kp.commit({tp: OffsetAndMetadata(5, "")})
        bc.eq(kp.committed(tp), 5, "simple commit into the empty group")
        kp.close()
        CAPTURE.lines.clear()
        bc.eq(b.stop(), 0, "broker exit status")


def retention_case(active_only):
    """Time retention deletes old segments: the log start moves up
    (ListOffsets earliest), and a consumer positioned before it gets
    OFFSET_OUT_OF_RANGE and resets to the new start (auto_offset_reset).
    active_only: everything is in one batch, so the expired data is in the
    active segment (Kafka rolls and deletes it too)."""
    with weirtest.Cluster() as c:
        b = bc.start_broker(c, extra=["--segment-bytes", "4096"])
        bc.create_topics(b.bootstrap, ["kp-ret"], 1,
                         config={"retention.ms": "1500"})
        if active_only:
            produce(b, "kp-ret", parts=1, per_part=200)
        else:
            produce(b, "kp-ret", parts=1, per_part=200, batch_size=300,
                    linger_ms=0, max_in_flight_requests_per_connection=1)
        kc = KafkaConsumer(bootstrap_servers=b.bootstrap,
                           auto_offset_reset="earliest", fetch_max_wait_ms=100)
        tp = TopicPartition("kp-ret", 0)
        kc.assign([tp])

        def log_start():
            s = kc.beginning_offsets([tp])[tp]
            return s if s > 0 else None
        start = bc.wait_until(log_start, 30, "retention to delete segments",
                              interval=0.3)
        produce(b, "kp-ret", parts=1, per_part=10)
        kc.seek(tp, 0)
        got = []
        bc.wait_until(lambda: [got.extend(x) for x in
                               kc.poll(timeout_ms=200).values()] and False
                      or kc.position(tp) >= 210, 20, "reading to the end",
                      interval=0)
        # (More may have expired meanwhile: the first offset read is the log
        # start at or after the one seen above.)
        first = got[0].offset if got else -1
        if first < start:
            raise AssertionError("read offset %d below the log start %d"
                                 % (first, start))
        bc.eq([r.offset for r in got], list(range(first, 210)),
              "offsets read after the reset")
        bc.eq(kc.end_offsets([tp])[tp], 210, "end offset")
        kc.close()
        check_log()
        bc.eq(b.stop(), 0, "broker exit status")


def case_retention():
    retention_case(active_only=False)


def case_retention_active():
    retention_case(active_only=True)


def start_broker_and_topic(c, topic, parts):
    b = bc.start_broker(c)
    create(b, [topic], parts)
    return b


CASES = {
    "admin": case_admin,
    "produce_consume": case_produce_consume,
    "commit_offsets": case_commit_offsets,
    "group": case_group,
    "mixed_group": case_mixed_group,
    "group_protocol": case_group_protocol,
    "offsets_for_times": case_offsets_for_times,
    "simple_commit_active_group": case_simple_commit_active_group,
    "retention": case_retention,
    "retention_active": case_retention_active,
}

if __name__ == "__main__":
    bc.main(CASES)
