"""Unsafe or wrong settings are refused with precise messages (issue 12,
items 10 and 11): a second coordinator on a live coordinator's data dir,
ports out of range, a data dir that is a file; the coordinator creates a
nested --data-dir; a submit whose state cannot be saved fails instead of
reporting success, and the failure is logged once, not on every try."""
import os
import subprocess
import sys

from cluster_common import (coordinator, free_port, weirctl, weirtest,
                            wordcount_yaml)

BIN_DIR = weirtest.BIN_DIR


def refused(binary, args, needle):
    r = subprocess.run([os.path.join(BIN_DIR, binary)] + args,
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode != 0, (binary, args, out)
    assert needle in out, (binary, args, needle, out)


def main():
    with weirtest.Cluster() as c:
        # Ports and data dirs of weir-broker.
        refused("weir-broker", ["--listen", "127.0.0.1:99999", "--data-dir",
                                c.path("b1")],
                "--listen 127.0.0.1:99999: the port must be a number from 0 "
                "to 65535")
        refused("weir-broker", ["--listen", "127.0.0.1:0", "--admin",
                                "127.0.0.1:70000", "--data-dir", c.path("b2")],
                "--admin 127.0.0.1:70000: the port must be")
        a_file = c.path("a-file")
        open(a_file, "w").close()
        refused("weir-broker", ["--listen", "127.0.0.1:0", "--data-dir", a_file],
                "data dir %s is not a directory" % a_file)

        broker = c.broker()
        # The coordinator's ports, and a data dir that is a file.
        refused("weir-coordinator", ["--listen", "tcp://127.0.0.1:99999",
                                     "--data-dir", c.path("c1"), "--bootstrap",
                                     broker.bootstrap],
                "--listen 127.0.0.1:99999: the port must be")
        refused("weir-coordinator", ["--listen", "tcp://127.0.0.1:0", "--http",
                                     "127.0.0.1:123456", "--data-dir",
                                     c.path("c2"), "--bootstrap",
                                     broker.bootstrap],
                "--http 127.0.0.1:123456: the port must be")
        refused("weir-coordinator", ["--listen", "tcp://127.0.0.1:0",
                                     "--data-dir", a_file, "--bootstrap",
                                     broker.bootstrap],
                "is not a directory")

        # A nested data dir is created.
        nested = os.path.join(c.dir, "coord", "nested", "state")
        coord = coordinator(c, bootstrap=broker.bootstrap, data_dir=nested)
        assert os.path.isdir(nested), nested
        # A second coordinator on the same data dir is refused; the first
        # keeps answering.
        refused("weir-coordinator", ["--listen", "tcp://127.0.0.1:%d"
                                     % free_port(), "--http", "",
                                     "--data-dir", nested, "--bootstrap",
                                     broker.bootstrap],
                "data dir %s is in use by another coordinator" % nested)
        code, _, err = weirctl(coord, "workers", check=False)
        assert code == 0, err

        # A submit whose effect cannot be made durable fails (a directory
        # where the state's temporary file goes makes every save fail, even
        # for root).
        os.makedirs(os.path.join(nested, "coordinator.state.tmp"))
        job = wordcount_yaml(c.path("wordcount.yaml"))
        code, _, err = weirctl(coord, "submit", job, check=False)
        assert code == 1 and "cannot save the coordinator state" in err, (
            code, err)
        log = coord.log()
        assert log.count("cannot save the coordinator state") == 1, log[-3000:]
        os.rmdir(os.path.join(nested, "coordinator.state.tmp"))
        coord.wait_line("state saved again", 10)
        assert coord.stop() == 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
