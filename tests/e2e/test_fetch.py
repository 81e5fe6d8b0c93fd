"""End-to-end tests of FETCH and UID FETCH (issue 4): every data item with
imaplib and raw sockets, \\Seen, partials, BINARY, sequence-set errors,
EXPUNGEISSUED, a 20 MB body streamed byte for byte with the worker's
memory watched, a slow reader that must not stall the user's other
sessions, and curl reading a message by UID. run.py appends FETCH_TESTS.

Messages go in with APPEND; where APPEND is not available, with
`posternctl import` of an mbox before the user's worker starts."""

import atexit
import base64
import hashlib
import imaplib
import os
import re
import select
import socket
import subprocess
import time

from postern_env import PosternEnv, USERS, proc_status
from checks import Skip, eq, ok  # noqa: F401

FETCH_TESTS = []


# ------------------------------------------------------------ messages

SIMPLE = (b"From: Alice Example <alice@example.com>\r\n"
          b"To: bob@example.org\r\n"
          b"Subject: Hello\r\n"
          b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
          b"Message-ID: <m1@example.com>\r\n"
          b"\r\n"
          b"Hello Bob.\r\n")

ATTACHMENT = bytes(range(256)) * 4
ATTACHMENT_B64 = b"\r\n".join(
    base64.b64encode(ATTACHMENT)[i:i + 76]
    for i in range(0, len(base64.b64encode(ATTACHMENT)), 76))
TEXT_8BIT = "Grüße aus Köln.".encode()
INNER_HEADER = (b"From: inner@example.com\r\n"
                b"Subject: inner\r\n"
                b"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
                b"\r\n")
INNER_TEXT = (b"--inner\r\n"
              b"Content-Type: text/plain\r\n"
              b"\r\n"
              b"inner plain\r\n"
              b"--inner\r\n"
              b"Content-Type: text/html; charset=us-ascii\r\n"
              b"Content-Transfer-Encoding: quoted-printable\r\n"
              b"\r\n"
              b"<p>inner =3D html</p>\r\n"
              b"--inner--\r\n")
PART2_MIME = (b"Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
              b"Content-Transfer-Encoding: base64\r\n"
              b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
              b"\r\n")
MULTI_HEADER = (b"From: \"Carol\" <carol@example.net>\r\n"
                b"To: alice@example.com, \"Bob B.\" <bob@example.org>\r\n"
                b"Cc: dave@example.com\r\n"
                b"Subject: =?utf-8?q?caf=C3=A9?= report\r\n"
                b"Date: Tue, 2 Jan 2024 11:30:00 +0100\r\n"
                b"Message-ID: <m2@example.net>\r\n"
                b"MIME-Version: 1.0\r\n"
                b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                b"\r\n")
MULTI = (MULTI_HEADER +
         b"preamble\r\n"
         b"--outer\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\n"
         b"\r\n" + TEXT_8BIT + b"\r\n"
         b"--outer\r\n" + PART2_MIME + ATTACHMENT_B64 + b"\r\n"
         b"--outer\r\n"
         b"Content-Type: message/rfc822\r\n"
         b"\r\n" + INNER_HEADER + INNER_TEXT +
         b"--outer--\r\n")

WEIRD_CTE = (b"From: x@example.com\r\n"
             b"Subject: weird\r\n"
             b"Content-Type: application/octet-stream\r\n"
             b"Content-Transfer-Encoding: x-uuencode\r\n"
             b"\r\n"
             b"begin 644 x\r\nend\r\n")

DATE1 = '" 1-Feb-2024 08:09:10 +0000"'


def big_message(size):
    head = (b"From: big@example.com\r\nTo: alice@example.com\r\n"
            b"Subject: big\r\n\r\n")
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    n = (size - len(head)) // len(line)
    body = bytearray(head)
    for i in range(n):
        body += b"%08d" % i + line[8:]
    return bytes(body)


# ------------------------------------------------------------ helpers

def login(env, user="alice"):
    c = imaplib.IMAP4("127.0.0.1", env.port)
    c.login(user, USERS[user][2])
    return c


