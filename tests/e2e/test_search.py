"""End-to-end tests of SEARCH and UID SEARCH (issue 4): every RFC 9051
search key (and RFC 3501's NEW/OLD/RECENT, RFC 5032 WITHIN) against a small
corpus with known answers, ESEARCH return options (RFC 4731), SEARCHRES
"$" (RFC 5182), CHARSET handling, the IMAP4rev2 response form, and BAD for
syntax errors. run.py appends SEARCH_TESTS to its list.

The corpus goes in with `posternctl import` from a maildir (flags and
keywords from the file names, INTERNALDATE from the mtimes) before the
user first logs in, on a server of its own so the answers are exact."""

import atexit
import base64
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from postern_env import PosternEnv, USERS
from checks import Skip, eq, ok  # noqa: F401

SEARCH_TESTS = []
USER = "alice"


def search_test(fn):
    def run(build, fn=fn):
        fn(shared_env(build))
    run.__name__ = fn.__name__
    SEARCH_TESTS.append((run, False))
    return fn


def utc(y, mo, d, h=12, mi=0):
    return int(time.mktime((y, mo, d, h, mi, 0, 0, 0, 0)) - time.timezone)


NOW = int(time.time())


def qp_latin1(s):
    out = ""
    for ch in s.encode("latin-1"):
        out += chr(ch) if 32 <= ch < 127 and ch != 61 else "=%02X" % ch
    return out


def b64(s, enc="utf-8"):
    return base64.encodebytes(s.encode(enc)).decode().replace("\n", "\r\n")


# (maildir flags, internaldate, message); UIDs 1..6 in this order.
CORPUS = [
    ("Sa", utc(2024, 1, 1), (
        "From: Alice Example <alice@example.org>\r\n"
        "To: bob@example.com\r\n"
        "Cc: carol@example.net\r\n"
        "Subject: Quarterly report\r\n"
        "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
        "\r\n"
        "The quarterly numbers are attached.\r\nRegards\r\n").encode()),
    ("FR", utc(2024, 1, 3, 0, 30), (
        "From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>\r\n"
        "To: alice@example.org\r\n"
        "Bcc: secret@example.com\r\n"
        "Subject: =?UTF-8?B?" +
        base64.b64encode("Grüße aus München".encode()).decode() + "?=\r\n"
        # 04:30 UTC on 3 January, but 2 January where it was written
        "Date: Tue, 02 Jan 2024 23:30:00 -0500\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n" + qp_latin1("Wir treffen uns in der Straße am Fluß.") +
        "\r\n").encode()),
    ("DT", utc(2024, 2, 5), (
        "From: Dave <dave@example.com>\r\n"
        "To: alice@example.org\r\n"
        "Subject: Re: Multipart test\r\n"
        "Date: Mon, 5 Feb 2024 09:00:00 +0100\r\n"
        "X-Priority: 1\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64("Привет, мир! Ξεκίνα τώρα. ılık İstanbul") +
        "--b1\r\n"
        "Content-Type: text/html; charset=us-ascii\r\n"
        "\r\n"
        "<p><b>Bold move</b></p>\r\n"
        "--b1\r\n"
        "Content-Type: application/octet-stream; name=\"blob.bin\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64("HIDDENWORD in an attachment") +
        "--b1--\r\n").encode()),
    ("b", utc(2024, 3, 10), (
        "From: Bulk <bulk@example.com>\r\n"
        "To: alice@example.org\r\n"
        "Subject: Big one\r\n"
        "\r\n" + "lorem ipsum dolor sit amet\r\n" * 800).encode()),
    ("S", utc(2024, 3, 20), (
        "From: Eve <eve@example.com>\r\n"
        "To: alice@example.org\r\n"
        "Subject: Fwd: forwarded\r\n"
        "Date: Fri, 1 Mar 2024 08:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b2\"\r\n"
        "\r\n"
        "--b2\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "See below.\r\n"
        "--b2\r\n"
        "Content-Type: message/rfc822\r\n"
        "\r\n"
        "From: Mallory <mallory@example.com>\r\n"
        "Subject: Inner secret\r\n"
        "\r\n"
        "nested body text\r\n"
        "--b2--\r\n").encode()),
    ("", NOW - 100, (
        "From: Sofia <sofia@example.gr>\r\n"
        "To: alice@example.org\r\n"
        "Subject: =?UTF-8?Q?" +
        "".join("=%02X" % b for b in "ΣΟΦΙΑ".encode()) + "?=\r\n"
        "Date: Fri, 15 Mar 2024 12:00:00 +0200\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=windows-1251\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n").encode() +
        "ПРИВЕТ всем\r\n".encode("cp1251")),
]
N = len(CORPUS)


