"""The run's report: report.json (for scripts) and report.md (for people)."""
import json
import os


def write(dir, r):
    os.makedirs(dir, exist_ok=True)
    with open(os.path.join(dir, "report.json"), "w") as f:
        json.dump(r, f, indent=2)
        f.write("\n")
    with open(os.path.join(dir, "report.md"), "w") as f:
        f.write(markdown(r))


def markdown(r):
    out = ["# weir-chaos report", "",
           "**Verdict: %s**%s" % (r["verdict"].upper(),
                                  " - " + r["detail"] if r.get("detail") else ""), "",
           "| | |", "|---|---|",
           "| scenarios | %s |" % ", ".join(r["scenarios"]),
           "| seed | %d |" % r["seed"],
           "| duration | %d s of input, %.0f s in all |" % (r["duration_s"], r["elapsed_s"]),
           "| cluster | %s |" % r["cluster"],
           "| job | %s (emit %s) |" % (r["job"], r["emit"]),
           "| records in | %d lines |" % r["records_in"],
           "| records out | %d committed output records |" % r["records_out"],
           ""]
    if r.get("skipped"):
        out += ["Skipped here: %s." % "; ".join(r["skipped"]), ""]
    out += ["## Faults", "",
            "| # | scenario | injected at | healed at | recovered at | recovery |",
            "|---|---|---|---|---|---|"]
    for i, f in enumerate(r["faults"], 1):
        rec = ("%.1f s" % f["recovery_s"]) if f["recovered_at"] is not None else \
            "**not recovered**: " + f.get("error", "")
        out.append("| %d | %s | %s | %s | %s | %s |" % (
            i, f["scenario"], _t(f["injected_at"]), _t(f["healed_at"]),
            _t(f["recovered_at"]), rec))
    if r.get("crashes"):
        out += ["", "Processes that exited by themselves (restarted a second later, as a "
                "restart policy would): %s." % ", ".join(
                    "%s at %.1f s (status %s)" % (c["process"], c["t"], c["status"])
                    for c in r["crashes"])]
    out += ["", "Recovery: from the fault's end until every task of the job runs again "
            "on the workers that should own them and marker lines written then have gone "
            "through every partition into the committed output.", "", "## Timeline", "",
            "| time | event |", "|---|---|"]
    for e in r["timeline"]:
        out.append("| %s | %s: %s |" % (_t(e["t"]), e["kind"], e["what"]))
    out += ["", "## Exactly-once check", "", "```text", r.get("verify_output", "").strip(),
            "```", ""]
    return "\n".join(out)


def _t(t):
    return "-" if t is None else "%.1f s" % t
