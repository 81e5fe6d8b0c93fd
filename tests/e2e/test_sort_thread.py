"""End-to-end tests of SORT, UID SORT, ESORT (RFC 5256, RFC 5267),
SORT=DISPLAY (RFC 5957), THREAD=ORDEREDSUBJECT and THREAD=REFERENCES
(RFC 5256) on a corpus with known answers, and of `posternctl reindex`
and `posternctl index-status` (issue 6 items 5 and 6). run.py appends
SORT_THREAD_TESTS to its list.

The corpus goes in with `posternctl import` from a maildir before the
user first logs in, on a server of its own."""

import atexit
import os
import re
import subprocess

from postern_env import PosternEnv, USERS
from test_search import Conn, eq, ok, utc
from checks import Skip  # noqa: F401 (run.py counts it as skipped)

SORT_THREAD_TESTS = []
USER = "alice"


def st_test(fn):
    def run(build, fn=fn):
        fn(shared_env(build))
    run.__name__ = fn.__name__
    SORT_THREAD_TESTS.append((run, False))
    return fn


def msg(hdrs, body):
    return ("".join(h + "\r\n" for h in hdrs) + "\r\n" + body).encode()


# UIDs 1..6 in this order: (internaldate, message)
CORPUS = [
    (utc(2024, 3, 1), msg([
        "From: Carol <carol@x.org>", "To: dave@x.org", "Cc: erin@x.org",
        "Subject: Beta", "Date: Wed, 03 Jan 2024 10:00:00 +0000",
        "Message-ID: <1@x>"], "one\r\n")),
    (utc(2024, 2, 1), msg([
        "From: =?UTF-8?Q?=C3=89mile?= <bob@x.org>", "To: alice@x.org",
        "Subject: Re: Beta", "Date: Thu, 04 Jan 2024 10:00:00 +0000",
        "Message-ID: <2@x>", "In-Reply-To: <1@x>", "References: <1@x>"],
        "two\r\n" * 200)),
    (utc(2024, 1, 15), msg([
        "From: alice@x.org", "To: Zed <zed@x.org>", "Cc: bob@x.org",
        "Subject: Alpha", "Date: Tue, 02 Jan 2024 10:00:00 +0000",
        "Message-ID: <3@x>"], "three\r\n" * 500)),
    (utc(2024, 1, 10), msg([
        "From: Dave <dave@x.org>", "To: carol@x.org",
        "Subject: [list] Re: Beta", "Date: Fri, 05 Jan 2024 10:00:00 +0000",
        "Message-ID: <4@x>", "References: <1@x>\r\n <2@x>"], "four\r\n")),
    # no Date: it sorts by its INTERNALDATE (RFC 5256 section 2.2)
    (utc(2024, 1, 1), msg([
        "From: Frank <frank@x.org>", "To: Bob <bob@x.org>",
        "Subject: Gamma", "Message-ID: <5@x>",
        "References: <missing@x>"], "five five\r\n" * 30)),
    (utc(2024, 4, 1), msg([
        "From: Gina <gina@x.org>", "To: alice@x.org",
        "Subject: Fwd: Gamma", "Date: Sat, 06 Jan 2024 10:00:00 +0000",
        "Message-ID: <6@x>", "References: <missing@x>"], "six\r\n" * 3)),
]
SIZES = [len(m) for _, m in CORPUS]


def make_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub))
    for i, (idate, m) in enumerate(CORPUS):
        name = os.path.join(path, "cur", f"{1000000000 + i}.s{i}.host:2,")
        with open(name, "wb") as f:
            f.write(m)
        os.utime(name, (idate, idate))


def ctl(env, *args):
    return subprocess.run([f"{env.build}/posternctl", "-c", env.config,
                           *args], env=env.environ(), capture_output=True,
                          text=True, timeout=60)


class SortEnv(PosternEnv):
    def __init__(self, build):
        super().__init__(build)
        self.maildir = os.path.join(self.dir, "corpus")
        make_maildir(self.maildir)

    def import_corpus(self):
        r = ctl(self, "import", USER, self.maildir)
        if r.returncode != 0:
            raise RuntimeError(f"import: {r.returncode} {r.stdout} "
                               f"{r.stderr}")


_shared = None