class Raw:
    """An IMAP connection that reads responses with their literals."""

    def __init__(self, port, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = bytearray()
        self.n = 0

    def _fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed; buffered: %r" %
                           bytes(self.buf[:200]))
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

    def exact(self, n):
        # bytearray: a 20 MB literal read 4 KB at a time stays linear
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def response(self):
        """One response: its text with every literal as bytes in a list."""
        parts = []
        text = b""
        while True:
            line = self.line()
            text += line
            m = re.search(rb"~?\{(\d+)\}$", line)
            if not m:
                return text, parts
            data = self.exact(int(m.group(1)))
            parts.append(data)
            text += b"\0LIT%d\0" % (len(parts) - 1)

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, command, tag=None):
        """Sends a command; returns (untagged responses, tagged line)."""
        if tag is None:
            self.n += 1
            tag = b"t%d" % self.n
        if isinstance(command, str):
            command = command.encode()
        self.send(tag + b" " + command + b"\r\n")
        untagged = []
        while True:
            text, parts = self.response()
            if text.startswith(tag + b" "):
                return untagged, text
            untagged.append((text, parts))

    def login(self, user="alice"):
        self.line()
        _, t = self.cmd(f"LOGIN {user} {USERS[user][2]}")
        ok(b" OK" in t, f"LOGIN: {t!r}")

    def close(self):
        self.s.close()


def fetch1(r, command):
    """FETCH of one message: (response text, literals, tagged line)."""
    u, t = r.cmd(command)
    ok(t.split()[1] == b"OK", f"{command}: {t!r}")
    f = [x for x in u if re.match(rb"\* \d+ FETCH", x[0])]
    eq(len(f), 1, f"FETCH responses to {command}: {u!r}")
    return f[0][0], f[0][1], t


def append(env, c, mailbox, msg, flags=None, date=None):
    typ, data = c.append(mailbox, flags, date, msg)
    if typ != "OK":
        raise AssertionError(f"APPEND: {typ} {data}")


class FetchEnv(PosternEnv):
    """A server whose alice INBOX holds SIMPLE (UID 1), MULTI (UID 2),
    WEIRD_CTE (UID 3) and a 20 MB message (UID 4)."""

    def __init__(self, build):
        super().__init__(build, "worker_linger = 1\n")
        self.big = big_message(20 * 1024 * 1024)
        self.start()
        self.load()

    def has_append(self):
        r = Raw(self.port)
        r.login()
        # to a mailbox that does not exist: NO [TRYCREATE] if APPEND is
        # there, without adding anything
        _, t = r.cmd("APPEND NoSuchMailbox {1+}\r\nx")
        r.close()
        return b" BAD Command not supported" not in t and \
            b"Unknown command" not in t

    def load(self):
        msgs = [SIMPLE, MULTI, WEIRD_CTE, self.big]
        if self.has_append():
            c = login(self)
            try:
                for i, m in enumerate(msgs):
                    date = time.mktime(time.strptime(
                        "2024-02-01 08:09:10", "%Y-%m-%d %H:%M:%S")) - \
                        time.timezone if i == 0 else None
                    append(self, c, "INBOX", m, None,
                           imaplib.Time2Internaldate(date) if date else None)
            finally:
                c.logout()
            self.via = "APPEND"
            return
        # posternctl import needs the store unlocked: wait for the
        # worker to go (worker_linger = 1).
        deadline = time.time() + 10
        while time.time() < deadline and any(
                p["role"] == "worker" for p in self.status()):
            time.sleep(0.1)
        mbox = os.path.join(self.dir, "load.mbox")
        with open(mbox, "wb") as f:
            for m in msgs:
                f.write(b"From load@example.com Thu Feb  1 08:09:10 2024\n")
                body = m.replace(b"\r\n", b"\n")
                body = re.sub(rb"(?m)^(>*From )", rb">\1", body)
                f.write(body + b"\n")
        os.chmod(self.dir, 0o755)
        os.chmod(mbox, 0o644)
        r = ctl_import(self, "alice", mbox)
        if r.returncode != 0:
            raise Skip(f"neither APPEND nor import works: {r.stderr}")
        self.via = "import"


_shared = {}


