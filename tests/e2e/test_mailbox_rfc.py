"""End-to-end tests of the last RFC 3501 / RFC 9051 session gaps of issue
4: SELECT's [UNSEEN n], INTERNALDATE keeping its zone, RENAME, and the
response codes no other test asserts. run.py appends RFC_TESTS to its
list; each test works in mailboxes of its own on the shared server.

Raw lines (Session from test_mailbox_sync.py) where the exact responses
matter; imaplib where a real client's view is the point."""

import base64
import imaplib
import re

from postern_env import USERS
from test_mailbox_sync import Session, eq, ok, msg, new_box, exists_of, \
    expunges_of

RFC_TESTS = []


def rfc_test(fn):
    RFC_TESTS.append((fn, True))
    return fn


def code_of(line, code):
    """The [CODE ...] text of a response line, or None."""
    m = re.search(rb"\[" + code.encode() + rb"( [^\]]*)?\]", line)
    return m.group(0) if m else None


def unseen_of(untagged):
    got = [u for u in untagged if code_of(u, "UNSEEN")]
    ok(len(got) <= 1, f"one UNSEEN at most: {got!r}")
    if not got:
        return None
    return int(re.search(rb"\[UNSEEN (\d+)\]", got[0]).group(1))


# ---------------------------------------------------------------- UNSEEN

@rfc_test
def select_unseen_code(env):
    """RFC 3501 6.3.1: [UNSEEN n] is the sequence number of the first
    message without \\Seen; none when all are seen; not sent after ENABLE
    IMAP4rev2 (RFC 9051 dropped it)."""
    s = Session(env)
    r2 = Session(env)
    try:
        new_box(s, "un-box")
        for i in range(5):
            s.append("un-box", msg(i + 1), "(\\Seen) " if i < 2 else "")
        untagged, _ = s.ok("SELECT un-box")
        eq(unseen_of(untagged), 3, "first unseen of 5, 2 seen")
        untagged, _ = s.ok("EXAMINE un-box")
        eq(unseen_of(untagged), 3, "EXAMINE too")
        # expunging the seen ones moves the first unseen to seq 1
        s.ok("SELECT un-box")
        s.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        s.ok("EXPUNGE")
        untagged, _ = s.ok("SELECT un-box")
        eq(unseen_of(untagged), 1, "after expunge")
        s.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        untagged, _ = s.ok("SELECT un-box")
        eq(unseen_of(untagged), 2, "after \\Seen on seq 1")
        s.ok("STORE 1:* +FLAGS.SILENT (\\Seen)")
        untagged, _ = s.ok("SELECT un-box")
        eq(unseen_of(untagged), None, "all seen: no UNSEEN")
        s.ok("STORE 3 -FLAGS.SILENT (\\Seen)")
        untagged, _ = s.ok("SELECT un-box")
        eq(unseen_of(untagged), 3, "unseen again")
        # an empty mailbox has none
        new_box(s, "un-empty")
        untagged, _ = s.ok("SELECT un-empty")
        eq(unseen_of(untagged), None, "empty mailbox")
        # IMAP4rev2 sessions do not get it
        r2.ok("ENABLE IMAP4rev2")
        untagged, _ = r2.ok("SELECT un-box")
        eq(unseen_of(untagged), None, "IMAP4rev2 session")
        eq(exists_of(untagged), 3, "EXISTS")
        # moved messages keep their unseen state in the new mailbox
        new_box(s, "un-dest")
        s.ok("SELECT un-box")
        s.ok("MOVE 2:3 un-dest")
        untagged, _ = s.ok("SELECT un-dest")
        eq(unseen_of(untagged), 2, "MOVE destination")
        untagged, _ = s.ok("SELECT un-box")
        eq(unseen_of(untagged), None, "MOVE source: only a seen one left")
    finally:
        s.close()
        r2.close()


# ---------------------------------------------------------- INTERNALDATE

def internaldates(c, box):
    """{uid: INTERNALDATE string} by imaplib."""
    typ, _ = c.select(box)
    eq(typ, "OK", f"SELECT {box}")
    typ, data = c.uid("FETCH", "1:*", "(INTERNALDATE)")
    eq(typ, "OK", "FETCH INTERNALDATE")
    out = {}
    for d in data:
        line = d if isinstance(d, bytes) else d[0]
        m = re.search(rb'UID (\d+)', line)
        t = re.search(rb'INTERNALDATE "([^"]+)"', line)
        ok(m and t, f"FETCH response {line!r}")
        out[int(m.group(1))] = t.group(1).decode()
    return out


