"""The benchmark's input: LINES lines of WORDS_PER_LINE words drawn from
the vocabulary of examples/data/*.txt, on PARTS partitions, and the final
count every word must reach."""
import os
import re

from confluent_kafka import Producer
from worker_common import create_topic, seed_lines

LINES = int(os.environ.get("WEIR_BENCH_LINES", "300000"))
WORDS_PER_LINE = 10
PARTS = 4
INTERVAL_MS = 100
SPLIT = re.compile(rb"[^a-z0-9]+")


def vocabulary():
    return sorted({w for line in seed_lines()
                   for w in SPLIT.split(line.lower()) if w})


def make_line(vocab):
    """Line i of the input, as a function of i."""
    return lambda i: b" ".join(vocab[(i * 7 + k * 13) % len(vocab)]
                               for k in range(WORDS_PER_LINE))


def expected_counts(vocab, lines=LINES):
    """{word (str): final count} over the whole input."""
    line = make_line(vocab)
    counts = {}
    for i in range(lines):
        for w in SPLIT.split(line(i).lower()):
            if w:
                counts[w] = counts.get(w, 0) + 1
    return {w.decode(): n for w, n in counts.items()}


def produce_lines(bs, topic, make, n=LINES):
    p = Producer({"bootstrap.servers": bs, "linger.ms": 20,
                  "batch.num.messages": 10000, "enable.idempotence": True})
    for i in range(n):
        while True:
            try:
                p.produce(topic, key=str(i).encode(), value=make(i))
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(60) == 0


def seed(bs, topic, vocab, lines=LINES):
    """Creates the input topic and writes the whole input to it."""
    create_topic(bs, topic, PARTS)
    produce_lines(bs, topic, make_line(vocab), lines)