def shared_env(build):
    env = _shared.get(build)
    if env is None or env.proc.poll() is not None:
        env = FetchEnv(build)
        _shared[build] = env
        atexit.register(env.cleanup)
    return env


def fetch_test(fn):
    def run(build, fn=fn):
        fn(shared_env(build))
    run.__name__ = fn.__name__
    FETCH_TESTS.append((run, False))
    return fn


def examine(env):
    r = Raw(env.port)
    r.login()
    _, t = r.cmd("EXAMINE INBOX")
    ok(b" OK" in t, f"EXAMINE: {t!r}")
    return r


def ctl_import(env, user, path):
    """posternctl import, with the fake users of nss_wrapper."""
    return subprocess.run([f"{env.build}/posternctl", "-c", env.config,
                           "import", user, path], capture_output=True,
                          text=True, timeout=600, env=env.environ())


def worker_pid(env, user="alice"):
    for p in env.status():
        if p["role"] == "worker" and p.get("user") == user:
            return p["pid"]
    raise AssertionError("no worker for " + user)


# ------------------------------------------------------------ tests

@fetch_test
def fetch_simple_items_exact(env):
    r = examine(env)
    text, lits, _ = fetch1(r, "FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE "
                              "BODY BODYSTRUCTURE)")
    env_str = (b'ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "Hello" '
               b'(("Alice Example" NIL "alice" "example.com")) '
               b'(("Alice Example" NIL "alice" "example.com")) '
               b'(("Alice Example" NIL "alice" "example.com")) '
               b'((NIL NIL "bob" "example.org")) NIL NIL NIL '
               b'"<m1@example.com>")')
    bs = (b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL '
          b'"7BIT" 12 1 NIL NIL NIL NIL)')
    body = b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 12 1)'
    exp = (b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE %d " % len(SIMPLE) +
           env_str + b" " + body + b" " + bs + b")")
    eq(text, exp, "exact simple response")
    eq(lits, [], "no literals")
    if env.via == "APPEND":
        text, _, _ = fetch1(r, "FETCH 1 INTERNALDATE")
        eq(text, b"* 1 FETCH (INTERNALDATE " + DATE1.encode() + b")",
           "INTERNALDATE as appended")
    else:
        text, _, _ = fetch1(r, "FETCH 1 INTERNALDATE")
        ok(re.fullmatch(rb'\* 1 FETCH \(INTERNALDATE "[ 0-9]\d-[A-Z][a-z]{2}-'
                        rb'\d{4} \d\d:\d\d:\d\d [+-]\d{4}"\)', text), text)
    r.close()


@fetch_test
def fetch_macros(env):
    r = examine(env)
    text, _, _ = fetch1(r, "FETCH 1 FAST")
    ok(re.fullmatch(rb'\* 1 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" '
                    rb'RFC822.SIZE \d+\)', text), f"FAST: {text!r}")
    text, _, _ = fetch1(r, "FETCH 1 ALL")
    ok(b"FLAGS" in text and b"INTERNALDATE" in text and
       b"RFC822.SIZE" in text and b"ENVELOPE (" in text and
       b"BODY (" not in text, f"ALL: {text!r}")
    text, _, _ = fetch1(r, "FETCH 1 FULL")
    ok(b"ENVELOPE (" in text and b" BODY (" in text and
       b"BODYSTRUCTURE" not in text, f"FULL: {text!r}")
    r.close()


@fetch_test
def fetch_preview(env):
    """RFC 8970: the first text of the message, plain, at most 200
    characters; (LAZY) is answered the same way."""
    r = examine(env)
    text, _, _ = fetch1(r, "FETCH 1 PREVIEW")
    ok(b'PREVIEW "Hello Bob."' in text, f"PREVIEW: {text!r}")
    text, _, _ = fetch1(r, "FETCH 1 (UID PREVIEW (LAZY))")
    ok(b'PREVIEW "Hello Bob."' in text and b"UID " in text,
       f"PREVIEW (LAZY): {text!r}")
    r.close()


