"""Kafka Streams against the broker under test (label kafka): an ordinary
Kafka Streams word count (tests/kafka/StreamsWordCount.java, exactly_once_v2)
runs on weir-broker, or on Apache Kafka with WEIR_TEST_BROKER=kafka, and its
output must be exact (the Python checker and weir-verify). Kafka Streams
brings its own partition assignor over JoinGroup/SyncGroup, creates its
internal topics through the admin API and commits through transactions:
whatever it needs that weir-broker lacks is a broker bug."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))

from worker_common import (create_topic, produce, seed_lines,  # noqa: E402
                           wait_exact, weir_verify, weirtest)

SOURCE = os.path.join(weirtest.SOURCE_DIR, "tests", "kafka",
                      "StreamsWordCount.java")
KAFKA = os.path.join(weirtest.SOURCE_DIR, "scripts", "kafka")


def build(c):
    """Compiles the app against the pinned Kafka jars; returns the classpath."""
    jars = subprocess.run([KAFKA, "jars"], check=True, capture_output=True,
                          text=True, timeout=600).stdout.strip().splitlines()[-1]
    classes = c.path("streams-classes", "x")[:-2]
    os.makedirs(classes, exist_ok=True)
    subprocess.run(["javac", "-d", classes, "-cp", jars + "/*", SOURCE],
                   check=True, timeout=300)
    return classes + ":" + jars + "/*"


def main():
    with weirtest.Cluster() as c:
        classpath = build(c)
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 4)
        lines = seed_lines()
        half = len(lines) // 2
        produce(bs, "text-lines", lines[:half])
        app = weirtest.Proc("streams", [
            "java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", classpath, "StreamsWordCount", bs, "text-lines",
            "wordcounts", "weir-streams-wc", c.path("streams-state", "x")[:-2]],
            c.path("logs", "streams.log"))
        c.procs.append(app)
        app.wait_line("-> RUNNING", 120)
        produce(bs, "text-lines", lines[half:], start_key=half)
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=180))
        print(weir_verify(bs, "text-lines", "wordcounts"))
        assert app.stop(timeout=60) in (0, 130, 143), app.log()[-3000:]
        assert broker.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
