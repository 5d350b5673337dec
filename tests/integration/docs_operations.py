"""docs/operations.md runs as written: every ```sh block, in order, in one
bash (set -e) from a fresh directory beside the repository's examples,
with the built binaries on PATH. The ports the page names are swapped for
free ones (so the test never collides with anything on the machine);
nothing else in the text is changed. Every process the page starts is
stopped by the page itself (the test checks each logged its stop)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import weirtest  # noqa: E402
from weirtest import BIN_DIR, SOURCE_DIR, free_port  # noqa: E402


def blocks(text):
    return re.findall(r"^```sh\n(.*?)^```$", text, re.S | re.M)


def pid_alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    with open(os.path.join(SOURCE_DIR, "docs", "operations.md")) as f:
        script = "\n".join(blocks(f.read()))
    assert "weir-broker" in script and "weirctl submit" in script, script
    ports = {p: free_port() for p in ("9092", "7700", "7780")}
    for port, new in ports.items():
        script = script.replace(":" + port, ":%d" % new)
    with weirtest.Cluster() as c:
        os.symlink(os.path.join(SOURCE_DIR, "examples"), c.path("examples"))
        # weirctl's default coordinator is the page's port 7700
        env = dict(os.environ, PATH=BIN_DIR + ":" + os.environ["PATH"],
                   WEIR_COORDINATOR="tcp://127.0.0.1:%d" % ports["7700"])
        r = None
        try:
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", script],
                               cwd=c.dir, env=env, capture_output=True,
                               text=True, timeout=180)
        finally:
            for name in (("broker", "coordinator", "w1", "w2")
                         if r is None or r.returncode else ()):
                p = c.path("weir-data", name + ".pid")
                if os.path.exists(p):
                    with open(p) as f:
                        subprocess.run(["kill", "-9", f.read().strip()],
                                       capture_output=True)
        print(r.stdout[-4000:])
        logs = ""
        for name in ("broker", "coordinator", "w1", "w2"):
            p = c.path("weir-data", name + ".log")
            if os.path.exists(p):
                with open(p) as f:
                    logs += "---- %s\n%s" % (name, f.read()[-3000:])
        assert r.returncode == 0, (r.returncode, r.stderr[-3000:], logs)
        assert "submitted job wordcount (8 tasks)" in r.stdout, r.stdout
        assert "ok" in r.stdout and "weir_tasks{" in r.stdout, r.stdout
        # the page stopped everything it started, cleanly (its kill sends
        # SIGTERM and returns: wait for each process to finish stopping)
        for name in ("broker", "coordinator", "w1", "w2"):
            with open(c.path("weir-data", name + ".pid")) as f:
                pid = int(f.read())
            weirtest.wait_until(lambda: not pid_alive(pid), 60,
                                "%s (pid %d) to exit" % (name, pid))
            with open(c.path("weir-data", name + ".log")) as f:
                log = f.read()
            assert "stopped" in log or "stopping" in log, (name, log[-2000:])
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
