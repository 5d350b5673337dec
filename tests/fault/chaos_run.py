"""weir-chaos, driven as a user runs it, with its report checked.

    chaos_run.py cli                      list and usage errors
    chaos_run.py SCENARIOS DURATION SEED  a seeded campaign on a local
                                          cluster: exit 0, verdict exact,
                                          every fault recovered from
                                          (on Apache Kafka: --kafka, when
                                          WEIR_TEST_BROKER=kafka)

A worker cut off from the coordinator, or paused past its session, must be
declared dead and its tasks must move (their new owners fence it) before
the fault ends; after it, the worker owns tasks again (recovery waits for
every worker to own tasks and for marker lines through every partition).
"""
import json
import os
import subprocess
import sys
import tempfile

BIN_DIR = os.environ.get("WEIR_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
CHAOS = os.path.join(BIN_DIR, "weir-chaos")
FENCING = {"partition-coordinator", "partition-both", "worker-pause"}


def chaos(*args, timeout=60):
    return subprocess.run([CHAOS] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def cli():
    r = chaos("list")
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines()]
    for want in ("worker-kill", "worker-kill-wipe", "worker-pause", "coordinator-kill",
                 "broker-kill", "broker-faults", "partition-coordinator", "partition-broker",
                 "disk-full", "clock-jump", "mixed", "all"):
        assert want in names, (want, names)
    r = chaos("run", "--scenario", "no-such-fault", "--duration", "5s")
    assert r.returncode == 2 and "unknown scenario" in r.stderr, (r.returncode, r.stderr)
    r = chaos("run", "--duration", "soon")
    assert r.returncode == 2 and "duration" in r.stderr, (r.returncode, r.stderr)
    r = chaos("run", "--bootstrap", "127.0.0.1:1")
    assert r.returncode == 2 and "--coordinator" in r.stderr, (r.returncode, r.stderr)


def campaign(scenarios, duration, seed):
    report = tempfile.mkdtemp(prefix="weir-chaos-report-")
    kafka = ["--kafka"] if os.environ.get("WEIR_TEST_BROKER") == "kafka" else []
    r = chaos("run", "--scenario", scenarios, "--duration", duration, "--seed", seed,
              "--report", report, *kafka, timeout=1500)
    print(r.stdout[-6000:], r.stderr[-3000:])
    assert r.returncode == 0, "weir-chaos exited %d" % r.returncode
    rep = json.load(open(os.path.join(report, "report.json")))
    md = open(os.path.join(report, "report.md")).read()
    assert rep["verdict"] == "exact" and "**Verdict: EXACT**" in md, rep["verdict"]
    assert rep["faults"] and rep["records_in"] > 0 and rep["records_out"] > 0
    for f in rep["faults"]:
        assert f["recovered_at"] is not None, f
        if f["scenario"] in FENCING:
            during = [e["kind"] for e in rep["timeline"]
                      if f["injected_at"] <= e["t"] <= f["healed_at"]]
            assert "fenced" in during and "moved" in during, (f, during)
    if scenarios != "mixed":
        assert {f["scenario"] for f in rep["faults"]} == set(scenarios.split(","))
    print("ok: %d faults, %d lines in, %d records out, recovery %s s" % (
        len(rep["faults"]), rep["records_in"], rep["records_out"],
        ", ".join("%.1f" % f["recovery_s"] for f in rep["faults"])))


def main(argv):
    if argv[1:] == ["cli"]:
        cli()
    else:
        campaign(*argv[1:4])
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
