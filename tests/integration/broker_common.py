"""Shared helpers for weir-broker's integration and fault tests."""
import logging
import os
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("WEIR_SOURCE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."), "tests", "lib"))

import weirtest  # noqa: E402
import confluent_kafka  # noqa: E402
from confluent_kafka import Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


class _ClientLog(logging.Handler):
    """Collects librdkafka's log lines (warnings and errors)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


CLIENT_LOG = _ClientLog()
_logger = logging.getLogger("weir.broker.clients")
_logger.addHandler(CLIENT_LOG)
_logger.setLevel(logging.WARNING)
_logger.propagate = False
# Signs of a protocol mismatch in librdkafka's logs.
_PROTOCOL_ERRORS = ("parse failure", "protocol parse", "malformed", "unsupported version",
                    "api version", "unknown api", "corrupt", "crc")


def Consumer(conf):
    c = dict(conf)
    c.setdefault("logger", _logger)
    return confluent_kafka.Consumer(c)


def protocol_errors():
    """librdkafka log lines that point at a protocol problem."""
    return [line for line in CLIENT_LOG.lines
            if any(k in line.lower() for k in _PROTOCOL_ERRORS)]

EOF_CODE = -191  # KafkaError._PARTITION_EOF


def start_broker(cluster, name="broker", admin=True, extra=(), data_dir=None, port=None,
                 env=None):
    args = list(extra)
    admin_port = None
    if admin:
        admin_port = weirtest.free_port()
        args += ["--admin", "127.0.0.1:%d" % admin_port]
    b = cluster.broker(name=name, extra=args, data_dir=data_dir, port=port, env=env)
    b.admin_port = admin_port
    return b


def restart(cluster, old, name, kill=False, extra=()):
    """Stops (SIGTERM) or kills (SIGKILL) old, starts a broker on its data."""
    if kill:
        old.kill()
    else:
        rc = old.stop()
        assert rc == 0, "SIGTERM exit code %r" % rc
    return start_broker(cluster, name=name, extra=extra, data_dir=old.data_dir,
                        port=old.port)


def admin(broker, path, method="POST"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (broker.admin_port, path),
                                 method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def create_topic(bs, name, partitions, config=None):
    a = AdminClient({"bootstrap.servers": bs})
    fs = a.create_topics([NewTopic(name, partitions, -1, config=config or {})],
                         operation_timeout=10)
    for f in fs.values():
        f.result(timeout=20)


def producer(bs, **conf):
    c = {"bootstrap.servers": bs, "linger.ms": 5, "logger": _logger}
    c.update({k.replace("_", "."): v for k, v in conf.items()})
    return Producer(c)


def read_all(bs, topic, partitions, isolation="read_committed", timeout=30):
    """Every record of topic up to the end (the LSO when read_committed),
    as sorted (partition, offset, key, value) tuples."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "reader",
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "enable.partition.eof": True, "check.crcs": True,
                  "auto.offset.reset": "earliest"})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out, eof = [], set()
        deadline = weirtest.time.monotonic() + timeout
        while len(eof) < partitions:
            if weirtest.time.monotonic() > deadline:
                raise TimeoutError("read_all(%s): EOF on %s only" % (topic, sorted(eof)))
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == EOF_CODE:
                    eof.add(m.partition())
                    continue
                raise RuntimeError("consume error: %s" % m.error())
            eof.discard(m.partition())
            out.append((m.partition(), m.offset(),
                        m.key().decode() if m.key() is not None else None,
                        m.value().decode() if m.value() is not None else None))
        return sorted(out)
    finally:
        c.close()


def values(records):
    return sorted(r[3] for r in records)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what.split("\n")[0][:150])
