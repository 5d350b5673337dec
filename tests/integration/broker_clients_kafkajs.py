#!/usr/bin/python3
"""kafkajs (npm, pure JavaScript) against weir-broker.

Starts the broker, runs one case of broker_clients_kafkajs.js under node and
checks what it wrote with confluent_kafka (an independent client):
transactional produce + sendOffsets + commit/abort, fencing, and a
read_committed kafkajs group consumer.

kafkajs is installed by scripts/install-deps-js into $WEIR_BIN_DIR/../js
(the CTest fixture clients.kafkajs.deps does it before these cases).

    broker_clients_kafkajs.py [case ...]    (cases: CASES at the end)
"""
import json
import os

from confluent_kafka import (Consumer, KafkaError, KafkaException,
                             TopicPartition, OFFSET_BEGINNING)

import broker_clients_common as bc
import weirtest

PARTS = 3
HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(weirtest.BIN_DIR, "..", "js")
NODE = "/usr/bin/node"


def run_js(broker, case, timeout=90, extra=()):
    modules = os.path.join(JS_DIR, "node_modules")
    if not os.path.isdir(os.path.join(modules, "kafkajs")):
        raise AssertionError("kafkajs is not installed in %s: run "
                             "scripts/install-deps-js %s" % (modules, JS_DIR))
    out, err = bc.run([NODE, os.path.join(HERE, "broker_clients_kafkajs.js"),
                       case, broker.bootstrap] + list(extra), timeout=timeout,
                      env={"NODE_PATH": modules})
    lines = out.strip().splitlines()
    if not lines:
        raise AssertionError("no output from kafkajs case %s\n%s" % (
            case, err))
    return json.loads(lines[-1])


