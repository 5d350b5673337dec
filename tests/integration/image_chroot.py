"""The image, tested without a Docker engine: builds docker/Dockerfile's
runtime stage in a chroot and runs the word count in it (docs/deploy.md).

The runtime stage is read from the Dockerfile, not restated here, so the
two cannot drift:

  FROM debian:bookworm-slim  debootstrap --variant=minbase bookworm, cached
                             in .cache/image-chroot/minbase
  ARG NAME=value             set for the RUN steps
  RUN ...                    run verbatim in the chroot (/bin/sh -c), once:
                             the result is cached in .cache/image-chroot/
                             runtime and rebuilt when the RUN text changes;
                             every package its apt-get install names must
                             then be installed
  COPY --from=build /out/    the build stage's binaries, built here with its
                             cmake options into build-image/
  COPY SRC DST               a file or folder copied from the source tree
                             (examples/, weir-chaos and its package);
                             the dockerignore's **/NAME patterns apply
  USER, WORKDIR              the processes run as that user
  VOLUME, EXPOSE, CMD        CMD is run; the others need no engine

Any other instruction fails the test, so a change to the Dockerfile this
test does not understand is never skipped quietly.

In the chroot every binary's --help must exit 0, then weir-broker, a
coordinator and two workers run the word count on loopback ports chosen at
run time; the seed text is fed from the host (the chroot shares its network)
and weir-verify, run inside the chroot, gives the verdict. Then weir-chaos,
as the image installs it: --help, list, and a short worker-kill campaign on
a local cluster of the chroot's binaries (no network namespaces: the image
runs as an unprivileged user). Needs root and debootstrap
(scripts/install-deps).
"""
import hashlib
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

from worker_common import produce, seed_lines, wait_exact, weirtest

ROOT = weirtest.SOURCE_DIR
DOCKERFILE = os.path.join(ROOT, "docker", "Dockerfile")
DOCKERIGNORE = DOCKERFILE + ".dockerignore"
CACHE = os.environ.get("WEIR_IMAGE_CACHE") or os.path.join(
    ROOT, ".cache", "image-chroot")
BUILD_DIR = os.path.join(ROOT, "build-image")


def log(msg):
    print("image: " + msg, flush=True)


# ------------------------------------------------------------ Dockerfile

def instructions(path):
    """(instruction, argument text) per Dockerfile line, continuations
    joined and comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    if cur:
        raise SystemExit("%s: ends inside a continued line" % path)
    return out


def stages(path):
    """{stage name or index: [instructions]}, plus the last stage's list."""
    named, order = {}, []
    for ins, arg in instructions(path):
        if ins == "FROM":
            order.append([(ins, arg)])
            words = arg.split()
            if len(words) == 3 and words[1].upper() == "AS":
                named[words[2]] = order[-1]
        elif order:
            order[-1].append((ins, arg))
    if not order:
        raise SystemExit("%s: no FROM" % path)
    return named, order[-1]


def apt_packages(run):
    """The package names of every 'apt-get install' in a RUN text."""
    pkgs = []
    for cmd in re.split(r"&&|;|\|\|", run):
        words = shlex.split(cmd)
        if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
            after = words[words.index("install") + 1:]
            pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def build_recipe(build_stage):
    """The build stage's binaries and cmake configure options."""
    text = " ".join(arg for ins, arg in build_stage if ins == "RUN")
    bins = re.search(r'bins="([^"]+)"', text)
    conf = re.search(r"cmake -S \. -B /build((?: -D[^\s;&|]+)*)", text)
    if not bins or not conf:
        raise SystemExit("docker/Dockerfile: the build stage no longer has "
                         "'bins=\"...\"' and 'cmake -S . -B /build -D...': "
                         "update tests/integration/image_chroot.py")
    return bins.group(1).split(), conf.group(1).split()


# ------------------------------------------------------------ the chroot

def host_mirrors():
    """The Debian and security mirrors this machine's apt uses."""
    text = ""
    for p in ["/etc/apt/sources.list"] + sorted(
            glob.glob("/etc/apt/sources.list.d/*")):
        try:
            text += open(p).read() + "\n\n"
        except OSError:
            pass
    main = sec = None
    for uri in re.findall(r"^(?:URIs:|deb)\s+(?:\[[^]]*\]\s+)?(\S+)", text,
                          re.M):
        if uri.rstrip("/").endswith("/debian-security"):
            sec = sec or uri
        elif uri.rstrip("/").endswith("/debian"):
            main = main or uri
    return (os.environ.get("WEIR_IMAGE_MIRROR") or main
            or "http://deb.debian.org/debian",
            sec or "http://deb.debian.org/debian-security")


def mounted_under(path):
    path = os.path.realpath(path)
    with open("/proc/mounts") as f:
        points = [l.split()[1] for l in f]
    return [p for p in points if p == path or p.startswith(path + "/")]


