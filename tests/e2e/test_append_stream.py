"""End-to-end tests of APPEND with streamed literals (issue 4: "literals
from the client are streamed to the store, not held whole in memory when
large"): a 60 MB message in the synchronizing and the LITERAL+ form, with
the worker's peak memory watched while the literal comes in, fetched back
byte for byte; MULTIAPPEND mixing streamed and buffered messages; and the
refusals: over the APPENDLIMIT (NO [TOOBIG] before "+", or after skipping
a LITERAL+ literal, the connection going on), a large literal outside an
APPEND, a missing mailbox, NUL in a plain literal, a bad command after a
streamed literal. run.py appends APPEND_STREAM_TESTS."""

import atexit
import hashlib
import re
import time

from postern_env import PosternEnv, proc_status
from test_fetch import Raw, big_message, worker_pid
from checks import Skip, eq, ok  # noqa: F401

APPEND_STREAM_TESTS = []

APPEND_LIMIT = 67108864		# WORKER_APPEND_LIMIT
STREAM_OVER = 256 * 1024	# WORKER_STREAM_LITERAL: streamed above this


_shared = {}


def shared_env(build):
    env = _shared.get(build)
    if env is None or env.proc.poll() is not None:
        env = PosternEnv(build).start()
        _shared[build] = env
        atexit.register(env.cleanup)
    return env


def stream_test(fn):
    def run(build, fn=fn):
        fn(shared_env(build))
    run.__name__ = fn.__name__
    APPEND_STREAM_TESTS.append((run, False))
    return fn


def session(env):
    r = Raw(env.port, timeout=120)
    r.login()
    return r


def messages(r, mailbox="INBOX"):
    u, t = r.cmd(f"STATUS {mailbox} (MESSAGES)")
    ok(b" OK" in t, f"STATUS: {t!r}")
    m = re.search(rb"MESSAGES (\d+)", u[0][0])
    return int(m.group(1))


def appended_uids(tagged):
    m = re.search(rb"\[APPENDUID \d+ ([\d:,]+)\]", tagged)
    ok(m is not None, f"APPENDUID: {tagged!r}")
    uids = []
    for part in m.group(1).split(b","):
        a, _, b = part.partition(b":")
        uids.extend(range(int(a), int(b or a) + 1))
    return uids


def fetch_body(r, uid):
    _, t = r.cmd("EXAMINE INBOX")
    ok(b" OK" in t, f"EXAMINE: {t!r}")
    u, t = r.cmd(f"UID FETCH {uid} BODY.PEEK[]")
    ok(b" OK" in t, f"FETCH: {t!r}")
    bodies = [parts[0] for text, parts in u if b" FETCH " in text and parts]
    eq(len(bodies), 1, f"one body for UID {uid}")
    return bodies[0]


