"""A record larger than the worker used to accept no longer stalls its
partition (issue 12, item 1): weir-broker refuses a batch over
message.max.bytes (default 1 MiB + 12) with MESSAGE_TOO_LARGE, a topic
created with a larger max.message.bytes takes it, and the worker reads
past it (a 3 MB record: more than the 2 MiB it once capped a fetch
answer at) and processes the records after it. A result too large for
its output topic is a bad record, not an endless abort: it goes to the
DLQ, cut to fit the DLQ topic, with its sizes in weir.truncated."""
import sys

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from worker_common import test_dir, wait_until, weirtest, worker
from worker_verify import read_topic

JOB = """job: lengths
sources:
  lines: { topic: big-lines, key: string, value: string }
pipeline:
  - from: lines
  - map_values: "len(value)"
  - to: { topic: big-lengths, value: string }
"""


ECHO = """job: echo
sources:
  lines: { topic: big-lines, key: string, value: string }
pipeline:
  - from: lines
  - to: { topic: big-echo, value: string }
"""


def dead_letters(bs, topic, n):
    """The first n committed records of topic's partition 0, with headers."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "large-record-dlq",
                  "isolation.level": "read_committed"})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []

    def more():
        m = c.poll(0.2)
        if m is not None and not m.error():
            out.append((len(m.value()), dict(m.headers())))
        return len(out) >= n
    wait_until(more, 60, "%d records in %s" % (n, topic), interval=0)
    c.close()
    return out


def produce(bs, topic, values):
    """Delivery errors by value index."""
    p = Producer({"bootstrap.servers": bs, "message.max.bytes": 20000000,
                  "enable.idempotence": True, "linger.ms": 0})
    errors = {}

    def report(i):
        def cb(err, msg):
            if err is not None:
                errors[i] = err
        return cb
    for i, v in enumerate(values):
        p.produce(topic, value=v, key=b"k", on_delivery=report(i))
        p.flush(30)
    return errors


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        admin = AdminClient({"bootstrap.servers": bs})
        for f in admin.create_topics([
                NewTopic("small-limit", 1, -1),
                NewTopic("big-lines", 1, -1,
                         config={"max.message.bytes": "16777216"})]).values():
            f.result(15)
        big = b"x" * 3000000
        errors = produce(bs, "small-limit", [b"fine", big])
        assert 0 not in errors, errors
        assert errors[1].name() == "MSG_SIZE_TOO_LARGE", errors[1].name()

        values = [b"before", big, b"after", b"x" * 12000000, b"end"]
        assert produce(bs, "big-lines", values) == {}
        job = c.path("lengths.yaml")
        with open(job, "w") as f:
            f.write(JOB)
        w = worker(c, "w", job, bs, test_dir(c, "w"))
        want = [str(len(v)).encode() for v in values]

        def done():
            got = [v for _, v in read_topic(bs, "big-lengths").get(0, [])]
            return got == want and got
        print(wait_until(done, 60, "every length, the large ones included"))
        assert w.stop() == 0

        # big-echo keeps the default limit: the large values cannot go there
        with open(job, "w") as f:
            f.write(ECHO)
        w = worker(c, "echo", job, bs, test_dir(c, "echo"))
        small = [v for v in values if len(v) < 1000]
        wait_until(lambda: [v for _, v in read_topic(bs, "big-echo").get(
            0, [])] == small, 60, "the small values echoed")
        dlq = dead_letters(bs, "echo-dlq", 2)
        print([(n, h["weir.truncated"]) for n, h in dlq])
        for (n, h), v in zip(dlq, [values[1], values[3]]):
            assert h["weir.truncated"] == b"key=1 value=%d" % len(v), h
            assert b"max.message.bytes" in h["weir.error"], h
            assert 1000000 < n < 1048588, n
        assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
