"""The Quix Streams contender of the word count benchmark: the word count
as its users write it with Quix Streams (a Python stream processing
library on confluent_kafka, RocksDB state with changelog topics),
exactly-once, commit every 100 ms, every count update emitted, the count
as a decimal string keyed by the word. Quix Streams has no plain
(unwindowed) count operator, so the count is a stateful apply.

    quix_wordcount.py BOOTSTRAP INPUT OUTPUT GROUP STATE_DIR

Runs until stopped (SIGTERM). Run with the benchmark's virtualenv
(bench/wordcount/quix_env.py), which has quixstreams."""
import re
import sys

from quixstreams import Application

SPLIT = re.compile(r"[^a-z0-9]+")


def words(line):
    return [w for w in SPLIT.split(line.decode("utf-8", "replace").lower())
            if w]


def count(word, state):
    n = state.get("n", 0) + 1
    state.set("n", n)
    return str(n)


def main(bs, inp, out, group, state_dir):
    app = Application(broker_address=bs, consumer_group=group,
                      processing_guarantee="exactly-once",
                      commit_interval=0.1, auto_offset_reset="earliest",
                      state_dir=state_dir, loglevel="WARNING")
    lines = app.topic(inp, key_deserializer="bytes",
                      value_deserializer="bytes")
    counts = app.topic(out, key_serializer="string",
                       value_serializer="string")
    sdf = app.dataframe(lines)
    sdf = sdf.apply(words, expand=True)
    sdf = sdf.group_by(lambda word: word, name="word",
                       key_serializer="string", value_serializer="string",
                       key_deserializer="string", value_deserializer="string")
    sdf = sdf.apply(count, stateful=True)
    sdf.to_topic(counts)
    app.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
