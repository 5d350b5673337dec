"""Word count benchmark: one broker, the same input (1M words on 4
partitions), four contenders, records (input lines) per second each:

  (a) raw librdkafka transactional consume->produce passthrough (C)
  (b) Weir word count, at_least_once
  (c) Weir word count, exactly_once
  (d) hand-written Python word count with confluent_kafka transactions

plus Weir's peak RSS with 8 tasks and the time to restore a 1M-key store
from its changelog into an empty data directory. Targets (issue 5):
c/a >= 0.5, c/b >= 0.8, c/d >= 5, RSS <= 100 MB, restore <= 10 s.

    WEIR_BENCH_LINES=100000 python3 bench/wordcount/run.py
"""
import os
import re
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

LINES = int(os.environ.get("WEIR_BENCH_LINES", "100000"))
WORDS_PER_LINE = 10
PARTS = 4
INTERVAL_MS = 100


def produce_lines(bs, topic, make_line):
    p = Producer({"bootstrap.servers": bs, "linger.ms": 20,
                  "batch.num.messages": 10000, "enable.idempotence": True})
    for i in range(LINES):
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


def rss_peak_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def run_weir(c, bs, name, guarantee, inp, data=None, extra=()):
    job = job_yaml(c.path(name + ".yaml"), name, guarantee, inp, name + "-out")
    data = data or c.path(name + "-data", "x")[:-2]
    t0 = time.monotonic()
    w = c.start(name, "weir-worker", [
        "--standalone", job, "--bootstrap", bs, "--data-dir", data,
        "--threads", "2", "--progress-interval-ms", "200"] + list(extra),
        ready="ready standalone", timeout=60)
    # Sub-topology 0 reads every line, sub-topology 1 every word.
    want = LINES * (1 + WORDS_PER_LINE)
    wait_until(lambda: processed(w) >= want, 1200, name + " to finish",
               interval=0.1)
    secs = time.monotonic() - t0
    rss = rss_peak_mb(w.pid)
    assert w.stop() == 0
    return LINES / secs, rss, data


def run_cmd(argv):
    out = subprocess.run(argv, check=True, capture_output=True, text=True,
                         timeout=1800).stdout
    m = re.search(r"records=(\d+) ms=(\d+)", out)
    n, ms = int(m.group(1)), int(m.group(2))
    assert n == LINES, "%s read %d of %d records" % (argv[0], n, LINES)
    return n * 1000.0 / max(ms, 1)


def restore_time(c, bs):
    """Builds a 1M-key store, then restores it into an empty data dir."""
    create_topic(bs, "bench-keys", PARTS)
    produce_lines(bs, "bench-keys", lambda i: " ".join(
        "k%07d" % (i * WORDS_PER_LINE + k) for k in range(WORDS_PER_LINE)).encode())
    run_weir(c, bs, "keys", "exactly_once", "bench-keys")
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


def main():
    vocab = sorted({w for l in seed_lines()
                    for w in re.split(rb"[^a-z0-9]+", l.lower()) if w})
    with weirtest.Cluster() as c:
        broker = c.broker(extra=["--fsync", "never"])
        bs = broker.bootstrap
        if os.environ.get("WEIR_BENCH_ONLY") == "restore":
            secs, restored = restore_time(c, bs)
            print("restore: %d records into an empty data dir in %.1f s" % (restored, secs))
            return 0
        create_topic(bs, "bench-in", PARTS)
        produce_lines(bs, "bench-in", lambda i: b" ".join(
            vocab[(i * 7 + k * 13) % len(vocab)] for k in range(WORDS_PER_LINE)))
        print("input: %d lines, %d words, %d partitions" % (
            LINES, LINES * WORDS_PER_LINE, PARTS), flush=True)

        a = run_cmd([os.path.join(BIN_DIR, "wordcount-passthrough"), bs,
                     "bench-in", "bench-pass-out", str(PARTS), str(INTERVAL_MS)])
        print("(a) raw passthrough      %9.0f records/s" % a, flush=True)
        b, rss_b, _ = run_weir(c, bs, "alo", "at_least_once", "bench-in")
        print("(b) weir at_least_once   %9.0f records/s  peak RSS %.0f MB" % (b, rss_b), flush=True)
        cc, rss_c, _ = run_weir(c, bs, "eos", "exactly_once", "bench-in")
        print("(c) weir exactly_once    %9.0f records/s  peak RSS %.0f MB" % (cc, rss_c), flush=True)
        c2, rss_c2, _ = run_weir(c, bs, "eosq", "exactly_once", "bench-in",
                                 extra=["--consumer-queue-kb", "8192"])
        print("(c') weir exactly_once, --consumer-queue-kb 8192  %9.0f records/s  "
              "peak RSS %.0f MB" % (c2, rss_c2), flush=True)
        d = run_cmd(["/usr/bin/python3", os.path.join(HERE, "python_wordcount.py"),
                     bs, "bench-in", "bench-py-out", str(PARTS), str(INTERVAL_MS)])
        print("(d) python wordcount     %9.0f records/s" % d, flush=True)
        secs, restored = restore_time(c, bs)
        print("restore: %d records into an empty data dir in %.1f s" % (restored, secs))
        print("ratios: c/a=%.2f (>=0.5) c/b=%.2f (>=0.8) c/d=%.1f (>=5); "
              "peak RSS %.0f MB (<=100); restore %.1f s (<=10)" % (
                  cc / a, cc / b, cc / d, max(rss_b, rss_c), secs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
