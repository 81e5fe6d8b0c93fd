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
