"""A strict check of Prometheus text exposition (format 0.0.4): every family
has HELP and TYPE before its samples, a family's samples are contiguous
(never interleaved with another family's), no empty label sets ("x{}"),
and the text parses with prometheus_client's parser (Debian's
python3-prometheus-client). Returns {family name: [samples]}."""
import re

from prometheus_client.parser import text_string_to_metric_families

_SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")


def _family_of(sample, types):
    if sample in types:
        return sample
    for s in _SUFFIXES:
        if sample.endswith(s) and sample[:-len(s)] in types:
            return sample[:-len(s)]
    return sample


def check(text):
    helps, types, seen, order = {}, {}, set(), []
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", line)
        if m:
            kind, name, rest = m.groups()
            (helps if kind == "HELP" else types)[name] = rest
            if name in seen:
                raise AssertionError("line %d: %s described again after its "
                                     "samples" % (n, name))
            current = name
            continue
        if line.startswith("#"):
            continue
        assert "{}" not in line, "line %d: empty label set: %s" % (n, line)
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        fam = _family_of(name, types)
        assert fam in types, "line %d: %s has no # TYPE" % (n, name)
        assert fam in helps, "line %d: %s has no # HELP" % (n, fam)
        if fam != current:
            raise AssertionError("line %d: sample of %s outside its family "
                                 "(inside %s)" % (n, fam, current))
        if fam not in seen:
            seen.add(fam)
            order.append(fam)
    parsed = {}
    for f in text_string_to_metric_families(text):
        parsed[f.name] = f.samples
    return parsed
