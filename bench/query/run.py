"""Pull query latency benchmark: the coordinator's
GET /api/jobs/wordcount/stores/counts/keys/{word}, answered by the worker
that owns the word's partition, while the word count keeps running.

weir-broker, a weir-coordinator (--http on a free port) and 2 weir-workers
(--threads 2) run the word count (store counts, 4 input partitions). The
seed text (examples/data/*.txt) is counted once and its committed output
read back for the words to ask for; then a feeder process re-produces the
seed lines in a loop (--feed-rate lines/s) so that the word count runs
during the whole measurement. ONE client (this process, one thread, one
keep-alive http.client.HTTPConnection when the server keeps connections
open, a new connection per request otherwise) asks for random known words
as fast as it can for --seconds, timing each request, then runs the same
loop on GET /healthz (answered by the coordinator's event loop alone) as
the client's own ceiling. Printed: p50, p90, p99, max latency in ms and
queries/s of both, against the issue's targets (p50 <= 2 ms, p99 <= 10 ms,
>= 5000 queries/s from one client), and per request the client's CPU
time, the coordinator's CPU time and context switches, and the workers'
(less their rate over a 3 s baseline with the word count alone).

    /usr/bin/python3 bench/query/run.py [--seconds S] [--feed-rate N]
        [--runs N] [--perf DIR]

--perf DIR records perf record -g of the coordinator and worker w1 during
the query phase of the first run (DIR/coordinator.data, DIR/w1.data) and
prints the top symbols of each."""
import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
for d in ("tests/lib", "tests/integration", "bench/wordcount"):
    sys.path.insert(0, os.path.join(ROOT, d))

import weirtest  # noqa: E402
from cluster_common import (coordinator, create_topic, produce,  # noqa: E402
                            seed_lines, wait_exact, wait_running, weirctl,
                            worker, wordcount_yaml)
from worker_common import last_counts  # noqa: E402

TARGET_P50_MS, TARGET_P99_MS, TARGET_QPS = 2.0, 10.0, 5000.0
KEY_PATH = "/api/jobs/wordcount/stores/counts/keys/"
TICKS = os.sysconf("SC_CLK_TCK")


