"""End-to-end tests of the commands that change a mailbox and of keeping
a user's sessions in step (issue 4): APPEND (MULTIAPPEND, APPENDUID,
APPENDLIMIT, literal8), STORE, COPY, MOVE, EXPUNGE and their UID forms,
IDLE, and two sessions of one user seeing each other's changes with
consistent sequence numbers. run.py appends SYNC_TESTS to its list; each
test works in mailboxes of its own on the shared server.

Raw sockets are used where the order and form of responses matter
(imaplib hides both); imaplib where a real client's view is the point."""

import datetime
import imaplib
import re
import socket
import time

from postern_env import USERS
from checks import eq, ok  # noqa: F401,E402

SYNC_TESTS = []


def sync_test(fn):
    SYNC_TESTS.append((fn, True))
    return fn


MSG = (b"From: a@example.org\r\nTo: b@example.org\r\n"
       b"Subject: test %d\r\nMessage-ID: <m%d@example.org>\r\n\r\n"
       b"Body of message %d.\r\n")


def msg(n):
    return MSG % (n, n, n)


class Session:
    """One IMAP connection, logged in, that reads responses line by line
    (literals included) so tests see exactly what the server sent and in
    which order."""

    def __init__(self, env, user="alice", timeout=5):
        self.s = socket.create_connection(("127.0.0.1", env.port), timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.n = 0
        greeting = self.line()
        ok(greeting.startswith(b"* OK"), f"greeting {greeting!r}")
        pw = USERS[user][2]
        _, tagged = self.cmd(f"LOGIN {user} {pw}")
        ok(tagged.split()[1] == b"OK", f"login: {tagged!r}")

    def tag(self):
        self.n += 1
        return b"s%d" % self.n

    def send(self, data):
        self.s.sendall(data)

    def line(self, timeout=None):
        if timeout is not None:
            self.s.settimeout(timeout)
        try:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("closed; buffered %r" % self.buf)
                self.buf += chunk
        finally:
            if timeout is not None:
                self.s.settimeout(5)
        line, _, self.buf = self.buf.partition(b"\r\n")
        # a response line that ends in a literal: take its bytes too
        m = re.search(rb"~?\{(\d+)\}$", line)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("closed in a literal")
                self.buf += chunk
            line += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            line += b"\r\n" + self.line()
        return line

    def until(self, tag):
        """(untagged lines, tagged line) of the command tagged tag."""
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                return lines, line
            lines.append(line)

    def cmd(self, text, *literals):
        """Sends a command; each literal in literals replaces one "{}" in
        text as a synchronizing literal (waiting for "+")."""
        tag = self.tag()
        if isinstance(text, str):
            text = text.encode()
        parts = text.split(b"{}")
        ok(len(parts) == len(literals) + 1, "literal placeholders")
        self.send(tag + b" " + parts[0])
        for lit, rest in zip(literals, parts[1:]):
            self.send(b"{%d}\r\n" % len(lit))
            cont = self.line()
            if not cont.startswith(b"+"):
                # refused: that was the tagged answer
                ok(cont.startswith(tag + b" "), f"continuation {cont!r}")
                return [], cont
            self.send(lit + rest)
        self.send(b"\r\n")
        return self.until(tag)

    def ok(self, text, *literals):
        untagged, tagged = self.cmd(text, *literals)
        ok(tagged.split()[1] == b"OK", f"{text!r}: {tagged!r}")
        return untagged, tagged

    def select(self, box, examine=False):
        untagged, tagged = self.ok(("EXAMINE " if examine else "SELECT ") +
                                   box)
        return exists_of(untagged)

    def append(self, box, data, opts=""):
        _, tagged = self.ok(f"APPEND {box} {opts}{{}}", data)
        return appenduid(tagged)

    def status(self, box, items="MESSAGES UIDNEXT UIDVALIDITY"):
        untagged, _ = self.ok(f"STATUS {box} ({items})")
        st = [u for u in untagged if u.startswith(b"* STATUS")]
        eq(len(st), 1, "one STATUS response")
        inner = st[0][st[0].rindex(b"(") + 1:st[0].rindex(b")")].split()
        return {inner[i].decode(): int(inner[i + 1])
                for i in range(0, len(inner), 2)}

    def close(self):
        try:
            self.send(b"z LOGOUT\r\n")
            self.until(b"z")
        except (OSError, EOFError):
            pass
        self.s.close()


def exists_of(untagged):
    ex = [int(u.split()[1]) for u in untagged if u.endswith(b" EXISTS")]
    return ex[-1] if ex else None


def expunges_of(untagged):
    return [int(u.split()[1]) for u in untagged
            if re.match(rb"\* \d+ EXPUNGE$", u)]


def appenduid(tagged):
    m = re.search(rb"\[APPENDUID (\d+) ([\d:,]+)\]", tagged)
    ok(m is not None, f"APPENDUID in {tagged!r}")
    return int(m.group(1)), expand(m.group(2))


def copyuid(line):
    m = re.search(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]", line)
    ok(m is not None, f"COPYUID in {line!r}")
    return int(m.group(1)), expand(m.group(2)), expand(m.group(3))


def expand(seqset):
    out = []
    for part in seqset.split(b","):
        lo, _, hi = part.partition(b":")
        lo = int(lo)
        hi = int(hi) if hi else lo
        out.extend(range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1))
    return out


