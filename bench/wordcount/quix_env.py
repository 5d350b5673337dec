"""The benchmark's Python virtualenv for Quix Streams (PyPI quixstreams,
which brings its own confluent-kafka), created on demand in
<repo>/.cache/bench-venv with the first Python that can make one."""
import os
import shutil
import subprocess

import weirtest

QUIXSTREAMS = "quixstreams==3.28.1"
VENV = os.path.join(weirtest.SOURCE_DIR, ".cache", "bench-venv")


def _has_quix(python):
    return subprocess.run([python, "-c", "import quixstreams"],
                          capture_output=True).returncode == 0


def quix_python():
    """The venv's python with quixstreams importable; creates it first
    when it is missing."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python) and _has_quix(python):
        return python
    errors = []
    for base in [shutil.which("python3"), "/usr/bin/python3"]:
        if not base:
            continue
        shutil.rmtree(VENV, ignore_errors=True)
        r = subprocess.run([base, "-m", "venv", VENV], capture_output=True,
                           text=True)
        if r.returncode != 0:
            errors.append("%s -m venv: %s" % (base, r.stderr.strip()))
            continue
        r = subprocess.run([python, "-m", "pip", "install", "-q", QUIXSTREAMS],
                           capture_output=True, text=True, timeout=900)
        if r.returncode == 0 and _has_quix(python):
            return python
        errors.append("%s: pip install %s: %s" % (base, QUIXSTREAMS,
                                                   r.stderr.strip()[-2000:]))
    raise RuntimeError("no virtualenv with quixstreams:\n" + "\n".join(errors))