def make_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub))
    with open(os.path.join(path, "dovecot-keywords"), "w") as f:
        f.write("0 $Work\n1 $Personal\n")
    for i, (flags, idate, msg) in enumerate(CORPUS):
        name = os.path.join(path, "cur", f"{1000000000 + i}.m{i}.host:2,{flags}")
        with open(name, "wb") as f:
            f.write(msg)
        os.utime(name, (idate, idate))


class SearchEnv(PosternEnv):
    def __init__(self, build):
        super().__init__(build)
        self.maildir = os.path.join(self.dir, "corpus")
        make_maildir(self.maildir)

    def import_corpus(self):
        r = subprocess.run([f"{self.build}/posternctl", "-c", self.config,
                            "import", USER, self.maildir],
                           env=self.environ(), capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"import: {r.returncode} {r.stdout} "
                               f"{r.stderr}")


_shared = None


def shared_env(build):
    global _shared
    if _shared is None or _shared.proc.poll() is not None:
        env = SearchEnv(build)
        env.start()
        env.import_corpus()
        _shared = env
        atexit.register(env.cleanup)
    return _shared


class Conn:
    """A line-level IMAP connection: exact commands, exact responses."""

    def __init__(self, env, select="INBOX", examine=False):
        self.s = socket.create_connection(("127.0.0.1", env.port), 10)
        self.buf = b""
        self.n = 0
        self.line()  # greeting
        pw = USERS[USER][2]
        self.ok(f"LOGIN {USER} {pw}")
        if select:
            self.select_lines = self.ok(
                f"{'EXAMINE' if examine else 'SELECT'} {select}")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(f"closed; buffered {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def cmd(self, text, literal=None):
        """Sends a command (bytes or str; a {n+} literal is appended from
        literal); returns (tagged line, untagged lines)."""
        self.n += 1
        tag = b"s%d" % self.n
        data = text.encode() if isinstance(text, str) else text
        if literal is not None:
            data += b"{%d+}\r\n" % len(literal[0]) + literal[0]
            for more in literal[1:]:
                data += more
        self.s.sendall(tag + b" " + data + b"\r\n")
        lines = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return ln[len(tag) + 1:].decode(), lines, tag.decode()
            lines.append(ln.decode("utf-8", "replace"))

    def ok(self, text):
        st, lines, _ = self.cmd(text)
        ok(st.startswith("OK"), f"{text}: {st} {lines}")
        return lines

    def search(self, keys, uid=False):
        """The numbers of "* SEARCH" for SEARCH keys."""
        st, lines, _ = self.cmd(("UID " if uid else "") + "SEARCH " + keys)
        ok(st.startswith("OK"), f"SEARCH {keys}: {st} {lines}")
        res = [ln for ln in lines if ln.startswith("* SEARCH")]
        eq(len(res), 1, f"one SEARCH response to {keys}: {lines}")
        return [int(x) for x in res[0].split()[2:]]

    def esearch(self, text):
        st, lines, tag = self.cmd(text)
        ok(st.startswith("OK"), f"{text}: {st} {lines}")
        res = [ln for ln in lines if ln.startswith("* ESEARCH")]
        return res, tag, lines

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, EOFError):
            pass
        self.s.close()


ALL = list(range(1, N + 1))


def but(*xs):
    return [x for x in ALL if x not in xs]