def umount_all(path):
    for p in sorted(mounted_under(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", p], check=False)


def remove_tree(path):
    """rm -rf, never through a mount point."""
    umount_all(path)
    if mounted_under(path):
        raise SystemExit("%s still has mounts; not removing it" % path)
    shutil.rmtree(path, ignore_errors=True)


def stamp(path):
    try:
        return open(os.path.join(path, ".weir-image-stamp")).read()
    except OSError:
        return None


def write_stamp(path, text):
    with open(os.path.join(path, ".weir-image-stamp"), "w") as f:
        f.write(text)


def ids(root, user):
    """user's uid:gid from the chroot's own /etc/passwd."""
    if user == "root":
        return "0:0"
    with open(os.path.join(root, "etc", "passwd")) as f:
        for line in f:
            f_ = line.split(":")
            if f_[0] == user:
                return "%s:%s" % (f_[2], f_[3])
    raise SystemExit("user %s is not in the chroot's /etc/passwd" % user)


def chroot_argv(root, cmd, env=None, user="root", workdir="/"):
    """argv running cmd in root as user in workdir, with a clean
    environment plus env."""
    argv = ["chroot", "--userspec=" + ids(root, user), root, "/usr/bin/env",
            "-i", "--chdir=" + workdir,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=" + ("/root" if user == "root" else workdir)]
    return argv + ["%s=%s" % kv for kv in (env or {}).items()] + list(cmd)


def with_proc(root, fn):
    """Runs fn() with /proc mounted in root; always unmounts it."""
    proc = os.path.join(root, "proc")
    subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    try:
        return fn()
    finally:
        umount_all(proc)


def minbase(suite, mirror):
    """debootstrap --variant=minbase, once per suite and mirror."""
    path = os.path.join(CACHE, "minbase")
    key = "debootstrap --variant=minbase %s %s\n" % (suite, mirror)
    if stamp(path) == key:
        return path
    remove_tree(path)
    tmp = path + ".tmp"
    remove_tree(tmp)
    os.makedirs(CACHE, exist_ok=True)
    log("debootstrap --variant=minbase %s (once; cached in %s)" % (suite, path))
    t = time.monotonic()
    r = subprocess.run(["debootstrap", "--variant=minbase", suite, tmp, mirror],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(r.stdout.decode("utf-8", "replace")[-4000:])
        raise SystemExit("debootstrap failed (%d)" % r.returncode)
    write_stamp(tmp, key)
    os.rename(tmp, path)
    log("debootstrap took %.0f s" % (time.monotonic() - t))
    return path


def runtime(suite, mirrors, args, runs, packages):
    """minbase plus the runtime stage's ARG and RUN steps, cached by their
    text; every package they name must end up installed."""
    base = minbase(suite, mirrors[0])
    path = os.path.join(CACHE, "runtime")
    key = "%s\n%s\n" % (stamp(base), hashlib.sha256(
        repr((args, runs, mirrors)).encode()).hexdigest())
    if stamp(path) == key:
        log("reusing %s" % path)
        return path
    remove_tree(path)
    tmp = path + ".tmp"
    remove_tree(tmp)
    subprocess.run(["cp", "-a", base, tmp], check=True)
    # The sources of a debian:bookworm-slim image: the release, its updates
    # and security, on this machine's mirrors.
    os.remove(os.path.join(tmp, "etc", "apt", "sources.list"))
    with open(os.path.join(tmp, "etc", "apt", "sources.list.d",
                           "debian.sources"), "w") as f:
        f.write("Types: deb\nURIs: %s\nSuites: %s %s-updates\n"
                "Components: main\n"
                "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                "Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n"
                "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
                % (mirrors[0], suite, suite, mirrors[1], suite))
    shutil.copy("/etc/resolv.conf", os.path.join(tmp, "etc", "resolv.conf"))
    t = time.monotonic()

    def steps():
        for run in runs:
            log("RUN " + run)
            subprocess.run(chroot_argv(tmp, ["/bin/sh", "-c", run], env=args),
                           check=True)
        q = subprocess.run(chroot_argv(
            tmp, ["dpkg-query", "-W", "-f=${Package} ${Status}\\n"]
            + packages), stdout=subprocess.PIPE, text=True)
        ok = {l.split()[0] for l in q.stdout.splitlines()
              if l.endswith("install ok installed")}
        missing = [p for p in packages if p not in ok]
        if missing:
            raise SystemExit("not installed in the chroot: %s" % missing)
    with_proc(tmp, steps)
    write_stamp(tmp, key)
    os.rename(tmp, path)
    log("runtime stage built in %.0f s" % (time.monotonic() - t))
    return path


# ------------------------------------------------------------ the test

def build(bins, options):
    log("building %s into %s (%s)" % (" ".join(bins), BUILD_DIR,
                                      " ".join(options)))
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD_DIR] + options,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD_DIR, "-j%d" % os.cpu_count(),
                    "--target"] + bins, check=True, stdout=subprocess.DEVNULL)
    return [os.path.join(BUILD_DIR, "bin", b) for b in bins]


def ignored_names():
    """The dockerignore's **/NAME patterns: names left out at any depth."""
    names = []
    with open(DOCKERIGNORE) as f:
        for line in f:
            line = line.strip()
            if line.startswith("**/") and "/" not in line[3:]:
                names.append(line[3:])
    return shutil.ignore_patterns(*names)


def install_copies(root, copies, exes):
    """The runtime stage's COPY steps; returns the paths they created."""
    made = []
    for arg in copies:
        words = arg.split()
        src, dst = words[-2], words[-1]
        target = os.path.join(root, dst.lstrip("/"))
        if words[0] == "--from=build" and src == "/out/":
            os.makedirs(target, exist_ok=True)
            for exe in exes:
                out = os.path.join(target, os.path.basename(exe))
                shutil.copy2(exe, out)
                os.chmod(out, 0o755)
                made.append(out)
        elif not words[0].startswith("--") and os.path.isdir(
                os.path.join(ROOT, src)):
            if os.path.exists(target):
                shutil.rmtree(target)
            shutil.copytree(os.path.join(ROOT, src), target,
                            ignore=ignored_names())
            made.append(target)
        elif not words[0].startswith("--") and not dst.endswith("/"):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, src), target)
            made.append(target)
        else:
            raise SystemExit("docker/Dockerfile: COPY %s is not understood "
                             "by tests/integration/image_chroot.py" % arg)
    return made


