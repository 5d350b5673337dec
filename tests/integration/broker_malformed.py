"""weir-broker's request decoder against bad input over a raw socket: a
malformed, truncated or oversized request closes that connection with a
log line and changes nothing; an unknown API or version is refused with a
log line; an ApiVersions request of a newer version gets
UNSUPPORTED_VERSION with the supported list; the broker keeps serving."""
import socket
import struct

from broker_common import (check, create_topic, producer, read_all, start_broker,
                           values, weirtest)


def frame(api, version, corr, body, client_id=b"raw", flexible=False):
    hdr = struct.pack(">hhih", api, version, corr, len(client_id)) + client_id
    if flexible:
        hdr += b"\x00"  # empty tagged fields
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def exchange(port, data, expect_answer):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        if not expect_answer:
            got = s.recv(4)  # the broker closes: EOF
            return got
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        return recv_exact(s, size)
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def produce_body(topic, records):
    return (struct.pack(">hhi", -1, -1, 30000) + struct.pack(">i", 1) +
            struct.pack(">h", len(topic)) + topic + struct.pack(">i", 1) +
            struct.pack(">i", 0) + struct.pack(">i", len(records)) + records)


def main():
    with weirtest.Cluster() as cluster:
        b = start_broker(cluster)
        bs, port = b.bootstrap, b.port
        create_topic(bs, "raw", 1)
        p = producer(bs)
        p.produce("raw", value="before", partition=0)
        p.flush(10)

        # ApiVersions v9: UNSUPPORTED_VERSION (35) and the list, in v0.
        ans = exchange(port, frame(18, 9, 7, b""), True)
        corr, err, n = struct.unpack(">ihi", ans[:10])
        check(corr == 7 and err == 35 and n >= 19,
              "newer ApiVersions gets UNSUPPORTED_VERSION with %d APIs" % n)
        ans = exchange(port, frame(18, 3, 8, b"\x05weir\x021\x00", flexible=True), True)
        check(struct.unpack(">ih", ans[:6]) == (8, 0), "ApiVersions v3 (flexible) answered")

        bad = {
            "unknown API key": frame(77, 0, 1, b""),
            "unsupported Produce version": frame(0, 1, 1, produce_body(b"raw", b"x" * 70)),
            "truncated Metadata": frame(3, 1, 1, b"\x00\x00\x00\x05\x00"),
            "string past the end": frame(3, 1, 1, b"\x00\x00\x00\x01\x7f\xff"),
            "negative request size": struct.pack(">i", -5) + b"\x00" * 8,
            "oversized request": struct.pack(">i", 0x7ffffff0) + b"\x00" * 8,
            "too short for a header": struct.pack(">i", 3) + b"\x00\x03\x00",
            "client id past the end": struct.pack(">i", 10) + struct.pack(">hhih", 3, 1, 1, 100),
            "array count beyond the data": frame(0, 3, 1, struct.pack(">hhi", -1, -1, 1000) +
                                                 struct.pack(">i", 1 << 30)),
        }
        for what, data in bad.items():
            got = exchange(port, data, False)
            check(got == b"", "%s: connection closed" % what)
        # A well-framed Produce whose batch is garbage is an error, not data.
        ans = exchange(port, frame(0, 3, 9, produce_body(b"raw", b"\x00" * 80)), True)
        check(ans[:4] == struct.pack(">i", 9), "corrupt batch answered (CORRUPT_MESSAGE)")

        log = b.log()
        for needle in ("unsupported API key 77", "unsupported Produce version 1",
                       "malformed Metadata v1", "bad request size", "malformed request header",
                       "malformed Produce v3"):
            check(needle in log, "broker log says '%s'" % needle)
        p.produce("raw", value="after", partition=0)
        p.flush(10)
        check(values(read_all(bs, "raw", 1)) == ["after", "before"],
              "no data touched, the broker keeps serving")
        check(b.alive() and b.stop() == 0, "broker exits 0 on SIGTERM")


if __name__ == "__main__":
    main()
