"""Faults only a replicated Apache Kafka has (label kafka, WEIR_TEST_BROKER=
kafka: a 3-node KRaft cluster from scripts/kafka), while the word count runs
on a coordinator and two workers:

    kafka_nodes.py coordinator-node
        SIGKILL the node that leads the transaction coordinator partition
        of one of the job's transactional ids mid-job, restart it later.

    kafka_nodes.py rolling-restart
        SIGKILL and restart every node in turn, each once the previous one
        is back.

Each ends with the output complete and exact within the liveness bound
after the last fault, checked by the Python checker and by weir-verify.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from cluster_common import (Feeder, seed_lines, setup, wait_live,  # noqa: E402
                            wait_recovered, wait_running, wait_until,
                            weirctl_json, weirtest)

from confluent_kafka.admin import AdminClient  # noqa: E402


# Kafka's own failover after a SIGKILLed node: the controller expires it
# after broker.session.timeout.ms (9 s), then leaders move and the
# transaction coordinator loads its partitions on another node; Weir's
# tasks then retry their transactional calls.
KAFKA_FAILOVER_S = 45


def coord_committed(coord):
    """Some task of the job has committed a transaction."""
    d = weirctl_json(coord, "describe", "wordcount")
    return any((t.get("status") or {}).get("commits", 0) > 0
               for t in d.get("tasks", []))


def java_hash(s):
    """java.lang.String.hashCode, as Kafka hashes a transactional id."""
    units = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (31 * h + int.from_bytes(units[i:i + 2], "big")) & 0xFFFFFFFF
    return h


def txn_coordinator_node(bs, transactional_id):
    """The broker id leading transactional_id's __transaction_state
    partition (Kafka: abs(hashCode) % partitions)."""
    md = AdminClient({"bootstrap.servers": bs}).list_topics(
        "__transaction_state", timeout=30)
    parts = md.topics["__transaction_state"].partitions
    p = (java_hash(transactional_id) & 0x7FFFFFFF) % len(parts)
    return parts[p].leader


def all_nodes_in_sync(bs, nodes):
    """Every partition of every topic has its full ISR again."""
    md = AdminClient({"bootstrap.servers": bs}).list_topics(timeout=10)
    if len(md.brokers) < nodes:
        return False
    return all(len(p.isrs) == len(p.replicas)
               for t in md.topics.values() for p in t.partitions.values())


def coordinator_node(c, broker, coord):
    node = txn_coordinator_node(broker.bootstrap, "wordcount-1_0")
    print("killing node %d (transaction coordinator of wordcount-1_0)" % node,
          flush=True)
    broker.kill_node(node)
    killed = time.monotonic()
    # The job goes on with the two other nodes (min ISR 2 of 3) once Kafka
    # has noticed (broker.session.timeout.ms, 9 s), moved the leaders and
    # loaded the transaction coordinator's partitions elsewhere.
    wait_recovered(coord, killed, bound=KAFKA_FAILOVER_S)
    broker.restart_node(node)
    return time.monotonic()


def rolling_restart(c, broker, coord):
    for node in range(1, broker.nodes + 1):
        wait_until(lambda: all_nodes_in_sync(broker.bootstrap, broker.nodes),
                   120, "every replica in sync before node %d" % node,
                   interval=1)
        print("restarting node %d" % node, flush=True)
        broker.kill_node(node)
        broker.restart_node(node)
    return time.monotonic()


def main():
    assert weirtest.TEST_BROKER == "kafka", "needs WEIR_TEST_BROKER=kafka"
    scenario = sys.argv[1] if len(sys.argv) > 1 else "coordinator-node"
    run = {"coordinator-node": coordinator_node,
           "rolling-restart": rolling_restart}[scenario]
    with weirtest.Cluster() as c:
        broker, coord, ws = setup(c, n_workers=2)
        bs = broker.bootstrap
        wait_until(lambda: all_nodes_in_sync(bs, broker.nodes), 120,
                   "the cluster in sync", interval=1)
        wait_running(coord, {"w1", "w2"}, timeout=120)
        feed = Feeder(bs, "text-lines", seed_lines() * 3, batch=20, pause=0.05)
        wait_until(lambda: coord_committed(coord), 60, "the job to commit")
        last_fault = run(c, broker, coord)
        feed.join(timeout=300)
        wait_recovered(coord, last_fault, bound=KAFKA_FAILOVER_S)
        wait_live(bs, last_fault, bound=2 * KAFKA_FAILOVER_S)
        for w in ws:
            assert w.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