def fetch_flags(untagged):
    """{seq: (uid or None, set of flags)} of untagged FETCH responses."""
    out = {}
    for u in untagged:
        m = re.match(rb"\* (\d+) FETCH \((.*)\)$", u)
        if not m:
            continue
        body = m.group(2)
        fl = re.search(rb"FLAGS \(([^)]*)\)", body)
        uid = re.search(rb"UID (\d+)", body)
        # \Recent depends on which session saw the message first
        out[int(m.group(1))] = (int(uid.group(1)) if uid else None,
                                set(fl.group(1).split()) - {b"\\Recent"}
                                if fl else None)
    return out


def has_fetch(sess):
    """FETCH comes from another part of issue 4; tests use it when the
    server has it."""
    _, tagged = sess.cmd("FETCH 1 (UID)")
    return b"not supported" not in tagged and b"Unknown" not in tagged


def new_box(sess, name, messages=0):
    sess.ok(f"CREATE {name}")
    uids = []
    for i in range(messages):
        uids += sess.append(name, msg(i + 1))[1]
    return uids


def uid_map(sess):
    """{seq: uid} from FETCH 1:* (UID), or None without FETCH."""
    untagged, tagged = sess.cmd("FETCH 1:* (UID)")
    if tagged.split()[1] != b"OK":
        return None
    return {seq: v[0] for seq, v in fetch_flags(untagged).items()}


# ---------------------------------------------------------------- APPEND

@sync_test
def append_appenduid_status_select(env):
    s = Session(env)
    try:
        new_box(s, "ap-basic")
        before = s.status("ap-basic")
        v, uids = s.append("ap-basic", msg(1),
                           '(\\Seen $Label1) "05-Mar-2024 10:11:12 +0100" ')
        eq(v, before["UIDVALIDITY"], "APPENDUID uidvalidity")
        eq(uids, [before["UIDNEXT"]], "APPENDUID uid is the old UIDNEXT")
        v2, uids2 = s.append("ap-basic", msg(2))
        eq(uids2, [uids[0] + 1], "next APPENDUID")
        after = s.status("ap-basic")
        eq(after["MESSAGES"], 2, "MESSAGES")
        eq(after["UIDNEXT"], uids2[0] + 1, "UIDNEXT")
        untagged, _ = s.ok("SELECT ap-basic")
        eq(exists_of(untagged), 2, "EXISTS")
        flags = [u for u in untagged if u.startswith(b"* FLAGS")][0]
        ok(b"$Label1" in flags, f"new keyword in FLAGS: {flags!r}")
        m = uid_map(s)
        if m is not None:
            eq(m, {1: uids[0], 2: uids2[0]}, "UIDs by FETCH")
            untagged, _ = s.ok("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)")
            line = untagged[0]
            ok(b"\\Seen" in line and b"$Label1" in line, f"flags: {line!r}")
            ok(b"RFC822.SIZE %d" % len(msg(1)) in line, f"size: {line!r}")
            d = re.search(rb'INTERNALDATE "([^"]+)"', line)
            ok(d, f"internaldate: {line!r}")
            got = datetime.datetime.strptime(d.group(1).decode().strip(),
                                             "%d-%b-%Y %H:%M:%S %z")
            want = datetime.datetime(2024, 3, 5, 9, 11, 12,
                                     tzinfo=datetime.timezone.utc)
            eq(got, want, "INTERNALDATE is the APPEND date-time")
    finally:
        s.close()


