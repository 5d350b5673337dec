"""Real network partitions with Linux network namespaces (needs root).

The broker and the coordinator listen on addresses of their own on the
host's loopback (10.B.0.1 and 10.B.0.2); each worker runs in a namespace of
its own, joined to the host by a veth pair (10.B.i.2 inside, 10.B.i.1 on
the host). Cutting a worker off from a service is a blackhole route to the
service's address inside the worker's namespace: its packets go nowhere
and its connections hang, as behind a failed switch. `tc netem` on the
worker's end of the pair slows it down or loses packets.
"""
import os
import subprocess


def ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def available():
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = "weirchaos-probe-%d" % os.getpid()
    if ip("netns", "add", probe, check=False).returncode != 0:
        return "ip netns add failed (no CAP_SYS_ADMIN?)"
    ip("netns", "del", probe, check=False)
    return None


def netem_available():
    """True when the kernel has the netem queueing discipline (tc delay/loss)."""
    probe = "weirchaos-netem-%d" % os.getpid()
    if ip("netns", "add", probe, check=False).returncode != 0:
        return False
    try:
        ip("-n", probe, "link", "set", "lo", "up", check=False)
        r = subprocess.run(["tc", "-n", probe, "qdisc", "add", "dev", "lo", "root", "netem",
                            "delay", "1ms"], capture_output=True)
        return r.returncode == 0
    finally:
        ip("netns", "del", probe, check=False)


def _free_block():
    used = ip("-4", "-o", "addr").stdout
    for b in [100 + (os.getpid() + k) % 150 for k in range(150)]:
        if " 10.%d." % b not in used:
            return b
    raise RuntimeError("no free 10.x.0.0/16 block for the chaos network")


class Network:
    """The chaos run's addresses and namespaces; close() removes them all."""

    def __init__(self):
        self.block = _free_block()
        self.tag = "wc%d" % (os.getpid() % 100000)
        self.broker_ip = "10.%d.0.1" % self.block
        self.coordinator_ip = "10.%d.0.2" % self.block
        self.namespaces = {}
        self.netem = netem_available()
        self.cuts = set()
        self.slowed = set()
        for addr in (self.broker_ip, self.coordinator_ip):
            ip("addr", "add", addr + "/32", "dev", "lo")

    def add_worker(self, index):
        """A namespace for worker index (1..): its name and address."""
        ns = "%s-w%d" % (self.tag, index)
        host, inner = "%sh%d" % (self.tag, index), "%sn%d" % (self.tag, index)
        net = "10.%d.%d" % (self.block, index)
        ip("netns", "add", ns)
        ip("link", "add", host, "type", "veth", "peer", "name", inner)
        ip("link", "set", inner, "netns", ns)
        ip("addr", "add", net + ".1/24", "dev", host)
        ip("link", "set", host, "up")
        ip("-n", ns, "addr", "add", net + ".2/24", "dev", inner)
        ip("-n", ns, "link", "set", inner, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", ns, "route", "add", "default", "via", net + ".1")
        self.namespaces[index] = (ns, host, inner, net + ".2")
        return ns, net + ".2"

    def exec_prefix(self, index):
        return ["ip", "netns", "exec", self.namespaces[index][0]]

    def _target_ip(self, service):
        return self.broker_ip if service == "broker" else self.coordinator_ip

    def cut(self, index, service):
        """Worker index can no longer reach service (broker|coordinator)."""
        ns = self.namespaces[index][0]
        ip("-n", ns, "route", "add", "blackhole", self._target_ip(service) + "/32")
        self.cuts.add((index, service))

    def heal(self, index, service):
        ns = self.namespaces[index][0]
        ip("-n", ns, "route", "del", "blackhole", self._target_ip(service) + "/32",
           check=False)
        self.cuts.discard((index, service))

    def slow(self, index, delay_ms, jitter_ms, loss_pct):
        ns, _, inner, _ = self.namespaces[index]
        subprocess.run(["tc", "-n", ns, "qdisc", "replace", "dev", inner, "root", "netem",
                        "delay", "%dms" % delay_ms, "%dms" % jitter_ms,
                        "loss", "%g%%" % loss_pct], check=True, capture_output=True)
        self.slowed.add(index)

    def unslow(self, index):
        ns, _, inner, _ = self.namespaces[index]
        subprocess.run(["tc", "-n", ns, "qdisc", "del", "dev", inner, "root"],
                       capture_output=True)
        self.slowed.discard(index)

    def close(self):
        for index, service in list(self.cuts):
            self.heal(index, service)
        for ns, host, _, _ in self.namespaces.values():
            ip("link", "del", host, check=False)
            ip("netns", "del", ns, check=False)
        self.namespaces.clear()
        for addr in (self.broker_ip, self.coordinator_ip):
            ip("addr", "del", addr + "/32", "dev", "lo", check=False)