def shared_env(build):
    global _shared
    if _shared is None or _shared.proc.poll() is not None:
        env = SortEnv(build)
        env.start()
        env.import_corpus()
        _shared = env
        atexit.register(env.cleanup)
    return _shared


def sort(c, text, uid=False):
    st, lines, _ = c.cmd(("UID " if uid else "") + "SORT " + text)
    ok(st.startswith("OK"), f"SORT {text}: {st} {lines}")
    res = [ln for ln in lines if ln.startswith("* SORT")]
    eq(len(res), 1, f"one SORT response to {text}: {lines}")
    return [int(x) for x in res[0].split()[2:]]


def thread(c, text, uid=False):
    st, lines, _ = c.cmd(("UID " if uid else "") + "THREAD " + text)
    ok(st.startswith("OK"), f"THREAD {text}: {st} {lines}")
    res = [ln for ln in lines if ln.startswith("* THREAD")]
    eq(len(res), 1, f"one THREAD response to {text}: {lines}")
    return res[0][len("* THREAD"):].strip()


def by_size(reverse=False):
    order = sorted(range(1, 7), key=lambda u: (SIZES[u - 1], u))
    if reverse:
        order = sorted(range(1, 7), key=lambda u: (-SIZES[u - 1], u))
    return order


SORT_ANSWERS = [
    ("(ARRIVAL) UTF-8 ALL", [5, 4, 3, 2, 1, 6]),
    ("(REVERSE ARRIVAL) UTF-8 ALL", [6, 1, 2, 3, 4, 5]),
    ("(DATE) UTF-8 ALL", [5, 3, 1, 2, 4, 6]),
    ("(REVERSE DATE) US-ASCII ALL", [6, 4, 2, 1, 3, 5]),
    ("(FROM) UTF-8 ALL", [3, 2, 1, 4, 5, 6]),
    ("(TO) UTF-8 ALL", [2, 6, 5, 4, 1, 3]),
    # no Cc: the empty string, first; ties in sequence order
    ("(CC) UTF-8 ALL", [2, 4, 5, 6, 3, 1]),
    ("(REVERSE CC) UTF-8 ALL", [1, 3, 2, 4, 5, 6]),
    ("(SUBJECT) UTF-8 ALL", [3, 1, 2, 4, 5, 6]),
    ("(REVERSE SUBJECT) UTF-8 ALL", [5, 6, 1, 2, 4, 3]),
    ("(SIZE) UTF-8 ALL", by_size()),
    ("(REVERSE SIZE) UTF-8 ALL", by_size(True)),
    # RFC 5957: display names (Emile's decoded, folded with
    # i;unicode-casemap), the address when there is none
    ("(DISPLAYFROM) UTF-8 ALL", [3, 1, 4, 2, 5, 6]),
    ("(DISPLAYTO) UTF-8 ALL", [2, 6, 5, 4, 1, 3]),
    ("(SUBJECT REVERSE DATE) UTF-8 ALL", [3, 4, 2, 1, 6, 5]),
    ("(date) utf-8 all", [5, 3, 1, 2, 4, 6]),
    # the search part is SEARCH's
    ("(ARRIVAL) UTF-8 FROM x.org NOT SUBJECT gamma", [4, 3, 2, 1]),
    ("(DATE) UTF-8 SUBJECT beta", [1, 2, 4]),
    ("(DATE) UTF-8 OR TO bob CC bob", [5, 3]),
    ("(SUBJECT) UTF-8 2:4", [3, 2, 4]),
    ("(SUBJECT) UTF-8 SUBJECT nothing-like-this", []),
]


@st_test
def capabilities_advertised(env):
    c = Conn(env, select=None)
    try:
        lines = c.ok("CAPABILITY")
        caps = lines[0].split()
        for cap in ("SORT", "SORT=DISPLAY", "ESORT", "THREAD=REFERENCES",
                    "THREAD=ORDEREDSUBJECT"):
            ok(cap in caps, f"{cap} in {caps}")
        # SORT needs a selected mailbox
        st, _, _ = c.cmd("SORT (DATE) UTF-8 ALL")
        ok(st.startswith("BAD"), f"SORT unselected: {st}")
    finally:
        c.close()


@st_test
def sort_each_key(env):
    c = Conn(env, examine=True)
    try:
        for text, want in SORT_ANSWERS:
            eq(sort(c, text), want, f"SORT {text}")
    finally:
        c.close()


