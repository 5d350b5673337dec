"""Word count end to end against a real weir-broker, exactly once: the seed
text in, every word's counts 1..N out; a clean SIGTERM stop and restart on
the same data directory and on an empty one continue exactly once. weir-verify
(tools/verify.c) agrees, and catches a duplicate written behind the job's
back."""
import sys

from worker_common import (create_topic, produce, run_verify, seed_lines,
                           test_dir, wait_exact, weirtest, wordcount_yaml,
                           worker)

from confluent_kafka import Producer


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        job = wordcount_yaml(c.path("wordcount.yaml"))
        lines = seed_lines()
        assert len(lines) > 100, "seed text missing"
        half = len(lines) // 2

        data = test_dir(c, "w1")
        w = worker(c, "worker-1", job, bs, data)
        w.wait_line("all tasks running", 30)
        produce(bs, "text-lines", lines[:half])
        print(wait_exact(bs, "text-lines", "wordcounts"))
        assert w.stop() == 0, "worker did not stop cleanly on SIGTERM"

        # Restart on the same data directory: state comes from the local
        # checkpoint plus the changelog tail.
        produce(bs, "text-lines", lines[half:], start_key=half)
        w = worker(c, "worker-2", job, bs, data)
        print(wait_exact(bs, "text-lines", "wordcounts"))
        assert w.stop() == 0

        # An empty data directory: full restore from the changelog.
        produce(bs, "text-lines", lines[:half], start_key=len(lines))
        w = worker(c, "worker-3", job, bs, test_dir(c, "w3"))
        w.wait_line("restored task=", 30)
        print(wait_exact(bs, "text-lines", "wordcounts"))
        assert w.stop() == 0

        code, out = run_verify(bs, "text-lines", "wordcounts")
        assert code == 0 and out.startswith("exact:"), out
        # A duplicate update behind the job's back must be caught.
        p = Producer({"bootstrap.servers": bs})
        p.produce("wordcounts", key=b"kafka", value=b"1", partition=0)
        assert p.flush(10) == 0
        code, out = run_verify(bs, "text-lines", "wordcounts")
        assert code == 1 and "violation" in out and "kafka" in out, out
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
