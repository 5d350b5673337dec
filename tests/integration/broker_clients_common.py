"""Shared helpers for the cross-client tests of weir-broker.

Each broker_clients_<client>.py script holds several named cases; every case
starts its own weir-broker (tests/lib/weirtest.py) on a free port and stops
it.  `main(CASES)` runs the cases named on the command line (all if none) so
that tests/clients.cmake registers each case as its own CTest test, and
prints one closing line "N passed, N failed".

Run under /usr/bin/python3 (Debian's confluent_kafka and kafka-python).
"""
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import weirtest  # noqa: E402

from weirtest import wait_until  # noqa: E402,F401  (re-exported)


def start_broker(cluster, extra=(), admin=False, name="broker",
                 data_dir=None, port=None):
    """Starts weir-broker in cluster's temp dir; returns the Proc. With
    admin, also its HTTP admin API (fault injection) on a free port."""
    args = list(extra)
    admin_port = None
    if admin:
        admin_port = weirtest.free_port()
        args += ["--admin", "127.0.0.1:%d" % admin_port]
    b = cluster.broker(name=name, extra=args, data_dir=data_dir, port=port)
    b.admin_port = admin_port
    b.admin_url = "http://127.0.0.1:%d" % admin_port if admin else None
    return b


def fault(broker, path):
    """POSTs path (e.g. "/fault/drop") to the broker's admin API."""
    req = urllib.request.Request(broker.admin_url + path, method="POST",
                                 data=b"")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def run(argv, timeout=60, input_bytes=None, env=None, check=True):
    """Runs a client program to completion; returns (stdout, stderr) text.

    Raises with both outputs when it fails (exit status != 0 and check) or
    does not finish within timeout seconds (the program is killed)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        cp = subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout,
                            env=full_env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s timed out after %ss\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(argv), timeout, _text(e.stdout)[-3000:],
            _text(e.stderr)[-3000:]))
    out, err = _text(cp.stdout), _text(cp.stderr)
    if check and cp.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(argv), cp.returncode, out[-3000:], err[-3000:]))
    return out, err


def _text(b):
    if b is None:
        return ""
    if isinstance(b, bytes):
        return b.decode("utf-8", "replace")
    return b


# Lines of librdkafka / kcat debug output that mean the broker spoke the
# protocol wrongly (bad framing, a version it did not advertise, a corrupt
# batch) or dropped a connection.  Errors a case provokes on purpose (a
# fenced producer, an aborted transaction) are not in this list.
PROTOCOL_ERROR_PATTERNS = [
    r"[Pp]rotocol parse failure",
    r"[Pp]rotocol read buffer underflow",
    r"buffer underflow",
    r"Invalid response size",
    r"[Mm]alformed",
    r"CORRUPT_MESSAGE",
    r"_BAD_MSG",
    r"Local: Bad message format",
    r"CRC.*(mismatch|fail)",
    r"UNSUPPORTED_VERSION",
    r"Unsupported version",
    r"_UNSUPPORTED_FEATURE",
    r"ApiVersionRequest failed",
    r"Connection reset by peer",
    r"Disconnected \(after",
    r"Receive failed",
    r"INVALID_REQUEST",
    r"UNKNOWN_SERVER_ERROR",
    r"correlation id",
]


def protocol_errors(text, allow=()):
    """Returns the debug-log lines that match a protocol error pattern and
    none of the allow patterns."""
    bad = []
    pats = [re.compile(p) for p in PROTOCOL_ERROR_PATTERNS]
    allows = [re.compile(a) for a in allow]
    for line in text.splitlines():
        if any(p.search(line) for p in pats) and \
                not any(a.search(line) for a in allows):
            bad.append(line)
    return bad


def assert_no_protocol_errors(text, what, allow=()):
    if not text.strip():
        raise AssertionError("%s: no debug log to scan" % what)
    bad = protocol_errors(text, allow)
    if bad:
        raise AssertionError("%s: %d protocol error line(s) in the client "
                             "debug log, first ones:\n%s" % (
                                 what, len(bad), "\n".join(bad[:20])))


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def create_topics(bootstrap, topics, partitions=3, config=None):
    """Creates topics with confluent_kafka's AdminClient (CreateTopics) and
    waits until the broker's metadata lists them."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futs = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1,
                  config=config or {}) for t in topics],
        operation_timeout=10, request_timeout=15)
    for t, f in futs.items():
        f.result(timeout=20)

    def listed():
        md = admin.list_topics(timeout=10)
        return all(t in md.topics and
                   len(md.topics[t].partitions) == partitions and
                   md.topics[t].error is None for t in topics)
    wait_until(listed, 20, "topics %s in metadata" % (topics,))


def main(cases):
    """Runs the named cases (argv[1:], all when empty); exits 1 on failure."""
    names = sys.argv[1:] or list(cases)
    unknown = [n for n in names if n not in cases]
    if unknown:
        print("unknown case(s): %s; known: %s" % (unknown, sorted(cases)))
        sys.exit(2)
    passed = failed = 0
    for name in names:
        start = time.monotonic()
        print("--- %s" % name, flush=True)
        try:
            cases[name]()
        except Exception:
            failed += 1
            traceback.print_exc()
            print("--- %s FAILED (%.1f s)" % (name, time.monotonic() - start),
                  flush=True)
        else:
            passed += 1
            print("--- %s ok (%.1f s)" % (name, time.monotonic() - start),
                  flush=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)
