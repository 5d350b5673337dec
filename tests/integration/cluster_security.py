"""Tokens, TLS and malformed input. With --token every control request and
every HTTP request must carry it (else rejected and counted); garbage,
unknown versions and types, malformed bodies and oversized messages get an
error reply (or a dropped connection) and never crash the coordinator;
the control plane also runs over TLS (tls+tcp://)."""
import socket
import struct
import subprocess
import sys

from cluster_common import (coordinator, create_topic, http_get, seed_lines,
                            produce, wait_exact, wait_running, wait_until,
                            weirctl, weirctl_json, weirtest, worker,
                            wordcount_yaml)

TOKEN = "s3cret-token"
MSG_ERROR, MSG_HELLO, MSG_STATUS = 1, 2, 24
ERR_MALFORMED, ERR_UNSUPPORTED, ERR_UNAUTHORIZED = 1, 2, 3


# ---- a minimal NNG REQ client and protobuf codec, to send what weirctl never would

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def envelope(type_, body=b"", token=b"", version=1, request_id=7):
    return (field(1, version) + field(2, type_) + field(3, request_id) +
            field(4, token) + field(5, body))


def parse(buf):
    """{field number: value} of a protobuf message (last value wins)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            out[num], i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            out[num], i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
    return out


def read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


class SpReq:
    """NNG's SP protocol over TCP as a REQ socket."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(b"\x00SP\x00" + struct.pack(">H", 0x30) + b"\x00\x00")
        hdr = self.recv_exact(8)
        assert hdr[:4] == b"\x00SP\x00" and struct.unpack(">H", hdr[4:6])[0] == 0x31, hdr
        self.id = 0x80000001

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    def call(self, payload):
        self.id += 1
        msg = struct.pack(">I", self.id) + payload
        self.s.sendall(struct.pack(">Q", len(msg)) + msg)
        n = struct.unpack(">Q", self.recv_exact(8))[0]
        body = self.recv_exact(n)
        assert struct.unpack(">I", body[:4])[0] == self.id
        return parse(body[4:])

    def close(self):
        self.s.close()


def expect_error(reply, code):
    assert reply.get(2) == MSG_ERROR, reply
    err = parse(reply.get(5, b""))
    assert err.get(1) == code, (err, code)
    return err.get(2, b"").decode()


def malformed(coord):
    c = SpReq(coord.port)
    tok = TOKEN.encode()
    expect_error(c.call(b"\xff\xff\xff\xff garbage"), ERR_MALFORMED)
    expect_error(c.call(envelope(MSG_STATUS, token=tok, version=2)), ERR_UNSUPPORTED)
    expect_error(c.call(envelope(99, token=tok)), ERR_UNSUPPORTED)
    expect_error(c.call(envelope(MSG_HELLO, b"\x0a\xff\x01x", token=tok)), ERR_MALFORMED)
    # a reply type is not a request
    expect_error(c.call(envelope(MSG_ERROR, token=tok)), ERR_UNSUPPORTED)
    # a Hello without a worker id is invalid
    expect_error(c.call(envelope(MSG_HELLO, b"", token=tok)), 6)
    # no token, wrong token
    expect_error(c.call(envelope(MSG_STATUS)), ERR_UNAUTHORIZED)
    expect_error(c.call(envelope(MSG_STATUS, token=b"wrong")), ERR_UNAUTHORIZED)
    # over the 16 MiB wire limit (but under the socket's): an error reply
    big = envelope(MSG_STATUS, b"x" * (16 * 1024 * 1024 + 10), token=tok)
    expect_error(c.call(big), ERR_MALFORMED)
    # the same connection still works
    ok = c.call(envelope(MSG_STATUS, token=tok))
    assert ok.get(2) == 25, ok
    c.close()
    # far over the limit: the connection is dropped, nothing allocated
    c = SpReq(coord.port)
    c.s.sendall(struct.pack(">Q", 1 << 40) + b"\x80\x00\x00\x01")
    c.s.settimeout(10)
    try:
        assert c.s.recv(1) == b""
    except ConnectionResetError:
        pass
    c.close()
    # not even the SP handshake
    s = socket.create_connection(("127.0.0.1", coord.port), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10)
    try:
        s.recv(100)
    except ConnectionResetError:
        pass
    s.close()