def feed(bs, topic, rate):
    """The feeder process: the seed lines again and again at rate lines/s
    until killed; prints how many it produced every second."""
    from confluent_kafka import Producer
    lines = seed_lines()
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True,
                  "linger.ms": 5})
    n, start, batch = 0, time.monotonic(), max(1, rate // 50)
    last_report = start
    while True:
        for _ in range(batch):
            line = lines[n % len(lines)]
            while True:
                try:
                    p.produce(topic, key=str(n).encode(), value=line)
                    break
                except BufferError:
                    p.poll(0.05)
            n += 1
        p.poll(0)
        ahead = n / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        now = time.monotonic()
        if now - last_report >= 1:
            p.flush(5)
            print("fed %d" % n, flush=True)
            last_report = now


def fed_count(log_path):
    n = 0
    try:
        with open(log_path) as f:
            for line in f:
                if line.startswith("fed "):
                    n = int(line.split()[1])
    except OSError:
        pass
    return n


class Client:
    """One HTTP/1.1 client connection to host:port, kept open across
    requests when the server allows it (else reopened per request, which
    http.client does by itself after a reply that closes)."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)
        self.connects = 0

    def get(self, path):
        if self.conn.sock is None:
            self.connects += 1
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read()
        return r.status, body, r.getheader("Connection"), r.will_close


def keep_alive(addr):
    """Whether the server keeps the connection open over two requests."""
    c = Client(addr)
    c.get("/healthz")
    sock = c.conn.sock
    c.get("/healthz")
    same = sock is not None and c.conn.sock is sock and c.connects == 1
    c.conn.close()
    return same


def proc_usage(pids):
    """(CPU seconds, context switches) of processes, all threads."""
    cpu = switches = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / TICKS
        for task in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                    switches += sum(int(l.split()[1]) for l in f
                                    if "ctxt_switches" in l)
            except OSError:  # the thread ended
                pass
    return cpu, switches


class Usage:
    """The coordinator's and the workers' CPU time and context switches
    per request over a measurement, the workers' less their rate over an
    idle baseline of the same length (their word count runs meanwhile)."""

    def __init__(self, coord, workers):
        self.coord, self.workers = [coord.pid], [w.pid for w in workers]
        self.base = (0.0, 0)

    def baseline(self, seconds):
        w0 = proc_usage(self.workers)
        t0 = time.monotonic()
        time.sleep(seconds)
        w1 = proc_usage(self.workers)
        dt = time.monotonic() - t0
        self.base = ((w1[0] - w0[0]) / dt, (w1[1] - w0[1]) / dt)

    def start(self):
        self.t0 = time.monotonic()
        self.c0, self.w0 = proc_usage(self.coord), proc_usage(self.workers)

    def stop(self, r):
        dt = time.monotonic() - self.t0
        c1, w1 = proc_usage(self.coord), proc_usage(self.workers)
        n = r["n"]
        r["coord_cpu_us"] = (c1[0] - self.c0[0]) / n * 1e6
        r["coord_cs"] = (c1[1] - self.c0[1]) / n
        r["wk_cpu_us"] = max(0.0, (w1[0] - self.w0[0] - self.base[0] * dt)
                             / n * 1e6)
        r["wk_cs"] = max(0.0, (w1[1] - self.w0[1] - self.base[1] * dt) / n)


def pctl(sorted_ns, q):
    i = min(len(sorted_ns) - 1, max(0, int(round(q * len(sorted_ns))) - 1))
    return sorted_ns[i] / 1e6


def measure(addr, paths, seconds):
    """Asks paths (cycled at random) for seconds from one connection;
    returns a dict of latency percentiles (ms), queries/s, errors."""
    c = Client(addr)
    rnd = random.Random(1)
    lat, errors, first_error = [], 0, None
    n_paths = len(paths)
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    cpu0 = time.process_time()
    start = clock()
    t = start
    while t < end:
        path = paths[rnd.randrange(n_paths)]
        status, body, _, _ = c.get(path)
        t2 = clock()
        lat.append(t2 - t)
        t = t2
        if status != 200:
            errors += 1
            first_error = first_error or (path, status, body[:200])
    elapsed = (t - start) / 1e9
    client_cpu = time.process_time() - cpu0
    c.conn.close()
    lat.sort()
    return {"n": len(lat), "qps": len(lat) / elapsed,
            "p50": pctl(lat, 0.50), "p90": pctl(lat, 0.90),
            "p99": pctl(lat, 0.99), "max": lat[-1] / 1e6,
            "errors": errors, "first_error": first_error,
            "connects": c.connects,
            "client_cpu_us": client_cpu / len(lat) * 1e6}


def fmt(name, r):
    return ("%-8s p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.1f ms  "
            "%.0f q/s  (%d requests, %d errors, %d connection%s)\n"
            "           per request: client %.0f us CPU; coordinator %.0f us "
            "CPU, %.1f context switches; workers %.0f us CPU, %.1f context "
            "switches" % (
                name, r["p50"], r["p90"], r["p99"], r["max"], r["qps"],
                r["n"], r["errors"], r["connects"],
                "" if r["connects"] == 1 else "s", r["client_cpu_us"],
                r["coord_cpu_us"],
                r["coord_cs"], r["wk_cpu_us"], r["wk_cs"]))


def perf_start(c, outdir, name, pid):
    os.makedirs(outdir, exist_ok=True)
    data = os.path.join(outdir, name + ".data")
    p = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384",
                          "-F", "499", "-p", str(pid), "-o", data],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, data


def perf_stop(p, data, top=15):
    """The top symbols by self time (thread, library, symbol), then the
    named (resolved) functions by time including their callees."""
    p.send_signal(2)  # SIGINT: perf writes its data and exits
    p.wait(60)
    def report(*opts):
        out = subprocess.run(["perf", "report", "-i", data, "--stdio",
                              "-g", "none"] + list(opts),
                             capture_output=True, text=True).stdout
        return [" ".join(l.split()[:-2]) for l in out.splitlines()
                if l.strip() and not l.startswith("#") and
                "[.] 0x0000" not in l]
    rows = ["  self:"] + report("--no-children", "--sort",
                                "comm,dso,symbol")[:top]
    rows += ["  with callees:"] + report(
        "--children", "--sort", "symbol", "--percent-limit", "3")[:2 * top]
    return "\n    ".join(rows)


def one_run(args, run):
    with weirtest.Cluster() as c:
        broker = c.broker(extra=["--fsync", "never"])
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        coord = coordinator(c, bootstrap=bs)
        ws = [worker(c, "w%d" % i, coord, bs) for i in (1, 2)]
        weirctl(coord, "submit", wordcount_yaml(c.path("wordcount.yaml")))
        wait_running(coord)
        lines = seed_lines()
        produce(bs, "text-lines", lines)
        wait_exact(bs, "text-lines", "wordcounts")
        words = sorted(last_counts(bs, "wordcounts"))
        paths = [KEY_PATH + urllib.parse.quote(w, safe="") for w in words]
        # Every word is answered before the clock starts.
        for w, path in zip(words[::max(1, len(words) // 20)],
                           paths[::max(1, len(words) // 20)]):
            status, body, _, _ = Client(coord.http).get(path)
            assert status == 200 and json.loads(body)["key"] == w, (
                w, status, body)
        ka = keep_alive(coord.http)

        feed_log = c.path("logs", "feeder.log")
        with open(feed_log, "w") as log:
            feeder = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--feed", bs,
                 "--feed-rate", str(args.feed_rate)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            time.sleep(2)  # the feeder is connected and the count busy
            usage = Usage(coord, ws)
            usage.baseline(3)
            probe = paths[0]
            before = json.loads(Client(coord.http).get(probe)[1])
            fed0, t_fed0 = fed_count(feed_log), time.monotonic()
            perfs = []
            if args.perf and run == 1:
                perfs = [perf_start(c, args.perf, "coordinator", coord.pid),
                         perf_start(c, args.perf, "w1", ws[0].pid)]
                time.sleep(0.5)
            usage.start()
            q = measure(coord.http, paths, args.seconds)
            usage.stop(q)
            reports = [(name, perf_stop(p, data)) for name, (p, data) in
                       zip(("coordinator", "w1"), perfs)]
            usage.start()
            h = measure(coord.http, ["/healthz"], args.seconds)
            usage.stop(h)
            fed1, t_fed1 = fed_count(feed_log), time.monotonic()
            after = json.loads(Client(coord.http).get(probe)[1])
        finally:
            feeder.kill()
            feeder.wait()
        assert fed1 > fed0, "the feeder produced nothing: %s" % (
            open(feed_log).read()[-2000:])
        assert all(p.alive() for p in [coord] + ws)

    print("run %d: %d words, keep-alive %s, feeder %.0f lines/s; "
          "count of %r %d -> %d meanwhile" % (
              run, len(words), "yes" if ka else "NO (new connection per "
              "request)", (fed1 - fed0) / (t_fed1 - t_fed0), before["key"],
              before["value"], after["value"]), flush=True)
    print("  " + fmt("query", q))
    print("  " + fmt("healthz", h))
    if q["first_error"]:
        print("  first error: %r" % (q["first_error"],))
    met = [("p50 <= %g ms" % TARGET_P50_MS, q["p50"] <= TARGET_P50_MS),
           ("p99 <= %g ms" % TARGET_P99_MS, q["p99"] <= TARGET_P99_MS),
           (">= %g q/s" % TARGET_QPS, q["qps"] >= TARGET_QPS)]
    print("  targets: " + ", ".join("%s %s" % (n, "met" if ok else "NOT met")
                                    for n, ok in met), flush=True)
    for name, rep in reports:
        print("  perf %s (self time):\n%s" % (name, rep), flush=True)
    return q, h


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--feed-rate", type=int, default=2000,
                    help="lines/s re-produced during the queries (2000)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--perf", metavar="DIR")
    ap.add_argument("--feed", metavar="BOOTSTRAP", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.feed:
        feed(args.feed, "text-lines", args.feed_rate)
        return 0
    for run in range(1, args.runs + 1):
        one_run(args, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
