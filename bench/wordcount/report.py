"""The benchmark's output: one Markdown table per broker and run, then the
issue's targets as ratios within that run, met or not."""

HEADER = ("| contender | lines/s | CPU us/line | records moved/line "
          "| peak RSS MB | s | check |\n|---|---|---|---|---|---|---|")


def row(r):
    moved = "%.1f" % r.moved if r.moved is not None else ""
    return "| %s | %.0f | %.1f | %s | %.0f | %.1f | %s |" % (
        r.contender.label, r.rate, r.cpu_us, moved, r.rss, r.secs, r.check)


def table(broker_name, run, results, missing):
    print("\n### %s, run %d\n" % (broker_name, run))
    print(HEADER)
    for r in results.values():
        print(row(r))
    for label, why in missing:
        print("| %s | n/a | | | | | %s |" % (label, why.replace("\n", " ")[:300]))
    print(flush=True)


def _verdict(ok):
    return "met" if ok else "NOT met"


def targets(results):
    """Lines: the issue's targets with their ratios in this run."""
    rate = {k: r.rate for k, r in results.items()}
    out = []

    def ratio(a, b, want, what):
        if a in rate and b in rate:
            x = rate[a] / rate[b]
            out.append("- %s: %.2f (target >= %g): %s" % (
                what, x, want, _verdict(x >= want)))
        else:
            out.append("- %s: n/a" % what)

    ratio("weir-update", "streams-nocache", 1.5,
          "Weir emit:update / Kafka Streams cache off (lines/s)")
    ratio("weir-latest", "streams-cache", 3,
          "Weir emit:latest / Kafka Streams default cache")
    ratio("weir-latest", "python", 5, "Weir emit:latest / hand-written Python")
    ratio("weir-latest", "quix", 5, "Weir emit:latest / Quix Streams")
    latest = results.get("weir-latest")
    if latest and latest.moved is not None:
        out.append("- Weir emit:latest records moved per line: %.2f "
                   "(target <= 2): %s" % (latest.moved,
                                          _verdict(latest.moved <= 2)))
    weir = [r.rss for k, r in results.items() if k in ("weir-update",
                                                        "weir-latest")]
    streams = [r.rss for k, r in results.items() if k.startswith("streams")]
    if weir:
        out.append("- Weir peak RSS %.0f MB (target <= 100 MB): %s" % (
            max(weir), _verdict(max(weir) <= 100)))
    if weir and streams:
        x = min(streams) / max(weir)
        out.append("- Kafka Streams peak RSS / Weir's: %.1f (target >= 5): %s"
                   % (x, _verdict(x >= 5)))
    ratio("weir-update", "weir-update-t1", 0, "scaling: Weir --threads 2 / 1")
    ratio("weir-cluster2", "weir-cluster1", 0,
          "scaling: Weir cluster 2 workers / 1")
    ratio("weir-latest", "passthrough", 0,
          "Weir emit:latest / raw passthrough (the floor)")
    return [line.replace(" (target >= 0): met", "") for line in out]


def ratios(broker_name, run, results):
    print("Targets, %s, run %d:" % (broker_name, run))
    for line in targets(results):
        print(line)
    print(flush=True)
