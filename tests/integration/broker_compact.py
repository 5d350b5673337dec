"""Compacted topics (cleanup.policy=compact, as Weir's changelogs are):
weir-broker keeps the latest record of every key in closed segments, drops
aborted transactional records, keeps what is committed, and the result
survives a restart."""
from broker_common import (protocol_errors, check, create_topic, producer, read_all, restart,
                           start_broker, weirtest)


def latest(records):
    out = {}
    for r in records:
        out[r[2]] = r[3]
    return out


def main():
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster)
        bs = b.bootstrap
        create_topic(bs, "changelog", 1, {"cleanup.policy": "compact",
                                          "segment.bytes": "4096",
                                          "delete.retention.ms": "0"})
        p = producer(bs, enable_idempotence=True, linger_ms=0)
        expect = {}
        for i in range(600):
            k, v = "k%02d" % (i % 20), "v%04d" % i
            p.produce("changelog", key=k, value=v, partition=0)
            if i % 10 == 9:
                p.flush(10)  # small batches: many segments of 4 KiB
            expect[k] = v
        p.flush(20)
        t = producer(bs, transactional_id="cl-txn")
        t.init_transactions(10)
        t.begin_transaction()
        for i in range(20):
            t.produce("changelog", key="k%02d" % i, value="aborted", partition=0)
        t.flush(10)
        t.abort_transaction(10)
        # More writes so the aborted batch lands in a closed segment.
        for i in range(600, 1200):
            k, v = "k%02d" % (i % 20), "v%04d" % i
            p.produce("changelog", key=k, value=v, partition=0)
            if i % 10 == 9:
                p.flush(10)  # small batches: many segments of 4 KiB
            expect[k] = v
        p.flush(20)
        before = 1200 + 20  # records written, aborted ones included

        def compacted():
            recs = read_all(bs, "changelog", 1, "read_uncommitted")
            done = len(recs) < before // 2 and latest(recs) == expect and all(r[3] != "aborted" for r in recs)
            return recs if done else None
        recs = weirtest.wait_until(compacted, 30, "compaction", interval=0.3)
        check(latest(recs) == expect,
              "compaction keeps the latest value of every key (%d of %d records left)"
              % (len(recs), before))
        check(all(r[3] != "aborted" for r in recs),
              "aborted transactional records are gone even for read_uncommitted")
        b = restart(cluster, b, "b1")
        recs = read_all(bs, "changelog", 1)
        check(latest(recs) == expect, "the compacted log survives a restart")
        check(not protocol_errors(), "no protocol errors in client logs: %s" % protocol_errors())
        check(b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
