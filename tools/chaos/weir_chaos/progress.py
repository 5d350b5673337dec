"""How far the job has come: the input topic's end offsets and the offsets
the job has committed (its consumer group is the job's name). A fault is
recovered from when every task runs again and the job has committed past
all the input written before the fault ended."""
from confluent_kafka import Consumer, KafkaException, TopicPartition


class Progress:
    def __init__(self, bootstrap, topic, group):
        self.topic = topic
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                  "enable.auto.commit": False,
                                  "isolation.level": "read_committed"})
        self.partitions = None

    def _parts(self):
        if self.partitions is None:
            md = self.consumer.list_topics(self.topic, timeout=5).topics[self.topic]
            self.partitions = sorted(md.partitions)
        return self.partitions

    def ends(self):
        """{partition: end offset} now; None when the broker does not answer."""
        try:
            return {p: self.consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=5)[1] for p in self._parts()}
        except (KafkaException, KeyError, TypeError):
            return None

    def caught_up(self, ends):
        """True when the job has committed every partition up to ends."""
        try:
            got = self.consumer.committed([TopicPartition(self.topic, p) for p in ends],
                                          timeout=5)
        except KafkaException:
            return False
        return all(tp.offset >= ends[tp.partition] for tp in got)

    def close(self):
        self.consumer.close()
