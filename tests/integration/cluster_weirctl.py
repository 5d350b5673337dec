"""weirctl's command line: exit 0 on success, 1 on a failed command (one
line on stderr), 2 on bad usage; `topology` works offline; job file errors
come back with file, line and column; JSON output parses."""
import json
import os
import socket
import sys
import time

from cluster_common import (coordinator, free_port, weirctl, weirctl_json,
                            weirtest, wordcount_yaml)

SRC = weirtest.SOURCE_DIR


def run(*args, coord=None):
    return weirctl(coord, *args, check=False)


def one_line(err):
    assert len(err.strip().splitlines()) == 1, err


def main():
    with weirtest.Cluster() as c:
        job = wordcount_yaml(c.path("wordcount.yaml"))
        # usage errors: exit 2
        for args in ([], ["frobnicate"], ["describe"], ["jobs", "extra"],
                     ["--no-such-flag", "jobs"]):
            code, _, err = run(*args)
            assert code == 2, (args, code, err)
            one_line(err)
        code, out, _ = run("--help")
        assert code == 0 and "drain WORKER" in out, out

        # offline topology
        code, out, err = run("topology", job)
        assert code == 0 and "wordcount" in out, (code, out, err)
        code, out, _ = run("topology", job, "--dot")
        assert code == 0 and "digraph" in out, out
        code, out, _ = run("--json", "topology", job)
        assert code == 0 and json.loads(out)["job"] == "wordcount", out
        bad = c.path("bad.yaml")
        with open(bad, "w") as f:
            f.write("job: bad\nsources:\n  lines: { topic: t }\npipeline:\n"
                    "  - from: nowhere\n")
        code, _, err = run("topology", bad)
        assert code == 1 and bad + ":5:" in err, (code, err)
        code, _, err = run("topology", c.path("missing.yaml"))
        assert code == 1, (code, err)

        # no coordinator there: exit 1, one line
        dead = "tcp://127.0.0.1:%d" % free_port()
        code, _, err = run("jobs", coord=dead)
        assert code == 1 and "coordinator" in err, (code, err)
        one_line(err)
        # An unresponsive coordinator (connections accepted, never
        # answered): --timeout-ms bounds the wait.
        with socket.socket() as mute:
            mute.bind(("127.0.0.1", 0))
            mute.listen(8)
            url = "tcp://127.0.0.1:%d" % mute.getsockname()[1]
            t0 = time.monotonic()
            code, _, err = run("--timeout-ms", "1000", "jobs", coord=url)
            took = time.monotonic() - t0
            assert code == 1 and "timed out" in err, (code, err)
            assert took < 4, took

        broker = c.broker()
        coord = coordinator(c, bootstrap=broker.bootstrap)
        code, _, err = run("submit", bad, coord=coord)
        assert code == 1 and bad + ":5:" in err, (code, err)
        code, _, err = run("submit", c.path("missing.yaml"), coord=coord)
        assert code == 1, (code, err)
        # A long error list arrives whole (not cut at 1 KiB mid-word): 60
        # unknown keys, each reported with its line.
        many = c.path("many.yaml")
        with open(many, "w") as f:
            f.write("job: many\nsources:\n  lines: { topic: t }\npipeline:\n"
                    "  - from: lines\n")
            for i in range(60):
                f.write("  - map: { value: value, unknown_key_%02d: 1 }\n" % i)
            f.write("  - to: { topic: out }\n")
        code, _, err = run("submit", many, coord=coord)
        assert code == 1, (code, err)
        for i in range(60):
            assert "unknown key 'unknown_key_%02d'" % i in err, (i, err)
            assert "%s:%d:" % (many, 6 + i) in err, (i, err)
        # A directory or a binary file is named as such, not sent.
        code, _, err = run("submit", c.path(""), coord=coord)
        assert code == 1 and "Is a directory" in err, (code, err)
        binary = c.path("binary.yaml")
        with open(binary, "wb") as f:
            f.write(b"\0\x01\x02job: x\n")
        code, _, err = run("submit", binary, coord=coord)
        assert code == 1 and "not a text file" in err, (code, err)
        code, out, _ = run("submit", job, coord=coord)
        assert code == 0 and "submitted job wordcount (8 tasks)" in out, out
        code, _, err = run("submit", job, coord=coord)
        assert code == 1 and "already exists" in err, (code, err)
        code, _, err = run("describe", "nope", coord=coord)
        assert code == 1 and "not found" in err, (code, err)
        one_line(err)
        d = weirctl_json(coord, "describe", "wordcount")
        assert len(d["tasks"]) == 8 and d["topology"]["job"] == "wordcount", d
        code, out, _ = run("jobs", coord=coord)
        assert code == 0 and out.splitlines()[0].split()[:3] == ["JOB", "STATE", "TASKS"], out
        code, out, _ = run("status", coord=coord)
        assert code == 0 and "tasks       8 (8 unassigned)" in out, out
        # the same through the environment
        env = dict(os.environ, WEIR_COORDINATOR=coord.url)
        import subprocess
        r = subprocess.run([os.path.join(weirtest.BIN_DIR, "weirctl"), "--json",
                            "jobs"], env=env, capture_output=True, text=True)
        assert r.returncode == 0 and json.loads(r.stdout)["jobs"][0]["name"] == "wordcount"
        assert coord.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
