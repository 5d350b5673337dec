"""Join and session window benchmark on weir-broker, next to the word
count as a baseline on the same broker in the same run:

  join      examples/enrich-clicks.yaml: clicks left-joined with a table of
            USERS users (loaded into topic users before the clicks)
  session   examples/user-sessions.yaml: clicks counted per user session
            (gap 30 m, emit: final)
  wordcount bench/wordcount's Weir emit:update contender, its own input

Both jobs read the same input: --records clicks {"page": ...} on topic
clicks (4 partitions), keyed by one of USERS user ids drawn at random,
timestamped STEP_MS apart, so a user clicks every USERS * STEP_MS (33 min)
on average and about 40% of the gaps close a session. Each job runs in a
standalone weir-worker --threads 2 and is measured like every word count
contender (bench/wordcount/harness.py): from starting the worker until its
group has committed the whole input (exactly-once: the output is committed
in the same transactions), CPU of the worker and the broker per input
record, peak RSS (VmHWM) of the worker. Then the output is read back
(read_committed) and checked: the join wrote one record per click, each
with its user's country.

    /usr/bin/python3 bench/join/run.py [--records N] [--runs N]

WEIR_BENCH_LINES=N changes the word count's input size."""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
for d in ("tests/lib", "tests/integration", "bench/wordcount"):
    sys.path.insert(0, os.path.join(ROOT, d))

from confluent_kafka import Producer  # noqa: E402
import weirtest  # noqa: E402
from contenders import Contender, Weir  # noqa: E402
import harness  # noqa: E402
import records  # noqa: E402
import workload  # noqa: E402
from worker_common import create_topic  # noqa: E402

USERS = 100000
STEP_MS = 20
PAGES = [b"/", b"/pricing", b"/docs", b"/signup", b"/blog", b"/about"]


def produce(bs, topic, items):
    """Writes (key, value, timestamp_ms) items to topic."""
    p = Producer({"bootstrap.servers": bs, "linger.ms": 20,
                  "batch.num.messages": 10000, "enable.idempotence": True})
    for key, value, ts in items:
        while True:
            try:
                p.produce(topic, key=key, value=value, timestamp=ts)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(60) == 0


def seed(bs, n):
    """Topic users (USERS profiles), then topic clicks (n clicks, all
    later than the profiles); both on workload.PARTS partitions, written
    by the same partitioner so that a user's clicks and profile share a
    partition."""
    base = int(time.time() * 1000) - n * STEP_MS - 60000
    rnd = random.Random(7)
    countries = ["NZ", "DE", "FR", "JP", "BR", "US", "IN", "KE"]
    for topic in ("users", "clicks"):
        create_topic(bs, topic, workload.PARTS)
    produce(bs, "users", ((b"u%d" % u, json.dumps(
        {"name": "user%d" % u, "country": countries[u % len(countries)]}
    ).encode(), base - 1000) for u in range(USERS)))
    produce(bs, "clicks", ((b"u%d" % rnd.randrange(USERS),
                            b'{"page": "%s"}' % rnd.choice(PAGES),
                            base + i * STEP_MS) for i in range(n)))


class Example(Contender):
    """An examples/*.yaml job renamed to its group and writing to the
    harness' output topic, in a standalone weir-worker --threads 2."""

    def __init__(self, key, label, example, job, output):
        self.key, self.label = key, label
        self.example, self.job, self.output = example, job, output

    def yaml(self, group, output):
        with open(os.path.join(ROOT, "examples", self.example)) as f:
            text = f.read()
        for old, new in (("job: " + self.job, "job: " + group),
                         ("{ topic: %s }" % self.output,
                          "{ topic: %s }" % output)):
            assert text.count(old) == 1, (self.example, old)
            text = text.replace(old, new)
        return text

    def start(self, ctx, group, output):
        path = ctx.c.path(group + ".yaml")
        with open(path, "w") as f:
            f.write(self.yaml(group, output))
        return [ctx.c.start(group, "weir-worker", [
            "--standalone", path, "--bootstrap", ctx.bs,
            "--data-dir", ctx.c.path(group + "-data", "x")[:-2],
            "--threads", "2", "--progress-interval-ms", "0"], ready=None)]


JOIN = Example("join", "enrich-clicks (stream-table join)",
               "enrich-clicks.yaml", "enrich-clicks", "clicks-enriched")
SESSION = Example("session", "user-sessions (session window, final)",
                  "user-sessions.yaml", "user-sessions", "sessions")


class Unenriched(dict):
    """Given to records.read_topic as its dict of last values: counts the
    join's records whose country is null instead of keeping them."""
    n = 0

    def __setitem__(self, key, value):
        if json.loads(value)["country"] is None:
            self.n += 1


def check(ctx, key, group):
    """Reads the job's output back (read_committed): for the join, whether
    it wrote every click, each with its user's country (every user has a
    profile older than any click); for the session, how many it wrote."""
    bare = Unenriched() if key == "join" else None
    n, _ = records.read_topic(ctx.bs, group + "-out", bare)
    if key != "join":
        return "%d sessions" % n
    ok = n == ctx.lines and bare.n == 0
    return "%s%d records, %d without country" % ("" if ok else "WRONG: ",
                                                 n, bare.n)


def row(name, r):
    print("| %s | %.0f | %.1f | %.0f | %.1f | %s |" % (
        name, r.rate, r.cpu_us, r.rss, r.secs, r.check), flush=True)


def one_run(clicks, lines, run):
    results = {}
    print("\n### weir-broker, run %d\n\n| job | records/s | CPU us/record "
          "| peak RSS MB | s | check |\n|---|---|---|---|---|---|" % run)
    for ctx, ct in ((clicks, JOIN), (clicks, SESSION),
                    (lines, Weir("update"))):
        group = "%s-r%d" % (ct.key, run)
        r = harness.run(ctx, ct, group)
        if isinstance(ct, Example):
            r.check = check(ctx, ct.key, group)
        else:
            r.check = "lines, not records"
        results[ct.key] = r
        row(ct.label, r)
    join, sess, wc = (results[k] for k in ("join", "session", "weir-update"))
    x = join.rate / wc.rate
    print("\n- join records/s / word count lines/s: %.2f (target >= 0.5): %s"
          % (x, "met" if x >= 0.5 else "NOT met"))
    print("- session records/s / word count lines/s: %.2f" % (
        sess.rate / wc.rate))
    for name, r in (("join", join), ("session", sess)):
        print("- %s peak RSS %.0f MB (target <= 100 MB): %s" % (
            name, r.rss, "met" if r.rss <= 100 else "NOT met"))
    print(flush=True)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1000000,
                    help="clicks (default 1 000 000)")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    with weirtest.Cluster() as c:
        broker = c.broker(extra=["--fsync", "never"])
        seed(broker.bootstrap, args.records)
        workload.seed(broker.bootstrap, "bench-in", workload.vocabulary())
        print("weir-broker: %d users, %d clicks; word count %d lines of %d "
              "words; %d partitions" % (USERS, args.records, workload.LINES,
                                        workload.WORDS_PER_LINE,
                                        workload.PARTS), flush=True)
        clicks = harness.Context(c, broker, "weir-broker", "clicks",
                                 lines=args.records)
        lines = harness.Context(c, broker, "weir-broker", "bench-in")
        for run in range(1, args.runs + 1):
            one_run(clicks, lines, run)
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
