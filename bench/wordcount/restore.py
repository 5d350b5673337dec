"""Weir's restore time: a word count over 100 000 lines of 10 distinct
keys builds a 1-million-key store (and its changelog); then a worker with
an empty data directory restores it from the changelog. Timed from
starting that worker until it logs every task running."""
import re
import time

from contenders import Weir
import harness
from workload import PARTS, WORDS_PER_LINE, produce_lines
from worker_common import create_topic

RESTORE_LINES = 100000


def restore_time(c, broker, broker_name, group="keys"):
    """(seconds, records restored)."""
    ctx = harness.Context(c, broker, broker_name, "bench-keys",
                          lines=RESTORE_LINES)
    create_topic(ctx.bs, ctx.input, PARTS)
    produce_lines(ctx.bs, ctx.input, lambda i: " ".join(
        "k%07d" % (i * WORDS_PER_LINE + k)
        for k in range(WORDS_PER_LINE)).encode(), RESTORE_LINES)
    harness.run(ctx, Weir("update"), group)
    t0 = time.monotonic()
    w = c.start(group + "-restore", "weir-worker", [
        "--standalone", c.path(group + ".yaml"), "--bootstrap", ctx.bs,
        "--data-dir", c.path(group + "-empty", "x")[:-2], "--threads", "2"],
        ready="ready standalone", timeout=60)
    w.wait_line("all tasks running", 300)
    secs = time.monotonic() - t0
    restored = sum(int(x) for x in re.findall(
        r"restored task=\S+ records=(\d+)", w.log()))
    w.stop()
    return secs, restored
