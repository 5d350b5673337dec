"""A record larger than the worker used to accept no longer stalls its
partition (issue 12, item 1): weir-broker refuses a batch over
message.max.bytes (default 1 MiB + 12) with MESSAGE_TOO_LARGE, a topic
created with a larger max.message.bytes takes it, and the worker reads
past it (a 3 MB record: more than the 2 MiB it once capped a fetch
answer at) and processes the records after it."""
import sys

from confluent_kafka import Producer
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
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
