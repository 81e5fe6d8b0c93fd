"""Helpers shared by the Python benchmarks: a lean IMAP client that
measures without being the bottleneck, process memory and CPU from
/proc, and the table printing. Figures only; nothing here asserts."""

import os
import socket
import ssl
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Imap:
    """One IMAP connection. cmd() sends a command and reads up to its
    tagged response by looking for CRLF TAG SP in the stream, so the
    client does no per-response parsing while the clock runs; the tags are
    unique enough never to occur inside a literal. Callers check what they
    got afterwards, off the clock."""

    def __init__(self, port, tls=False, timeout=300, ctx=None):
        s = socket.create_connection(("127.0.0.1", port), timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            s = (ctx or client_ctx()).wrap_socket(s)
        self.s = s
        self.buf = bytearray()
        self.n = 0
        self.greeting = self.line()

    def _fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed; buffered: %r" %
                           bytes(self.buf[-200:]))
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                break
            self._fill()
        line = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return line

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, command, keep=True):
        """Returns (tagged line, everything before it or None, bytes
        read). With keep=False what was read is thrown away as it comes
        (bodies of many megabytes)."""
        if isinstance(command, str):
            command = command.encode()
        self.n += 1
        tag = b"Bq%d" % self.n
        self.s.sendall(tag + b" " + command + b"\r\n")
        pat = b"\r\n" + tag + b" "
        buf = self.buf
        dropped = 0
        start = 0
        while True:
            if dropped == 0 and buf[:len(tag) + 1] == tag + b" ":
                i, skip = 0, 0
            else:
                i, skip = buf.find(pat, start), 2
            if i >= 0:
                j = buf.find(b"\r\n", i + skip)
                if j >= 0:
                    tagged = bytes(buf[i + skip:j])
                    data = bytes(buf[:i + skip]) if keep else None
                    total = dropped + j + 2
                    del buf[:j + 2]
                    return tagged, data, total
                start = i
            else:
                start = max(0, len(buf) - len(pat))
                if not keep and start > (1 << 20):
                    dropped += start
                    del buf[:start]
                    start = 0
            self._fill()

    def ok(self, command, keep=True):
        tagged, data, total = self.cmd(command, keep)
        if tagged.split(b" ", 2)[1:2] != [b"OK"]:
            raise RuntimeError(f"{command!r}: {tagged!r}")
        return data, total

    def login(self, user, password):
        self.ok(f"LOGIN {user} {password}")
        return self

    def idle(self):
        """Enters IDLE and leaves the connection there."""
        self.n += 1
        self.s.sendall(b"Bq%d IDLE\r\n" % self.n)
        while not self.line().startswith(b"+"):
            pass

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def timed(fn, repeat=1):
    """Runs fn repeat times; returns (first, best, last result)."""
    times = []
    res = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times), res


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ------------------------------------------------------------ /proc

def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def proc_mem(pid):
    """VmRSS, RssAnon (private memory: malloc heap, stacks, buffers) and
    Pss (shared pages divided among their users), in KB."""
    m = {"rss": proc_kb(pid, "VmRSS"), "anon": proc_kb(pid, "RssAnon"),
         "pss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    m["pss"] = int(line.split()[1])
    except OSError:
        pass
    return m


def mem_sum(pids):
    out = {"rss": 0, "anon": 0, "pss": 0, "n": 0}
    for pid in pids:
        try:
            m = proc_mem(pid)
        except OSError:
            continue
        for k in ("rss", "anon", "pss"):
            out[k] += m[k]
        out["n"] += 1
    return out


def proc_cpu(pids):
    """User + system CPU seconds of the processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def children(ppid, comm=None):
    """Pids whose parent is ppid (and whose name is comm)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        if int(st.rsplit(")", 1)[1].split()[1]) == ppid and \
                (comm is None or name == comm):
            out.append(int(d))
    return out


# ------------------------------------------------------------ output

def ms(t):
    return "-" if t is None else f"{t * 1000:.1f} ms"


def table(title, rows, heads):
    """rows: [(label, value per column..., target)]; values are strings."""
    print(title)
    widths = [max(len(str(r[i])) for r in rows + [heads])
              for i in range(len(heads))]
    for r in [heads] + rows:
        print("  " + "  ".join(str(c).ljust(widths[i]) if i == 0 else
                               str(c).rjust(widths[i])
                               for i, c in enumerate(r)).rstrip())
    sys.stdout.flush()
