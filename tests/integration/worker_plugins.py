"""--plugins on the binaries: a job calling a plugin's function is refused
without the plugin (with the call's position) and compiles with it
(weir-worker --check, weirctl topology); a standalone worker loaded with
it runs the function on every record against a real weir-broker; a
plugin that cannot be loaded stops each binary with status 2."""
import os
import subprocess
import sys

from worker_common import create_topic, produce, test_dir, wait_until, weirtest, worker
from worker_verify import read_topic

PLUGIN = os.environ["WEIR_TEST_UDF_PLUGIN"]
BIN = weirtest.BIN_DIR

JOB = """job: mirror
guarantee: exactly_once
sources:
  words: { topic: plain, key: string, value: string }
pipeline:
  - from: words
  - map_values: "reverse(value)"
  - to: { topic: mirrored, value: string }
"""


def run(*argv):
    return subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]),
                          capture_output=True, text=True, timeout=60)


def main():
    with weirtest.Cluster() as c:
        job = c.path("mirror.yaml")
        with open(job, "w") as f:
            f.write(JOB)

        r = run("weir-worker", "--check", job)
        assert r.returncode == 1, r
        assert "reverse" in r.stderr and ":7:" in r.stderr, r.stderr
        r = run("weir-worker", "--check", job, "--plugins", PLUGIN)
        assert r.returncode == 0, r.stderr
        r = run("weirctl", "topology", job, "--plugins", PLUGIN)
        assert r.returncode == 0, r.stderr
        for argv in (["weir-worker", "--check", job],
                     ["weirctl", "topology", job],
                     ["weir-coordinator", "--data-dir", c.path("coord"),
                      "--bootstrap", "127.0.0.1:1"]):
            r = run(*(argv + ["--plugins", "/nonexistent/plugin.so"]))
            assert r.returncode == 2, (argv, r)
            assert "/nonexistent/plugin.so" in r.stderr, (argv, r.stderr)

        broker = c.broker()
        bs = broker.bootstrap
        create_topic(bs, "plain", 2)
        words = [b"stream", b"weir", b"exactly", b"once", b""]
        produce(bs, "plain", words)
        w = worker(c, "worker", job, bs, test_dir(c, "data"),
                   extra=["--plugins", PLUGIN])

        def mirrored():
            got = sorted(v for part in read_topic(bs, "mirrored", 10).values()
                         for _, v in part)
            return got if len(got) == len(words) else None
        got = wait_until(mirrored, 60, "the mirrored words", interval=0.5)
        assert got == sorted(x[::-1] for x in words), got
        assert w.stop() == 0
    print("ok: --plugins loads user-defined functions in every binary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
