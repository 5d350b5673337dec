"""Word count benchmark: one broker, the same input (by default 300 000
lines of 10 words: 3M words on 4 partitions), four contenders, records
(input lines) per second each, timed the same way for all: from starting
the program until it has processed (and committed) the whole input:

  (a) raw librdkafka transactional consume->produce passthrough (C)
  (b) Weir word count, at_least_once
  (c) Weir word count, exactly_once
  (d) hand-written Python word count with confluent_kafka transactions

plus the CPU each used per input line (the program and the broker
together: on 2 shared cores wall time hides how much work each does),
Weir's peak RSS with 8 tasks, and the time to restore a 1M-key store from
its changelog into an empty data directory. Targets: c/a >= 0.5,
c/b >= 0.8, c/d >= 5, RSS <= 100 MB, restore <= 10 s.

    WEIR_BENCH_LINES=300000 /usr/bin/python3 bench/wordcount/run.py
"""
import os
import re
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import weirtest  # noqa: E402
from weirtest import BIN_DIR, wait_until  # noqa: E402
from worker_common import create_topic, seed_lines  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

LINES = int(os.environ.get("WEIR_BENCH_LINES", "300000"))
RESTORE_LINES = 100000  # of 10 distinct keys each: a 1M-key store
WORDS_PER_LINE = 10
PARTS = 4
INTERVAL_MS = 100


def produce_lines(bs, topic, make_line, n=LINES):
    p = Producer({"bootstrap.servers": bs, "linger.ms": 20,
                  "batch.num.messages": 10000, "enable.idempotence": True})
    for i in range(n):
        while True:
            try:
                p.produce(topic, key=str(i).encode(), value=make_line(i))
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(60) == 0


def processed(proc):
    """Records the worker consumed so far, from its last progress line."""
    found = re.findall(r"progress .* in=(\d+)", proc.log())
    return int(found[-1]) if found else 0


def job_yaml(path, job, guarantee, inp, out):
    with open(path, "w") as f:
        f.write("""job: %s
guarantee: %s
commit_interval_ms: %d
sources:
  lines: { topic: %s, key: string, value: string }
pipeline:
  - from: lines
  - flat_map_values: "split(lower(value), '[^a-z0-9]+')"
  - filter: "value != ''"
  - group_by: value
  - count: { store: counts }
  - to: { topic: %s, value: string }
""" % (job, guarantee, INTERVAL_MS, inp, out))
    return path