@st_test
def sort_and_thread_by_uid(env):
    c = Conn(env, select=None)
    try:
        # a mailbox where UIDs differ from sequence numbers: 7..12
        c.ok("CREATE uids")
        c.ok("SELECT INBOX")
        c.ok("COPY 1:6 uids")
        c.ok("COPY 1:6 uids")
        c.ok("SELECT uids")
        c.ok("STORE 1:6 +FLAGS.SILENT (\\Deleted)")
        c.ok("EXPUNGE")
        eq(sort(c, "(ARRIVAL) UTF-8 ALL"), [5, 4, 3, 2, 1, 6], "SORT")
        eq(sort(c, "(ARRIVAL) UTF-8 ALL", uid=True),
           [11, 10, 9, 8, 7, 12], "UID SORT")
        eq(sort(c, "(DISPLAYFROM) UTF-8 UID 8:10", uid=True), [9, 10, 8],
           "UID SORT with a UID set")
        eq(thread(c, "REFERENCES UTF-8 ALL", uid=True),
           "((11)(12))(9)(7 8 10)", "UID THREAD")
        st, lines, tag = c.cmd("UID SORT RETURN (MIN MAX) (DATE) UTF-8 ALL")
        ok(st.startswith("OK"), st)
        eq([ln for ln in lines if ln.startswith("* ESEARCH")],
           [f'* ESEARCH (TAG "{tag}") UID MIN 11 MAX 12'], "UID ESORT")
    finally:
        c.close()


@st_test
def esort_return_options(env):
    c = Conn(env, examine=True)
    try:
        cases = [
            ("RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL",
             " MIN 5 MAX 6 COUNT 6"),
            # ALL in sort order; a run of ascending numbers is a range
            ("RETURN (ALL) (FROM) UTF-8 ALL", " ALL 3,2,1,4:6"),
            ("RETURN () (ARRIVAL) UTF-8 ALL", " ALL 5,4,3,2,1,6"),
            ("RETURN (COUNT ALL) (REVERSE SUBJECT) UTF-8 SUBJECT beta",
             " ALL 1:2,4 COUNT 3"),
            ("RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 SUBJECT nothing",
             " COUNT 0"),
            ("RETURN (MIN) (DATE) UTF-8 SUBJECT nothing", ""),
        ]
        for text, want in cases:
            st, lines, tag = c.cmd("SORT " + text)
            ok(st.startswith("OK"), f"SORT {text}: {st}")
            res = [ln for ln in lines if ln.startswith("* ")]
            eq(res, [f'* ESEARCH (TAG "{tag}"){want}'], f"SORT {text}")
    finally:
        c.close()


@st_test
def thread_both_algorithms(env):
    c = Conn(env, examine=True)
    try:
        eq(thread(c, "REFERENCES UTF-8 ALL"), "((5)(6))(3)(1 2 4)",
           "REFERENCES")
        eq(thread(c, "ORDEREDSUBJECT UTF-8 ALL"), "(5 6)(3)(1 (2)(4))",
           "ORDEREDSUBJECT")
        eq(thread(c, "references utf-8 SUBJECT beta"), "(1 2 4)",
           "REFERENCES over a search")
        # 2 alone: its parent is not among the matches
        eq(thread(c, "REFERENCES UTF-8 2:3"), "(3)(2)", "part of a thread")
        eq(thread(c, "REFERENCES UTF-8 SUBJECT nothing"), "", "no match")
    finally:
        c.close()


