"""Kafka's own command-line tools against weir-broker and Apache Kafka side
by side (label kafka): the same commands on both, and the same results once
broker-specific parts (node ids, replication, consumer ids, hosts) are
normalised. TopicCommand (create, list, describe), ConfigCommand describe,
the console producer and consumer, ConsumerGroupCommand (list, describe,
reset-offsets), TransactionsCommand (list, describe, describe-producers, and
abort of a hanging transaction, after which read_committed consumers move
past it). Differences Weir keeps on purpose are listed in
docs/broker.md ("Differences from Apache Kafka")."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))

from worker_common import weirtest  # noqa: E402

KAFKA = os.path.join(weirtest.SOURCE_DIR, "scripts", "kafka")
TOPIC = "tools-t"
GROUP = "tools-g"
LINES = ["line-%02d" % i for i in range(12)]
TXN_TOPIC = "tools-txn"
# A transaction left open by a producer that died without aborting it (its
# timeout is long enough that the coordinator never ends it during the
# test), then a committed one behind it on the same partition: until an
# operator aborts the first, read_committed consumers see neither.
HANG_PRODUCER = """
import os, sys
from confluent_kafka import Producer
def txn(tid, values):
    p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": tid,
                  "transaction.timeout.ms": 600000})
    p.init_transactions(30)
    p.begin_transaction()
    for v in values:
        p.produce(sys.argv[2], v.encode(), partition=0)
    p.flush(30)
    return p