class Image:
    """The chroot as the image runs it: its USER and WORKDIR."""

    def __init__(self, root, user, workdir):
        self.root, self.user, self.workdir = root, user, workdir

    def argv(self, cmd):
        return chroot_argv(self.root, cmd, user=self.user,
                           workdir=self.workdir)

    def run(self, cmd, timeout=60, env=None):
        r = subprocess.run(chroot_argv(self.root, cmd, env=env, user=self.user,
                                       workdir=self.workdir),
                           capture_output=True, text=True, timeout=timeout)
        first = (r.stdout.strip().splitlines() or [""])[0]
        log("%s: exit %d %s%s" % (" ".join(cmd), r.returncode, first[:200],
                                  ("\n" + r.stderr.strip()[-2000:])
                                  if r.returncode else ""))
        return r


def start(c, img, name, argv, ready):
    proc = weirtest.Proc(name, img.argv(argv), c.path("logs", name + ".log"))
    c.procs.append(proc)
    if ready:
        proc.wait_line(ready, 30)
    return proc


def wordcount(img, examples_dir):
    scratch = "/tmp/weir-image-%d" % os.getpid()
    host_scratch = os.path.join(img.root, scratch.lstrip("/"))
    os.makedirs(host_scratch)
    os.chown(host_scratch, *map(int, ids(img.root, img.user).split(":")))
    try:
        with weirtest.Cluster() as c:
            bport, cport, hport = (weirtest.free_port() for _ in range(3))
            bs = "127.0.0.1:%d" % bport
            coord = "tcp://127.0.0.1:%d" % cport
            start(c, img, "broker", [
                "weir-broker", "--listen", bs,
                "--data-dir", scratch + "/broker"], "ready listen=")
            start(c, img, "coordinator", [
                "weir-coordinator", "--listen", coord,
                "--http", "127.0.0.1:%d" % hport,
                "--data-dir", scratch + "/coordinator",
                "--bootstrap", bs], "ready listen=")
            for name in ("worker-1", "worker-2"):
                start(c, img, name, [
                    "weir-worker", "--coordinator", coord, "--id", name,
                    "--data-dir", scratch + "/" + name], None)
            r = img.run(["weirctl", "--coordinator", coord, "submit",
                         examples_dir + "/wordcount.yaml"])
            assert r.returncode == 0, "weirctl submit failed"
            lines = seed_lines()
            assert len(lines) > 100, "seed text missing"
            produce(bs, "text-lines", lines)
            log("fed %d lines from the host" % len(lines))
            log(wait_exact(bs, "text-lines", "wordcounts", timeout=120))
            r = img.run(["weir-verify", "--bootstrap", bs, "--input",
                         "text-lines", "--output", "wordcounts"], timeout=180)
            assert r.returncode == 0 and r.stdout.startswith("exact:"), \
                "weir-verify did not prove exactly-once"
            for p in reversed(c.procs):
                code = p.stop()
                assert code == 0, "%s exited %s on SIGTERM" % (p.name, code)
    finally:
        shutil.rmtree(host_scratch, ignore_errors=True)


