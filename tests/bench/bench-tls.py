#!/usr/bin/env python3
"""TLS benchmark (issue 5), with Dovecot beside Postern when it is
installed (same self-signed ECDSA certificate, implicit TLS port):

  TLS handshakes per second: several client processes connect, complete
    the handshake, read the greeting and close, for a fixed time (the
    best of 2 and 4 client processes; Postern's and Dovecot's runs
    alternate). Client and server share this machine's cores and Python's
    client costs as much CPU per handshake as the server, so the server's
    CPU time per handshake is printed too, and what one core of server
    CPU would sustain;
  FETCH BODY.PEEK[] of one 20 MB message through TLS and through
    plaintext (best of several), and the login processes' CPU per
    megabyte that went through the TLS proxy;
  memory in the login processes (sum of VmRSS, anonymous memory and PSS
    over all of them) before and after 200 idle TLS sessions: handshaken
    but not logged in, then logged in (Postern proxies them to the worker
    from its login processes; Dovecot's imap-login does the same), and for
    comparison 200 logged-in plaintext sessions (Postern hands the
    connection to the worker, so its login processes should not grow).

Figures only, nothing asserted. Needs root (like the e2e tests).

  bench-tls.py [--quick] [--clients 2,4] [--no-dovecot] [BUILD]

--quick (make bench): 2.5 s per handshake run, 3 FETCHes; default 8 s
and 6."""

import argparse
import multiprocessing
import os
import shutil
import socket
import tempfile
import time

from benchlib import Imap, client_ctx, mem_sum, proc_cpu, table
from dovecot_env import DOVECOT_VERSION, DovecotEnv, dovecot_binary
from postern_env import USERS
from test_fetch import big_message
from test_tls import TlsEnv

USER = "alice"
UID, GID, PASSWORD = USERS[USER][0], USERS[USER][1], USERS[USER][2]
SESSIONS = 200
BIG = 20 * 1024 * 1024


# ------------------------------------------------------------ handshakes

def _handshake_loop(port, seconds, q):
    ctx = client_ctx()
    n = 0
    err = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), 10)
            t = ctx.wrap_socket(s)
            if not t.recv(200).startswith(b"* OK"):
                err += 1
            t.close()
            n += 1
        except OSError:
            err += 1
    q.put((n, err))


def handshakes_once(port, seconds, clients, server_pids):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_handshake_loop,
                                     args=(port, seconds, q))
             for _ in range(clients)]
    cpu0 = proc_cpu(server_pids())
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    dt = time.perf_counter() - t0
    for p in procs:
        p.join()
    cpu = proc_cpu(server_pids()) - cpu0
    n = sum(r[0] for r in results)
    return n / dt, n, cpu, sum(r[1] for r in results)


def handshakes(servers, args):
    """Into each server's figures: "hs" = (best handshakes/s, server CPU
    ms per handshake over all runs, errors, client count of the best).
    The runs alternate between the servers, so load from elsewhere on
    the machine falls on both alike. Python's client costs about as much
    CPU per handshake as the server, on the same cores: the rate is a
    floor, the CPU time per handshake the server's own cost."""
    acc = {s.name: [(0, 0), 0, 0.0, 0] for s in servers}
    for _ in range(args.rounds):
        for k in args.clients:
            for s in servers:
                rate, n, cpu, err = s.guard(
                    lambda: handshakes_once(s.tls_port, args.seconds, k,
                                            s.all_pids), (0, 0, 0, 0))
                a = acc[s.name]
                a[0] = max(a[0], (rate, k))
                a[1] += n
                a[2] += cpu
                a[3] += err
    for s in servers:
        (rate, k), n, cpu, err = acc[s.name]
        s.out["hs"] = (rate, cpu / max(n, 1) * 1000, err, k)


# ------------------------------------------------------------ throughput

