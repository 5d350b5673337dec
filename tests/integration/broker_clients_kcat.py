#!/usr/bin/python3
"""kcat against weir-broker: metadata, produce/consume on several partitions,
offset queries, headers, large values and a balanced consumer group (-G).

    broker_clients_kcat.py [case ...]    (cases: see CASES at the bottom)
"""
import json

import broker_clients_common as bc
import weirtest

KCAT = "/usr/bin/kcat"
PARTS = 3
PER_PART = 40


def kcat(broker, args, timeout=60, input_bytes=None, debug=None):
    """Runs kcat against broker; returns (stdout, stderr)."""
    argv = [KCAT, "-b", broker.bootstrap, "-X", "check.crcs=true"]
    if debug:
        argv += ["-X", "debug=" + debug]
    return bc.run(argv + list(args), timeout=timeout, input_bytes=input_bytes)


def produce_partitions(broker, topic, parts=PARTS, per_part=PER_PART,
                       extra=()):
    """Produces "k<p>-<i>:v<p>-<i>" lines into each partition explicitly."""
    for p in range(parts):
        lines = "".join("k%d-%d:v%d-%d\n" % (p, i, p, i)
                        for i in range(per_part))
        kcat(broker, ["-P", "-t", topic, "-p", str(p), "-K", ":",
                      "-X", "acks=all"] + list(extra),
             input_bytes=lines.encode())


def consume_partition(broker, topic, p, debug=None):
    out, err = kcat(broker, ["-C", "-t", topic, "-p", str(p), "-o",
                             "beginning", "-e", "-q", "-f",
                             "%p|%o|%k|%s\n"], debug=debug)
    return [tuple(line.split("|")) for line in out.splitlines()], err


def expect_partition(rows, p, per_part=PER_PART):
    want = [(str(p), str(i), "k%d-%d" % (p, i), "v%d-%d" % (p, i))
            for i in range(per_part)]
    bc.eq(rows, want, "partition %d contents" % p)


def case_metadata():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["meta-a"], partitions=PARTS)
        bc.create_topics(b.bootstrap, ["meta-b"], partitions=1)
        out, _ = kcat(b, ["-L", "-J"])
        md = json.loads(out)
        bc.eq([(br["id"], br["name"]) for br in md["brokers"]],
              [(1, b.bootstrap)], "brokers")
        topics = {t["topic"]: t for t in md["topics"]}
        for name, n in (("meta-a", PARTS), ("meta-b", 1)):
            if name not in topics:
                raise AssertionError("topic %s missing from %s" % (name, out))
            t = topics[name]
            bc.eq(sorted(p["partition"] for p in t["partitions"]),
                  list(range(n)), name + " partitions")
            for p in t["partitions"]:
                bc.eq(p["leader"], 1, "%s/%d leader" % (name, p["partition"]))
        # One topic only (Metadata with a topic list).
        out, _ = kcat(b, ["-L", "-J", "-t", "meta-b"])
        md = json.loads(out)
        bc.eq([t["topic"] for t in md["topics"]], ["meta-b"], "topic list")
        bc.eq(b.stop(), 0, "broker exit status")


def case_produce_consume():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["pc"], partitions=PARTS)
        produce_partitions(b, "pc")
        for p in range(PARTS):
            rows, err = consume_partition(b, "pc", p, debug="protocol,msg")
            expect_partition(rows, p)
            bc.assert_no_protocol_errors(err, "kcat consume p%d" % p)
        # All partitions at once, counted.
        out, _ = kcat(b, ["-C", "-t", "pc", "-o", "beginning", "-e", "-q",
                          "-f", "%s\n"])
        got = sorted(out.splitlines())
        want = sorted("v%d-%d" % (p, i) for p in range(PARTS)
                      for i in range(PER_PART))
        bc.eq(got, want, "all partitions")
        # Offset range: -o 10 -c 5 on partition 1.
        out, _ = kcat(b, ["-C", "-t", "pc", "-p", "1", "-o", "10", "-c", "5",
                          "-q", "-f", "%o\n"])
        bc.eq(out.split(), [str(i) for i in range(10, 15)], "offset range")
        # Relative from the end: -o -3.
        out, _ = kcat(b, ["-C", "-t", "pc", "-p", "2", "-o", "-3", "-e",
                          "-q", "-f", "%o\n"])
        bc.eq(out.split(), [str(i) for i in range(PER_PART - 3, PER_PART)],
              "offset -3")
        bc.eq(b.stop(), 0, "broker exit status")


