"""Input for the job: seeded generated text (or a file's lines), produced
at a steady rate for the run's duration with an idempotent producer that
outlasts broker faults (a record is retried until delivered)."""
import random
import threading
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from .procs import wait_until


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    if name in admin.list_topics(timeout=10).topics:
        return
    for f in admin.create_topics([NewTopic(name, partitions, -1)],
                                 operation_timeout=10).values():
        f.result(30)
    wait_until(lambda: name in admin.list_topics(timeout=5).topics, 30, "topic " + name)


def generated_lines(seed, n):
    """n lines of 3-12 words from a fixed vocabulary with a skewed use."""
    rng = random.Random(seed)
    vocab = ["w%03d" % i for i in range(400)] + ["the", "a", "of", "stream", "exactly",
                                                  "once", "weir", "kafka", "count"]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    return [" ".join(rng.choices(vocab, weights, k=rng.randint(3, 12))) for _ in range(n)]


class Feeder:
    """Produces lines at rate per second over duration seconds, in the
    background; join() raises if any record was not delivered."""

    def __init__(self, bootstrap, topic, lines, duration_s):
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                                  "linger.ms": 10, "message.timeout.ms": 600000,
                                  "log_level": 0})
        self.topic, self.lines, self.duration_s = topic, lines, duration_s
        self.delivered = 0
        self.failed = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_delivery(self, err, msg):
        if err:
            self.failed.append(str(err))
        else:
            self.delivered += 1

    def _run(self):
        t0 = time.monotonic()
        n = len(self.lines)
        for i, line in enumerate(self.lines):
            due = t0 + self.duration_s * i / n
            while time.monotonic() < due:
                self.producer.poll(min(0.05, max(0, due - time.monotonic())))
            while True:
                try:
                    self.producer.produce(self.topic, key=str(i).encode(), value=line,
                                          on_delivery=self._on_delivery)
                    break
                except BufferError:
                    self.producer.poll(0.05)
        while self.producer.flush(1.0) > 0:
            pass

    def inject(self, partition, line):
        """One more line, into the given partition, now."""
        self.producer.produce(self.topic, key=b"marker", value=line, partition=partition,
                              on_delivery=self._on_delivery)
        self.producer.poll(0)

    def join(self, timeout):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError("input still not delivered after %.0f s" % timeout)
        if self.failed:
            raise RuntimeError("%d input records not delivered: %s" % (
                len(self.failed), self.failed[0]))
        return self.delivered