@sync_test
def append_errors(env):
    s = Session(env)
    try:
        new_box(s, "ap-err")
        _, t = s.cmd("APPEND ap-nosuch {}", msg(1))
        ok(t.split()[1] == b"NO" and b"[TRYCREATE]" in t, f"TRYCREATE: {t!r}")
        _, t = s.cmd('APPEND ap-err "not a literal"')
        ok(t.split()[1] == b"BAD", f"quoted message: {t!r}")
        _, t = s.cmd("APPEND ap-err")
        ok(t.split()[1] == b"BAD", f"no message: {t!r}")
        _, t = s.cmd("APPEND ap-err (\\Recent) {}", msg(1))
        ok(t.split()[1] == b"BAD", f"\\Recent: {t!r}")
        _, t = s.cmd("APPEND ap-err (\\Bogus) {}", msg(1))
        ok(t.split()[1] == b"BAD", f"unknown system flag: {t!r}")
        _, t = s.cmd('APPEND ap-err "31-Feb-2024 10:00:00 +0000" {}', msg(1))
        ok(t.split()[1] == b"BAD", f"bad date: {t!r}")
        _, t = s.cmd("APPEND ap-err {}", b"a\0b\r\n")
        ok(t.split()[1] == b"BAD", f"NUL in a plain literal: {t!r}")
        eq(s.status("ap-err")["MESSAGES"], 0, "nothing appended")
        # A \Noselect parent (made by creating its child) is not an
        # APPEND target either.
        s.ok("CREATE ap-err-parent/child")
        _, t = s.cmd("APPEND ap-err-parent {}", msg(1))
        ok(b"[TRYCREATE]" in t, f"\\Noselect: {t!r}")
    finally:
        s.close()


@sync_test
def append_limit_advertised_and_enforced(env):
    s = Session(env)
    try:
        untagged, _ = s.ok("CAPABILITY")
        caps = untagged[0].split()
        lim = [c for c in caps if c.startswith(b"APPENDLIMIT=")]
        eq(len(lim), 1, "APPENDLIMIT advertised")
        limit = int(lim[0].split(b"=")[1])
        ok(0 < limit <= 1 << 31, f"limit {limit}")
        for c in (b"MULTIAPPEND", b"UIDPLUS", b"MOVE", b"IDLE"):
            ok(c in caps, f"{c} advertised")
        new_box(s, "ap-limit")
        st = s.status("ap-limit", "APPENDLIMIT")
        eq(st["APPENDLIMIT"], limit, "STATUS APPENDLIMIT")
        # A synchronizing literal over the limit is refused before the
        # client sends it: no continuation.
        tag = s.tag()
        s.send(tag + b" APPEND ap-limit {%d}\r\n" % (limit + 1))
        line = s.line()
        ok(line.startswith(tag + b" ") and b"[TOOBIG]" in line,
           f"refused at once: {line!r}")
        # So is one message of a MULTIAPPEND, and with it the first.
        tag = s.tag()
        s.send(tag + b" APPEND ap-limit {%d}\r\n" % len(msg(1)))
        ok(s.line().startswith(b"+"), "continuation for the first")
        s.send(msg(1) + b" {%d}\r\n" % (limit + 1))
        line = s.line()
        ok(line.startswith(tag + b" ") and b"[TOOBIG]" in line,
           f"second refused: {line!r}")
        s.ok("NOOP")
        eq(s.status("ap-limit")["MESSAGES"], 0, "nothing appended")
        # A non-synchronizing literal over it is on its way (RFC 7888):
        # streamed, its bytes are skipped, and the session goes on.
        s.send(b"x APPEND ap-limit {%d+}\r\n" % (limit + 1) +
               b"y" * (limit + 1) + b"\r\n")
        line = s.line()
        ok(line.startswith(b"x NO [TOOBIG]"), f"skipped: {line!r}")
        s.ok("NOOP")
        eq(s.status("ap-limit")["MESSAGES"], 0, "nothing appended")
    finally:
        s.close()


@sync_test
def append_literal8_binary(env):
    s = Session(env)
    try:
        new_box(s, "ap-bin")
        data = (b"Content-Type: application/octet-stream\r\n"
                b"Content-Transfer-Encoding: binary\r\n\r\n\0\1\2\xff\r\n")
        tag = s.tag()
        s.send(tag + b" APPEND ap-bin (\\Draft) ~{%d}\r\n" % len(data))
        ok(s.line().startswith(b"+"), "continuation for literal8")
        s.send(data + b"\r\n")
        _, t = s.until(tag)
        ok(t.split()[1] == b"OK" and b"[APPENDUID" in t, f"literal8: {t!r}")
        st = s.status("ap-bin", "MESSAGES SIZE")
        eq(st["MESSAGES"], 1, "stored")
        eq(st["SIZE"], len(data), "stored as sent")
    finally:
        s.close()