@rfc_test
def internaldate_keeps_zone(env):
    """APPEND's date-time comes back with the zone it was given (RFC 9051
    2.3.3), also after COPY; SEARCH ON/BEFORE/SINCE stay on UTC days (as
    search-eval.h documents)."""
    c = imaplib.IMAP4("127.0.0.1", env.port)
    try:
        c.login("alice", USERS["alice"][2])
        eq(c.create("idate")[0], "OK", "CREATE")
        given = ['"17-Jul-1996 02:44:25 -0700"',
                 '" 1-Jan-2024 23:30:00 +0530"',
                 '"31-Dec-1999 20:00:00 -0800"',
                 '"05-Mar-2024 10:11:12 +0000"']
        # the server writes date-day-fixed: a space, not a 0, pads
        want = [d.strip('"').replace("05-", " 5-", 1) for d in given]
        for i, d in enumerate(given):
            typ, _ = c.append("idate", None, d, msg(100 + i))
            eq(typ, "OK", f"APPEND {d}")
        typ, _ = c.append("idate", None, None, msg(200))
        eq(typ, "OK", "APPEND without a date")
        got = internaldates(c, "idate")
        eq([got[u] for u in sorted(got)][:4], want, "INTERNALDATE as given")
        ok(got[max(got)].endswith(" +0000"), f"no date: now in UTC "
           f"{got[max(got)]!r}")
        # imaplib's own parser reads the same instant back
        t = imaplib.Internaldate2tuple(
            b'1 (INTERNALDATE "17-Jul-1996 02:44:25 -0700")')
        ok(t is not None, "imaplib parses it")
        typ, data = c.uid("FETCH", "1", "(INTERNALDATE)")
        eq(imaplib.Internaldate2tuple(data[0]), t, "same instant")
        # COPY keeps the record, zone and all
        eq(c.create("idate-copy")[0], "OK", "CREATE")
        c.select("idate")
        eq(c.copy("1:4", "idate-copy")[0], "OK", "COPY")
        copied = internaldates(c, "idate-copy")
        eq([copied[u] for u in sorted(copied)], want,
           "INTERNALDATE after COPY")
        # SEARCH uses the UTC day: 31-Dec-1999 20:00 -0800 is 1-Jan-2000
        # 04:00 UTC; 1-Jan-2024 23:30 +0530 is 1-Jan-2024 18:00 UTC
        c.select("idate")
        typ, data = c.search(None, "ON", "1-Jan-2000")
        eq(data[0].split(), [b"3"], "ON the UTC day")
        typ, data = c.search(None, "ON", "31-Dec-1999")
        eq(data[0].split(), [], "not ON the local day")
        typ, data = c.search(None, "BEFORE", "1-Jan-2000")
        eq(data[0].split(), [b"1"], "BEFORE")
        typ, data = c.search(None, "SINCE", "1-Jan-2024", "BEFORE",
                             "2-Jan-2024")
        eq(data[0].split(), [b"2"], "SINCE/BEFORE one day")
        c.logout()
    finally:
        try:
            c.shutdown()
        except OSError:
            pass


# ---------------------------------------------------------------- RENAME