def case_idempotent():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["idem"], partitions=PARTS)
        out, err = kcat(b, ["-P", "-t", "idem", "-K", ":",
                            "-X", "enable.idempotence=true",
                            "-X", "debug=protocol,msg,eos"],
                        input_bytes="".join(
                            "k%d:v%d\n" % (i, i)
                            for i in range(300)).encode())
        bc.assert_no_protocol_errors(err, "idempotent kcat producer")
        # The key decides the partition: every record exactly once.
        out, _ = kcat(b, ["-C", "-t", "idem", "-o", "beginning", "-e", "-q",
                          "-f", "%k=%s\n"])
        bc.eq(sorted(out.splitlines()),
              sorted("k%d=v%d" % (i, i) for i in range(300)), "records")
        bc.eq(b.stop(), 0, "broker exit status")


def case_query_offsets():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["qo"], partitions=PARTS)
        produce_partitions(b, "qo", per_part=7)
        # -Q with timestamp -1 (latest) and -2 (earliest): ListOffsets.
        for p in range(PARTS):
            out, _ = kcat(b, ["-Q", "-t", "qo:%d:-1" % p])
            if ("[%d]" % p not in out or "offset 7" not in out):
                raise AssertionError("latest offset of qo/%d: %s" % (p, out))
            out, _ = kcat(b, ["-Q", "-t", "qo:%d:-2" % p])
            if "offset 0" not in out:
                raise AssertionError("earliest offset of qo/%d: %s" % (p, out))
        bc.eq(b.stop(), 0, "broker exit status")


def case_headers_large():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["hl"], partitions=1)
        kcat(b, ["-P", "-t", "hl", "-p", "0", "-H", "h1=one", "-H",
                 "h2=two", "-K", ":"], input_bytes=b"key:value\n")
        big = ("x" * 200000) + "END"
        kcat(b, ["-P", "-t", "hl", "-p", "0"], input_bytes=big.encode())
        # A null key and an empty value.
        kcat(b, ["-P", "-t", "hl", "-p", "0", "-Z", "-K", ":"],
             input_bytes=b":\n")
        out, _ = kcat(b, ["-C", "-t", "hl", "-p", "0", "-o", "beginning",
                          "-e", "-J", "-q"])
        msgs = [json.loads(line) for line in out.splitlines()]
        bc.eq(len(msgs), 3, "message count")
        bc.eq((msgs[0]["key"], msgs[0]["payload"]), ("key", "value"),
              "first message")
        bc.eq(msgs[0].get("headers"), ["h1", "one", "h2", "two"], "headers")
        bc.eq(msgs[1]["payload"], big, "200 KB value")
        bc.eq(msgs[1]["key"], None, "null key")
        bc.eq((msgs[2]["key"], msgs[2]["payload"]), (None, None),
              "null key and value with -Z")
        bc.eq(b.stop(), 0, "broker exit status")


def case_compression():
    """Batches compressed by the producer are stored and served as they are;
    the consumer decompresses them (gzip, snappy, lz4, zstd)."""
    codecs = ["gzip", "snappy", "lz4", "zstd"]
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["cz"], partitions=len(codecs))
        for p, codec in enumerate(codecs):
            lines = "".join("%s-%d %s\n" % (codec, i, "z" * (i % 50))
                            for i in range(500))
            kcat(b, ["-P", "-t", "cz", "-p", str(p), "-z", codec,
                     "-X", "linger.ms=50"], input_bytes=lines.encode())
        for p, codec in enumerate(codecs):
            out, err = kcat(b, ["-C", "-t", "cz", "-p", str(p), "-o",
                                "beginning", "-e", "-q", "-f", "%o %s\n"],
                            debug="protocol,msg")
            bc.assert_no_protocol_errors(err, "kcat consume " + codec)
            want = ["%d %s-%d %s" % (i, codec, i, "z" * (i % 50))
                    for i in range(500)]
            bc.eq(out.splitlines(), want, codec + " records")
            # From the middle of a compressed batch.
            out, _ = kcat(b, ["-C", "-t", "cz", "-p", str(p), "-o", "250",
                              "-c", "3", "-q", "-f", "%o\n"])
            bc.eq(out.split(), ["250", "251", "252"], codec + " from 250")
        bc.eq(b.stop(), 0, "broker exit status")


