#!/usr/bin/env python3
"""IMAP benchmark (issues 4 and 6) over real connections, with Dovecot
beside Postern when it is installed.

One generated mailbox (bench-corpus: the search benchmark's messages, a
Zipf vocabulary, multipart, base64 attachments, about 4 KB a message) of
N messages goes into Postern with `posternctl import` and into Dovecot as
the maildir it is. On each server, one after the other:

  SELECT: the first one (Postern: the worker just started; Dovecot: it
    builds its index of the maildir) and warm (median of 5);
  FETCH 1:10000 (FLAGS ENVELOPE BODYSTRUCTURE): first and best of 3;
  FETCH 1:10000 BODY.PEEK[]: throughput, best of 2;
  SEARCH over IMAP: BODY rare word, BODY common word, FROM partial
    address, TEXT phrase (bench-search's strings), first and best; for
    Postern both right after the import and after the index merged;
  memory of the user's worker (Dovecot: of its imap processes) with one
    session and with 101, each with INBOX selected and in IDLE.

Figures only, nothing asserted. Needs root (like the e2e tests).

  bench-imap.py [--quick] [--n N] [--no-dovecot] [BUILD]

--quick: 10k messages (what `make bench` runs); default 100k."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import benchlib
from benchlib import Imap, mem_sum, ms, proc_mem, table, timed
from dovecot_env import DOVECOT_VERSION, DovecotEnv, dovecot_binary
from postern_env import PosternEnv, USERS

USER = "alice"
UID, GID, PASSWORD = USERS[USER][0], USERS[USER][1], USERS[USER][2]
IDLE_SESSIONS = 100
SEARCH_KEYS = (("BODY rare word", "BODY", "rare"),
               ("BODY common word", "BODY", "common"),
               ("FROM partial address", "FROM", "from"),
               ("TEXT phrase", "TEXT", "phrase"))
TARGETS = {"select_warm": "< 50 ms", "fetch_env": "< 300 ms",
           "per_session": "< 64 KB"}


def imap_string(s):
    """A quoted string, or a LITERAL+ literal where quoting cannot hold
    it; the second value says whether CHARSET UTF-8 is needed."""
    b = s.encode()
    if all(32 <= c < 127 and c not in b'"\\' for c in b):
        return b'"' + b + b'"', False
    return b"{%d+}\r\n" % len(b) + b, not s.isascii()


def search_cmd(key, s):
    arg, utf8 = imap_string(s)
    return (b"SEARCH CHARSET UTF-8 " if utf8 else b"SEARCH ") + \
        key.encode() + b" " + arg


def count_search(data):
    n = 0
    for line in data.split(b"\r\n"):
        if line.startswith(b"* SEARCH"):
            n += len(line.split()) - 2
    return n


def count_fetch(data):
    return data.count(b" FETCH (")


def measure(port, n, queries, repeat_search, out, search_label="search"):
    """The session figures of one server, into out."""
    fetch_n = min(10000, n)
    c = Imap(port).login(USER, PASSWORD)
    t0 = time.perf_counter()
    data, _ = c.ok("SELECT INBOX")
    out["select_first"] = time.perf_counter() - t0
    out["exists"] = next((int(x.split()[1]) for x in data.split(b"\r\n")
                          if x.endswith(b" EXISTS")), None)
    warm = []
    for _ in range(5):
        s = Imap(port).login(USER, PASSWORD)
        t0 = time.perf_counter()
        s.ok("SELECT INBOX")
        warm.append(time.perf_counter() - t0)
        s.close()
    out["select_warm"] = sorted(warm)[2]
    first, best, (data, _) = timed(
        lambda: c.ok(f"FETCH 1:{fetch_n} (FLAGS ENVELOPE BODYSTRUCTURE)"), 3)
    out["fetch_env_first"], out["fetch_env"] = first, best
    out["fetch_env_count"] = count_fetch(data)
    first, best, (_, nbytes) = timed(
        lambda: c.ok(f"FETCH 1:{fetch_n} BODY.PEEK[]", keep=False), 2)
    out["body_mbs"] = nbytes / best / 1e6
    out["body_msgs"] = fetch_n / best
    measure_search(c, queries, repeat_search, out, search_label)
    c.close()


def measure_search(c, queries, repeat, out, label):
    for name, key, q in SEARCH_KEYS:
        first, best, (data, _) = timed(
            lambda: c.ok(search_cmd(key, queries[q])), repeat)
        out[f"{label}:{name}"] = (first, best, count_search(data))


def idle_sessions(port, k):
    out = []
    for _ in range(k):
        s = Imap(port).login(USER, PASSWORD)
        s.ok("SELECT INBOX")
        s.idle()
        out.append(s)
    return out


def settle():
    time.sleep(0.5)


# ------------------------------------------------------------ Postern

def postern_worker(env):
    for p in env.status():
        if p["role"] == "worker" and p.get("user") == USER:
            return p["pid"]
    return None


def wait_worker_gone(env, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline and postern_worker(env) is not None:
        time.sleep(0.1)


def run_postern(build, maildir, n, queries, repeat_search):
    out = {}
    env = PosternEnv(build, "worker_linger = 1\nlog_level = info\n")
    env.start()
    try:
        t0 = time.perf_counter()
        r = subprocess.run([f"{env.build}/posternctl", "-c", env.config,
                            "import", USER, maildir], capture_output=True,
                           text=True, env=env.environ(), timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"posternctl import: {r.stderr.strip()}")
        out["load"] = time.perf_counter() - t0
        measure(env.port, n, queries, repeat_search, out, "held")
        # posternctl import leaves its messages in the index's holding
        # area; an APPEND (to another mailbox) runs the merge
        c = Imap(env.port).login(USER, PASSWORD)
        c.ok("CREATE Trigger")
        msg = b"From: a@example.com\r\nSubject: merge\r\n\r\nmerge\r\n"
        t0 = time.perf_counter()
        c.ok(b"APPEND Trigger {%d+}\r\n" % len(msg) + msg)
        out["merge"] = time.perf_counter() - t0
        c.ok("SELECT INBOX")
        measure_search(c, queries, repeat_search, out, "merged")
        pid = postern_worker(env)
        m = proc_mem(pid)
        m["hwm"] = benchlib.proc_kb(pid, "VmHWM")
        out["mem_after"] = m
        c.close()
        # memory: a fresh worker, then 1 and 101 sessions in IDLE
        wait_worker_gone(env)
        one = idle_sessions(env.port, 1)
        settle()
        pid = postern_worker(env)
        out["mem_1"] = mem_sum([pid])
        more = idle_sessions(env.port, IDLE_SESSIONS)
        settle()
        out["mem_101"] = mem_sum([pid])
        for s in one + more:
            s.close()
    finally:
        env.cleanup()
    return out


# ------------------------------------------------------------ Dovecot

def run_dovecot(maildir, n, queries, repeat_search):
    out = {}
    env = DovecotEnv({USER: (UID, GID, PASSWORD)})
    try:
        t0 = time.perf_counter()
        env.load_maildir(USER, maildir)
        out["load"] = time.perf_counter() - t0
        env.start()
        measure(env.port, n, queries, repeat_search, out, "held")
        out["mem_after"] = None
        one = idle_sessions(env.port, 1)
        settle()
        out["mem_1"] = mem_sum(env.pids("imap"))
        more = idle_sessions(env.port, IDLE_SESSIONS)
        settle()
        out["mem_101"] = mem_sum(env.pids("imap"))
        for s in one + more:
            s.close()
    finally:
        env.cleanup()
    return out


# ------------------------------------------------------------ report

def mem_text(m):
    return f"{m['rss']} / {m['anon']} / {m['pss']} KB"


def per_session(f):
    a, b = f["mem_1"], f["mem_101"]
    return "  ".join(f"{k} {(b[k] - a[k]) / IDLE_SESSIONS:.1f}"
                     for k in ("rss", "anon", "pss")) + " KB"


def report(n, raw, p, d, missing):
    fetch_n = min(10000, n)
    heads = ("", "postern", dovecot_head(d), "target")
    cols = [p] + ([d] if d else [])

    def row(label, fn, target=""):
        return (label, *[fn(f) for f in cols],
                *([] if d else [missing]), target)

    rows = [
        row("load (postern: posternctl import; dovecot: copy maildir)",
            lambda f: f"{f['load']:.2f} s"),
        row("SELECT INBOX, first (new worker / index build)",
            lambda f: ms(f["select_first"])),
        row("SELECT INBOX, warm (median of 5)",
            lambda f: ms(f["select_warm"]), TARGETS["select_warm"]),
        row(f"FETCH 1:{fetch_n} (FLAGS ENVELOPE BODYSTRUCTURE), first",
            lambda f: ms(f["fetch_env_first"])),
        row(f"FETCH 1:{fetch_n} (FLAGS ENVELOPE BODYSTRUCTURE), best of 3",
            lambda f: ms(f["fetch_env"]), TARGETS["fetch_env"]),
        row(f"FETCH 1:{fetch_n} BODY.PEEK[], best of 2",
            lambda f: f"{f['body_mbs']:.0f} MB/s, {f['body_msgs']:.0f} "
            "msg/s"),
        row("memory, 1 session in IDLE: RSS / anon / PSS",
            lambda f: mem_text(f["mem_1"])),
        row(f"memory, {IDLE_SESSIONS + 1} sessions in IDLE",
            lambda f: mem_text(f["mem_101"])),
        row("each additional idle session",
            per_session, TARGETS["per_session"] + " (RSS)"),
    ]
    table(f"IMAP on {n} messages ({raw / 1e6:.1f} MB), one user; memory is "
          "Postern's worker, Dovecot's imap processes (one per session)",
          rows, heads)
    ma = p.get("mem_after")
    if ma:
        print(f"  postern worker after the FETCH and SEARCH runs: VmRSS "
              f"{ma['rss']} KB, anon {ma['anon']} KB, peak (VmHWM) "
              f"{ma['hwm']} KB")
    print(f"  postern index merge of the imported messages (run by one "
          f"APPEND): {p['merge']:.2f} s "
          f"({n / p['merge']:.0f} msg/s)")
    print(f"  checks: EXISTS {p['exists']}"
          + (f" / {d['exists']}" if d else "") +
          f", FETCH responses {p['fetch_env_count']}"
          + (f" / {d['fetch_env_count']}" if d else ""))

    srows = []
    for name, _, _ in SEARCH_KEYS:
        r = [name]
        for f, label in ((p, "held"), (p, "merged")) + \
                (((d, "held"),) if d else ()):
            first, best, cnt = f[f"{label}:{name}"]
            r += [ms(first), ms(best), str(cnt)]
        srows.append(tuple(r))
    heads = ["query", "p import: 1st", "best", "hits", "p merged: 1st",
             "best", "hits"]
    if d:
        heads += ["dovecot: 1st", "best", "hits"]
    table("SEARCH over IMAP on the same mail (p import: Postern right after "
          "posternctl import, the messages still in the index's holding "
          "area; p merged: after the merge; Dovecot without an FTS plugin "
          "scans)", srows, tuple(heads))
    mism = [name for name, _, _ in SEARCH_KEYS if d and
            d[f"held:{name}"][2] != p[f"merged:{name}"][2]]
    if mism:
        print(f"  note: hit counts differ from Dovecot's for: "
              f"{', '.join(mism)}")


def dovecot_head(d):
    return f"dovecot {DOVECOT_VERSION}" if d else "dovecot"


def run_dovecot_safely(fn):
    """Dovecot's figures, or None with the reason printed: a Dovecot that
    will not start here must not cost Postern's figures."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 (any failure: report, go on)
        print(f"dovecot: failed: {e}"[:2000])
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--quick", action="store_true",
                    help="10k messages (make bench)")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--no-dovecot", action="store_true")
    args = ap.parse_args()
    n = args.n or (10000 if args.quick else 100000)
    if os.geteuid() != 0:
        print("bench-imap: skipped: needs root")
        return
    build = os.path.abspath(args.build)
    corpus = os.path.join(build, "bench-corpus")
    if not os.access(corpus, os.X_OK):
        print(f"bench-imap: skipped: {corpus} not built "
              "(tests/bench/run.sh builds it)")
        return
    # on the disk, not /tmp (possibly tmpfs): figures for real storage
    work = tempfile.mkdtemp(prefix="postern-bench-imap-", dir="/var/tmp")
    os.chmod(work, 0o755)
    try:
        maildir = os.path.join(work, "Maildir")
        r = subprocess.run([corpus, "--n", str(n), "--maildir", maildir],
                           capture_output=True, text=True, check=True)
        raw = int(r.stdout.split()[2])
        queries = dict(line.split("\t", 1) for line in subprocess.run(
            [corpus, "--queries"], capture_output=True, text=True,
            check=True).stdout.splitlines())
        subprocess.run(["chmod", "-R", "a+rX", maildir], check=True)
        repeat = 3 if n <= 20000 else 2
        p = run_postern(build, maildir, n, queries, repeat)
        d = None
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
            d = run_dovecot_safely(
                lambda: run_dovecot(maildir, n, queries, repeat))
        print("search strings: " + ", ".join(
            f"{k} {v!r}" for k, v in queries.items()))
        report(n, raw, p, d, missing)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