def read(bootstrap, topic, committed, timeout=30):
    """Every record of topic up to its end, read with confluent_kafka;
    returns sorted (partition, offset, value)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "js-check",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "check.crcs": True,
                  "isolation.level": "read_committed" if committed
                  else "read_uncommitted"})
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                  for p in range(PARTS)])
        got, eof = [], set()

        def done():
            for m in c.consume(num_messages=100, timeout=0.2):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                        continue
                    raise KafkaException(m.error())
                eof.discard(m.partition())
                got.append((m.partition(), m.offset(), m.value().decode()))
            return len(eof) == PARTS
        bc.wait_until(done, timeout, "end of %s" % topic, interval=0)
        return sorted(got)
    finally:
        c.close()


def values(rows):
    return sorted(v for _, _, v in rows)


def tagged(tag, n):
    return ["%s-%d-%d" % (tag, p, i) for p in range(PARTS) for i in range(n)]


def no_errors(res, allow=()):
    bad = [e for e in res["errors"] if not any(a in e for a in allow)]
    if bad:
        raise AssertionError("kafkajs logged errors:\n" + "\n".join(bad))


def case_txn():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        res = run_js(b, "txn")
        no_errors(res)
        want = {"c1": 5, "a2": 5, "c3": 10}
        for tag, off in want.items():
            bc.eq(res["offsetsAfter"][tag], {str(p): off for p in range(PARTS)},
                  "group offsets after %s" % tag)
        bc.eq(values(read(b.bootstrap, "js-out", True)),
              sorted(tagged("c1", 4) + tagged("c3", 4)), "read_committed")
        bc.eq(values(read(b.bootstrap, "js-out", False)),
              sorted(tagged("c1", 4) + tagged("a2", 4) + tagged("c3", 4)),
              "read_uncommitted")
        bc.eq(b.stop(), 0, "broker exit status")


def case_restart():
    """Transactions and offsets written by kafkajs survive a SIGKILL and a
    SIGTERM restart of the broker; the transactional id carries on."""
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        no_errors(run_js(b, "txn"))
        b.kill()
        b = bc.start_broker(c, name="broker2", data_dir=b.data_dir,
                            port=b.port)
        committed = sorted(tagged("c1", 4) + tagged("c3", 4))
        everything = sorted(committed + tagged("a2", 4))
        bc.eq(values(read(b.bootstrap, "js-out", True)), committed,
              "read_committed after SIGKILL")
        bc.eq(values(read(b.bootstrap, "js-out", False)), everything,
              "read_uncommitted after SIGKILL")
        res = run_js(b, "after_restart")
        no_errors(res)
        bc.eq(res["before"], {str(p): 10 for p in range(PARTS)},
              "group offsets after SIGKILL")
        bc.eq(res["after"], {str(p): 12 for p in range(PARTS)},
              "group offsets after one more transaction")
        bc.eq(b.stop(), 0, "broker exit status")
        b = bc.start_broker(c, name="broker3", data_dir=b.data_dir,
                            port=b.port)
        committed = sorted(committed + tagged("c4", 4))
        bc.eq(values(read(b.bootstrap, "js-out", True)), committed,
              "read_committed after SIGTERM")
        bc.eq(b.stop(), 0, "broker exit status")


def case_group():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        res = run_js(b, "group")
        # kafkajs logs the REBALANCE_IN_PROGRESS heartbeat answers (the
        # signal to rejoin) as errors.
        no_errors(res, allow=("rebalancing", "REBALANCE_IN_PROGRESS"))
        split = res["split"]
        bc.eq(sorted(split["c1"] + split["c2"]), list(range(PARTS)),
              "partitions split between the two members")
        bc.eq(sorted(res["seen"]), sorted("m%d" % i for i in range(90)),
              "records seen")
        if res["byC2"] == 0:
            raise AssertionError("the second member consumed nothing")
        bc.eq(b.stop(), 0, "broker exit status")


def case_eos():
    """kafkajs consume-transform-produce under faults: each input record is
    in the read_committed output exactly once, in order per partition."""
    n = 60
    with weirtest.Cluster() as c:
        b = bc.start_broker(c, admin=True)
        res = run_js(b, "eos", timeout=150, extra=[b.admin_url, str(n)])
        print("  %d batches; outcomes: %s" % (res["batches"], sorted(
            set(res["outcomes"]))))
        bc.eq(res["committed"], {str(p): n for p in range(PARTS)},
              "input offsets committed")
        out = read(b.bootstrap, "js-eos-out", True)
        srcs = {}
        for p, _, v in out:
            sp, so = v.split("|")[1].split(":")
            bc.eq(int(sp), p, "output partition")
            bc.eq(v.split("|")[0], "IN-%s-%s" % (sp, so), "output value")
            srcs.setdefault(p, []).append(int(so))
        for p in range(PARTS):
            bc.eq(srcs.get(p), list(range(n)),
                  "partition %d: every input once, in order" % p)
        bc.eq(b.stop(), 0, "broker exit status")


def case_admin():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        res = run_js(b, "admin")
        no_errors(res, allow=("rebalancing", "REBALANCE_IN_PROGRESS"))
        bc.eq(res["topics"], ["js-adm", "js-adm-del"], "listTopics")
        bc.eq(sorted((o["partition"], o["low"], o["high"])
                     for o in res["offsets"]),
              [(0, "0", "2"), (1, "0", "0"), (2, "0", "0")],
              "fetchTopicOffsets")
        bc.eq(sorted((o["partition"], o["offset"]) for o in res["byTime"]),
              [(0, "1"), (1, "0"), (2, "0")], "fetchTopicOffsetsByTimestamp")
        bc.eq(res["groupOffsets"], {"0": 1, "1": 0, "2": -1}, "setOffsets")
        bc.eq(res["live"], {"state": "Stable", "protocol": "RoundRobinAssigner",
                            "members": 1}, "describeGroups of a live group")
        if not {"js-adm-group", "js-adm-live"} <= set(res["groups"]):
            raise AssertionError("listGroups: %s" % res["groups"])
        bc.eq({g: res["protocolTypes"].get(g)
               for g in ("js-adm-group", "js-adm-live")},
              {"js-adm-group": "consumer", "js-adm-live": "consumer"},
              "protocol types of the empty groups")
        bc.eq(res["topicsAfterDelete"], ["js-adm"], "deleteTopics")
        bc.eq(b.stop(), 0, "broker exit status")


def case_txn_timeout():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        res = run_js(b, "txn_timeout")
        if res["lateCommit"] not in ("INVALID_PRODUCER_EPOCH",
                                     "PRODUCER_FENCED"):
            raise AssertionError("commit after the transaction timed out: "
                                 "got %r, want a fencing error"
                                 % res["lateCommit"])
        no_errors(res, allow=("INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED",
                              "old epoch"))
        bc.eq(values(read(b.bootstrap, "js-to", True)),
              sorted(tagged("fresh", 1)), "read_committed")
        bc.eq(values(read(b.bootstrap, "js-to", False)),
              sorted(tagged("late", 1) + tagged("fresh", 1)),
              "read_uncommitted")
        if "timed out" not in b.log():
            raise AssertionError("the broker did not log the timeout")
        bc.eq(b.stop(), 0, "broker exit status")


def case_fencing():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        res = run_js(b, "fencing")
        if res["zombieError"] not in ("INVALID_PRODUCER_EPOCH",
                                      "PRODUCER_FENCED"):
            raise AssertionError("zombie commit: got %r, want a fencing "
                                 "error" % res["zombieError"])
        no_errors(res, allow=("INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED",
                              "fenced", "epoch"))
        bc.eq(values(read(b.bootstrap, "js-fx", True)),
              sorted(tagged("ok", 2)), "read_committed")
        bc.eq(values(read(b.bootstrap, "js-fx", False)),
              sorted(tagged("zombie", 2) + tagged("ok", 2)),
              "read_uncommitted")
        bc.eq(b.stop(), 0, "broker exit status")


def case_consume():
    with weirtest.Cluster() as c:
        b = bc.start_broker(c)
        res = run_js(b, "consume")
        no_errors(res)
        got = sorted((r["partition"], r["offset"], r["value"])
                     for r in res["got"])
        # Offsets per partition: c1 0-2, commit 3, a2 4-6, abort 7,
        # c3 8-10, commit 11, o4 12-14 (open while reading), commit 15.
        bc.eq(res["beforeCommit"], 2 * PARTS * 3,
              "records read while o4 was open")
        want = sorted((p, base + i, "%s-%d-%d" % (tag, p, i))
                      for p in range(PARTS)
                      for tag, base in (("c1", 0), ("c3", 8), ("o4", 12))
                      for i in range(3))
        bc.eq(got, want, "kafkajs read_committed consumer")
        # 15 = after o4's last record, 16 = also past its commit marker:
        # both are correct resumption points.
        for p in range(PARTS):
            if res["committed"].get(str(p)) not in (15, 16):
                raise AssertionError("offsets committed by the kafkajs "
                                     "consumer: %r" % res["committed"])
        bc.eq(b.stop(), 0, "broker exit status")


def case_faults():
    """Transactions under lost answers, retriable errors, dropped
    connections, delays and a pause: each committed exactly once."""
    with weirtest.Cluster() as c:
        b = bc.start_broker(c, admin=True)
        res = run_js(b, "faults", timeout=150, extra=[b.admin_url])
        n = res["transactions"]
        for a in res["attempts"]:
            print("  %-4s try %d %-45s %s" % (a["tag"], a["n"], a["path"],
                                              a["result"]))
        want = sorted(v for i in range(n) for v in tagged("t%d" % i, 2))
        got = read(b.bootstrap, "js-fi", True)
        bc.eq(values(got), want, "read_committed: every transaction once")
        bc.eq(res["committed"].get("0"), n, "offset sent in the last one")
        bc.eq(b.stop(), 0, "broker exit status")


CASES = {
    "faults": case_faults,
    "restart": case_restart,
    "group": case_group,
    "txn_timeout": case_txn_timeout,
    "eos": case_eos,
    "admin": case_admin,
    "txn": case_txn,
    "fencing": case_fencing,
    "consume": case_consume,
}

if __name__ == "__main__":
    bc.main(CASES)