@fetch_test
def fetch_imaplib_every_item(env):
    c = login(env)
    try:
        c.select("INBOX", readonly=True)
        typ, data = c.fetch("2", "(BODY.PEEK[] RFC822.SIZE)")
        eq(typ, "OK", "FETCH")
        eq(data[0][1], MULTI, "BODY.PEEK[] of the multipart")
        ok(b"RFC822.SIZE %d" % len(MULTI) in data[0][0] + data[1],
           f"RFC822.SIZE: {data!r}")
        typ, data = c.fetch("2", "(RFC822.HEADER)")
        eq(data[0][1], MULTI_HEADER, "RFC822.HEADER")
        typ, data = c.fetch("2", "(BODY.PEEK[HEADER])")
        eq(data[0][1], MULTI_HEADER, "BODY[HEADER]")
        typ, data = c.fetch("2", "(BODY.PEEK[TEXT])")
        eq(data[0][1], MULTI[len(MULTI_HEADER):], "BODY[TEXT]")
        typ, data = c.fetch("2", "(BODY.PEEK[1])")
        eq(data[0][1], TEXT_8BIT, "8-bit part 1")
        typ, data = c.fetch("2", "(BODY.PEEK[2])")
        eq(data[0][1], ATTACHMENT_B64, "base64 part as stored")
        typ, data = c.fetch("2", "(BODY.PEEK[2.MIME])")
        eq(data[0][1], PART2_MIME, "2.MIME")
        typ, data = c.fetch("2", "(BODY.PEEK[3])")
        # the CRLF before a boundary belongs to the boundary
        eq(data[0][1], INNER_HEADER + INNER_TEXT[:-2], "message/rfc822 part")
        typ, data = c.fetch("2", "(BODY.PEEK[3.HEADER])")
        eq(data[0][1], INNER_HEADER, "3.HEADER")
        typ, data = c.fetch("2", "(BODY.PEEK[3.TEXT])")
        eq(data[0][1], INNER_TEXT[:-2], "3.TEXT")
        typ, data = c.fetch("2", "(BODY.PEEK[3.1])")
        eq(data[0][1], b"inner plain", "3.1")
        typ, data = c.fetch("2", "(BODY.PEEK[3.2])")
        eq(data[0][1], b"<p>inner =3D html</p>", "3.2 raw")
        typ, data = c.fetch("2", "(BODY.PEEK[3.2.MIME])")
        ok(data[0][1].startswith(b"Content-Type: text/html"), "3.2.MIME")
        typ, data = c.fetch("1", "(BODY.PEEK[1])")
        eq(data[0][1], b"Hello Bob.\r\n", "part 1 of a non-multipart message")
        typ, data = c.fetch("2", "(ENVELOPE)")
        env_text = data[0] if isinstance(data[0], bytes) else data[0][0]
        ok(b'"=?utf-8?q?caf=C3=A9?= report"' in env_text,
           f"ENVELOPE keeps encoded words: {env_text!r}")
        ok(b'((NIL NIL "alice" "example.com")("Bob B." NIL "bob" '
           b'"example.org"))' in env_text, f"ENVELOPE To: {env_text!r}")
        typ, data = c.fetch("2", "(BODYSTRUCTURE)")
        bs = data[0] if isinstance(data[0], bytes) else b"".join(
            x if isinstance(x, bytes) else x[0] + x[1] for x in data)
        for needle in (b'"MIXED"', b'"APPLICATION" "OCTET-STREAM"',
                       b'"BASE64"', b'"MESSAGE" "RFC822"', b'"ALTERNATIVE"',
                       b'("ATTACHMENT" ("FILENAME" "data.bin"))'):
            ok(needle in bs, f"BODYSTRUCTURE has {needle!r}: {bs!r}")
        typ, data = c.uid("FETCH", "2", "(RFC822.SIZE)")
        ok(data[0].startswith(b"2 (UID 2 RFC822.SIZE") or b"UID 2" in data[0],
           f"UID FETCH has UID: {data!r}")
    finally:
        c.logout()


