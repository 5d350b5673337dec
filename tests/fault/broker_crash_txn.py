"""weir-broker killed in the middle of ending a transaction (crash points
after the PrepareCommit/PrepareAbort journal record, after the first
marker, after the offsets) finishes the commit or abort after a restart:
committed records and offsets appear whole, aborted ones never."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from broker_common import (Consumer, TopicPartition, check, create_topic,  # noqa: E402
                           producer, read_all, start_broker, values, weirtest)


def committed(bs, group, topic):
    c = Consumer({"bootstrap.servers": bs, "group.id": group,
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, 0)], timeout=15)]
    finally:
        c.close()


def scenario(cluster, n, site, commit):
    name = "b%d" % n
    b = start_broker(cluster, name=name + "-a", env={"WEIR_CRASH_AT": site})
    bs = b.bootstrap
    topic, group = "crash%d" % n, "g%d" % n
    create_topic(bs, topic, 3)
    p = producer(bs, transactional_id="crash-%d" % n, transaction_timeout_ms=60000)
    p.init_transactions(10)
    p.begin_transaction()
    for i in range(9):
        p.produce(topic, value="%s-%d" % (topic, i), partition=i % 3)
    meta = Consumer({"bootstrap.servers": bs, "group.id": group})
    p.send_offsets_to_transaction([TopicPartition(topic, 0, 42)],
                                  meta.consumer_group_metadata(), 10)
    meta.close()
    p.flush(10)
    try:
        if commit:
            p.commit_transaction(3)
        else:
            p.abort_transaction(3)
    except Exception as e:
        print("while the broker crashed:", e)
    weirtest.wait_until(lambda: not b.alive(), 15, "the broker to crash at " + site)
    check(b.popen.returncode == 99, "broker crashed at %s (exit %s)" % (site, b.popen.returncode))
    b.kill()
    b2 = start_broker(cluster, name=name + "-b", data_dir=b.data_dir, port=b.port)
    want = sorted("%s-%d" % (topic, i) for i in range(9)) if commit else []
    got = values(read_all(bs, topic, 3))  # completed before "ready"
    check(got == want, "%s at %s: %d records visible after restart"
          % ("commit" if commit else "abort", site, len(got)))
    offs = committed(bs, group, topic)
    check(offs == ([42] if commit else [-1001]),
          "%s at %s: offsets %s" % ("commit" if commit else "abort", site, offs))
    check(b2.stop() == 0, "restarted broker exits 0 on SIGTERM")


def main():
    with weirtest.Cluster() as cluster:
        n = 0
        for site in ("broker.txn.prepared", "broker.txn.marker", "broker.txn.offsets"):
            for commit in (True, False):
                if site == "broker.txn.offsets" and not commit:
                    continue  # an abort applies no offsets
                scenario(cluster, n, site, commit)
                n += 1


if __name__ == "__main__":
    main()