# Each key with its known answer (sequence numbers = UIDs here).
KEY_ANSWERS = [
    ("ALL", ALL),
    ("ANSWERED", [2]),
    ("UNANSWERED", but(2)),
    ("DELETED", [3]),
    ("UNDELETED", but(3)),
    ("DRAFT", [3]),
    ("UNDRAFT", but(3)),
    ("FLAGGED", [2]),
    ("UNFLAGGED", but(2)),
    ("SEEN", [1, 5]),
    ("UNSEEN", [2, 3, 4, 6]),
    ("KEYWORD $Work", [1]),
    ("KEYWORD $personal", [4]),
    ("UNKEYWORD $Work", but(1)),
    ("KEYWORD $Nothing", []),
    ("BEFORE 3-Jan-2024", [1]),
    ("ON 3-Jan-2024", [2]),
    ("ON 1-Jan-2024", [1]),
    ("SINCE 5-Feb-2024", [3, 4, 5, 6]),
    ('SINCE "5-feb-2024"', [3, 4, 5, 6]),
    ("SENTBEFORE 2-Jan-2024", [1]),
    # the Date: header's own day: 2 January -0500, 3 January in UTC
    ("SENTON 2-Jan-2024", [2]),
    ("SENTON 3-Jan-2024", []),
    ("SENTSINCE 1-Mar-2024", [5, 6]),
    # message 4 has no Date: it matches no SENT* key
    ("SENTBEFORE 1-Jan-2030", [1, 2, 3, 5, 6]),
    ("NOT SENTBEFORE 1-Jan-2030", [4]),
    ("LARGER 10000", [4]),
    ("SMALLER 10000", but(4)),
    ("LARGER 4294967296", []),
    ("SUBJECT report", [1]),
    ("SUBJECT QUARTERLY", [1]),
    ('SUBJECT "m\xfcnchen"', [2]),
    ('SUBJECT "GR\xdc\xdfE"', [2]),
    ('SUBJECT "gr\xfcsse"', []),        # no full case folding (RFC 5051)
    ('SUBJECT "\u03c3\u03bf\u03c6\u03b9\u03b1"', [6]),  # Greek lower case
    ("SUBJECT inner", []),           # an attached message's subject
    ('SUBJECT ""', ALL),
    ('FROM "j\xf6rg"', [2]),           # RFC 2047 Q, ISO-8859-1
    ("FROM EXAMPLE.ORG", [1]),
    ("FROM alice", [1]),
    ("TO alice", [2, 3, 4, 5, 6]),
    ("TO bob@EXAMPLE.com", [1]),
    ("CC carol", [1]),
    ("CC nobody", []),
    ("BCC secret", [2]),
    ("HEADER X-Priority 1", [3]),
    ('HEADER x-priority ""', [3]),
    ('HEADER Date ""', [1, 2, 3, 5, 6]),
    ("HEADER Subject report", [1]),
    ("HEADER Content-Transfer-Encoding QUOTED", [2]),
    ('BODY "quarterly numbers"', [1]),
    ('BODY "stra\xdfe"', [2]),            # quoted-printable, ISO-8859-1
    ('BODY "FLUSS"', []),
    ('BODY "\u043f\u0440\u0438\u0432\u0435\u0442"', [3, 6]),  # base64 UTF-8, cp1251
    ('BODY "\u03be\u03b5\u03ba\u03af\u03bd\u03b1"', [3]),
    ("BODY HIDDENWORD", []),          # not a text part
    ('BODY "bold move"', [3]),         # text/html as written
    ('BODY "nested body"', [5]),       # text part of an attached message
    ('BODY "Inner secret"', []),
    ("BODY report", []),              # the subject is not the body
    ('BODY "\u0131l\u0131k"', [3]),    # dotless i folds like i (RFC 5051)
    ("BODY ILIK", [3]),
    ('BODY "\u0130STANBUL"', [3]),
    ("BODY istanbul", []),            # RFC 5051: U+0130 is I + U+0307
    ("BODY LOREM", [4]),
    ('TEXT "Inner secret"', [5]),     # the attached message's header
    ("TEXT quarterly", [1]),
    ("TEXT carol@example.net", [1]),
    ("TEXT HIDDENWORD", []),
    ('TEXT "blob.bin"', [3]),         # a MIME header field
    ('TEXT "bold MOVE"', [3]),
    ("1:3", [1, 2, 3]),
    ("*", [N]),
    ("2,4:5", [2, 4, 5]),
    ("1:100", ALL),                   # beyond the last: ignored
    ("UID 2:4", [2, 3, 4]),
    ("UID 5:*", [5, 6]),
    ("UID 100:*", [N]),
    ("UID 50:60", []),
    ("OR SEEN FLAGGED", [1, 2, 5]),
    ("NOT SEEN", [2, 3, 4, 6]),
    ("NOT (SEEN FLAGGED)", ALL),
    ("(OR DELETED DRAFT) FROM dave", [3]),
    ("OR (SUBJECT report) (BODY lorem)", [1, 4]),
    ("OR NOT SEEN BODY quarterly", [1, 2, 3, 4, 6]),
    ("NOT OR SEEN BODY TrEfFeN", [3, 4, 6]),
    ("NOT OR SEEN BODY strasse", [2, 3, 4, 6]),  # no full folding
    ("SEEN SUBJECT fwd", [5]),
    ("UNSEEN SMALLER 10000 TEXT alice", [2, 3, 6]),
    ("YOUNGER 3600", [6]),
    ("OLDER 3600", [1, 2, 3, 4, 5]),
]