@fetch_test
def fetch_header_fields(env):
    r = examine(env)
    text, lits, _ = fetch1(r, "FETCH 2 BODY.PEEK[HEADER.FIELDS (from Subject)]")
    ok(text.startswith(b"* 2 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] "),
       f"item name echoed: {text!r}")
    eq(lits[0], b"From: \"Carol\" <carol@example.net>\r\n"
       b"Subject: =?utf-8?q?caf=C3=A9?= report\r\n\r\n", "HEADER.FIELDS")
    text, lits, _ = fetch1(r, "FETCH 2 BODY.PEEK[HEADER.FIELDS.NOT "
                              "(To Cc Date Message-ID MIME-Version "
                              "Content-Type)]")
    ok(b"BODY[HEADER.FIELDS.NOT (TO CC DATE MESSAGE-ID MIME-VERSION "
       b"CONTENT-TYPE)]" in text, text)
    eq(lits[0], b"From: \"Carol\" <carol@example.net>\r\n"
       b"Subject: =?utf-8?q?caf=C3=A9?= report\r\n\r\n", "HEADER.FIELDS.NOT")
    text, lits, _ = fetch1(r, "FETCH 2 BODY.PEEK[3.HEADER.FIELDS (SUBJECT)]")
    eq(lits[0], b"Subject: inner\r\n\r\n", "3.HEADER.FIELDS")
    text, lits, _ = fetch1(r, "FETCH 2 BODY.PEEK[HEADER.FIELDS (X-NONE)]")
    eq(lits[0], b"\r\n", "no matching field: the blank line only")
    r.close()


@fetch_test
def fetch_partial(env):
    r = examine(env)
    text, lits, _ = fetch1(r, "FETCH 1 BODY.PEEK[]<0.10>")
    ok(b"BODY[]<0> " in text, f"partial name: {text!r}")
    eq(lits, [SIMPLE[:10]], "first 10 bytes")
    text, lits, _ = fetch1(r, "FETCH 1 BODY.PEEK[TEXT]<6.100>")
    ok(b"BODY[TEXT]<6> " in text, text)
    eq(lits, [b"Bob.\r\n"], "clipped at the end")
    text, lits, _ = fetch1(r, "FETCH 1 BODY.PEEK[]<100000.10>")
    ok(text.endswith(b'BODY[]<100000> ""\0LIT0\0)') or lits == [b""],
       f"origin past the end: empty: {text!r}")
    text, lits, _ = fetch1(r, "FETCH 2 BINARY.PEEK[2]<1000.100>")
    ok(b"BINARY[2]<1000> " in text, text)
    eq(lits, [ATTACHMENT[1000:1024]], "BINARY partial of decoded bytes")
    text, lits, _ = fetch1(r, "FETCH 4 BODY.PEEK[]<1000000.200000>")
    eq(lits, [env.big[1000000:1200000]], "partial of the big message")
    r.close()


@fetch_test
def fetch_binary(env):
    r = examine(env)
    text, lits, _ = fetch1(r, "FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[2])")
    ok(b"BINARY[2] ~{1024}" in text, f"literal8 for NUL: {text!r}")
    eq(lits, [ATTACHMENT], "decoded attachment")
    ok(b"BINARY.SIZE[2] 1024" in text, f"BINARY.SIZE: {text!r}")
    text, lits, _ = fetch1(r, "FETCH 2 BINARY.PEEK[1]")
    eq(lits, [TEXT_8BIT], "8bit part as is")
    text, lits, _ = fetch1(r, "FETCH 2 (BINARY.PEEK[3.2] BINARY.SIZE[3.2])")
    eq(lits, [b"<p>inner = html</p>"], "quoted-printable decoded")
    ok(b"BINARY.SIZE[3.2] 19" in text, text)
    text, lits, _ = fetch1(r, "FETCH 1 BINARY.PEEK[]")
    eq(lits, [SIMPLE], "BINARY[] is the message")
    text, lits, _ = fetch1(r, "FETCH 2 BODY.PEEK[9]")
    ok(text.endswith(b"BODY[9] NIL)"), f"missing section is NIL: {text!r}")
    u, t = r.cmd("FETCH 3 (UID BINARY.PEEK[1])")
    ok(t.split()[1:3] == [b"NO", b"[UNKNOWN-CTE]"], f"UNKNOWN-CTE: {t!r}")
    r.close()