def fetch_rate(port, tls, repeat, login_pids):
    """(best MB/s, login CPU ms per MB, "TLSv1.3 cipher")."""
    c = Imap(port, tls=tls).login(USER, PASSWORD)
    c.ok("EXAMINE INBOX")
    best = None
    cpu0 = proc_cpu(login_pids())
    total = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        _, n = c.ok("FETCH 1 BODY.PEEK[]", keep=False)
        dt = time.perf_counter() - t0
        total += n
        best = dt if best is None else min(best, dt)
    cpu = proc_cpu(login_pids()) - cpu0
    what = ""
    if tls:
        what = f"{c.s.version()} {c.s.cipher()[0]}"
    c.close()
    if n < BIG:
        raise RuntimeError(f"FETCH returned {n} bytes")
    return n / best / 1e6, cpu * 1000 / (total / 1e6), what


# ------------------------------------------------------------ memory

def session_memory(port, tls_port, login_pids):
    """Per-session KB in the login processes, as dicts of rss/anon/pss:
    TLS handshaken, TLS logged in, plaintext logged in."""
    warm = Imap(tls_port, tls=True).login(USER, PASSWORD)
    warm2 = Imap(port).login(USER, PASSWORD)
    time.sleep(0.5)
    base = mem_sum(login_pids())
    conns = [Imap(tls_port, tls=True) for _ in range(SESSIONS)]
    time.sleep(0.5)
    pre = mem_sum(login_pids())
    for c in conns:
        c.login(USER, PASSWORD)
    for c in conns:
        c.ok("NOOP")
    time.sleep(0.5)
    post = mem_sum(login_pids())
    plain = [Imap(port).login(USER, PASSWORD) for _ in range(SESSIONS)]
    time.sleep(0.5)
    after_plain = mem_sum(login_pids())
    for c in conns + plain + [warm, warm2]:
        c.close()

    def per(a, b):
        return {k: (b[k] - a[k]) / SESSIONS for k in ("rss", "anon", "pss")}
    return {"base": base, "pre": per(base, pre), "tls": per(base, post),
            "plain": per(post, after_plain)}


# ------------------------------------------------------------ servers

def load_big(port, tls, msg):
    c = Imap(port, tls=tls).login(USER, PASSWORD)
    c.ok(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)
    c.close()


class Server:
    """One server under test and its figures. guard() runs a measurement;
    a failure of Dovecot's is reported and drops it from the table, a
    failure of Postern's ends the benchmark."""

    def __init__(self, name, port, tls_port, login_pids, all_pids):
        self.name = name
        self.port, self.tls_port = port, tls_port
        self.login_pids, self.all_pids = login_pids, all_pids
        self.out = {}
        self.failed = False

    def guard(self, fn, default=None):
        if self.failed:
            return default
        if self.name == "postern":
            return fn()
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 (report it and go on)
            print(f"{self.name}: failed: {e}"[:2000])
            self.failed = True
            return default


def measure(servers, args, msg):
    for s in servers:
        s.guard(lambda: load_big(s.tls_port, True, msg))
    handshakes(servers, args)
    for s in servers:
        s.out["tls"] = s.guard(lambda: fetch_rate(
            s.tls_port, True, args.repeat, s.login_pids))
        s.out["plain"] = s.guard(lambda: fetch_rate(
            s.port, False, args.repeat, s.login_pids))
        s.out["mem"] = s.guard(lambda: session_memory(
            s.port, s.tls_port, s.login_pids))


def start_dovecot(cert, key, envs):
    """A Dovecot with Postern's certificate, or None (reason printed)."""
    try:
        env = DovecotEnv({USER: (UID, GID, PASSWORD)}, cert, key)
        envs.append(env)
        env.start()
    except Exception as e:  # noqa: BLE001 (report it and go on)
        print(f"dovecot: failed: {e}"[:2000])
        return None
    return Server("dovecot", env.port, env.tls_port,
                  lambda: env.pids("imap-login"),
                  lambda: env.pids() + [env.proc.pid])


def kb3(m):
    """RSS / anon / PSS, whole KB as they are, averages to 0.1 KB."""
    return " / ".join(str(v) if isinstance(v, int) else
                      f"{round(v, 1) or 0.0:.1f}"
                      for v in (m["rss"], m["anon"], m["pss"]))


