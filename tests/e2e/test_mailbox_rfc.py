"""End-to-end tests of the last RFC 3501 / RFC 9051 session gaps of issue
4: SELECT's [UNSEEN n], INTERNALDATE keeping its zone, RENAME, and the
response codes no other test asserts. run.py appends RFC_TESTS to its
list; each test works in mailboxes of its own on the shared server.

Raw lines (Session from test_mailbox_sync.py) where the exact responses
matter; imaplib where a real client's view is the point."""

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
