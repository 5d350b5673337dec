"""emit: latest and pre-aggregation end to end against the broker under
test: the word count with `count: { store: counts, emit: latest }` writes at
most one count per word and commit, and its upstream tasks send one partial
count per word and commit through the repartition topic instead of every
word. The committed counts of each word rise strictly to its exact total
(the Python checker and weir-verify --emit latest), across a clean restart,
a restore into an empty data directory, and early flushes under a small
--memory-limit; moving fewer records is checked on the topics themselves."""
import sys

from worker_common import (create_topic, produce, run_verify, seed_lines,
                           test_dir, wait_exact, weir_verify, weirtest,
                           wordcount_yaml, worker)
import worker_verify
from worker_verify import read_topic

from confluent_kafka import Producer

REPARTITION = "wordcount-counts-repartition"


def records(bs, topic):
    return sum(len(r) for r in read_topic(bs, topic).values())


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        job = wordcount_yaml(c.path("wordcount.yaml"), emit="latest")
        lines = seed_lines()
        half = len(lines) // 2
        data = test_dir(c, "w1")

        # Input first, then the worker: each commit folds many lines. The
        # seed text's words are mostly distinct: repeat it so that folding
        # has something to fold.
        produce(bs, "text-lines", lines[:half] * 10)
        w = worker(c, "worker-1", job, bs, data)
        print(wait_exact(bs, "text-lines", "wordcounts", emit="latest"))
        words = sum(worker_verify.wordcount_expected(bs, "text-lines").values())
        partials, outputs = records(bs, REPARTITION), records(bs, "wordcounts")
        print("%d words -> %d partials, %d counts out" % (words, partials, outputs))
        assert partials < words / 2, "no pre-aggregation: %d partials" % partials
        assert outputs < words / 2, "not latest: %d outputs" % outputs
        assert w.stop() == 0

        # A clean restart on the same data directory, input meanwhile.
        produce(bs, "text-lines", lines[half:], start_key=10 * half)
        w = worker(c, "worker-2", job, bs, data)
        print(wait_exact(bs, "text-lines", "wordcounts", emit="latest"))
        assert w.stop() == 0

        # An empty data directory (restore from the changelog) and a small
        # memory limit: partials are flushed early, within the transaction.
        w = worker(c, "worker-3", job, bs, test_dir(c, "w3"),
                   extra=["--memory-limit", "1MB"])
        w.wait_line("restored task=", 30)
        produce(bs, "text-lines", lines, start_key=20 * len(lines))
        print(wait_exact(bs, "text-lines", "wordcounts", emit="latest"))
        assert w.stop() == 0

        weir_verify(bs, "text-lines", "wordcounts", "latest")
        # The update mode's check fails on these outputs (counts skip)...
        code, out = run_verify(bs, "text-lines", "wordcounts", "update")
        assert code == 1 and "gap" in out, out
        # ... and a count going back behind the job's back is caught.
        p = Producer({"bootstrap.servers": bs})
        p.produce("wordcounts", key=b"kafka", value=b"1", partition=0)
        assert p.flush(10) == 0
        code, out = run_verify(bs, "text-lines", "wordcounts", "latest")
        assert code == 1 and "going back" in out, out
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