def report(p, d, missing, args):
    cols = [p] + ([d] if d else [])

    def row(label, fn, target=""):
        return (label, *[fn(f) for f in cols],
                *([] if d else [missing]), target)

    rows = [
        row("TLS handshakes/s, best of "
            f"{'/'.join(map(str, args.clients))} client processes "
            f"({args.rounds} x {args.seconds:g} s each)",
            lambda f: f"{f['hs'][0]:.0f} ({f['hs'][3]} clients)"),
        row("  server CPU per handshake (all its processes)",
            lambda f: f"{f['hs'][1]:.2f} ms"),
        row("  = handshakes/s per core of server CPU",
            lambda f: f"{1000 / f['hs'][1]:.0f}" if f["hs"][1] else "-"),
        row("  failed handshakes", lambda f: str(f["hs"][2])),
        row("FETCH 20 MB BODY.PEEK[], plaintext",
            lambda f: f"{f['plain'][0]:.0f} MB/s"),
        row("FETCH 20 MB BODY.PEEK[], TLS",
            lambda f: f"{f['tls'][0]:.0f} MB/s"),
        row("  TLS version and cipher", lambda f: f["tls"][2]),
        row("  login processes' CPU per MB through TLS",
            lambda f: f"{f['tls'][1]:.2f} ms"),
        row("login processes before (sum RSS / anon / PSS KB)",
            lambda f: kb3(f["mem"]["base"])),
        row("per TLS session, handshaken, not logged in (KB)",
            lambda f: kb3(f["mem"]["pre"])),
        row("per TLS session, logged in, idle (KB)",
            lambda f: kb3(f["mem"]["tls"]), "< 64 KB + GnuTLS"),
        row("  of which after login (logged in - handshaken)",
            lambda f: kb3({k: f["mem"]["tls"][k] - f["mem"]["pre"][k]
                           for k in ("rss", "anon", "pss")})),
        row("per plaintext session, logged in (KB)",
            lambda f: kb3(f["mem"]["plain"])),
    ]
    table(f"TLS (memory: login processes, {SESSIONS} sessions; per-session "
          "figures are RSS / anon / PSS in KB)", rows,
          ("", "postern", dovecot_head(d), "target"))


def dovecot_head(d):
    return f"dovecot {DOVECOT_VERSION}" if d else "dovecot"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clients", default="2,4",
                    help="client process counts to try (default 2,4)")
    ap.add_argument("--no-dovecot", action="store_true")
    args = ap.parse_args()
    args.seconds = 2.5 if args.quick else 8.0
    args.clients = [int(x) for x in args.clients.split(",")]
    args.repeat = 3 if args.quick else 6
    args.rounds = 1 if args.quick else 2
    if os.geteuid() != 0:
        print("bench-tls: skipped: needs root")
        return
    build = os.path.abspath(args.build)
    certdir = tempfile.mkdtemp(prefix="postern-bench-tls-")
    os.chmod(certdir, 0o755)
    envs = []
    try:
        msg = big_message(BIG)
        env = TlsEnv(build, "log_level = info\nworker_linger = 5\n")
        envs.append(env)
        # Dovecot gets the same certificate and key
        cert, key = (shutil.copy(f, certdir) for f in (env.cert, env.key))
        env.start()
        servers = [Server("postern", env.port, env.tls_port,
                          lambda: env.pids("login"),
                          lambda: [p["pid"] for p in env.status()])]
        missing = None
        if args.no_dovecot:
            print("dovecot: skipped (--no-dovecot)")
            missing = "skipped"
        elif dovecot_binary() is None:
            print("dovecot: not installed (apt-get install dovecot-imapd "
                  "for side-by-side figures)")
            missing = "not installed"
        else:
            missing = "failed"
            d = start_dovecot(cert, key, envs)
            if d is not None:
                servers.append(d)
        measure(servers, args, msg)
        p = servers[0].out
        d = servers[1].out if len(servers) > 1 and \
            not servers[1].failed else None
        report(p, d, missing, args)
    finally:
        for e in envs:
            e.cleanup()
        shutil.rmtree(certdir, ignore_errors=True)


if __name__ == "__main__":
    main()
