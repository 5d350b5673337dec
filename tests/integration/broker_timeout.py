"""A transaction left open past its transaction.timeout.ms is aborted by
weir-broker with an epoch bump: read_committed readers blocked behind it
proceed, its records stay invisible, its producer is fenced, and /status
and /metrics show it."""
import json
import time

from broker_common import (protocol_errors, admin, check, create_topic, producer, read_all,
                           start_broker, values, weirtest)
from confluent_kafka import KafkaException
import promcheck  # noqa: E402 (tests/lib is on the path once broker_common is in)


def main():
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster)
        bs = b.bootstrap
        create_topic(bs, "tmo", 2)
        stale = producer(bs, transactional_id="abandoned", transaction_timeout_ms=3000)
        stale.init_transactions(10)
        stale.begin_transaction()
        stale.produce("tmo", value="abandoned-0", partition=0)
        stale.produce("tmo", value="abandoned-1", partition=1)
        stale.flush(10)
        live = producer(bs, transactional_id="live")
        live.init_transactions(10)
        live.begin_transaction()
        for i in range(6):
            live.produce("tmo", value="live-%d" % i, partition=i % 2)
        live.commit_transaction(10)
        t0 = time.monotonic()
        st = json.loads(admin(b, "/status", "GET"))
        open_txns = [t for t in st["transactions"] if t["state"] == "Ongoing"]
        check(len(open_txns) == 1 and open_txns[0]["transactional_id"] == "abandoned"
              and "age_ms" in open_txns[0], "/status lists the open transaction with its age")
        lso_blocked = all(p["last_stable_offset"] == 0 for t in st["topics"]
                          if t["name"] == "tmo" for p in t["partitions"])
        check(lso_blocked, "the open transaction holds the LSO at its first offset")
        got = weirtest.wait_until(lambda: values(read_all(bs, "tmo", 2)) or None, 30,
                                  "read_committed readers to get past the open transaction",
                                  interval=0.2)
        waited = time.monotonic() - t0
        check(got == sorted("live-%d" % i for i in range(6)),
              "after the timeout readers see the committed records, not the abandoned ones")
        print("readers proceeded after %.1fs" % waited)
        metrics = admin(b, "/metrics", "GET")
        check('weir_broker_transactions_total{result="timeout"} 1' in metrics,
              "/metrics counts the timed-out transaction")
        families = promcheck.check(metrics)
        check(families["weir_broker_transactions"],
              "/metrics is valid Prometheus text")
        fenced = False
        try:
            stale.commit_transaction(10)
        except KafkaException as e:
            print("abandoned producer:", e)
            fenced = True
        check(fenced, "the abandoned producer cannot commit after the timeout")
        check(not protocol_errors(), "no protocol errors in client logs: %s" % protocol_errors())
        check(b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
