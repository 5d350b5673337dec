"""Pull queries of live state through the coordinator's HTTP API, on the
word count (store counts) with two workers:

- while lines are fed, a word's count is never ahead of the committed
  output (read_committed) read after the query;
- once the input is counted, every word's count equals its last committed
  output, the reply names the partition (murmur2, as the producer's) and
  the owner; a missing word is 404, a malformed path 400; a scan with a
  prefix and a limit returns matching rows; weirctl query answers the same;
- after the owner of a word's partition is SIGKILLed, a standby or the new
  owner answers (a standby says "stale": true), with the same count.
"""
import json
import os
import sys
import time
import urllib.parse

from cluster_common import (coordinator, create_topic, http_get, produce,
                            seed_lines, wait_exact, wait_running, weirctl,
                            weirtest, worker, wordcount_yaml)
from worker_common import (last_counts, produce_records, read_committed,
                           recent_base_ms)
from weirtest import SOURCE_DIR, wait_until


def query(coord, word):
    code, body = http_get(coord, "/api/jobs/wordcount/stores/counts/keys/" +
                          urllib.parse.quote(word, safe=""))
    return code, json.loads(body) if body.strip() else None


def windows(c, coord, bs):
    """A windowed store (examples/access-per-minute.yaml, key 'all'): every
    window of the key, each equal to the last count its minute has in the
    output; ?from=&to= keeps the windows starting in that range."""
    with open(os.path.join(SOURCE_DIR, "examples", "data", "access.log"),
              "rb") as f:
        lines = [line.rstrip(b"\n") for line in f if line.strip()]
    create_topic(bs, "access_logs", 1)
    _, out, _ = weirctl(coord, "submit", os.path.join(
        SOURCE_DIR, "examples", "access-per-minute.yaml"))
    wait_running(coord, job="access-per-minute")
    produce(bs, "access_logs", lines)
    path = "/api/jobs/access-per-minute/stores/hits-per-minute/keys/all"

    def minutes():
        last = {}
        for recs in read_committed(bs, "access_summary").values():
            for _, key, value in recs:
                last[key] = int(value)
        return last

    def equal():
        code, body = http_get(coord, path)
        if code != 200:
            return False
        got = {time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(
            w["start"] // 1000)): w["value"] for w in json.loads(body)[
            "windows"]}
        return got == minutes() and len(got) > 1 and got
    got = wait_until(equal, 60, "the windows equal to the output",
                     interval=0.5)
    starts = sorted(w["start"] for w in json.loads(http_get(coord, path)[1])[
        "windows"])
    code, body = http_get(coord, path + "?from=%d&to=%d" % (starts[1],
                                                            starts[1]))
    assert code == 200 and [w["start"] for w in json.loads(body)[
        "windows"]] == [starts[1]], body
    print("windowed: %d windows of key all, as in the output" % len(got))


SESSIONS_JOB = """\
job: sessions
sources:
  clicks: { topic: clicks, key: string, value: json }
pipeline:
  - from: clicks
  - group_by: key
  - window: { type: session, gap: 5m }
  - count: { store: per-session }
  - to: { topic: sessions-out, value: json }
"""


def sessions(c, coord, bs):
    """A session store: a key's open sessions, each with its count."""
    create_topic(bs, "clicks", 4)
    job = c.path("sessions.yaml")
    with open(job, "w") as f:
        f.write(SESSIONS_JOB)
    weirctl(coord, "submit", job)
    wait_running(coord, job="sessions")
    t0 = recent_base_ms()
    minute = 60000
    times = [t0, t0 + minute, t0 + 2 * minute, t0 + 20 * minute,
             t0 + 21 * minute]
    produce_records(bs, [("clicks", t, "u1", '{"page": "/"}')
                         for t in times])
    # The first session (3 clicks) closed when stream time passed its end
    # + gap: a store keeps the open sessions.
    want = [{"start": t0 + 20 * minute, "end": t0 + 21 * minute, "value": 2}]
    path = "/api/jobs/sessions/stores/per-session/keys/u1"

    def answered():
        code, body = http_get(coord, path)
        return code == 200 and json.loads(body)["windows"] == want
    try:
        wait_until(answered, 60, "the open session of u1", interval=0.3)
    finally:
        print("sessions of u1: %s" % (http_get(coord, path),), flush=True)
    code, body = http_get(coord, path + "?to=%d" % (t0 + 19 * minute))
    assert code == 404, (code, body)
    print("sessions: %s" % want)


