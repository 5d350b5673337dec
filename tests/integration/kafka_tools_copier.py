"""Kafka's own system-test tools against the broker under test (label
kafka): TransactionalMessageCopier (kafka-tools) copies N messages from one
topic to another in transactions, with random aborts, while it is SIGKILLed
and restarted several times; VerifiableConsumer (read_committed) must then
count exactly N messages in the output, and the output must hold every
input value once. Runs on weir-broker, or on Apache Kafka with
WEIR_TEST_BROKER=kafka."""
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from worker_common import create_topic, wait_until, weirtest  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

N = 20000
KILLS = 3
KAFKA = os.path.join(weirtest.SOURCE_DIR, "scripts", "kafka")


def jars():
    out = subprocess.run([KAFKA, "jars"], check=True, capture_output=True,
                         text=True, timeout=600).stdout
    return out.strip().splitlines()[-1] + "/*"


def tool(c, name, cls, args):
    """A Kafka tool in its own JVM, its output (JSON lines) in a log."""
    argv = ["java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", jars(), "org.apache.kafka.tools." + cls] + args
    p = weirtest.Proc(name, argv, c.path("logs", name + ".log"))
    c.procs.append(p)
    return p


def json_lines(proc):
    out = []
    for line in proc.log().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def copied(proc):
    """Messages this copier run has processed (its ProcessLoop reports)."""
    return max([e.get("totalProcessed", 0) for e in json_lines(proc)
                if e.get("stage") == "ProcessLoop"] or [0])


def feed(bs):
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True,
                  "linger.ms": 5})
    for i in range(N):
        while True:
            try:
                p.produce("copy-in", value=b"%d" % i, partition=0)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(60) == 0


def committed_values(bs):
    c = Consumer({"bootstrap.servers": bs, "group.id": "copier-check",
                  "isolation.level": "read_committed",
                  "enable.auto.commit": False})
    c.assign([TopicPartition("copy-out", 0, 0)])
    values = []
    idle = 0
    while idle < 10:
        m = c.poll(0.5)
        if m is None or m.error():
            idle += 1
            continue
        idle = 0
        values.append(int(m.value()))
    c.close()
    return values


def main():
    rng = random.Random(int(os.environ.get("WEIR_FAULT_SEED", "0")) or None)
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "copy-in", 1)
        create_topic(bs, "copy-out", 1)
        feed(bs)
        args = ["--broker-list", bs, "--input-topic", "copy-in",
                "--input-partition", "0", "--output-topic", "copy-out",
                "--transactional-id", "weir-copier", "--consumer-group",
                "weir-copier", "--transaction-size", "100",
                # A restarted copier reads its committed position before
                # initTransactions() aborts its killed predecessor's
                # transaction, so it waits out that transaction's timeout
                # while offsets are pending: keep it short (default 60 s).
                "--transaction-timeout", "10000",
                "--enable-random-aborts", "--use-group-metadata"]
        for k in range(KILLS):
            copier = tool(c, "copier-%d" % k, "TransactionalMessageCopier",
                          args)
            # let it commit some transactions, then kill it mid-stream
            at = rng.randrange(300, N // (KILLS + 2))
            wait_until(lambda: copied(copier) >= at, 120,
                       "copier %d to copy %d messages" % (k, at), interval=0.05)
            assert copier.alive(), "copier %d finished before its kill" % k
            copier.kill()
            print("killed copier %d after %d messages" % (k, copied(copier)),
                  flush=True)
        copier = tool(c, "copier-last", "TransactionalMessageCopier", args)
        wait_until(lambda: not copier.alive(), 300, "the copier to finish",
                   interval=0.5)
        assert copier.popen.returncode == 0, copier.log()[-3000:]
        # the independent count: VerifiableConsumer, read_committed
        cfg = c.path("verifiable.properties")
        with open(cfg, "w") as f:
            f.write("isolation.level=read_committed\n")
        vc = tool(c, "verifiable-consumer", "VerifiableConsumer", [
            "--bootstrap-server", bs, "--topic", "copy-out", "--group-id",
            "weir-verifiable", "--reset-policy", "earliest",
            "--consumer.config", cfg, "--max-messages", str(N)])
        wait_until(lambda: not vc.alive(), 180, "VerifiableConsumer to read N",
                   interval=0.5)
        counted = sum(e["count"] for e in json_lines(vc)
                      if e.get("name") == "records_consumed")
        assert counted == N, "VerifiableConsumer counted %d of %d" % (counted, N)
        values = committed_values(bs)
        assert len(values) == N and sorted(values) == list(range(N)), \
            "copy-out holds %d records, %d distinct" % (len(values),
                                                       len(set(values)))
        print("exact: %d messages copied once through %d kills" % (N, KILLS))
        assert broker.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    start = time.monotonic()
    rc = main()
    print("%.1f s" % (time.monotonic() - start))
    sys.exit(rc)