def cpu_secs(pid):
    """User + system CPU seconds a live process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_secs():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Result:
    def __init__(self, secs, cpu, rss=0.0, lines=LINES):
        self.rate = lines / secs
        self.cpu_us = cpu * 1e6 / lines  # per input line
        self.rss = rss


def rss_peak_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def run_weir(c, broker, name, guarantee, inp, data=None, extra=(),
             lines=LINES):
    job = job_yaml(c.path(name + ".yaml"), name, guarantee, inp, name + "-out")
    data = data or c.path(name + "-data", "x")[:-2]
    broker_cpu = cpu_secs(broker.pid)
    t0 = time.monotonic()
    w = c.start(name, "weir-worker", [
        "--standalone", job, "--bootstrap", broker.bootstrap, "--data-dir", data,
        "--threads", "2", "--progress-interval-ms", "100"] + list(extra),
        ready="ready standalone", timeout=60)
    # Sub-topology 0 reads every line, sub-topology 1 every word.
    want = lines * (1 + WORDS_PER_LINE)
    wait_until(lambda: processed(w) >= want, 1200, name + " to finish",
               interval=0.05)
    secs = time.monotonic() - t0
    cpu = cpu_secs(w.pid) + cpu_secs(broker.pid) - broker_cpu
    rss = rss_peak_mb(w.pid)
    assert w.stop() == 0
    return Result(secs, cpu, rss, lines)


def run_cmd(broker, argv):
    broker_cpu, own_cpu = cpu_secs(broker.pid), children_cpu_secs()
    t0 = time.monotonic()
    out = subprocess.run(argv, check=True, capture_output=True, text=True,
                         timeout=1800).stdout
    secs = time.monotonic() - t0
    cpu = children_cpu_secs() - own_cpu + cpu_secs(broker.pid) - broker_cpu
    n = int(re.search(r"records=(\d+)", out).group(1))
    assert n == LINES, "%s read %d of %d records" % (argv[0], n, LINES)
    return Result(secs, cpu)


def restore_time(c, broker):
    """Builds a 1M-key store, then restores it into an empty data dir."""
    bs = broker.bootstrap
    create_topic(bs, "bench-keys", PARTS)
    produce_lines(bs, "bench-keys", lambda i: " ".join(
        "k%07d" % (i * WORDS_PER_LINE + k) for k in range(WORDS_PER_LINE)).encode(),
        RESTORE_LINES)
    run_weir(c, broker, "keys", "exactly_once", "bench-keys", lines=RESTORE_LINES)
    job = c.path("keys.yaml")
    t0 = time.monotonic()
    w = c.start("keys-restore", "weir-worker", [
        "--standalone", job, "--bootstrap", bs, "--data-dir",
        c.path("keys-empty", "x")[:-2], "--threads", "2"],
        ready="ready standalone", timeout=60)
    w.wait_line("all tasks running", 300)
    secs = time.monotonic() - t0
    restored = sum(int(x) for x in re.findall(r"restored task=\S+ records=(\d+)", w.log()))
    w.stop()
    return secs, restored


def line(label, r):
    rss = "  peak RSS %.0f MB" % r.rss if r.rss else ""
    print("%-26s %9.0f records/s  %6.1f us CPU/record%s" % (
        label, r.rate, r.cpu_us, rss), flush=True)


def main():
    vocab = sorted({w for l in seed_lines()
                    for w in re.split(rb"[^a-z0-9]+", l.lower()) if w})
    with weirtest.Cluster() as c:
        broker = c.broker(extra=["--fsync", "never"])
        bs = broker.bootstrap
        if os.environ.get("WEIR_BENCH_ONLY") == "restore":
            secs, restored = restore_time(c, broker)
            print("restore: %d records into an empty data dir in %.1f s" % (restored, secs))
            return 0
        create_topic(bs, "bench-in", PARTS)
        produce_lines(bs, "bench-in", lambda i: b" ".join(
            vocab[(i * 7 + k * 13) % len(vocab)] for k in range(WORDS_PER_LINE)))
        print("input: %d lines, %d words, %d partitions" % (
            LINES, LINES * WORDS_PER_LINE, PARTS), flush=True)

        a = run_cmd(broker, [os.path.join(BIN_DIR, "wordcount-passthrough"), bs,
                             "bench-in", "bench-pass-out", str(PARTS), str(INTERVAL_MS)])
        line("(a) raw passthrough", a)
        b = run_weir(c, broker, "alo", "at_least_once", "bench-in")
        line("(b) weir at_least_once", b)
        cc = run_weir(c, broker, "eos", "exactly_once", "bench-in")
        line("(c) weir exactly_once", cc)
        d = run_cmd(broker, ["/usr/bin/python3", os.path.join(HERE, "python_wordcount.py"),
                             bs, "bench-in", "bench-py-out", str(PARTS), str(INTERVAL_MS)])
        line("(d) python wordcount", d)
        secs, restored = restore_time(c, broker)
        print("restore: %d records into an empty data dir in %.1f s" % (restored, secs))
        print("ratios: c/a=%.2f (>=0.5) c/b=%.2f (>=0.8) c/d=%.2f (>=5); "
              "peak RSS %.0f MB (<=100); restore %.1f s (<=10)" % (
                  cc.rate / a.rate, cc.rate / b.rate, cc.rate / d.rate,
                  max(b.rss, cc.rss), secs))
        # Kafka records each moves per input line: the passthrough reads
        # and writes the line; Weir reads it, then writes, reads and counts
        # every word through the repartition topic and writes its count
        # (changelog records, once per key and commit, left out); the
        # Python program reads the line and writes every count.
        per_line = {"a": 2, "c": 1 + 3 * WORDS_PER_LINE, "d": 1 + WORDS_PER_LINE}
        print("CPU per input record: c %.1f us, d %.1f us (d/c=%.2f); per Kafka "
              "record moved: a %.2f us, c %.2f us, d %.2f us" % (
                  cc.cpu_us, d.cpu_us, d.cpu_us / cc.cpu_us,
                  a.cpu_us / per_line["a"], cc.cpu_us / per_line["c"],
                  d.cpu_us / per_line["d"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