def chaos(img, chaos_bin):
    """weir-chaos as the image installs it: --help, list, and a short
    worker-kill campaign on a local cluster of the chroot's binaries."""
    r = img.run([chaos_bin, "list"])
    assert r.returncode == 0 and "worker-kill" in r.stdout, \
        "weir-chaos list in the chroot failed"
    scratch = "/tmp/weir-image-chaos-%d" % os.getpid()
    host_scratch = os.path.join(img.root, scratch.lstrip("/"))
    os.makedirs(host_scratch)
    os.chown(host_scratch, *map(int, ids(img.root, img.user).split(":")))
    try:
        t = time.monotonic()
        r = img.run([chaos_bin, "run", "--no-netns", "--scenario",
                     "worker-kill", "--duration", "15s", "--seed", "1",
                     "--report", scratch + "/report"], timeout=400,
                    env={"TMPDIR": scratch})
        log("weir-chaos run took %.0f s" % (time.monotonic() - t))
        if r.returncode != 0:
            print(r.stdout[-6000:])
            for p in sorted(glob.glob(os.path.join(host_scratch, "*", "logs",
                                                   "*.log"))):
                print("--- %s (last lines)" % p)
                print("".join(open(p, errors="replace").readlines()[-30:]))
        assert r.returncode == 0 and "verdict: exact" in r.stdout, \
            "weir-chaos run in the chroot did not find the output exact"
    finally:
        shutil.rmtree(host_scratch, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        raise SystemExit("image.chroot needs root (debootstrap, chroot, "
                         "mount): run ctest -L image as root")
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap is missing: run scripts/install-deps")
    named, stage = stages(DOCKERFILE)
    if "build" not in named:
        raise SystemExit("docker/Dockerfile: no 'AS build' stage")
    bins, options = build_recipe(named["build"])

    image = stage[0][1].split()[0]
    m = re.fullmatch(r"debian:(\w+)-slim", image)
    if not m:
        raise SystemExit("docker/Dockerfile: runtime stage FROM %s; this test "
                         "builds debian:<suite>-slim only" % image)
    suite = m.group(1)
    args, runs, copies, user, cmd, workdir = {}, [], [], "root", None, "/"
    for ins, arg in stage[1:]:
        if ins == "ARG":
            name, _, value = arg.partition("=")
            args[name] = value
        elif ins == "RUN":
            if copies:
                raise SystemExit("docker/Dockerfile: a RUN after a COPY; this "
                                 "test caches the RUN steps before the COPYs")
            runs.append(arg)
        elif ins == "COPY":
            copies.append(arg)
        elif ins == "USER":
            user = arg
        elif ins == "WORKDIR":
            workdir = arg
        elif ins == "CMD":
            cmd = arg
        elif ins not in ("VOLUME", "EXPOSE"):
            raise SystemExit("docker/Dockerfile: %s in the runtime stage is "
                             "not understood by "
                             "tests/integration/image_chroot.py" % ins)
    packages = [p for run in runs for p in apt_packages(run)]
    if not packages:
        raise SystemExit("docker/Dockerfile: no apt-get install in the "
                         "runtime stage")
    log("runtime stage FROM %s, packages: %s" % (image, " ".join(packages)))

    exes = build(bins, options)
    root = runtime(suite, host_mirrors(), args, runs, packages)
    made = []
    try:
        made = install_copies(root, copies, exes)
        bin_dir = next(c.split()[-1] for c in copies
                       if c.startswith("--from=build"))
        dests = {c.split()[-2]: c.split()[-1] for c in copies
                 if not c.startswith("--")}
        if "examples/" not in dests or "tools/chaos/weir-chaos" not in dests:
            raise SystemExit("docker/Dockerfile: the runtime stage no longer "
                             "copies examples/ and tools/chaos/weir-chaos: "
                             "update tests/integration/image_chroot.py")
        examples_dir = dests["examples/"].rstrip("/")
        chaos_bin = dests["tools/chaos/weir-chaos"]
        img = Image(root, user, workdir)

        def checks():
            for b in [os.path.join(bin_dir, b) for b in bins] + [chaos_bin]:
                r = img.run([b, "--help"])
                assert r.returncode == 0 and r.stdout + r.stderr, \
                    "%s --help in the chroot failed" % b
            if cmd:
                assert img.run(json_or_shell(cmd)).returncode == 0, \
                    "CMD %s failed in the chroot" % cmd
            wordcount(img, examples_dir)
            chaos(img, chaos_bin)
        with_proc(root, checks)
    finally:
        for p in made:
            if os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.exists(p):
                os.remove(p)
    log("ok: the runtime stage runs every binary, the word count exactly "
        "once and weir-chaos")
    return 0


def json_or_shell(cmd):
    if cmd.startswith("["):
        import json
        return json.loads(cmd)
    return ["/bin/sh", "-c", cmd]


if __name__ == "__main__":
    sys.exit(main())