@st_test
def bad_syntax(env):
    # a new session every few commands: max_bad_commands (10) ends one
    c = None
    try:
        for i, text in enumerate((
                "SORT DATE UTF-8 ALL", "SORT (FOO) UTF-8 ALL",
                     "SORT (SENDER) UTF-8 ALL", "SORT (REVERSE) UTF-8 ALL",
                     "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
                     "SORT () UTF-8 ALL", "SORT (DATE)", "SORT (DATE) UTF-8",
                     "SORT (DATE) UTF-8 FOO", "SORT (DATE) UTF-8 (ALL",
                     "SORT (DATE) UTF-8 CHARSET UTF-8 ALL",
                     "SORT RETURN (FOO) (DATE) UTF-8 ALL",
                     "SORT RETURN (DATE) UTF-8 ALL", "SORT",
                     "UID SORT (DATE) UTF-8 SUBJECT", "THREAD",
                     "THREAD FOO UTF-8 ALL", "THREAD REFERENCES",
                     "THREAD REFERENCES UTF-8", "THREAD (REFERENCES) UTF-8 ALL",
                     "UID THREAD ORDEREDSUBJECT UTF-8 BEFORE 99-Foo-2024")):
            if i % 8 == 0:
                if c is not None:
                    c.close()
                c = Conn(env, examine=True)
            st, lines, _ = c.cmd(text)
            ok(st.startswith("BAD"), f"{text}: {st}")
        c.close()
        c = Conn(env, examine=True)
        st, _, _ = c.cmd("SORT (DATE) X-NO-SUCH-CHARSET ALL")
        ok(st.startswith("NO [BADCHARSET"), f"unknown charset: {st}")
        st, _, _ = c.cmd("THREAD REFERENCES X-NO-SUCH-CHARSET ALL")
        ok(st.startswith("NO [BADCHARSET"), f"unknown charset: {st}")
        # the session goes on
        eq(sort(c, "(SIZE) UTF-8 1"), [1], "after the errors")
    finally:
        if c is not None:
            c.close()


# ---------------------------------------------------------------- reindex

def index_status(env):
    r = ctl(env, "index-status", USER)
    eq(r.returncode, 0, f"index-status: {r.stdout} {r.stderr}")
    fields = {}
    for ln in r.stdout.splitlines():
        m = re.match(r"^([a-z ]+):\s+(\d+)", ln)
        if m:
            fields[m.group(1)] = int(m.group(2))
    for k in ("messages", "documents", "held", "index bytes",
              "vocabulary bytes", "stored text bytes", "mail bytes"):
        ok(k in fields, f"{k} in index-status output: {r.stdout}")
    return fields, r.stdout


def reindex_offline(build):
    """Its own server: the user must not have logged in yet."""
    env = SortEnv(build)
    try:
        env.start()
        env.import_corpus()
        # imported mail waits in the holding area for an extractor
        before, _ = index_status(env)
        eq(before["messages"], 6, "messages")
        eq(before["mail bytes"], sum(SIZES), "mail bytes")
        r = ctl(env, "reindex", USER)
        eq(r.returncode, 0, f"reindex: {r.stdout} {r.stderr}")
        ok(re.search(r"reindexed 6 messages", r.stdout),
           f"summary line: {r.stdout!r}")
        ok("\r" not in r.stderr, "no progress bar without a terminal")
        after, out = index_status(env)
        eq(after["held"], 0, f"nothing held after reindex: {out}")
        eq(after["documents"], 6, f"documents: {out}")
        ok(after["index bytes"] > 0 and after["stored text bytes"] > 0 and
           after["vocabulary bytes"] > 0, f"sizes: {out}")
        r = ctl(env, "reindex", USER, "INBOX")
        eq(r.returncode, 0, f"reindex INBOX: {r.stdout} {r.stderr}")
        r = ctl(env, "reindex", USER, "No/Such")
        eq(r.returncode, 1, f"reindex of a missing mailbox: {r.stdout}")
        # searches still answer as before
        c = Conn(env, examine=True)
        try:
            st, lines, _ = c.cmd("SEARCH BODY three")
            ok(st.startswith("OK"), st)
            eq(lines, ["* SEARCH 3"], "SEARCH after reindex")
            eq(sort(c, "(DATE) UTF-8 BODY five"), [5], "SORT after")
            # the worker holds the store: refused, with what to do
            r = ctl(env, "reindex", USER)
            eq(r.returncode, 1, "reindex while logged in")
            ok("in use" in r.stderr and f"posternctl kick {USER}" in
               r.stderr, f"in-use message: {r.stderr}")
            r = ctl(env, "index-status", USER)
            eq(r.returncode, 1, "index-status while logged in")
            ok(f"posternctl kick {USER}" in r.stderr, r.stderr)
        finally:
            c.close()
        # usage errors
        eq(ctl(env, "reindex").returncode, 2, "reindex without a user")
        eq(ctl(env, "index-status").returncode, 2, "index-status usage")
        eq(ctl(env, "reindex", "nosuchuser").returncode, 1, "unknown user")
    finally:
        env.cleanup()


SORT_THREAD_TESTS.append((reindex_offline, False))
assert USERS[USER]