def rchar(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar")


def kb(pid, field):
    return int(proc_status(pid)[field].split()[0])


def append_60mb(env, plus):
    """Sends a 60 MB APPEND; the worker's peak memory is read once it has
    read the whole literal, before the final CRLF lets the store run."""
    msg = big_message(60 * 1000 * 1000)
    r = session(env)
    try:
        pid = worker_pid(env)
        # "5" resets VmHWM to the current RSS (proc(5), clear_refs)
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        before = kb(pid, "VmRSS")
        read0 = rchar(pid)
        t0 = time.time()
        if plus:
            r.send(b"a1 APPEND INBOX {%d+}\r\n" % len(msg))
        else:
            r.send(b"a1 APPEND INBOX {%d}\r\n" % len(msg))
            line = r.line()
            ok(line.startswith(b"+"), f"continuation: {line!r}")
        r.send(msg)
        deadline = time.time() + 60
        while rchar(pid) - read0 < len(msg) and time.time() < deadline:
            time.sleep(0.005)
        t_in = time.time() - t0
        streamed = kb(pid, "VmHWM") - before
        r.send(b"\r\n")
        tagged = r.line()
        dt = time.time() - t0
        ok(tagged.startswith(b"a1 OK [APPENDUID "), f"APPEND: {tagged!r}")
        total = kb(pid, "VmHWM") - before
        form = "LITERAL+" if plus else "synchronizing"
        print(f"    60 MB APPEND ({form}): literal in {t_in:.2f}s, "
              f"{dt:.2f}s in all ({len(msg) / dt / 1e6:.0f} MB/s); worker "
              f"VmHWM +{streamed} kB with the literal in, "
              f"+{total} kB after the store")
        # the literal went to a file as it came
        ok(streamed < 1024,
           f"worker memory grew by {streamed} kB for a 60 MB literal")
        # what remains is the store's own work on the new blob (the MIME
        # cache maps it, the search index folds its text), never a copy
        # of the literal on top: that would make it over 3x
        ok(total < 2.5 * len(msg) / 1024,
           f"worker memory grew by {total} kB for a 60 MB APPEND")
        uid = appended_uids(tagged)[0]
        body = fetch_body(r, uid)
        eq(len(body), len(msg), "length")
        ok(hashlib.sha256(body).digest() == hashlib.sha256(msg).digest(),
           "byte for byte")
        _, t = r.cmd("NOOP")
        ok(b" OK" in t, f"NOOP: {t!r}")
    finally:
        r.close()


@stream_test
def append_stream_60mb_sync(env):
    append_60mb(env, plus=False)


@stream_test
def append_stream_60mb_literal_plus(env):
    append_60mb(env, plus=True)


@stream_test
def append_stream_multiappend(env):
    r = session(env)
    try:
        a = big_message(300 * 1024)
        b = b"Subject: small\r\n\r\nsmall one\r\n"
        c = big_message(400 * 1024).replace(b"Subject: big",
                                            b"Subject: third")
        n0 = messages(r)
        r.send(b"m1 APPEND INBOX (\\Seen) {%d}\r\n" % len(a))
        ok(r.line().startswith(b"+"), "continuation for the first")
        r.send(a + b" (\\Flagged) {%d}\r\n" % len(b))
        ok(r.line().startswith(b"+"), "continuation for the second")
        r.send(b + b" ~{%d+}\r\n" % len(c) + c + b"\r\n")
        tagged = r.line()
        ok(tagged.startswith(b"m1 OK [APPENDUID"), f"MULTIAPPEND: {tagged!r}")
        uids = appended_uids(tagged)
        eq(len(uids), 3, "three UIDs")
        eq(messages(r), n0 + 3, "messages")
        for uid, m in zip(uids, (a, b, c)):
            eq(fetch_body(r, uid), m, f"UID {uid}")
        u, _ = r.cmd(f"UID FETCH {uids[0]},{uids[1]} FLAGS")
        flags = b" ".join(x[0] for x in u)
        ok(b"\\Seen" in flags and b"\\Flagged" in flags, flags)
    finally:
        r.close()


@stream_test
def append_stream_over_limit_sync(env):
    r = session(env)
    try:
        n0 = messages(r)
        # refused before "+": the client never sends the bytes
        r.send(b"s1 APPEND INBOX {%d}\r\n" % (APPEND_LIMIT + 1))
        line = r.line()
        ok(line.startswith(b"s1 NO [TOOBIG]"), f"over the limit: {line!r}")
        _, t = r.cmd("NOOP")
        ok(b" OK" in t, f"connection goes on: {t!r}")
        r.send(b"s2 APPEND INBOX ~{%d}\r\n" % (1 << 40))
        line = r.line()
        ok(line.startswith(b"s2 NO [TOOBIG]"), f"literal8: {line!r}")
        eq(messages(r), n0, "nothing appended")
    finally:
        r.close()


@stream_test
def append_stream_over_limit_literal_plus(env):
    r = session(env)
    try:
        n0 = messages(r)
        # RFC 7888: the bytes come anyway; they are skipped, with the
        # rest of the command (a second message), and the command fails
        junk = b"x\r\n" * ((APPEND_LIMIT + 3) // 3)
        r.send(b"s1 APPEND INBOX {%d+}\r\n" % len(junk) + junk +
               b" {5+}\r\nhello\r\n")
        line = r.line()
        ok(line.startswith(b"s1 NO [TOOBIG]"), f"over the limit: {line!r}")
        _, t = r.cmd("NOOP")
        ok(b" OK" in t, f"connection goes on: {t!r}")
        eq(messages(r), n0, "nothing appended")
    finally:
        r.close()


@stream_test
def append_stream_refusals(env):
    r = session(env)
    try:
        n0 = messages(r)
        big = STREAM_OVER + 1
        # a literal that large outside a message
        r.send(b"s1 SELECT {%d}\r\n" % big)
        line = r.line()
        ok(line.startswith(b"s1 BAD [TOOBIG]"), f"not APPEND: {line!r}")
        r.send(b"s2 APPEND {%d+}\r\n" % big + b"x" * big + b" {1+}\r\ny\r\n")
        line = r.line()
        ok(line.startswith(b"s2 BAD [TOOBIG]"), f"mailbox name: {line!r}")
        # known to fail before the message is sent
        r.send(b"s3 APPEND NoSuchBox {%d}\r\n" % big)
        line = r.line()
        ok(line.startswith(b"s3 NO [TRYCREATE]"), f"no mailbox: {line!r}")
        r.send(b"s4 APPEND INBOX (\\Bogus) {%d}\r\n" % big)
        line = r.line()
        ok(line.startswith(b"s4 BAD"), f"bad flag: {line!r}")
        # NUL is for literal8 (RFC 9051 4.3; RFC 3516)
        msg = big_message(big)
        nul = msg[:1000] + b"\0" + msg[1001:]
        r.send(b"s5 APPEND INBOX {%d+}\r\n" % len(nul) + nul + b"\r\n")
        line = r.line()
        ok(line.startswith(b"s5 BAD") and b"NUL" in line, f"NUL: {line!r}")
        # a bad command after a streamed literal: BAD, nothing kept
        r.send(b"s6 APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"junk\r\n")
        line = r.line()
        ok(line.startswith(b"s6 BAD"), f"bad syntax after: {line!r}")
        _, t = r.cmd("NOOP")
        ok(b" OK" in t, f"connection goes on: {t!r}")
        eq(messages(r), n0, "nothing appended")
        # and a good one still goes in
        r.send(b"s7 APPEND INBOX ~{%d+}\r\n" % len(nul) + nul + b"\r\n")
        line = r.line()
        ok(line.startswith(b"s7 OK [APPENDUID"), f"literal8 NUL: {line!r}")
        eq(fetch_body(r, appended_uids(line)[0]), nul, "literal8 body")
    finally:
        r.close()