hang = txn("tools-hang", ["hung-1", "hung-2", "hung-3"])
done = txn("tools-done", ["done-1", "done-2"])
done.commit_transaction(30)
os._exit(0)  # tools-hang is never committed nor aborted
"""


def classpath():
    out = subprocess.run([KAFKA, "jars"], check=True, capture_output=True,
                         text=True, timeout=600).stdout
    return out.strip().splitlines()[-1] + "/*"


class Tools:
    def __init__(self, bootstrap):
        self.bs = bootstrap
        self.cp = classpath()

    def run(self, cls, *args, stdin=None):
        argv = ["java", "-Xmx192m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", self.cp, cls,
                "--bootstrap-server", self.bs] + list(args)
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, "%s %s: %s" % (cls, args, r.stdout + r.stderr)
        return r.stdout

    def transactions(self, *args):
        return self.run("org.apache.kafka.tools.TransactionsCommand", *args)

    def committed(self, n, timeout_ms):
        """The values a read_committed consumer gets from TXN_TOPIC."""
        out = self.run(
            "org.apache.kafka.tools.consumer.ConsoleConsumer", "--topic",
            TXN_TOPIC, "--from-beginning", "--max-messages", str(n),
            "--timeout-ms", str(timeout_ms), "--isolation-level",
            "read_committed")  # a timeout is logged, not an exit code
        return sorted(v for v in out.split()
                      if re.fullmatch(r"(hung|done)-\d", v))

    def transaction_session(self):
        """kafka-transactions on a hanging transaction; returns {step:
        normalised output}."""
        out = {}
        self.run("org.apache.kafka.tools.TopicCommand", "--create", "--topic",
                 TXN_TOPIC, "--partitions", "1", "--replication-factor", "1")
        subprocess.run(["/usr/bin/python3", "-c", HANG_PRODUCER, self.bs,
                        TXN_TOPIC], check=True, timeout=120)
        out["txn-list"] = "\n".join(
            line for line in self.transactions("list").splitlines()
            if "tools-" in line or "TransactionalId" in line)
        out["txn-describe"] = self.transactions(
            "describe", "--transactional-id", "tools-hang")
        out["txn-producers"] = self.transactions(
            "describe-producers", "--topic", TXN_TOPIC, "--partition", "0")
        out["txn-stuck"] = "\n".join(self.committed(2, 3000))
        out["txn-abort"] = self.transactions(
            "abort", "--topic", TXN_TOPIC, "--partition", "0",
            "--start-offset", "0")
        out["txn-producers-after"] = self.transactions(
            "describe-producers", "--topic", TXN_TOPIC, "--partition", "0")
        out["txn-committed"] = "\n".join(self.committed(2, 30000))
        return {k: normalise(blank_columns(v)) for k, v in out.items()}

    def session(self):
        """Every command once; returns {step: normalised output}."""
        topic = "org.apache.kafka.tools.TopicCommand"
        groups = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
        out = {}
        out["create"] = self.run(topic, "--create", "--topic", TOPIC,
                                 "--partitions", "3", "--replication-factor",
                                 "1", "--config", "cleanup.policy=compact")
        out["list"] = "\n".join(t for t in self.run(topic, "--list").split()
                                if t == TOPIC)
        out["describe"] = self.run(topic, "--describe", "--topic", TOPIC)
        out["configs"] = "\n".join(
            line for line in self.run(
                "kafka.admin.ConfigCommand", "--describe", "--entity-type",
                "topics", "--entity-name", TOPIC).splitlines()
            if "cleanup.policy" in line or "Dynamic configs" in line)
        self.run("org.apache.kafka.tools.ConsoleProducer", "--topic", TOPIC,
                 "--property", "parse.key=true", "--property",
                 "key.separator=:",
                 stdin="".join("k%d:%s\n" % (i % 4, v)
                               for i, v in enumerate(LINES)))
        consumed = self.run("org.apache.kafka.tools.consumer.ConsoleConsumer",
                            "--topic", TOPIC, "--from-beginning",
                            "--max-messages", str(len(LINES)), "--group",
                            GROUP, "--property", "print.key=true")
        out["consume"] = "\n".join(sorted(consumed.split("\n")))
        out["groups"] = "\n".join(g for g in self.run(groups, "--list").split()
                                  if g == GROUP)
        out["group-describe"] = self.run(groups, "--describe", "--group",
                                         GROUP)
        out["reset"] = self.run(groups, "--reset-offsets", "--group", GROUP,
                                "--topic", TOPIC, "--to-earliest", "--execute")
        out["group-after-reset"] = self.run(groups, "--describe", "--group",
                                            GROUP)
        return {k: normalise(v) for k, v in out.items()}


# Columns of kafka-transactions' tables that differ between any two runs:
# producer ids (Kafka's count from 0, weir-broker's from 1000), node ids,
# wall-clock times and durations.
VOLATILE = {"ProducerId", "Coordinator", "CoordinatorId", "LastTimestamp",
            "CurrentTransactionStartTimeMs", "TransactionDurationMs"}


def blank_columns(text):
    """A tab-separated table with its VOLATILE columns blanked."""
    rows = [line.split("\t") for line in text.splitlines()]
    if not rows or "\t" not in text:
        return text
    head = [h.strip() for h in rows[0]]
    return "\n".join("\t".join(
        "-" if i < len(head) and head[i] in VOLATILE and r is not rows[0]
        else v for i, v in enumerate(r)) for r in rows)


def normalise(text):
    """Drops what legitimately differs between brokers."""
    text = re.sub(r"TopicId: \S+\s*", "", text)
    text = re.sub(r"(Leader|Replicas|Isr): [0-9,]+", r"\1: -", text)
    # eligible leader replicas (KIP-966): weir-broker has one replica and
    # no DescribeTopicPartitions; Kafka's test cluster sets its ISR minimum
    text = re.sub(r"(Elr|LastKnownElr): (N/A)?", "", text)
    text = re.sub(r"min\.insync\.replicas=\d+,?", "", text)
    text = re.sub(r"ReplicationFactor: \d+", "ReplicationFactor: -", text)
    text = re.sub(r"consumer-\S+|/127\.0\.0\.1|\brdkafka\S*", "-", text)
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(sorted(line for line in lines if line))


def main():
    with weirtest.Cluster() as c:
        weir = c.broker()
        kafka = weirtest.KafkaCluster("kafka", c.path("kafka", "x")[:-2],
                                      nodes=1)
        c.procs.append(kafka)
        got = {}
        for name, bootstrap in (("weir-broker", weir.bootstrap),
                                ("kafka", kafka.bootstrap)):
            tools = Tools(bootstrap)
            got[name] = tools.session()
            got[name].update(tools.transaction_session())
        diffs = []
        for step in got["kafka"]:
            a, b = got["weir-broker"][step], got["kafka"][step]
            print("== %s\n%s" % (step, b), flush=True)
            if a != b:
                diffs.append("%s:\n-- weir-broker\n%s\n-- kafka\n%s" % (
                    step, a, b))
        assert not diffs, "\n\n".join(diffs)
        assert weir.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