def make_cert(c):
    cert, key = c.path("tls", "cert.pem"), c.path("tls", "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    return cert, key


def main():
    with weirtest.Cluster() as c:
        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "text-lines", 2)
        coord = coordinator(c, bootstrap=bs, extra=["--token", TOKEN])

        # weirctl without or with a wrong token: one line, exit 1
        code, _, err = weirctl(coord, "status", check=False)
        assert code == 1 and "token" in err, (code, err)
        code, _, err = weirctl(coord, "jobs", token="nope", check=False)
        assert code == 1 and "token" in err, (code, err)
        assert len(err.strip().splitlines()) == 1, err
        weirctl(coord, "status", token=TOKEN)

        # HTTP: 401 without, 200 with each way of passing it
        assert http_get(coord, "/metrics")[0] == 401
        assert http_get(coord, "/api/jobs", token="wrong")[0] == 401
        assert http_get(coord, "/healthz")[0] == 401
        assert http_get(coord, "/api/jobs", token=TOKEN)[0] == 200
        assert http_get(coord, "/api/tasks?token=" + TOKEN)[0] == 200
        assert http_get(coord, "/", headers={"X-Weir-Token": TOKEN})[0] == 200

        malformed(coord)
        assert coord.alive()

        # a worker with a wrong token never registers; the right one does
        bad = worker(c, "bad", coord, bs, extra=["--token", "wrong"])
        wait_until(lambda: "hello failed" in bad.log(), 20, "bad hello")
        good = worker(c, "good", coord, bs, extra=["--token", TOKEN])
        job = wordcount_yaml(c.path("wordcount.yaml"))
        weirctl(coord, "submit", job, token=TOKEN)
        wait_running(coord, {"good"}, token=TOKEN)
        ids = [w["worker_id"] for w in
               weirctl_json(coord, "workers", token=TOKEN)["workers"]]
        assert ids == ["good"], ids
        produce(bs, "text-lines", seed_lines()[:200])
        print(wait_exact(bs, "text-lines", "wordcounts", timeout=60))

        code, body = http_get(coord, "/metrics", token=TOKEN)
        assert code == 200
        metrics = dict(l.rsplit(" ", 1) for l in body.splitlines()
                       if l and not l.startswith("#"))
        assert int(metrics['weir_rejected_requests_total{reason="malformed"}']) >= 2
        assert int(metrics['weir_rejected_requests_total{reason="oversized"}']) >= 1
        assert int(metrics['weir_rejected_requests_total{reason="unsupported"}']) >= 3
        assert int(metrics['weir_rejected_requests_total{reason="unauthorized"}']) >= 4
        assert int(metrics['weir_http_rejected_total{reason="unauthorized"}']) >= 3
        assert good.stop() == 0
        bad.stop()
        assert coord.stop() == 0

        # the control plane over TLS
        cert, key = make_cert(c)
        port = weirtest.free_port()
        tls = coordinator(c, name="tls-coordinator", bootstrap=bs, port=port,
                          extra=["--tls-cert", cert, "--tls-key", key,
                                 "--listen", "tls+tcp://127.0.0.1:%d" % port])
        assert "ready listen=tls+tcp://" in tls.log()
        tls.url = "tls+tcp://127.0.0.1:%d" % port
        st = weirctl_json(tls, "status")
        assert st["jobs"] == 0, st
        weirctl(tls, "submit", job)
        tw = worker(c, "tls-worker", tls, bs)
        wait_running(tls, {"tls-worker"})
        # plain TCP does not get through
        code, _, err = weirctl("tcp://127.0.0.1:%d" % port, "status",
                               "--timeout-ms", "2000", check=False)
        assert code == 1, (code, err)
        assert tw.stop() == 0
        assert tls.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