@sync_test
def multiappend_all_or_nothing(env):
    s = Session(env)
    try:
        new_box(s, "ap-multi")
        uv = s.status("ap-multi")["UIDVALIDITY"]
        _, t = s.ok('APPEND ap-multi (\\Seen) {} () "01-Jan-2020 00:00:00 '
                    '+0000" {} {}', msg(1), msg(2), msg(3))
        v, uids = appenduid(t)
        eq(v, uv, "uidvalidity")
        eq(uids, [1, 2, 3], "three UIDs, as a range")
        ok(b"APPENDUID %d 1:3]" % uv in t, f"range form: {t!r}")
        eq(s.status("ap-multi")["MESSAGES"], 3, "three appended")
        # A syntax error in the second message: none is appended.
        _, t = s.cmd("APPEND ap-multi {} (\\Recent) {}", msg(4), msg(5))
        ok(t.split()[1] == b"BAD", f"BAD: {t!r}")
        eq(s.status("ap-multi")["MESSAGES"], 3, "none of the bad batch")
        # A store failure in the second message (the mailbox's keyword
        # table overflows, 1000 names): the first is not kept either.
        n = 0
        while n < 960:
            kws = " ".join(f"k{n + i}" for i in range(64))
            s.ok(f"APPEND ap-multi ({kws}) {{}}", msg(100 + n))
            n += 64
        count = s.status("ap-multi")["MESSAGES"]
        few = " ".join(f"x{i}" for i in range(10))
        many = " ".join(f"y{i}" for i in range(64))
        _, t = s.cmd(f"APPEND ap-multi ({few}) {{}} ({many}) {{}}",
                     msg(7), msg(8))
        ok(t.split()[1] == b"NO" and b"[LIMIT]" in t, f"LIMIT: {t!r}")
        eq(s.status("ap-multi")["MESSAGES"], count, "all or nothing")
        # imaplib, a real client, appends too.
        c = imaplib.IMAP4("127.0.0.1", env.port)
        c.login("alice", USERS["alice"][2])
        typ, data = c.append("ap-multi", "(\\Flagged)", None, msg(9))
        eq(typ, "OK", "imaplib APPEND")
        ok(b"APPENDUID" in data[0], f"imaplib sees APPENDUID: {data!r}")
        c.logout()
    finally:
        s.close()


# ---------------------------------------------------------------- STORE

@sync_test
def store_flags_forms(env):
    s = Session(env)
    try:
        uids = new_box(s, "st-box", 3)
        s.select("st-box")
        untagged, _ = s.ok("STORE 1 +FLAGS (\\Flagged \\Seen)")
        f = fetch_flags(untagged)
        eq(f[1][1], {b"\\Flagged", b"\\Seen"}, "+FLAGS")
        untagged, _ = s.ok("STORE 1 -FLAGS (\\Seen)")
        eq(fetch_flags(untagged)[1][1], {b"\\Flagged"}, "-FLAGS")
        untagged, _ = s.ok("STORE 1:2 FLAGS (\\Answered)")
        f = fetch_flags(untagged)
        eq({k: v[1] for k, v in f.items()},
           {1: {b"\\Answered"}, 2: {b"\\Answered"}}, "FLAGS replaces")
        untagged, _ = s.ok("STORE 2 +FLAGS.SILENT (\\Draft)")
        eq(fetch_flags(untagged), {}, ".SILENT sends no FETCH")
        untagged, _ = s.ok(f"UID STORE {uids[2]} +FLAGS (\\Deleted)")
        f = fetch_flags(untagged)
        eq(f[3], (uids[2], {b"\\Deleted"}), "UID STORE includes UID")
        # flags without parentheses (RFC 9051: flag *(SP flag))
        untagged, _ = s.ok("STORE 3 -FLAGS \\Deleted")
        eq(fetch_flags(untagged)[3][1], set(), "unparenthesised")
        # a new keyword: a FLAGS response before the FETCH
        untagged, _ = s.ok("STORE 1 +FLAGS (NewKeyword)")
        fl = [i for i, u in enumerate(untagged) if u.startswith(b"* FLAGS")]
        ft = [i for i, u in enumerate(untagged) if b"FETCH" in u]
        ok(fl and ft and fl[0] < ft[0] and b"NewKeyword" in untagged[fl[0]],
           f"FLAGS with the keyword first: {untagged!r}")
        untagged, _ = s.ok("STORE 1 +FLAGS (NewKeyword)")
        ok(not any(u.startswith(b"* FLAGS") for u in untagged),
           "a known keyword gives no FLAGS")
        for bad in ("STORE 1 +FLAGS (\\Recent)", "STORE 1 +FLAGS (\\Bogus)",
                    "STORE 4 +FLAGS (\\Seen)", "STORE 1 FROB (\\Seen)",
                    "STORE 1", "STORE x +FLAGS (\\Seen)"):
            _, t = s.cmd(bad)
            ok(t.split()[1] == b"BAD", f"{bad}: {t!r}")
        # UIDs that do not exist are ignored
        _, t = s.ok("UID STORE 999 +FLAGS (\\Seen)")
        s.select("st-box", examine=True)
        _, t = s.cmd("STORE 1 +FLAGS (\\Seen)")
        ok(t.split()[1] == b"NO", f"read-only: {t!r}")
    finally:
        s.close()


