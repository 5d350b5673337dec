"""The hand-written Python contender of the word count benchmark: what a user might write by hand
in Python with confluent_kafka transactions (in-memory counts, no state
store or changelog, so not even restartable). Reads every input partition
to its end, emits every count update, commits every interval.

    python_wordcount.py BOOTSTRAP INPUT OUTPUT PARTITIONS INTERVAL_MS [GROUP]

GROUP (default bench-python) is both the consumer group the offsets are
committed to and the transactional.id. Prints "records=N ms=T"."""
import re
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

SPLIT = re.compile(rb"[^a-z0-9]+")


def main(bs, inp, out, parts, interval_ms, group="bench-python"):
    parts, interval = int(parts), int(interval_ms) / 1000.0
    p = Producer({"bootstrap.servers": bs, "transactional.id": group,
                  "linger.ms": 5})
    c = Consumer({"bootstrap.servers": bs, "group.id": group,
                  "enable.auto.commit": False, "isolation.level": "read_committed",
                  "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    p.init_transactions(30)
    c.assign([TopicPartition(inp, i, 0) for i in range(parts)])
    counts, pos = {}, {}
    eof, records, in_txn = 0, 0, False
    t0 = last = time.monotonic()
    while eof < parts:
        for m in c.consume(500, 0.01):
            if m.error():
                if m.error().code() == -191:
                    eof += 1
                continue
            if not in_txn:
                p.begin_transaction()
                in_txn = True
            for w in SPLIT.split(m.value().lower()):
                if not w:
                    continue
                n = counts.get(w, 0) + 1
                counts[w] = n
                while True:
                    try:
                        p.produce(out, key=w, value=str(n).encode())
                        break
                    except BufferError:
                        p.poll(0.01)
            pos[m.partition()] = m.offset() + 1
            records += 1
        if in_txn and (time.monotonic() - last >= interval or eof == parts):
            p.send_offsets_to_transaction(
                [TopicPartition(inp, k, v) for k, v in pos.items()],
                c.consumer_group_metadata(), 30)
            p.commit_transaction(30)
            in_txn = False
            last = time.monotonic()
    print("records=%d ms=%d" % (records, (time.monotonic() - t0) * 1000))


if __name__ == "__main__":
    main(*sys.argv[1:])
