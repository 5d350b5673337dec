"""Word count benchmark, side by side: the same input (by default 300 000
lines of 10 words: 3M words on 4 partitions) on the same broker, one
contender after another, each timed from starting its program until the
broker shows its whole input committed, reporting input lines/s, CPU per
line (program + broker), Kafka records moved per line and peak RSS:

  passthrough      raw librdkafka transactional consume -> produce (the floor)
  weir-update      Weir exactly-once, every count update emitted
  weir-latest      Weir exactly-once, emit: latest
  streams-nocache  Kafka Streams exactly_once_v2, statestore cache off
  streams-cache    Kafka Streams exactly_once_v2, default 10 MB cache
  quix             Quix Streams, exactly-once
  python           hand-written Python with confluent_kafka transactions
  restore          Weir's restore of a 1M-key store into an empty data dir

and with --scaling: weir-update-t1 (--threads 1), weir-cluster1 and
weir-cluster2 (a coordinator and 1 or 2 workers). Runs on weir-broker and
on a one-node Apache Kafka from scripts/kafka (--broker), prints a table
per broker and run and the targets as ratios within the run.

    /usr/bin/python3 bench/wordcount/run.py [--broker weir|kafka|both]
        [--only KEY,...] [--runs N] [--scaling]

WEIR_BENCH_LINES=N changes the input size; WEIR_BENCH_ONLY=restore is
--only restore."""
import argparse
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import weirtest  # noqa: E402
from cluster import WeirCluster  # noqa: E402
from contenders import Weir, default_set  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402
from restore import restore_time  # noqa: E402
import workload  # noqa: E402


def contenders(args):
    cs = default_set()
    if args.scaling:
        cs += [Weir("update", threads=1), WeirCluster(1), WeirCluster(2)]
    if args.only:
        keys = args.only.split(",")
        unknown = set(keys) - {c.key for c in cs} - {"restore"}
        if unknown:
            sys.exit("unknown contender(s): %s (known: %s)" % (
                ", ".join(sorted(unknown)),
                ", ".join([c.key for c in cs] + ["restore"])))
        cs = [c for c in cs if c.key in keys]
    return cs


def start_broker(c, name):
    if name == "weir":
        return c.broker(extra=["--fsync", "never"])
    kafka = weirtest.KafkaCluster("kafka", c.path("kafka", "x")[:-2], 1)
    c.procs.append(kafka)
    return kafka


def run_broker(name, cs, args, vocab, expected):
    label = {"weir": "weir-broker", "kafka": "Apache Kafka (1 node)"}[name]
    with weirtest.Cluster() as c:
        broker = start_broker(c, name)
        ctx = harness.Context(c, broker, label, "bench-in", expected=expected)
        if cs:
            workload.seed(ctx.bs, ctx.input, vocab)
            print("%s: input %d lines, %d words, %d partitions" % (
                label, workload.LINES, workload.LINES * workload.WORDS_PER_LINE,
                workload.PARTS), flush=True)
        for run in range(1, args.runs + 1 if cs else 1):
            results, missing = {}, []
            for ct in cs:
                why = ct.available(ctx)
                if why:
                    missing.append((ct.label, why))
                    print("%s: n/a: %s" % (ct.label, why), flush=True)
                    continue
                try:
                    r = harness.run(ctx, ct, "%s-r%d" % (ct.key, run))
                except Exception as e:
                    traceback.print_exc()
                    missing.append((ct.label, "failed: %s" % e))
                    continue
                results[ct.key] = r
                print(report.row(r), flush=True)
            report.table(label, run, results, missing)
            report.ratios(label, run, results)
        if args.restore:
            secs, restored = restore_time(c, broker, label)
            print("%s: restore of %d records into an empty data dir: %.1f s "
                  "(target <= 10 s)" % (label, restored, secs), flush=True)
        broker.stop()


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", choices=["weir", "kafka", "both"],
                    default="both")
    ap.add_argument("--only", default=os.environ.get("WEIR_BENCH_ONLY"),
                    help="comma-separated contender keys")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--scaling", action="store_true",
                    help="add Weir --threads 1 and cluster mode, 1 and 2 workers")
    args = ap.parse_args()
    cs = contenders(args)
    args.restore = not args.only or "restore" in args.only.split(",")
    vocab = workload.vocabulary()
    expected = workload.expected_counts(vocab)
    for name in (["weir", "kafka"] if args.broker == "both" else [args.broker]):
        run_broker(name, cs, args, vocab, expected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