# ---------------------------------------------------------- COPY, MOVE

@sync_test
def copy_copyuid(env):
    s = Session(env)
    try:
        src = new_box(s, "cp-src", 4)
        new_box(s, "cp-dst", 2)
        dst_before = s.status("cp-dst")
        s.select("cp-src")
        s.ok("STORE 2 +FLAGS (\\Flagged Kw1)")
        _, t = s.ok("COPY 2:3 cp-dst")
        v, su, du = copyuid(t)
        eq(v, dst_before["UIDVALIDITY"], "COPYUID uidvalidity")
        eq(su, src[1:3], "source UIDs")
        eq(du, [dst_before["UIDNEXT"], dst_before["UIDNEXT"] + 1],
           "destination UIDs")
        ok(b"COPYUID %d %d:%d %d:%d]" % (v, su[0], su[1], du[0], du[1]) in t,
           f"ranges: {t!r}")
        _, t = s.ok(f"UID COPY {src[0]},{src[3]} cp-dst")
        v, su, du = copyuid(t)
        eq(su, [src[0], src[3]], "UID COPY sources")
        eq(du, [dst_before["UIDNEXT"] + 2, dst_before["UIDNEXT"] + 3], "dst")
        after = s.status("cp-dst")
        eq(after["MESSAGES"], 6, "copied")
        eq(after["UIDNEXT"], du[-1] + 1, "UIDNEXT follows COPYUID")
        eq(s.status("cp-src")["MESSAGES"], 4, "source untouched")
        _, t = s.cmd("COPY 1 cp-nosuch")
        ok(t.split()[1] == b"NO" and b"[TRYCREATE]" in t, f"TRYCREATE: {t!r}")
        _, t = s.ok("UID COPY 999 cp-dst")
        ok(b"COPYUID" not in t, f"nothing copied, no COPYUID: {t!r}")
        _, t = s.cmd("COPY 9 cp-dst")
        ok(t.split()[1] == b"BAD", f"beyond the last message: {t!r}")
        # copy into the selected mailbox: EXISTS before the completion
        untagged, t = s.ok("COPY 1 cp-src")
        eq(exists_of(untagged), 5, "EXISTS for the copy")
        # the copy keeps flags and keywords
        s.select("cp-dst")
        m = uid_map(s)
        if m is not None:
            untagged, _ = s.ok("FETCH 3 (UID FLAGS)")
            f = fetch_flags(untagged)[3]
            eq(f[0], dst_before["UIDNEXT"], "UID of the copy")
            eq(f[1], {b"\\Flagged", b"Kw1"}, "flags copied")
        # from a read-only mailbox COPY is fine
        s.select("cp-src", examine=True)
        _, t = s.ok("COPY 1 cp-dst")
        copyuid(t)
    finally:
        s.close()


@sync_test
def move_copyuid_then_expunge(env):
    s = Session(env)
    try:
        src = new_box(s, "mv-src", 5)
        new_box(s, "mv-dst")
        dst = s.status("mv-dst")
        s.select("mv-src")
        untagged, t = s.ok("MOVE 2:3 mv-dst")
        eq(t.split()[1], b"OK", "MOVE")
        ok(untagged and untagged[0].startswith(b"* OK [COPYUID"),
           f"COPYUID first: {untagged!r}")
        v, su, du = copyuid(untagged[0])
        eq((v, su), (dst["UIDVALIDITY"], src[1:3]), "COPYUID")
        eq(du, [dst["UIDNEXT"], dst["UIDNEXT"] + 1], "destination UIDs")
        ex = expunges_of(untagged)
        eq(sorted(ex), [2, 2] if ex[0] == 2 else [2, 3], "EXPUNGE numbers")
        eq(len(ex), 2, "two EXPUNGEs")
        _, t = s.ok(f"UID MOVE {src[4]} mv-dst")
        untagged = _
        eq(expunges_of(untagged), [3], "UID MOVE expunges seq 3")
        eq(copyuid(untagged[0])[1], [src[4]], "UID MOVE COPYUID")
        eq(s.status("mv-src")["MESSAGES"], 2, "left in source")
        eq(s.status("mv-dst")["MESSAGES"], 3, "in destination")
        _, t = s.cmd("MOVE 1 mv-nosuch")
        ok(b"[TRYCREATE]" in t, f"TRYCREATE: {t!r}")
        eq(s.status("mv-src")["MESSAGES"], 2, "failed MOVE moved nothing")
        m = uid_map(s)
        if m is not None:
            eq(m, {1: src[0], 2: src[3]}, "remaining UIDs")
        s.select("mv-src", examine=True)
        _, t = s.cmd("MOVE 1 mv-dst")
        ok(t.split()[1] == b"NO", f"MOVE from read-only: {t!r}")
    finally:
        s.close()


