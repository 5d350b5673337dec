"""The contenders: how each is started, the consumer group it commits its
input offsets to, and which topics are its own internal ones. Each start()
returns the processes it started (weirtest.Proc); the harness
(harness.py) times, measures and stops them.

A contender's name within a run (its group) is "<key>-r<run>": the Weir
job name, the Kafka Streams application.id, the Quix consumer group, the
passthrough's and the Python script's group and transactional.id. Its
output topic is "<group>-out"."""
import os

import weirtest
from workload import INTERVAL_MS, PARTS

HERE = os.path.dirname(os.path.abspath(__file__))
STREAMS_DEFAULT_CACHE = 10 * 1024 * 1024  # statestore.cache.max.bytes


def _proc(ctx, name, argv, env=None):
    p = weirtest.Proc(name, argv, ctx.c.path("logs", name + ".log"), env)
    ctx.c.procs.append(p)
    return p


class Contender:
    key = ""
    label = ""
    counts = True        # writes word counts (the passthrough copies lines)
    every_update = True  # emits every count update: weir-verify applies
    n_repartition = 0    # repartition topics it creates

    def available(self, ctx):
        """None, or why this contender cannot run here."""
        return None

    def internal(self, group, topic):
        """"repartition", "changelog" or None: Weir and Kafka Streams name
        theirs <group>-<name>-repartition and <group>-<store>-changelog."""
        if not topic.startswith(group + "-"):
            return None
        for kind in ("repartition", "changelog"):
            if topic.endswith("-" + kind):
                return kind
        return None

    def start(self, ctx, group, output):
        raise NotImplementedError


class Passthrough(Contender):
    key, label = "passthrough", "raw librdkafka passthrough"
    counts = False

    def start(self, ctx, group, output):
        return [_proc(ctx, group, [
            os.path.join(weirtest.BIN_DIR, "wordcount-passthrough"), ctx.bs,
            ctx.input, output, str(PARTS), str(INTERVAL_MS), group])]


class PythonScript(Contender):
    key, label = "python", "hand-written Python"

    def start(self, ctx, group, output):
        return [_proc(ctx, group, [
            "/usr/bin/python3", os.path.join(HERE, "python_wordcount.py"),
            ctx.bs, ctx.input, output, str(PARTS), str(INTERVAL_MS), group])]


def weir_job(path, job, inp, out, emit="update", guarantee="exactly_once"):
    count = "{ store: counts }" if emit == "update" else \
        "{ store: counts, emit: %s }" % emit
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
  - count: %s
  - to: { topic: %s, value: string }
""" % (job, guarantee, INTERVAL_MS, inp, count, out))
    return path


class Weir(Contender):
    """Standalone weir-worker: 8 tasks (2 subtopologies x 4 partitions)
    on `threads` stream threads."""
    n_repartition = 1

    def __init__(self, emit="update", threads=2):
        self.emit, self.threads = emit, threads
        self.key = "weir-%s" % emit + ("-t%d" % threads if threads != 2 else "")
        self.label = "Weir emit:%s" % emit + (
            " --threads %d" % threads if threads != 2 else "")
        self.every_update = emit == "update"

    def available(self, ctx):
        job = weir_job(ctx.c.path("probe-%s.yaml" % self.emit), "probe",
                       "in", "out", self.emit)
        return ctx.weirctl_topology(job)

    def start(self, ctx, group, output):
        job = weir_job(ctx.c.path(group + ".yaml"), group, ctx.input, output,
                       self.emit)
        return [ctx.c.start(group, "weir-worker", [
            "--standalone", job, "--bootstrap", ctx.bs,
            "--data-dir", ctx.c.path(group + "-data", "x")[:-2],
            "--threads", str(self.threads), "--progress-interval-ms", "0"],
            ready=None)]


class Streams(Contender):
    """Kafka Streams 4.x (tests/kafka/StreamsWordCount.java), two stream
    threads like Weir's, heap capped at 512 MB, the JVM's default JIT and
    collector."""
    n_repartition = 1

    def __init__(self, cache_bytes):
        self.cache_bytes = cache_bytes
        self.key = "streams-cache" if cache_bytes else "streams-nocache"
        self.label = "Kafka Streams cache %s" % (
            "%d MB" % (cache_bytes >> 20) if cache_bytes else "off")
        self.every_update = cache_bytes == 0

    def available(self, ctx):
        return ctx.streams_classpath_error()

    def start(self, ctx, group, output):
        return [_proc(ctx, group, [
            "java", "-Xmx512m", "-cp", ctx.streams_classpath(),
            "StreamsWordCount", ctx.bs, ctx.input, output, group,
            ctx.c.path(group + "-state", "x")[:-2], str(self.cache_bytes),
            "2"])]


class Quix(Contender):
    key, label = "quix", "Quix Streams"
    n_repartition = 1

    def available(self, ctx):
        return ctx.quix_python_error()

    def internal(self, group, topic):
        """Quix names them <kind>__<group>--<topic>--<name>."""
        for kind in ("repartition", "changelog"):
            if topic.startswith("%s__%s--" % (kind, group)):
                return kind
        return None

    def start(self, ctx, group, output):
        return [_proc(ctx, group, [
            ctx.quix_python(), os.path.join(HERE, "quix_wordcount.py"),
            ctx.bs, ctx.input, output, group,
            ctx.c.path(group + "-state", "x")[:-2]])]


def default_set():
    return [Passthrough(), Weir("update"), Weir("latest"), Streams(0),
            Streams(STREAMS_DEFAULT_CACHE), Quix(), PythonScript()]