def main():
    with weirtest.Cluster() as c:
        bs = c.broker().bootstrap
        create_topic(bs, "text-lines", 4)
        coord = coordinator(c, bootstrap=bs, extra=["--session-timeout-ms",
                                                    "3000"])
        ws = [worker(c, "w%d" % i, coord, bs) for i in (1, 2)]
        _, out, _ = weirctl(coord, "submit", wordcount_yaml(
            c.path("wordcount.yaml")))
        wait_running(coord)
        lines = seed_lines()
        half = len(lines) // 2
        produce(bs, "text-lines", lines[:half])
        # Never ahead of the committed output (the most frequent word of
        # the first half, counted on while the second half comes in).
        first = wait_until(lambda: last_counts(bs, "wordcounts"), 30, "first counts")
        word = max(first, key=first.get)
        produce(bs, "text-lines", lines[half:], start_key=half)
        checked = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and checked < 30:
            code, body = query(coord, word)
            if code == 200:
                assert last_counts(bs, "wordcounts").get(word, 0) >= body["value"], body
                checked += 1
        assert checked > 0, "no answer while counting: %s" % (
            query(coord, word),)
        wait_exact(bs, "text-lines", "wordcounts")
        last = last_counts(bs, "wordcounts")
        words = sorted(last)[:: max(1, len(last) // 40)]
        for w in words:
            code, body = query(coord, w)
            assert code == 200 and body["value"] == last[w], (w, code, body)
            assert body["key"] == w and body["stale"] is False, body
            assert body["owner"] in ("w1", "w2") and body["offset"] >= 0, body
        print("%d words answered, equal to the output" % len(words))
        _, out, _ = weirctl(coord, "--http", coord.http, "query", "wordcount",
                            "counts", word)
        assert json.loads(out)["value"] == last[word], out
        code, _, err = weirctl(coord, "--http", coord.http, "query",
                               "wordcount", "counts", "no such word",
                               check=False)
        assert code == 1 and "no such key" in err, (code, err)
        code, body = query(coord, "no-such-word-here")
        assert code == 404, (code, body)
        code, body = http_get(coord, "/api/jobs/wordcount/stores/counts/keys/"
                              "a?from=x")
        assert code == 400, (code, body)
        code, body = http_get(coord, "/api/jobs/nope/stores/counts/keys/a")
        assert code == 404, (code, body)
        prefix = word[:2]
        code, body = http_get(coord, "/api/jobs/wordcount/stores/counts"
                              "?prefix=%s&limit=5" % prefix)
        rows = json.loads(body)["rows"]
        assert code == 200 and 0 < len(rows) <= 5, (code, body)
        assert all(r["key"].startswith(prefix) and
                   r["value"] == last[r["key"]] for r in rows), rows
        windows(c, coord, bs)
        sessions(c, coord, bs)
        # The owner of the word dies: a standby, then the new owner, answers.
        owner = query(coord, word)[1]["owner"]
        victim = ws[0] if owner == "w1" else ws[1]
        victim.kill()
        answers = set()

        def answered_by_other():
            code, body = query(coord, word)
            if code == 200:
                assert body["value"] == last[word], body
                assert body["stale"] == ("lag" in body), body
                answers.add((body["owner"], body["stale"], body.get("lag")))
            return code == 200 and body["owner"] != owner
        wait_until(answered_by_other, 30, "an answer from another worker",
                   interval=0.2)
        print("after SIGKILL of %s: answers %s" % (owner, sorted(answers)))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
