"""Exactly-once checker for the word-count job (Python side of weir-verify).

Reads the input and output topics with isolation.level=read_committed and
proves that for every word the committed outputs are exactly the counts
1, 2, ..., N in order, where N is the number of times the word occurs in the
committed input. Anything else (a duplicate, a gap, a count from an aborted
transaction, an extra word) is reported as the first violation. A job
emitting latest (at most one update per word and commit) is checked with
emit="latest": each word's counts rise strictly and end at N.

    python3 worker_verify.py BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC [update|latest]

exits 0 when exact, 1 with the first violation printed otherwise. Tests
import it: wordcount_expected(), read_topic(), check_wordcount().
"""
import re
import sys

from confluent_kafka import Consumer, TopicPartition

WORD_SPLIT = re.compile(rb"[^a-z0-9]+")


def words_of(line):
    """The job's split(lower(value), '[^a-z0-9]+') minus empty strings."""
    if line is None:
        return []
    return [w.decode() for w in WORD_SPLIT.split(line.lower()) if w]


def read_topic(bootstrap, topic, timeout=30.0):
    """Every committed record of topic: {partition: [(key, value), ...]}."""
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "weir-verify",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
    })
    try:
        md = c.list_topics(topic, timeout=timeout)
        tmd = md.topics.get(topic)
        if tmd is None or tmd.error is not None or not tmd.partitions:
            return {}
        parts = sorted(tmd.partitions.keys())
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out = {p: [] for p in parts}
        pending = set(parts)
        import time
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError("reading %s: partitions %s never reached "
                                   "their end" % (topic, sorted(pending)))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    pending.discard(m.partition())
                    continue
                raise RuntimeError("consume %s: %s" % (topic, m.error()))
            out[m.partition()].append((m.key(), m.value()))
        return out
    finally:
        c.close()


def wordcount_expected(bootstrap, input_topic):
    """{word: N} over the committed input."""
    counts = {}
    for recs in read_topic(bootstrap, input_topic).values():
        for _, v in recs:
            for w in words_of(v):
                counts[w] = counts.get(w, 0) + 1
    return counts


def check_wordcount(bootstrap, input_topic, output_topic, expected=None,
                    emit="update"):
    """Returns (ok, message). ok is True when every word's outputs are
    exactly 1..N (emit latest: rise strictly to N); otherwise message names
    the first violation."""
    if expected is None:
        expected = wordcount_expected(bootstrap, input_topic)
    seen = {}
    where = {}
    updates = 0
    for p, recs in sorted(read_topic(bootstrap, output_topic).items()):
        for i, (k, v) in enumerate(recs):
            if k is None or v is None:
                return False, "partition %d record %d: null key or value" % (p, i)
            w = k.decode()
            try:
                n = int(v.decode())
            except ValueError:
                return False, "word %r: value %r is not a count" % (w, v)
            if w in where and where[w] != p:
                return False, "word %r in partitions %d and %d" % (w, where[w], p)
            where[w] = p
            want = seen.get(w, 0) + 1
            updates += 1
            if emit == "latest" and n < want:
                return False, ("word %r: count %d after %d: repeated or going "
                               "back (partition %d record %d)" % (
                                   w, n, want - 1, p, i))
            if emit != "latest" and n != want:
                kind = "duplicate" if n < want else "gap"
                return False, ("word %r: %s, got count %d where %d was next "
                               "(partition %d record %d)" % (w, kind, n, want, p, i))
            seen[w] = n
            if n > expected.get(w, 0):
                return False, ("word %r: count %d exceeds its %d committed input "
                               "occurrences" % (w, n, expected.get(w, 0)))
    for w, n in sorted(expected.items()):
        if seen.get(w, 0) != n:
            return False, "word %r: last count %d, expected %d" % (w, seen.get(w, 0), n)
    return True, "exact: %d words, %d updates" % (len(expected), updates)


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__)
        return 2
    ok, msg = check_wordcount(argv[1], argv[2], argv[3],
                              emit=argv[4] if len(argv) == 5 else "update")
    print(msg)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