@fetch_test
def fetch_seen_flag(env):
    a = Raw(env.port)
    a.login()
    b = Raw(env.port)
    b.login()
    try:
        a.cmd("SELECT INBOX")
        b.cmd("SELECT INBOX")
        a.cmd("STORE 1:2 -FLAGS.SILENT (\\Seen)")
        text, _, _ = fetch1(a, "FETCH 1 (FLAGS BODY.PEEK[])")
        ok(b"FLAGS (" in text and b"\\Seen" not in text,
           f"PEEK leaves \\Seen alone: {text!r}")
        text, _, _ = fetch1(a, "FETCH 1 BODY.PEEK[HEADER]")
        ok(b"FLAGS" not in text, text)
        text, lits, _ = fetch1(a, "FETCH 1 BODY[]")
        ok(re.search(rb"FLAGS \([^)]*\\Seen", text),
           f"BODY[] sets \\Seen, told: {text!r}")
        eq(lits, [SIMPLE], "BODY[]")
        text, _, _ = fetch1(a, "FETCH 1 FLAGS")
        ok(b"\\Seen" in text, text)
        u, t = b.cmd("NOOP")
        ok(any(re.match(rb"\* 1 FETCH \(.*FLAGS \([^)]*\\Seen", x[0])
               for x in u),
           f"other session told: {u!r}")
        text, _, _ = fetch1(a, "FETCH 2 RFC822.TEXT")
        ok(re.search(rb"FLAGS \([^)]*\\Seen", text),
           f"RFC822.TEXT sets \\Seen: {text!r}")
        text, _, _ = fetch1(a, "FETCH 2 (FLAGS RFC822)")
        eq(text.count(b"FLAGS"), 1, f"FLAGS once: {text!r}")
        a.cmd("STORE 1:2 -FLAGS.SILENT (\\Seen)")
        c = examine(env)
        text, _, _ = fetch1(c, "FETCH 1 (BODY[] FLAGS)")
        ok(b"\\Seen" not in text, f"EXAMINE: no \\Seen: {text!r}")
        c.close()
    finally:
        a.close()
        b.close()


@fetch_test
def fetch_uid_and_sets(env):
    r = examine(env)
    u, t = r.cmd("UID FETCH 1:* FLAGS")
    ok(t.split()[1] == b"OK", t)
    eq(len(u), 4, f"four messages: {u!r}")
    for i, (text, _) in enumerate(u):
        ok(text.startswith(b"* %d FETCH (UID %d " % (i + 1, i + 1)),
           f"UID in UID FETCH: {text!r}")
    u, t = r.cmd("UID FETCH 3,99,1000:2000 (UID)")
    ok(t.split()[1] == b"OK", f"missing UIDs ignored: {t!r}")
    eq([x[0] for x in u], [b"* 3 FETCH (UID 3)"], "only existing UIDs")
    u, t = r.cmd("UID FETCH * UID")
    eq([x[0] for x in u], [b"* 4 FETCH (UID 4)"], "* is the last UID")
    u, t = r.cmd("FETCH 2,1 UID")
    eq([x[0] for x in u], [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 2)"],
       "ascending order")
    for bad in ("FETCH 0 FLAGS", "FETCH 1:x FLAGS", "FETCH 5 FLAGS",
                "FETCH 1,99 FLAGS", "FETCH 1 (FLAGS", "FETCH 1 FROB",
                "FETCH 1", "FETCH 1 BODY[4.X]", "UID FETCH 0:x UID",
                "FETCH 1 (FLAGS) (VANISHED)"):
        u, t = r.cmd(bad)
        ok(t.split()[1] == b"BAD", f"{bad}: {t!r}")
        eq([x for x in u if b"FETCH" in x[0]], [], f"no data for {bad}")
        r.cmd("NOOP")	# stay under the bad-command limit
    u, t = r.cmd("NOOP")
    ok(t.split()[1] == b"OK", "session usable after BAD")
    r.close()


