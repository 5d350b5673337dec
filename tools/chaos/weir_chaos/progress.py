"""Has the job recovered? After a fault ends, weir-chaos writes marker
lines: one into each input partition, each holding a word new to the run
that the job's repartition sends to a different partition (Kafka's murmur2,
as the workers' producers partition). The job has recovered when every
task runs again and every marker word's count is in the committed output:
each input partition and each repartitioned partition moved a record
through the whole job again. Markers are input like any other, so the
exactly-once check counts them too."""
import threading

from confluent_kafka import Consumer, TopicPartition


def murmur2(data):
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2)."""
    m, length = 0x5bd1e995, len(data)
    h = (0x9747b28c ^ length) & 0xffffffff
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> 24
        k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    tail = length - length % 4
    rem = length % 4
    if rem == 3:
        h ^= data[tail + 2] << 16
    if rem >= 2:
        h ^= data[tail + 1] << 8
    if rem >= 1:
        h ^= data[tail]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h


def partition_of(key, partitions):
    return (murmur2(key.encode()) & 0x7fffffff) % partitions


def marker_lines(tag, in_partitions, out_partitions):
    """([(input partition, line)], the marker words): a line for every
    input partition, words for every repartitioned partition."""
    by_partition, n = {}, 0
    while len(by_partition) < out_partitions:
        w = "chaosmarker%sx%d" % (tag, n)
        by_partition.setdefault(partition_of(w, out_partitions), w)
        n += 1
    words = [by_partition[p] for p in sorted(by_partition)]
    words += ["chaosmarker%sy%d" % (tag, i) for i in range(in_partitions - len(words))]
    lines = [[] for _ in range(in_partitions)]
    for i, w in enumerate(words):
        lines[i % in_partitions].append(w)
    return [(p, " ".join(ws)) for p, ws in enumerate(lines)], set(words)


class OutputWatcher:
    """Reads the committed output from the start, in the background: the
    keys seen and how many records."""

    def __init__(self, bootstrap, topic):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "weir-chaos",
                                  "enable.auto.commit": False, "log_level": 0,
                                  "isolation.level": "read_committed"})
        parts = self.consumer.list_topics(topic, timeout=30).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        self.keys, self.records = set(), 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            for msg in self.consumer.consume(1000, 0.2):
                if msg.error() or msg.key() is None:
                    continue
                with self.lock:
                    self.keys.add(msg.key().decode("utf-8", "replace"))
                    self.records += 1

    def has(self, keys):
        with self.lock:
            return keys <= self.keys

    def close(self):
        self.stopping.set()
        self.thread.join(10)
        self.consumer.close()


def partition_counts(bootstrap, input_topic, job):
    """(input partitions, repartition partitions) from the broker."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "weir-chaos", "log_level": 0})
    try:
        topics = c.list_topics(timeout=30).topics
        n_in = len(topics[input_topic].partitions)
        rep = [t for t in topics if t.startswith(job + "-") and t.endswith("-repartition")]
        return n_in, len(topics[rep[0]].partitions) if rep else n_in
    finally:
        c.close()