@search_test
def search_every_key(env):
    c = Conn(env)
    bad = []
    try:
        for keys, want in KEY_ANSWERS:
            if keys.isascii():
                got = c.search(keys)
            else:
                # non-ASCII strings as UTF-8 literals
                m = re.match(r'^(.*?)"([^"]*)"(.*)$', keys)
                pre, s, post = m.group(1), m.group(2), m.group(3)
                st, lines, _ = c.cmd(f"SEARCH CHARSET UTF-8 {pre}".encode(),
                                     [s.encode(), post.encode()])
                ok(st.startswith("OK"), f"{keys}: {st}")
                got = [int(x) for ln in lines if ln.startswith("* SEARCH")
                       for x in ln.split()[2:]]
            if got != want:
                bad.append(f"{keys}: expected {want}, got {got}")
            # the UID form gives the same here (UID = sequence number)
            if keys.isascii():
                got_uid = c.search(keys, uid=True)
                if got_uid != want:
                    bad.append(f"UID SEARCH {keys}: {got_uid}")
        ok(not bad, "wrong answers:\n  " + "\n  ".join(bad))
    finally:
        c.close()


@search_test
def search_recent_new_old(env):
    # The first session to SELECT took \Recent (search_every_key or this
    # one); a session that EXAMINEs after it sees none.
    c = Conn(env)
    try:
        recent_line = [ln for ln in c.select_lines if ln.endswith(" RECENT")]
        nrecent = int(recent_line[0].split()[1]) if recent_line else 0
        rec = c.search("RECENT")
        eq(len(rec), nrecent, "RECENT count matches SELECT")
        eq(c.search("NEW"), [x for x in rec if x in [2, 3, 4, 6]], "NEW")
        eq(c.search("OLD"), [x for x in ALL if x not in rec], "OLD")
        eq(c.search("NOT RECENT"), c.search("OLD"), "OLD = NOT RECENT")
    finally:
        c.close()
    c = Conn(env, examine=True)
    try:
        eq(c.search("RECENT"), [], "no \\Recent left for a later session")
        eq(c.search("OLD"), ALL, "OLD")
    finally:
        c.close()


@search_test
def search_esearch_return(env):
    c = Conn(env)
    try:
        res, tag, _ = c.esearch("SEARCH RETURN (MIN MAX COUNT) SEEN")
        eq(res, [f'* ESEARCH (TAG "{tag}") MIN 1 MAX 5 COUNT 2'], "MIN MAX")
        res, tag, _ = c.esearch("SEARCH RETURN () UNSEEN")
        eq(res, [f'* ESEARCH (TAG "{tag}") ALL 2:4,6'], "RETURN ()")
        res, tag, _ = c.esearch("SEARCH RETURN (ALL) 1:*")
        eq(res, [f'* ESEARCH (TAG "{tag}") ALL 1:{N}'], "ALL")
        res, tag, _ = c.esearch("UID SEARCH RETURN (ALL COUNT) OR SEEN FLAGGED")
        eq(res, [f'* ESEARCH (TAG "{tag}") UID ALL 1:2,5 COUNT 3'], "UID")
        res, tag, _ = c.esearch("SEARCH RETURN (MIN MAX ALL COUNT) KEYWORD $Nothing")
        eq(res, [f'* ESEARCH (TAG "{tag}") COUNT 0'], "no match")
        res, tag, _ = c.esearch("SEARCH RETURN (MIN) BODY lorem")
        eq(res, [f'* ESEARCH (TAG "{tag}") MIN 4'], "MIN of one")
        # RETURN before CHARSET (RFC 4731 section 3.1)
        res, tag, _ = c.esearch("SEARCH RETURN (COUNT) CHARSET UTF-8 TO alice")
        eq(res, [f'* ESEARCH (TAG "{tag}") COUNT 5'], "with CHARSET")
        st, _, _ = c.cmd("SEARCH RETURN (BOGUS) ALL")
        ok(st.startswith("BAD"), f"unknown return option: {st}")
    finally:
        c.close()