@fetch_test
def fetch_expungeissued(env):
    a = Raw(env.port)
    a.login()
    b = Raw(env.port)
    b.login()
    try:
        a.cmd("SELECT INBOX")
        b.cmd("SELECT INBOX")
        _, t = b.cmd(b"APPEND INBOX {%d+}\r\n" % len(SIMPLE) + SIMPLE)
        if b" OK" not in t:
            raise Skip(f"APPEND needed: {t!r}")
        a.cmd("NOOP")
        n = 5
        _, t = b.cmd(b"UID STORE 5 +FLAGS.SILENT (\\Deleted)")
        _, t2 = b.cmd(b"UID EXPUNGE 5")
        if b" OK" not in t or b" OK" not in t2:
            raise Skip(f"STORE/UID EXPUNGE needed: {t!r} {t2!r}")
        u, t = a.cmd("FETCH %d:* (UID FLAGS)" % (n - 1))
        ok(t.split()[1:3] == [b"NO", b"[EXPUNGEISSUED]"],
           f"NO [EXPUNGEISSUED]: {t!r}")
        ok(not any(b"EXPUNGE" == x[0].split()[-1] for x in u),
           f"no EXPUNGE during FETCH: {u!r}")
        ok(any(x[0].startswith(b"* 4 FETCH (UID 4") for x in u),
           f"the others still fetched: {u!r}")
        u, t = a.cmd("UID FETCH 1:* UID")
        ok(t.split()[1] == b"OK", f"UID FETCH: {t!r}")
        ok(any(x[0] == b"* 5 EXPUNGE" for x in u),
           f"UID FETCH may announce the EXPUNGE: {u!r}")
    finally:
        a.close()
        b.close()


@fetch_test
def fetch_20mb_streamed(env):
    # A fresh worker, so its peak memory says what this FETCH cost.
    deadline = time.time() + 10
    while time.time() < deadline and any(
            p["role"] == "worker" and p.get("user") == "alice"
            for p in env.status()):
        time.sleep(0.1)
    r = Raw(env.port, timeout=60)
    r.login()
    r.cmd("EXAMINE INBOX")
    pid = worker_pid(env)
    # "5" resets VmHWM to the current RSS (proc(5), clear_refs)
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")
    before = int(proc_status(pid)["VmRSS"].split()[0])
    t0 = time.time()
    text, lits, t = fetch1(r, "FETCH 4 (RFC822.SIZE BODY.PEEK[])")
    dt = time.time() - t0
    ok(b"RFC822.SIZE %d" % len(env.big) in text, text[:200])
    eq(len(lits[0]), len(env.big), "length")
    ok(hashlib.sha256(lits[0]).digest() == hashlib.sha256(env.big).digest(),
       "byte for byte")
    hwm = int(proc_status(pid)["VmHWM"].split()[0])
    print(f"    20 MB BODY[] in {dt:.3f}s ({len(env.big) / dt / 1e6:.0f} MB/s);"
          f" worker RSS {before} kB before, peak {hwm} kB")
    ok(hwm - before < 8 * 1024,
       f"worker memory grew by {hwm - before} kB for a 20 MB FETCH")
    r.close()


@fetch_test
def fetch_slow_reader_does_not_stall(env):
    a = Raw(env.port, timeout=60)
    a.login()
    a.cmd("EXAMINE INBOX")
    # 60 MB asked for and not read: far more than the socket buffers
    # hold, so the worker's output for a backs up and the FETCH suspends
    a.send(b"big1 FETCH 4 BODY.PEEK[]\r\nbig2 FETCH 4 BODY.PEEK[]\r\n"
           b"big3 FETCH 4 BODY.PEEK[]\r\n")
    time.sleep(0.5)
    b = Raw(env.port)
    b.login()
    b.cmd("EXAMINE INBOX")
    for _ in range(3):
        t0 = time.time()
        _, t = b.cmd("NOOP")
        ok(t.split()[1] == b"OK", t)
        ok(time.time() - t0 < 0.5, f"NOOP took {time.time() - t0:.3f}s")
        t0 = time.time()
        text, lits, _ = fetch1(b, "FETCH 1 BODY.PEEK[]")
        eq(lits, [SIMPLE], "other session's FETCH")
        ok(time.time() - t0 < 0.5, f"FETCH took {time.time() - t0:.3f}s")
    b.close()
    # the slow client still gets everything, in order
    for i in range(3):
        text, lits = a.response()
        ok(text.startswith(b"* 4 FETCH"), text[:100])
        ok(lits[0] == env.big, f"copy {i} intact")
        text, _ = a.response()
        ok(text.startswith(b"big%d OK" % (i + 1)), text)
    a.close()


