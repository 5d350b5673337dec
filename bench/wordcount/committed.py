"""When a contender is done: one criterion for every contender, read from
the broker rather than from the program's own logs.

The contender's consumer group (Weir: the job name; Kafka Streams: its
application.id; Quix Streams: its consumer group; the passthrough and the
Python script: the group they commit to) must have committed

1. on every partition of the input topic, its end offset (the input is
   written without transactions, so the end is the high watermark); and
   then, once the input is committed, so that the internal topics can no
   longer grow,
2. on every partition of each repartition topic the contender owns, the
   end of its data. These are written in transactions, so the log ends in
   commit markers, as many as there were producers in the last
   transactions (Weir: one per upstream task), and a consumer may commit
   an offset before them (Weir commits the offset after the last record
   it read) or past them (the Java client, librdkafka's position). So a
   partition is finished when no transaction is open on it (last stable
   offset = high watermark) and nothing but markers lies between the
   group's offset and the end: a read_committed read from that offset
   finds no record before the end.

Offsets are read with OffsetFetch (Consumer.committed) and ListOffsets
(get_watermark_offsets: with isolation.level=read_committed it answers the
last stable offset, with read_uncommitted the high watermark)."""
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

# Commit markers that may follow a partition's last record: at most one per
# producer writing to it; a longer tail is surely still data.
MAX_MARKERS = 1000


def _consumer(bs, group, isolation, **extra):
    conf = {"bootstrap.servers": bs, "group.id": group,
            "enable.auto.commit": False, "isolation.level": isolation}
    conf.update(extra)
    return Consumer(conf)


def _only_markers(tail, tps, timeout_s=5.0):
    """True when reading each of tps (read_committed) from its offset
    reaches the end without a record."""
    tail.assign(tps)
    try:
        at_end = set()
        deadline = time.monotonic() + timeout_s
        while len(at_end) < len(tps):
            if time.monotonic() > deadline:
                return False  # no answer yet: look again next time
            for m in tail.consume(100, 0.01):
                if m.error() is None:
                    return False
                if m.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add((m.topic(), m.partition()))
        return True
    finally:
        tail.unassign()


class Committed:
    """done() polls the broker once and says whether group has committed
    the whole of input_topic and of every topic for which
    is_repartition(name) holds (at least n_repartition of them must
    exist)."""

    def __init__(self, bs, group, input_topic, is_repartition,
                 n_repartition):
        self.group = group
        self.input = input_topic
        self.is_repartition = is_repartition
        self.n_repartition = n_repartition
        self.rc = _consumer(bs, group, "read_committed")
        self.ru = _consumer(bs, group + "-watermarks", "read_uncommitted")
        self.tail = _consumer(bs, group + "-tail", "read_committed",
                              **{"enable.partition.eof": True,
                                 "fetch.wait.max.ms": 10})
        self.input_done = False

    def close(self):
        self.rc.close()
        self.ru.close()
        self.tail.close()

    def _partitions(self, topics):
        md = self.rc.list_topics(timeout=10).topics
        return [TopicPartition(t, p) for t in topics
                for p in sorted(md[t].partitions)]

    def _committed(self, tps):
        return [tp.offset for tp in self.rc.committed(tps, timeout=10)]

    def _topic_done(self, tps, transactional):
        tail = []
        for tp, got in zip(tps, self._committed(tps)):
            hw = self.ru.get_watermark_offsets(tp, 10, cached=False)[1]
            if got >= hw:
                continue
            if not transactional or hw - max(got, 0) > MAX_MARKERS:
                return False
            lso = self.rc.get_watermark_offsets(tp, 10, cached=False)[1]
            if lso != hw:
                return False
            tail.append(TopicPartition(tp.topic, tp.partition, max(got, 0)))
        return not tail or _only_markers(self.tail, tail)

    def done(self):
        if not self.input_done:
            self.input_done = self._topic_done(
                self._partitions([self.input]), False)
            if not self.input_done:
                return False
        md = self.rc.list_topics(timeout=10).topics
        reps = sorted(t for t in md if self.is_repartition(t))
        if len(reps) < self.n_repartition:
            return False
        return self._topic_done(self._partitions(reps), True)

    def lag(self):
        """Input records not yet committed (for progress messages)."""
        tps = self._partitions([self.input])
        return sum(max(0, self.ru.get_watermark_offsets(tp, 10)[1] - max(got, 0))
                   for tp, got in zip(tps, self._committed(tps)))