def case_query_time():
    """ListOffsets by timestamp (kcat -Q topic:partition:ts)."""
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["qt"], partitions=1)
        # One record per kcat run: increasing CreateTime timestamps.
        for i in range(10):
            kcat(b, ["-P", "-t", "qt", "-p", "0"],
                 input_bytes=("m%d" % i).encode())
        out, _ = kcat(b, ["-C", "-t", "qt", "-p", "0", "-o", "beginning",
                          "-e", "-q", "-f", "%o %T\n"])
        ts = [int(line.split()[1]) for line in out.splitlines()]
        bc.eq(len(ts), 10, "records")
        for i in (0, 4, 9):
            out, _ = kcat(b, ["-Q", "-t", "qt:0:%d" % ts[i]])
            first = min(j for j in range(10) if ts[j] >= ts[i])
            if "offset %d" % first not in out:
                raise AssertionError("offset for time %d: want %d, got %s"
                                     % (ts[i], first, out))
        out, _ = kcat(b, ["-Q", "-t", "qt:0:%d" % (ts[-1] + 100000)])
        if "offset -1" not in out:
            raise AssertionError("offset after the last timestamp: %s" % out)
        bc.eq(b.stop(), 0, "broker exit status")


def case_compaction():
    """A cleanup.policy=compact topic with small segments: kcat (librdkafka)
    and kafka-python read the compacted log across the offset gaps; every
    key's latest record is kept at its original offset, tombstones and
    transaction markers stay, nothing at or above the LSO is touched."""
    from kafka import KafkaConsumer, TopicPartition
    with weirtest.Cluster() as c:
        b = bc.start_broker(c, extra=["--segment-bytes", "4096"])
        bc.create_topics(b.bootstrap, ["cmp"], partitions=1,
                         config={"cleanup.policy": "compact"})
        produced = []
        for r in range(12):
            lines = "".join("k%d:r%d-k%d-%s\n" % (k, r, k, "p" * 40)
                            for k in range(10))
            kcat(b, ["-P", "-t", "cmp", "-p", "0", "-K", ":"],
                 input_bytes=lines.encode())
            produced += [("k%d" % k, "r%d-k%d-%s" % (r, k, "p" * 40))
                         for k in range(10)]
        # A tombstone for k3 (-Z: empty value = null).
        kcat(b, ["-P", "-t", "cmp", "-p", "0", "-K", ":", "-Z"],
             input_bytes=b"k3:\n")
        produced.append(("k3", None))
        n = len(produced)

        def read_all():
            out, _ = kcat(b, ["-C", "-t", "cmp", "-p", "0", "-o", "beginning",
                              "-e", "-q", "-J"])
            return [json.loads(line) for line in out.splitlines()]

        def compacted():
            rows = read_all()
            return rows if len(rows) < n else None
        rows = bc.wait_until(compacted, 30, "compaction of cmp",
                             interval=0.3)
        print("  %d of %d records left after compaction" % (len(rows), n))
        by_offset = dict(enumerate(produced))
        last = {}
        for off, (k, v) in by_offset.items():
            last[k] = off
        offsets = [r["offset"] for r in rows]
        bc.eq(offsets, sorted(set(offsets)), "offsets increase")
        for r in rows:
            bc.eq((r["key"], r["payload"]), by_offset[r["offset"]],
                  "record at offset %d" % r["offset"])
        kept = set(offsets)
        for k, off in last.items():
            if off not in kept:
                raise AssertionError("latest record of %s (offset %d) was "
                                     "removed" % (k, off))
        # kafka-python reads the same records across the gaps.
        kc = KafkaConsumer(bootstrap_servers=b.bootstrap,
                           fetch_max_wait_ms=100)
        tp = TopicPartition("cmp", 0)
        kc.assign([tp])
        kc.seek_to_beginning()
        got = []
        bc.wait_until(lambda: [got.extend(x) for x in
                               kc.poll(timeout_ms=200).values()] and False
                      or kc.position(tp) >= n, 20, "kafka-python at the end",
                      interval=0)
        kc.close()
        kafka_python = [(m.offset, m.key.decode(),
                         m.value.decode() if m.value is not None else None)
                        for m in got]
        # Compaction may have gone on since kcat's read: a subset of it.
        if not set(kafka_python) <= {(r["offset"], r["key"], r["payload"])
                                     for r in rows}:
            raise AssertionError("kafka-python read records kcat did not")
        for k, off in last.items():
            if off not in {o for o, _, _ in kafka_python}:
                raise AssertionError("kafka-python misses the latest %s" % k)
        bc.eq(b.stop(), 0, "broker exit status")