@fetch_test
def fetch_pipelined_after_suspend(env):
    r = Raw(env.port, timeout=60)
    r.login()
    r.cmd("EXAMINE INBOX")
    r.send(b"a1 FETCH 4 BODY.PEEK[]\r\na2 FETCH 1 UID\r\na3 NOOP\r\n")
    text, lits = r.response()
    eq(len(lits[0]), len(env.big), "big body")
    eq(r.response()[0][:6], b"a1 OK ", "a1 done")
    eq(r.response()[0], b"* 1 FETCH (UID 1)", "a2 data after a1")
    ok(r.response()[0].startswith(b"a2 OK"), "a2")
    ok(r.response()[0].startswith(b"a3 OK"), "a3")
    r.close()


@fetch_test
def fetch_curl_by_uid(env):
    pw = USERS["alice"][2]
    for uid, msg in ((1, SIMPLE), (2, MULTI)):
        p = subprocess.run(["curl", "-s", "--max-time", "20", "--user",
                            f"alice:{pw}",
                            f"imap://127.0.0.1:{env.port}/INBOX;UID={uid}"],
                           capture_output=True, timeout=30)
        eq(p.returncode, 0, f"curl exit status: {p.stderr!r}")
        eq(p.stdout, msg, f"curl UID={uid}")


@fetch_test
def fetch_many_messages_timing(env):
    """Figures, not a benchmark: 10k messages through posternctl import
    for carol, then FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE) and BODY[]."""
    mbox = os.path.join(env.dir, "many.mbox")
    n = 10000
    with open(mbox, "wb") as f:
        for i in range(n):
            f.write(b"From x@example.com Thu Feb  1 08:09:10 2024\n")
            f.write(b"From: Sender %d <s%d@example.com>\nTo: carol@example.com"
                    b"\nSubject: message %d\nDate: Mon, 1 Jan 2024 10:00:00 "
                    b"+0000\nMessage-ID: <%d@example.com>\nMIME-Version: 1.0"
                    b"\nContent-Type: multipart/alternative; boundary=b\n\n"
                    b"--b\nContent-Type: text/plain\n\nhello %d\n--b\n"
                    b"Content-Type: text/html\n\n<p>hello %d</p>\n--b--\n\n"
                    % (i, i, i, i, i, i))
    os.chmod(mbox, 0o644)
    t0 = time.time()
    r = ctl_import(env, "carol", mbox)
    if r.returncode != 0:
        raise Skip(f"posternctl import: {r.stderr.strip()}")
    t_import = time.time() - t0
    c = Raw(env.port, timeout=60)
    c.login("carol")
    u, t = c.cmd("EXAMINE INBOX")
    ok(any(x[0] == b"* %d EXISTS" % n for x in u), f"EXISTS: {u!r}")
    best = None
    for _ in range(3):
        t0 = time.time()
        u, t = c.cmd("FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)")
        dt = time.time() - t0
        best = dt if best is None else min(best, dt)
    eq(len(u), n, "responses")
    ok(b'"message 9999"' in u[-1][0] and b'"ALTERNATIVE"' in u[-1][0],
       u[-1][0][:300])
    t0 = time.time()
    u, t = c.cmd("FETCH 1:* BODY.PEEK[]")
    dt_body = time.time() - t0
    total = sum(len(x[1][0]) for x in u)
    print(f"    import {n}: {t_import:.2f}s; FETCH 1:* (FLAGS ENVELOPE "
          f"BODYSTRUCTURE): {best * 1000:.0f} ms; FETCH 1:* BODY.PEEK[]: "
          f"{dt_body * 1000:.0f} ms ({n / dt_body:.0f} msg/s, "
          f"{total / dt_body / 1e6:.1f} MB/s)")
    ok(best < 3.0, f"10k envelopes took {best:.3f}s")
    c.close()