# ---------------------------------------------------------------- EXPUNGE

@sync_test
def expunge_and_uid_expunge(env):
    s = Session(env)
    try:
        uids = new_box(s, "ex-box", 6)
        s.select("ex-box")
        s.ok("STORE 2,4,5 +FLAGS.SILENT (\\Deleted)")
        # UID EXPUNGE only touches its set
        untagged, _ = s.ok(f"UID EXPUNGE {uids[3]}:{uids[5]}")
        eq(expunges_of(untagged), [5, 4], "UID EXPUNGE of 4 and 5")
        eq(s.status("ex-box")["MESSAGES"], 4, "two gone")
        untagged, _ = s.ok("EXPUNGE")
        eq(expunges_of(untagged), [2], "EXPUNGE of 2")
        untagged, _ = s.ok("EXPUNGE")
        eq(expunges_of(untagged), [], "nothing more")
        m = uid_map(s)
        if m is not None:
            eq(m, {1: uids[0], 2: uids[2], 3: uids[5]}, "UIDs left")
        _, t = s.cmd("UID EXPUNGE")
        ok(t.split()[1] == b"BAD", f"UID EXPUNGE without set: {t!r}")
        _, t = s.cmd("EXPUNGE 1")
        ok(t.split()[1] == b"BAD", f"EXPUNGE with an argument: {t!r}")
        s.select("ex-box", examine=True)
        _, t = s.cmd("EXPUNGE")
        ok(t.split()[1] == b"NO", f"read-only: {t!r}")
        s.ok("UNSELECT")
        _, t = s.cmd("EXPUNGE")
        ok(t.split()[1] == b"BAD", f"no mailbox: {t!r}")
    finally:
        s.close()


# ------------------------------------------------------------------ IDLE

def idle_start(sess):
    tag = sess.tag()
    sess.send(tag + b" IDLE\r\n")
    line = sess.line()
    ok(line.startswith(b"+ "), f"IDLE continuation: {line!r}")
    return tag


def idle_done(sess, tag):
    sess.send(b"DONE\r\n")
    return sess.until(tag)


def wait_line(sess, pred, what, timeout=2):
    """The first line matching pred and how long it took."""
    t0 = time.monotonic()
    while True:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            raise AssertionError("timed out waiting for " + what)
        try:
            line = sess.line(timeout=left)
        except socket.timeout:
            raise AssertionError("timed out waiting for " + what)
        if pred(line):
            return line, time.monotonic() - t0


@sync_test
def idle_basics(env):
    s = Session(env)
    try:
        tag = idle_start(s)       # no mailbox selected: still valid
        _, t = idle_done(s, tag)
        ok(t.split()[1] == b"OK", f"DONE: {t!r}")
        _, t = s.cmd("IDLE now")
        ok(t.split()[1] == b"BAD", f"IDLE with an argument: {t!r}")
        new_box(s, "idle-basic", 1)
        s.select("idle-basic")
        tag = idle_start(s)
        s.send(b"NOT-DONE\r\n")
        _, t = s.until(tag)
        ok(t.split()[1] == b"BAD", f"not DONE: {t!r}")
        s.ok("NOOP")
        # pipelined behind DONE
        tag = idle_start(s)
        tag2 = s.tag()
        s.send(b"DONE\r\n" + tag2 + b" NOOP\r\n")
        s.until(tag)
        _, t = s.until(tag2)
        ok(t.split()[1] == b"OK", "command after DONE")
    finally:
        s.close()


