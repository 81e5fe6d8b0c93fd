"""End-to-end test of issue 5's "a 20 MB message fetched through the proxy
byte for byte": a 20 MB APPEND and FETCH over implicit TLS and over
STARTTLS, both crossing the login process's proxy, with the login
processes' peak memory watched: the proxy holds at most 64 KB each way
per session (daemon/login/login-proxy.c), so 20 MB must stream through,
not pile up. run.py appends TLS_FETCH_TESTS."""

import hashlib
import imaplib
import re

from postern_env import USERS, proc_status
from test_fetch import big_message
from test_tls import TlsEnv, client_ctx, eq, ok

TLS_FETCH_TESTS = []

SIZE = 20 * 1024 * 1024
# Peak growth allowed to the login processes over a 20 MB transfer each
# way: the proxy's buffers, GnuTLS's records and malloc's slack are a few
# hundred KB; buffering the message would be 20 MB.
LOGIN_GROWTH_MAX_KB = 4 * 1024


def login_hwm_reset(env):
    """Resets every login process's VmHWM to its current RSS (proc(5),
    clear_refs "5"); returns their RSS in KB."""
    rss = {}
    for pid in env.pids("login"):
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        rss[pid] = int(proc_status(pid)["VmRSS"].split()[0])
    return rss


def login_growth(env, before):
    """The largest peak growth (KB) of a login process since the reset."""
    grown = [int(proc_status(pid)["VmHWM"].split()[0]) - kb
             for pid, kb in before.items()]
    ok(grown, "no login process")
    return max(grown)


def round_trip(env, c, user, big, how):
    """APPEND big and FETCH it back on the logged-in client c."""
    typ, data = c.append("INBOX", None, None, big)
    eq(typ, "OK", f"{how}: APPEND of {len(big)} bytes: {data!r}")
    m = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0])
    ok(m, f"{how}: APPENDUID in {data!r}")
    uid = m.group(1).decode()
    conns = [x for w in env.who() if w["user"] == user
             for x in w["connections"]]
    ok(any(x["tls"] for x in conns),
       f"{how}: the session is a TLS one, proxied: {conns}")
    typ, _ = c.select("INBOX", readonly=True)
    eq(typ, "OK", f"{how}: EXAMINE")
    typ, data = c.uid("FETCH", uid, "(RFC822.SIZE BODY.PEEK[])")
    eq(typ, "OK", f"{how}: UID FETCH")
    ok(isinstance(data[0], tuple), f"{how}: a literal came back: "
       f"{data[0]!r:.200}")
    ok(b"RFC822.SIZE %d" % len(big) in data[0][0],
       f"{how}: RFC822.SIZE in {data[0][0]!r}")
    got = data[0][1]
    eq(len(got), len(big), f"{how}: length")
    ok(hashlib.sha256(got).digest() == hashlib.sha256(big).digest(),
       f"{how}: byte for byte")


def tls_fetch_test(fn):
    TLS_FETCH_TESTS.append((fn, False))
    return fn


@tls_fetch_test
def tls_fetch_20mb_through_proxy(build):
    env = TlsEnv(build, "worker_linger = 1\n").start()
    try:
        user, pw = "carol", USERS["carol"][2]
        big = big_message(SIZE)
        # a different message on the second path, so a mix-up shows
        big2 = big.replace(b"Subject: big", b"Subject: BIG", 1)
        for how, msg in (("implicit TLS", big), ("STARTTLS", big2)):
            before = login_hwm_reset(env)
            if how == "implicit TLS":
                c = imaplib.IMAP4_SSL("127.0.0.1", env.tls_port,
                                      ssl_context=client_ctx(), timeout=120)
            else:
                c = imaplib.IMAP4("127.0.0.1", env.port, timeout=120)
                eq(c.starttls(ssl_context=client_ctx())[0], "OK",
                   "STARTTLS")
            try:
                eq(c.login(user, pw)[0], "OK", f"{how}: LOGIN")
                round_trip(env, c, user, msg, how)
            finally:
                c.logout()
            grown = login_growth(env, before)
            print(f"    {how}: login process peak growth {grown} kB "
                  f"for {SIZE >> 20} MB each way")
            # ASan's redzones and allocator caches inflate every
            # allocation; buffering the message would still be far above.
            limit = LOGIN_GROWTH_MAX_KB * (
                3 if env.build.rstrip("/").endswith("build-san") else 1)
            ok(grown < limit, f"{how}: a login process grew by {grown} kB")
    finally:
        env.cleanup()