def mutf7(name):
    """RFC 3501 5.1.3 modified UTF-7 of a str."""
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode()
            out.append("&" + b.rstrip("=").replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def listed(sess, pattern, cmd="LIST", only=None):
    """{name (bytes, as sent): set of attributes} of LIST/LSUB, only the
    names that start with one of the prefixes in only if given."""
    untagged, _ = sess.ok(f'{cmd} "" {pattern}')
    out = {}
    for u in untagged:
        m = re.match(rb'\* (?:LIST|LSUB) \(([^)]*)\) (?:"/"|NIL) (.*)$', u)
        if not m:
            continue
        name = m.group(2)
        if name.startswith(b'"'):
            name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        if only is None or name.startswith(only):
            out[name] = set(m.group(1).split())
    return out


def uids_of(sess, box):
    sess.ok(f"EXAMINE {box}")
    untagged, _ = sess.ok("UID SEARCH ALL")
    line = [u for u in untagged if u.startswith(b"* SEARCH")][0]
    return [int(x) for x in line.split()[2:]]


@rfc_test
def rename_leaf_and_uidvalidity(env):
    """A leaf keeps its UIDVALIDITY and UIDs under the new name (its
    messages are the same); the old name, created again, gets a new
    UIDVALIDITY (RFC 9051 2.3.1.1)."""
    s = Session(env)
    try:
        new_box(s, "rn-a", messages=2)
        before = s.status("rn-a")
        uids = uids_of(s, "rn-a")
        s.ok("UNSELECT")
        s.ok("RENAME rn-a rn-b")
        eq(set(listed(s, '"rn-*"')) & {b"rn-a", b"rn-b"}, {b"rn-b"},
           "LIST after RENAME")
        after = s.status("rn-b")
        eq(after, before, "STATUS (MESSAGES UIDNEXT UIDVALIDITY) kept")
        eq(uids_of(s, "rn-b"), uids, "UIDs kept")
        _, t = s.cmd("SELECT rn-a")
        ok(t.split()[1] == b"NO" and code_of(t, "NONEXISTENT"),
           f"old name gone: {t!r}")
        s.ok("CREATE rn-a")
        ok(s.status("rn-a")["UIDVALIDITY"] != before["UIDVALIDITY"],
           "a new mailbox under the old name has a new UIDVALIDITY")
        # a session that has the mailbox selected goes on working
        s.ok("SELECT rn-b")
        o = Session(env)
        try:
            o.ok("RENAME rn-b rn-c")
        finally:
            o.close()
        untagged, _ = s.ok("UID FETCH 1:* (FLAGS)")
        eq(len([u for u in untagged if b" FETCH " in u]), 2,
           "selected mailbox renamed under a session")
    finally:
        s.close()


@rfc_test
def rename_parent_moves_children(env):
    """RFC 9051 6.3.6: the children of a renamed mailbox move with it;
    missing parents of the new name are created; a mailbox cannot go
    under itself."""
    s = Session(env)
    try:
        new_box(s, "rn-p", messages=1)
        for child in ("rn-p/c1", "rn-p/c2", "rn-p/c2/g"):
            s.ok(f"CREATE {child}")
        s.append("rn-p/c2/g", msg(7))
        s.ok("RENAME rn-p rn-q")
        got = listed(s, '"rn-*"')
        eq(sorted(n for n in got if n.startswith((b"rn-p", b"rn-q"))),
           [b"rn-q", b"rn-q/c1", b"rn-q/c2", b"rn-q/c2/g"], "LIST")
        ok(b"\\HasChildren" in got[b"rn-q"], f"attributes {got[b'rn-q']}")
        eq(s.status("rn-q/c2/g")["MESSAGES"], 1, "grandchild's message")
        eq(s.status("rn-q")["MESSAGES"], 1, "parent's message")
        s.ok("RENAME rn-q/c2 rn-new/deep/c2")
        got = listed(s, '"rn-new*"')
        eq(sorted(got), [b"rn-new", b"rn-new/deep", b"rn-new/deep/c2",
                         b"rn-new/deep/c2/g"], "new parents created")
        eq(s.status("rn-new/deep/c2/g")["MESSAGES"], 1, "moved again")
        _, t = s.cmd("RENAME rn-q rn-q/under")
        ok(t.split()[1] == b"NO", f"under itself: {t!r}")
        ok(code_of(t, "CANNOT"), f"[CANNOT]: {t!r}")
    finally:
        s.close()


@rfc_test
def rename_errors(env):
    s = Session(env)
    try:
        new_box(s, "rn-e1")
        new_box(s, "rn-e2")
        _, t = s.cmd("RENAME rn-e1 rn-e2")
        ok(t.split()[1] == b"NO" and code_of(t, "ALREADYEXISTS"),
           f"onto an existing name: {t!r}")
        _, t = s.cmd("RENAME rn-e1 RN-E1")
        ok(t.split()[1] == b"OK", f"names are case-sensitive: {t!r}")
        _, t = s.cmd("RENAME RN-E1 rn-e1")
        ok(t.split()[1] == b"OK", f"and back: {t!r}")
        _, t = s.cmd("RENAME rn-e1 rn-e1")
        ok(t.split()[1] == b"NO" and code_of(t, "ALREADYEXISTS"),
           f"onto itself: {t!r}")
        _, t = s.cmd("RENAME rn-nosuch rn-x")
        ok(t.split()[1] == b"NO" and code_of(t, "NONEXISTENT"),
           f"missing source: {t!r}")
        _, t = s.cmd("RENAME rn-e1 INBOX")
        ok(t.split()[1] == b"NO", f"onto INBOX: {t!r}")
        _, t = s.cmd("RENAME rn-e1")
        ok(t.split()[1] == b"BAD", f"one argument: {t!r}")
        eq(set(listed(s, '"rn-e*"')), {b"rn-e1", b"rn-e2"}, "unchanged")
    finally:
        s.close()


@rfc_test
def rename_inbox(env):
    """RFC 9051 6.3.6: INBOX's messages move to the new mailbox (a new
    UIDVALIDITY), INBOX stays, empty, with its children and without
    reusing a UID; a session with INBOX selected is told of the
    expunges. Done as carol, whose INBOX no other test uses."""
    a = Session(env, "carol")
    b = Session(env, "carol")
    try:
        for i in range(3):
            a.append("INBOX", msg(30 + i), "(\\Seen) " if i == 0 else "")
        a.ok("CREATE INBOX/kid")
        inbox = a.status("INBOX")
        eq(a.select("INBOX"), 3, "EXISTS")
        b.ok("RENAME INBOX rn-old-inbox")
        untagged, _ = a.ok("NOOP")
        eq(len(expunges_of(untagged)), 3, f"EXPUNGEs: {untagged!r}")
        after = b.status("INBOX")
        eq(after["MESSAGES"], 0, "INBOX empty")
        eq(after["UIDVALIDITY"], inbox["UIDVALIDITY"], "INBOX UIDVALIDITY")
        eq(after["UIDNEXT"], inbox["UIDNEXT"], "INBOX UIDNEXT kept")
        old = b.status("rn-old-inbox")
        eq(old["MESSAGES"], 3, "messages moved")
        ok(old["UIDVALIDITY"] != inbox["UIDVALIDITY"], "new UIDVALIDITY")
        untagged, _ = b.ok("SELECT rn-old-inbox")
        eq(unseen_of(untagged), 2, "flags moved with the messages")
        got = listed(b, "*")
        ok(b"INBOX" in got and b"INBOX/kid" in got, f"INBOX stays: {got}")
        ok(b"rn-old-inbox/kid" not in got, "children of INBOX stay")
        _, uids = b.append("INBOX", msg(40))
        eq(uids, [inbox["UIDNEXT"]], "no UID reused in INBOX")
        untagged, _ = a.ok("NOOP")
        eq(exists_of(untagged), 1, "selected INBOX sees the new message")
    finally:
        a.close()
        b.close()


@rfc_test
def rename_subscriptions_stay(env):
    """Choice: subscriptions do not follow a RENAME. RFC 9051 6.3.7: the
    server MUST NOT remove a name from the subscription list on its own,
    even if the mailbox is gone; 6.3.6 says nothing of subscriptions. The
    old name stays subscribed (LIST shows it \\NonExistent), the new name
    is not subscribed until the client says so."""
    s = Session(env)
    ST = (b"rn-s", b"rn-t")
    try:
        new_box(s, "rn-s")
        s.ok("CREATE rn-s/child")
        s.ok("SUBSCRIBE rn-s")
        s.ok("SUBSCRIBE rn-s/child")
        s.ok("RENAME rn-s rn-t")
        got = listed(s, '"rn-*"', "LIST (SUBSCRIBED)", ST)
        eq(set(got), {b"rn-s", b"rn-s/child"}, "subscribed names")
        ok(b"\\NonExistent" in got[b"rn-s"], f"attributes {got}")
        ok(b"\\NonExistent" in got[b"rn-s/child"], f"attributes {got}")
        eq(set(listed(s, '"rn-*"', "LSUB", ST)), {b"rn-s", b"rn-s/child"},
           "LSUB")
        got = listed(s, '"rn-*"', "LIST", ST)
        eq(set(got), {b"rn-t", b"rn-t/child"}, "LIST")
        s.ok("SUBSCRIBE rn-t")
        got = listed(s, '"rn-*"', "LIST (SUBSCRIBED)", ST)
        eq(set(got), {b"rn-s", b"rn-s/child", b"rn-t"}, "after SUBSCRIBE")
    finally:
        s.close()


@rfc_test
def rename_non_ascii_names(env):
    """Names outside ASCII: modified UTF-7 for IMAP4rev1 clients, UTF-8
    after ENABLE UTF8=ACCEPT (RFC 6855) or IMAP4rev2 (RFC 9051 5.1); one
    mailbox seen both ways, renamed both ways."""
    s = Session(env)
    u = Session(env)
    r2 = Session(env)
    try:
        cafe, nihon, kid = "rn-café", "rn-日本語", "rn-Ünïcødé"
        s.ok(f"CREATE {mutf7(cafe)}")
        s.append(mutf7(cafe), msg(50))
        s.ok(f"CREATE {mutf7(cafe + '/sub')}")
        s.ok(f"RENAME {mutf7(cafe)} {mutf7(nihon)}")
        got = listed(s, '"rn-*"')
        ok(mutf7(nihon).encode() in got, f"mUTF-7 LIST: {got}")
        ok(mutf7(nihon + "/sub").encode() in got, f"child: {got}")
        ok(mutf7(cafe).encode() not in got, f"old name: {got}")
        eq(mutf7(nihon), "rn-&ZeVnLIqe-", "the encoding itself")
        u.ok("ENABLE UTF8=ACCEPT")
        got = listed(u, '"rn-*"')
        ok(nihon.encode() in got, f"UTF-8 LIST: {got}")
        u.ok(f'RENAME "{nihon}" "{kid}"'.encode())
        eq(u.status(f'"{kid}"')["MESSAGES"], 1,
           "STATUS by UTF-8 name")
        got = listed(s, '"rn-*"')
        ok(mutf7(kid).encode() in got and
           mutf7(kid + "/sub").encode() in got, f"seen in mUTF-7: {got}")
        r2.ok("ENABLE IMAP4rev2")
        got = listed(r2, '"rn-*"')
        ok(kid.encode() in got and (kid + "/sub").encode() in got,
           f"IMAP4rev2 LIST: {got}")
        r2.ok(f'RENAME "{kid}" "{cafe}"'.encode())
        eq(s.status(mutf7(cafe))["MESSAGES"], 1, "back to café")
        got = listed(u, '"rn-*"')
        ok(cafe.encode() in got, f"UTF-8 LIST after: {got}")
    finally:
        s.close()
        u.close()
        r2.close()


# -------------------------------------------------------- response codes
# Issue 4 names these codes. Asserted elsewhere: TRYCREATE, LIMIT, COPYUID,
# APPENDUID (test_mailbox_sync.py, test_append_stream.py); UNSEEN,
# ALREADYEXISTS, NONEXISTENT and CANNOT of RENAME above. The server never
# sends NOPERM (no access control: a user's worker owns the whole store),
# INUSE (the worker opens the store once, before any command; a store
# locked by posternctl fails the worker's start, not a command) or
# OVERQUOTA (no quotas yet).

@rfc_test
def select_examine_response_codes(env):
    """RFC 9051 6.3.2/6.3.3 and 7.1: UIDVALIDITY and UIDNEXT agree with
    STATUS, PERMANENTFLAGS lists what can be stored (nothing when
    read-only), the tagged OK says READ-WRITE or READ-ONLY, and a second
    SELECT says CLOSED before the new mailbox's responses."""
    s = Session(env)
    try:
        new_box(s, "rc-box", messages=2)
        s.append("rc-box", msg(3), "($Work) ")
        st = s.status("rc-box")
        untagged, tagged = s.ok("SELECT rc-box")
        ok(code_of(tagged, "READ-WRITE"), f"SELECT tagged: {tagged!r}")
        ok(b"[UIDVALIDITY %d]" % st["UIDVALIDITY"] in b"\n".join(untagged),
           f"UIDVALIDITY: {untagged!r}")
        ok(b"[UIDNEXT %d]" % st["UIDNEXT"] in b"\n".join(untagged),
           f"UIDNEXT: {untagged!r}")
        pf = [u for u in untagged if code_of(u, "PERMANENTFLAGS")]
        eq(len(pf), 1, "one PERMANENTFLAGS")
        m = re.search(rb"\[PERMANENTFLAGS \(([^)]*)\)\]", pf[0])
        eq(set(m.group(1).split()),
           {b"\\Answered", b"\\Flagged", b"\\Deleted", b"\\Seen",
            b"\\Draft", b"$Work", b"\\*"}, "PERMANENTFLAGS when read-write")
        untagged, tagged = s.ok("EXAMINE rc-box")
        eq(untagged[0], b"* OK [CLOSED] Previous mailbox closed",
           "CLOSED first")
        ok(code_of(tagged, "READ-ONLY"), f"EXAMINE tagged: {tagged!r}")
        pf = [u for u in untagged if code_of(u, "PERMANENTFLAGS")]
        eq(len(pf), 1, "one PERMANENTFLAGS")
        ok(b"[PERMANENTFLAGS ()]" in pf[0], f"read-only: {pf[0]!r}")
        # changes refused in a read-only mailbox
        for cmd in ("STORE 1 +FLAGS (\\Seen)", "EXPUNGE",
                    "UID EXPUNGE 1", "MOVE 1 INBOX"):
            _, t = s.cmd(cmd)
            ok(t.split()[1] == b"NO" and code_of(t, "READ-ONLY"),
               f"{cmd}: {t!r}")
        eq(s.status("rc-box")["MESSAGES"], 3, "nothing changed")
        # a failed SELECT after CLOSED leaves nothing selected
        untagged, t = s.cmd("SELECT rc-nosuch")
        ok(b"* OK [CLOSED] Previous mailbox closed" in untagged,
           f"CLOSED: {untagged!r}")
        ok(t.split()[1] == b"NO" and code_of(t, "NONEXISTENT"),
           f"SELECT missing: {t!r}")
        _, t = s.cmd("FETCH 1 (FLAGS)")
        ok(t.split()[1] == b"BAD", f"no mailbox selected: {t!r}")
        # no CLOSED when nothing was selected
        untagged, _ = s.ok("SELECT rc-box")
        ok(not any(code_of(u, "CLOSED") for u in untagged),
           f"no CLOSED: {untagged!r}")
    finally:
        s.close()


@rfc_test
def mailbox_command_response_codes(env):
    """[ALREADYEXISTS], [NONEXISTENT] and [CANNOT] of CREATE, DELETE,
    SELECT, STATUS and SUBSCRIBE (RFC 5530)."""
    s = Session(env)
    try:
        new_box(s, "rc-m")
        s.ok("CREATE rc-m/child")
        for cmd in ("CREATE rc-m", "CREATE inbox"):
            _, t = s.cmd(cmd)
            ok(t.split()[1] == b"NO" and code_of(t, "ALREADYEXISTS"),
               f"{cmd}: {t!r}")
        for cmd in ("DELETE rc-nosuch", "SELECT rc-nosuch",
                    "EXAMINE rc-nosuch", "STATUS rc-nosuch (MESSAGES)",
                    "SUBSCRIBE rc-nosuch"):
            _, t = s.cmd(cmd)
            ok(t.split()[1] == b"NO" and code_of(t, "NONEXISTENT"),
               f"{cmd}: {t!r}")
        _, t = s.cmd("DELETE INBOX")
        ok(t.split()[1] == b"NO" and code_of(t, "CANNOT"), f"INBOX: {t!r}")
        # a parent with children becomes \Noselect (RFC 9051 6.3.4) ...
        s.ok("DELETE rc-m")
        got = listed(s, '"rc-m*"')
        ok(b"\\Noselect" in got[b"rc-m"], f"\\Noselect: {got}")
        # ... which cannot be selected or deleted again
        _, t = s.cmd("SELECT rc-m")
        ok(t.split()[1] == b"NO" and code_of(t, "CANNOT"),
           f"SELECT \\Noselect: {t!r}")
        _, t = s.cmd("DELETE rc-m")
        ok(t.split()[1] == b"NO" and code_of(t, "CANNOT"),
           f"DELETE \\Noselect with children: {t!r}")
    finally:
        s.close()