@sync_test
def idle_sees_append_expunge_flags_at_once(env):
    a = Session(env)
    b = Session(env)
    try:
        uids = new_box(b, "idle-sync", 3)
        eq(a.select("idle-sync"), 3, "EXISTS")
        b.select("idle-sync")
        tag = idle_start(a)
        # APPEND by the other session: EXISTS within 100 ms
        t0 = time.monotonic()
        _, t = b.ok("APPEND idle-sync {}", msg(9))
        line, _ = wait_line(a, lambda l: l.endswith(b" EXISTS"), "EXISTS")
        dt = time.monotonic() - t0
        eq(line, b"* 4 EXISTS", "EXISTS in IDLE")
        ok(dt < 0.1, f"EXISTS after {dt * 1000:.1f} ms")
        # the other session's own EXISTS came before its completion
        # FLAGS change: FETCH FLAGS within 100 ms
        t0 = time.monotonic()
        b.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
        line, _ = wait_line(a, lambda l: b"FETCH" in l, "FETCH")
        dt = time.monotonic() - t0
        f = fetch_flags([line])
        eq(f, {2: (uids[1], {b"\\Flagged"})}, "FETCH FLAGS in IDLE")
        ok(dt < 0.1, f"FETCH after {dt * 1000:.1f} ms")
        # EXPUNGE: within 100 ms
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        wait_line(a, lambda l: b"FETCH" in l, "FETCH of \\Deleted")
        t0 = time.monotonic()
        b.ok("EXPUNGE")
        line, _ = wait_line(a, lambda l: l.endswith(b"EXPUNGE"), "EXPUNGE")
        dt = time.monotonic() - t0
        eq(line, b"* 1 EXPUNGE", "EXPUNGE in IDLE")
        ok(dt < 0.1, f"EXPUNGE after {dt * 1000:.1f} ms")
        # a MOVE out of the mailbox: EXPUNGE too
        b.ok("MOVE 1 INBOX")
        line, _ = wait_line(a, lambda l: l.endswith(b"EXPUNGE"), "MOVE")
        eq(line, b"* 1 EXPUNGE", "MOVE seen as EXPUNGE")
        # a new keyword: FLAGS response
        b.ok("STORE 1 +FLAGS.SILENT (IdleKw)")
        line, _ = wait_line(a, lambda l: l.startswith(b"* FLAGS"), "FLAGS")
        ok(b"IdleKw" in line, f"FLAGS: {line!r}")
        untagged, t = idle_done(a, tag)
        ok(t.split()[1] == b"OK", f"DONE: {t!r}")
        eq(a.status("idle-sync")["MESSAGES"], 2, "both agree")
    finally:
        a.close()
        b.close()


@sync_test
def idle_two_watchers_and_copy_into(env):
    a = Session(env)
    b = Session(env)
    c = Session(env)
    try:
        new_box(c, "idle-w1")
        new_box(c, "idle-w2", 2)
        a.select("idle-w1")
        b.select("idle-w1")
        ta, tb = idle_start(a), idle_start(b)
        c.select("idle-w2")
        t0 = time.monotonic()
        _, t = c.ok("COPY 1:2 idle-w1")
        for sess in (a, b):
            line, _ = wait_line(sess, lambda l: l.endswith(b"EXISTS"), "EX")
            eq(line, b"* 2 EXISTS", "EXISTS after COPY")
        dt = time.monotonic() - t0
        ok(dt < 0.1, f"both told within {dt * 1000:.1f} ms")
        idle_done(a, ta)
        idle_done(b, tb)
    finally:
        for s in (a, b, c):
            s.close()


# -------------------------------------------- sequence number consistency

@sync_test
def sequence_numbers_stay_consistent(env):
    a = Session(env)
    b = Session(env)
    try:
        uids = new_box(b, "seq-box", 5)
        a.select("seq-box")
        b.select("seq-box")
        fetch = has_fetch(a)
        b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        untagged, _ = b.ok("EXPUNGE")
        eq(expunges_of(untagged), [2], "B's own EXPUNGE")
        # A was not told: message 5 is still number 5 for it, and STORE
        # and FETCH (no EXPUNGE allowed after them) answer by it.
        untagged, t = a.ok("STORE 5 +FLAGS (\\Seen)")
        eq(expunges_of(untagged), [], "no EXPUNGE after STORE")
        eq(fetch_flags(untagged).get(5, (None,))[0], uids[4],
           "seq 5 is still the fifth message")
        if fetch:
            untagged, t = a.ok("FETCH 5 (UID)")
            eq(expunges_of(untagged), [], "no EXPUNGE after FETCH")
            eq(fetch_flags(untagged)[5][0], uids[4], "FETCH 5 by old number")
            # the expunged message's number still names it for A
            _, t = a.cmd("FETCH 2 (UID)")
            ok(t.split()[1] in (b"OK", b"NO"), f"FETCH of expunged: {t!r}")
        # UID commands may carry EXPUNGE
        untagged, _ = a.ok(f"UID STORE {uids[0]} +FLAGS (\\Answered)")
        eq(expunges_of(untagged), [2], "EXPUNGE with a UID command")
        # now 4 messages for A too
        _, t = a.cmd("STORE 5 +FLAGS (\\Seen)")
        ok(t.split()[1] == b"BAD", f"seq 5 is gone now: {t!r}")
        # B appends and expunges; A hears at NOOP, with EXPUNGE before
        # EXISTS and numbers that fit each step
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.append("seq-box", msg(6))
        b.ok("EXPUNGE")
        untagged, t = a.ok("NOOP")
        eq(expunges_of(untagged), [1], "EXPUNGE at NOOP")
        eq(exists_of(untagged), 4, "EXISTS at NOOP")
        ok(untagged.index(b"* 1 EXPUNGE") < untagged.index(b"* 4 EXISTS"),
           f"order: {untagged!r}")
        # FETCH FLAGS from B reach A at its next command
        b.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
        untagged, _ = a.ok("NOOP")
        f = fetch_flags(untagged)
        eq(list(f), [1], "one FETCH")
        ok(b"\\Flagged" in f[1][1], f"flags told: {f!r}")
        if fetch:
            ma, mb = uid_map(a), uid_map(b)
            eq(ma, mb, "both sessions number alike")
    finally:
        a.close()
        b.close()