def case_group_crash():
    """A kcat -G member is SIGKILLed (no LeaveGroup): after its session
    times out, the librdkafka consumer left in the group owns every
    partition and reads on from the group's committed offsets."""
    import signal
    import subprocess
    from confluent_kafka import Consumer
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["gc"], partitions=2)
        produce_partitions(b, "gc", parts=2, per_part=10)
        group_opts = ["-X", "session.timeout.ms=6000",
                      "-X", "heartbeat.interval.ms=500",
                      "-X", "partition.assignment.strategy=range",
                      "-X", "auto.offset.reset=earliest"]
        out_path = c.path("kcat-group.out")
        with open(out_path, "wb") as out:
            k = subprocess.Popen([KCAT, "-b", b.bootstrap, "-G", "gc-group", "-u",
                                  "-q", "-f", "%p %o\n"] + group_opts +
                                 ["gc"], stdout=out, stderr=subprocess.DEVNULL)
        try:
            def kcat_read_all():
                with open(out_path) as f:
                    return len(f.read().splitlines()) == 20
            bc.wait_until(kcat_read_all, 30, "kcat -G to read gc")
            cons = Consumer({"bootstrap.servers": b.bootstrap,
                             "group.id": "gc-group",
                             "session.timeout.ms": 6000,
                             "heartbeat.interval.ms": 500,
                             "partition.assignment.strategy": "range",
                             "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
            cons.subscribe(["gc"])
            got = []

            def poll_one():
                m = cons.poll(0.1)
                if m is not None and not m.error():
                    got.append((m.partition(), m.offset()))
            bc.wait_until(lambda: poll_one() or len(cons.assignment()) == 1,
                          30, "the two members to split gc")
            k.send_signal(signal.SIGKILL)
            k.wait()

            def took_over():
                poll_one()
                return len(cons.assignment()) == 2
            bc.wait_until(took_over, 30, "the survivor to own gc")
        finally:
            if k.poll() is None:
                k.kill()
                k.wait()
        produce_partitions(b, "gc", parts=2, per_part=3)
        want = {(p, o) for p in range(2) for o in range(10, 13)}

        def read_new():
            poll_one()
            return set(got) >= want
        try:
            bc.wait_until(read_new, 30, "the new records via the survivor",
                          interval=0)
        except TimeoutError:
            raise AssertionError("the survivor misses %s" % sorted(
                want - set(got)))
        # (Where the survivor started on each partition depends on what kcat
        # had committed when the partitions moved: kcat read 0-9 of both.)
        bad = [x for x in got if x[1] > 12]
        if bad:
            raise AssertionError("offsets that do not exist: %s" % bad)
        cons.close()
        if "session timed out" not in b.log():
            raise AssertionError("the broker did not expire the session")
        bc.eq(b.stop(), 0, "broker exit status")


def group_consume(b, group, topics, timeout=60):
    """kcat -G until end of every assigned partition; returns values."""
    out, err = kcat(b, ["-G", group, "-e", "-q", "-f", "%t|%p|%o|%s\n",
                        "-X", "auto.offset.reset=earliest",
                        "-X", "debug=cgrp,protocol"] + list(topics),
                    timeout=timeout)
    bc.assert_no_protocol_errors(err, "kcat -G " + group)
    return [tuple(line.split("|")) for line in out.splitlines()], err


def case_group():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        bc.create_topics(b.bootstrap, ["grp"], partitions=PARTS)
        produce_partitions(b, "grp", per_part=10)
        rows, _ = group_consume(b, "g1", ["grp"])
        bc.eq(sorted(r[3] for r in rows),
              sorted("v%d-%d" % (p, i) for p in range(PARTS)
                     for i in range(10)), "first group read")
        # Offsets were committed on close: a new member resumes after them.
        produce_partitions(b, "grp", per_part=12)
        rows, _ = group_consume(b, "g1", ["grp"])
        bc.eq(sorted((r[1], r[2]) for r in rows),
              sorted((str(p), str(o)) for p in range(PARTS)
                     for o in range(10, 22)), "resumed group read")
        # Another group starts from the beginning.
        rows, _ = group_consume(b, "g2", ["grp"])
        bc.eq(len(rows), PARTS * 22, "second group count")
        # A regex subscription (full Metadata requests) over two topics.
        bc.create_topics(b.bootstrap, ["grp-x", "other"], partitions=2)
        produce_partitions(b, "grp-x", parts=2, per_part=4)
        produce_partitions(b, "other", parts=2, per_part=4)
        rows, _ = group_consume(b, "g3", ["^grp.*"])
        bc.eq(sorted({r[0] for r in rows}), ["grp", "grp-x"],
              "topics of the regex subscription")
        bc.eq(len(rows), PARTS * 22 + 2 * 4, "regex subscription count")
        bc.eq(b.stop(), 0, "broker exit status")


CASES = {
    "metadata": case_metadata,
    "produce_consume": case_produce_consume,
    "idempotent": case_idempotent,
    "query_offsets": case_query_offsets,
    "headers_large": case_headers_large,
    "group": case_group,
    "compression": case_compression,
    "query_time": case_query_time,
    "compaction": case_compaction,
    "group_crash": case_group_crash,
}

if __name__ == "__main__":
    bc.main(CASES)