@search_test
def search_searchres_saved(env):
    c = Conn(env)
    try:
        # "$" before any SAVE: the empty set (RFC 5182 section 2.1)
        eq(c.search("$"), [], "$ unset")
        res, _, lines = c.esearch("SEARCH RETURN (SAVE) OR SEEN FLAGGED")
        eq(lines, [], "SAVE alone answers nothing but OK")
        eq(c.search("$"), [1, 2, 5], "$")
        eq(c.search("UID $"), [1, 2, 5], "UID $")
        eq(c.search("$ NOT SEEN"), [2], "$ combined")
        eq(c.search("OR $ DRAFT"), [1, 2, 3, 5], "OR $")
        # SAVE with MIN/MAX only saves those (RFC 5182 section 2.4)
        res, tag, _ = c.esearch("SEARCH RETURN (SAVE MIN MAX) ALL")
        eq(res, [f'* ESEARCH (TAG "{tag}") MIN 1 MAX {N}'], "SAVE MIN MAX")
        eq(c.search("$"), [1, N], "$ = min and max")
        # a search using "$" and saving: "$" is the previous result
        c.esearch("SEARCH RETURN (SAVE) $ SEEN")
        eq(c.search("$"), [1], "$ from $")
        res, tag, _ = c.esearch("UID SEARCH RETURN (SAVE COUNT) 4:*")
        eq(res, [f'* ESEARCH (TAG "{tag}") UID COUNT 3'], "SAVE COUNT")
        eq(c.search("$"), [4, 5, 6], "SAVE COUNT saves all")
        # a failed SAVE empties "$"
        st, _, _ = c.cmd("SEARCH RETURN (SAVE) CHARSET X-NO-SUCH TEXT a")
        ok(st.startswith("NO [BADCHARSET"), st)
        eq(c.search("$"), [], "$ after a failed SAVE")
        # other commands take "$" too, where they exist
        c.esearch("SEARCH RETURN (SAVE) FLAGGED")
        st, lines, _ = c.cmd("FETCH $ (UID)")
        if st.startswith("OK"):
            eq([ln for ln in lines if "FETCH" in ln], ["* 2 FETCH (UID 2)"],
               "FETCH $")
        # SELECT resets "$"
        c.ok("SELECT INBOX")
        eq(c.search("$"), [], "$ after SELECT")
    finally:
        c.close()


@search_test
def search_charset(env):
    c = Conn(env)
    try:
        # ISO-8859-1 converted with iconv
        st, lines, _ = c.cmd("SEARCH CHARSET ISO-8859-1 SUBJECT ",
                             ["M\xfcnchen".encode("latin-1")])
        ok(st.startswith("OK"), st)
        eq(lines, ["* SEARCH 2"], "ISO-8859-1 search string")
        st, lines, _ = c.cmd("SEARCH CHARSET KOI8-R BODY ",
                             ["привет".encode("koi8-r")])
        ok(st.startswith("OK"), st)
        eq(lines, ["* SEARCH 3 6"], "KOI8-R search string")
        st, lines, _ = c.cmd('SEARCH CHARSET "us-ascii" FROM alice')
        eq(lines, ["* SEARCH 1"], "US-ASCII")
        st, _, _ = c.cmd("SEARCH CHARSET X-UNKNOWN-CS FROM alice")
        ok(st.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]"), st)
        st, _, _ = c.cmd("SEARCH CHARSET X-UNKNOWN-CS ALL")
        ok(st.startswith("NO [BADCHARSET"), f"charset with no string: {st}")
        # invalid UTF-8, 8-bit under US-ASCII: BAD
        st, _, _ = c.cmd("SEARCH CHARSET UTF-8 BODY ", [b"\xff\xfe"])
        ok(st.startswith("BAD"), f"invalid UTF-8: {st}")
        st, _, _ = c.cmd("SEARCH CHARSET US-ASCII BODY ", ["é".encode()])
        ok(st.startswith("BAD"), f"8-bit US-ASCII: {st}")
        st, lines, _ = c.cmd("SEARCH BODY ", ["STRAßE".encode()])
        eq(lines, ["* SEARCH 2"], "UTF-8 without CHARSET")
    finally:
        c.close()