@sync_test
def copyuid_appenduid_match_fetch_and_search(env):
    s = Session(env)
    try:
        uids = new_box(s, "uidchk-a", 3)
        new_box(s, "uidchk-b")
        s.select("uidchk-a")
        _, t = s.ok("COPY 1:3 uidchk-b")
        _, src, dst = copyuid(t)
        eq(src, uids, "COPYUID sources are the APPENDUIDs")
        s.select("uidchk-b")
        m = uid_map(s)
        if m is not None:
            eq(sorted(m.values()), dst, "COPYUID destinations by FETCH")
        untagged, t = s.cmd("UID SEARCH ALL")
        if t.split()[1] == b"OK":
            found = [int(x) for u in untagged if u.startswith(b"* SEARCH")
                     for x in u.split()[2:]]
            eq(found, dst, "COPYUID destinations by UID SEARCH")
        st = s.status("uidchk-b")
        eq(st["UIDNEXT"], dst[-1] + 1, "UIDNEXT after the copies")
    finally:
        s.close()


@sync_test
def store_by_one_session_told_to_other_not_self_twice(env):
    a = Session(env)
    b = Session(env)
    try:
        new_box(a, "stsync", 2)
        a.select("stsync")
        b.select("stsync")
        untagged, _ = a.ok("STORE 1 +FLAGS (\\Seen)")
        eq(len(fetch_flags(untagged)), 1, "one FETCH for A's own STORE")
        untagged, _ = a.ok("NOOP")
        eq(fetch_flags(untagged), {}, "A is not told its own change again")
        untagged, _ = b.ok("NOOP")
        eq(fetch_flags(untagged)[1][1], {b"\\Seen"}, "B is told")
    finally:
        a.close()
        b.close()


@sync_test
def suspended_fetch_tells_expunge_before_its_completion(env):
    """A FETCH big enough to suspend (its client is not reading) while
    another session expunges a message it has yet to reach: the message
    is left out, the FETCH completes OK, and the EXPUNGE (allowed during
    UID FETCH) is told before the tagged completion - after it no command
    is in progress (RFC 9051 7.5.1)."""
    a = Session(env)
    b = Session(env)
    try:
        a.ok("CREATE susp")
        body = b"x" * 200 + b"\r\n"
        # 8 MB: more than the socket buffers and the worker's output
        # mark hold, so the FETCH must suspend
        big = (b"From: a@example.org\r\nSubject: big\r\n\r\n" + body * 1000)
        for _ in range(40):
            a.append("susp", big)
        a.select("susp")
        b.select("susp")
        t = a.tag()
        a.send(t + b" UID FETCH 1:* (BODY.PEEK[])\r\n")
        time.sleep(0.3)     # A reads nothing: its FETCH suspends
        b.ok("STORE 40 +FLAGS (\\Deleted)")
        b.ok("EXPUNGE")
        untagged, tagged = a.until(t)
        eq(tagged.split()[1], b"OK", "the FETCH completes")
        fetched = [u for u in untagged if b" FETCH " in u]
        # message 40 was expunged before the FETCH reached it: it is
        # left out (its bytes are gone), not a server error
        eq(len(fetched), 39, "the messages that still existed")
        untagged2, _ = a.ok("NOOP")
        told = expunges_of(untagged) + expunges_of(untagged2)
        eq(told, [40], "A is told of the expunge once")
        eq(expunges_of(untagged2), [],
           "the EXPUNGE came before the FETCH's completion, not after it")
    finally:
        a.close()
        b.close()