@search_test
def search_imap4rev2_form(env):
    c = Conn(env, select=None)
    try:
        c.ok("ENABLE IMAP4rev2")
        c.ok("SELECT INBOX")
        res, tag, lines = c.esearch("SEARCH SEEN")
        eq(res, [f'* ESEARCH (TAG "{tag}") ALL 1,5'], "rev2 SEARCH")
        ok(not any(ln.startswith("* SEARCH") for ln in lines), "no * SEARCH")
        res, tag, _ = c.esearch("UID SEARCH KEYWORD $Nothing")
        eq(res, [f'* ESEARCH (TAG "{tag}") UID'], "rev2, no match")
        res, tag, _ = c.esearch("SEARCH RETURN (COUNT) ALL")
        eq(res, [f'* ESEARCH (TAG "{tag}") COUNT {N}'], "rev2 RETURN")
    finally:
        c.close()


@search_test
def search_errors(env):
    c = Conn(env, select=None)
    try:
        st, _, _ = c.cmd("SEARCH ALL")
        ok(st.startswith("BAD"), f"not selected: {st}")
        c.ok("SELECT INBOX")
        for bad in ("SEARCH", "SEARCH FOO", "SEARCH (SEEN", "SEARCH OR SEEN",
                    "SEARCH BEFORE 32-Jan-2024", "SEARCH LARGER x",
                    "SEARCH UID 0", "SEARCH KEYWORD \\Seen", "SEARCH ()",
                    "SEARCH NOT", "SEARCH HEADER Subject",
                    "SEARCH YOUNGER 0", "SEARCH CHARSET"):
            st, _, _ = c.cmd(bad)
            ok(st.startswith("BAD"), f"{bad}: {st}")
            c.ok("NOOP")  # under the bad-command limit
        deep = "NOT " * 100 + "ALL"
        st, _, _ = c.cmd("SEARCH " + deep)
        ok(st.startswith("BAD"), f"too deep: {st}")
        # the session still works
        eq(c.search("FLAGGED"), [2], "after errors")
        eq(c.search("seen"), [1, 5], "lower-case key")
    finally:
        c.close()


@search_test
def search_reads_text_only_when_needed(env):
    """Record keys decide without reading messages; text keys read only
    the messages the cheap keys left undecided (the worker logs counts
    at debug level)."""
    c = Conn(env)
    try:
        def stats():
            log = env.read_log()
            m = re.findall(r"search: (\d+) matches; (\d+) records, "
                           r"(\d+) undecided, (\d+) caches, "
                           r"(\d+) messages read", log)
            return [int(x) for x in m[-1]]
        eq(c.search("FLAGGED"), [2], "flags")
        time.sleep(0.2)
        eq(stats()[2:], [0, 0, 0], "flags read no message")
        eq(c.search("FLAGGED BODY treffen"), [2], "flag then body")
        time.sleep(0.2)
        # one message left undecided; the search index (issue 6) decides
        # it on its stored text, the scan (POSTERN_SEARCH_INDEX=0) reads it
        st = stats()
        eq(st[2], 1, "one message undecided")
        eq(st[3] <= 1 and st[4] <= 1, True, "at most one message read")
        eq(c.search("SUBJECT big"), [4], "subject from the cache")
        time.sleep(0.2)
        eq(stats()[4], 0, "SUBJECT reads no message")
        eq(c.search("OR SEEN BODY lorem"), [1, 4, 5], "OR short-circuit")
        time.sleep(0.2)
        eq(stats()[4] <= N - 2, True, "the seen ones not read")
    finally:
        c.close()


@search_test
def search_sees_changes(env):
    """Flag changes by another session show in the next SEARCH; a UID
    set narrows the scan."""
    a = Conn(env)
    b = Conn(env)
    try:
        st, _, _ = a.cmd("STORE 6 +FLAGS (\\Flagged)")
        if not st.startswith("OK"):
            raise Skip("STORE not available")
        eq(b.search("FLAGGED"), [2, 6], "other session's STORE")
        a.ok("STORE 6 -FLAGS (\\Flagged)")
        eq(b.search("FLAGGED"), [2], "and back")
    finally:
        a.close()
        b.close()
