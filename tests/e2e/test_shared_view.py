"""End-to-end tests of sessions that share a mailbox's view while some of
them lag (issue 4: the worker keeps one UID array per mailbox version and
moves each session to the newest one only when its client is told).

Three sessions of one user have a mailbox selected; one is told nothing
while the others expunge and append, and its sequence numbers must stay
what it was told (RFC 9051 7.5.1: no EXPUNGE during FETCH, STORE or
SEARCH without UID); when it is told, the EXPUNGE and EXISTS responses
must take its numbering, step by step, to the mailbox as it is. Every
session's numbering is followed by a Tracker fed the untagged responses
it got, the way a client keeps its own map. Names start with "sync_" so
run.py -k sync picks them up with the other sync tests."""

import re

from test_mailbox_sync import (Session, appenduid, eq, ok, exists_of,
                               expunges_of, fetch_flags, msg, new_box,
                               uid_map)

SHARED_VIEW_TESTS = []


def shared_test(fn):
    SHARED_VIEW_TESTS.append((fn, True))
    return fn


class Tracker:
    """A client's own map of sequence number -> UID, kept from what the
    server told it: EXPUNGE n removes n (later ones move down), EXISTS n
    adds unknown messages up to n, FETCH n (UID u) must agree with what
    it already knows of n."""

    def __init__(self, sess, what):
        self.sess = sess
        self.what = what
        m = uid_map(sess)
        ok(m is not None, "FETCH is needed")
        self.uids = [m[i + 1] for i in range(len(m))]

    def feed(self, untagged):
        for u in untagged:
            m = re.match(rb"\* (\d+) (EXPUNGE|EXISTS|FETCH)\b", u)
            if not m:
                continue
            n, kind = int(m.group(1)), m.group(2)
            if kind == b"EXPUNGE":
                ok(1 <= n <= len(self.uids),
                   f"{self.what}: EXPUNGE {n} of {len(self.uids)}")
                del self.uids[n - 1]
            elif kind == b"EXISTS":
                ok(n >= len(self.uids),
                   f"{self.what}: EXISTS {n} after {len(self.uids)}")
                self.uids += [None] * (n - len(self.uids))
            else:
                ok(1 <= n <= len(self.uids),
                   f"{self.what}: FETCH {n} of {len(self.uids)}")
                uid = re.search(rb"UID (\d+)", u)
                if uid:
                    uid = int(uid.group(1))
                    ok(self.uids[n - 1] in (None, uid),
                       f"{self.what}: FETCH {n} is UID {uid}, was told "
                       f"{self.uids[n - 1]}")
                    self.uids[n - 1] = uid

    def cmd(self, text, *literals):
        untagged, tagged = self.sess.cmd(text, *literals)
        self.feed(untagged)
        return untagged, tagged

    def ok(self, text, *literals):
        untagged, tagged = self.cmd(text, *literals)
        ok(tagged.split()[1] == b"OK", f"{self.what} {text!r}: {tagged!r}")
        return untagged

    def append(self, box, data):
        """APPEND; the UID it got."""
        untagged, tagged = self.cmd(f"APPEND {box} {{}}", data)
        ok(tagged.split()[1] == b"OK", f"{self.what} APPEND: {tagged!r}")
        return appenduid(tagged)[1][0]

    def fill(self):
        """FETCHes the UIDs of the numbers it knows only from EXISTS."""
        unknown = [str(i + 1) for i, u in enumerate(self.uids) if u is None]
        if unknown:
            self.ok("FETCH %s (UID)" % ",".join(unknown))
        ok(None not in self.uids, f"{self.what}: FETCH gave every UID")
        return self.uids

    def agrees(self, uids, what):
        """What it knows agrees with uids (numbers only from EXISTS
        count, whatever their UID)."""
        ok(len(self.uids) == len(uids) and
           all(a is None or a == b for a, b in zip(self.uids, uids)),
           f"{what}: {self.what} knows {self.uids}, expected {uids}")

    def check_current(self, store_uids):
        """After NOOP: what it was told is the mailbox as it is, and
        FETCH by its numbers gives those UIDs."""
        self.ok("NOOP")
        self.ok("FETCH 1:* (UID)" if self.uids else "NOOP")
        eq(self.uids, store_uids, f"{self.what}: numbering after NOOP")


@shared_test
def sync_three_sessions_one_lags(env):
    a, b, c = Session(env), Session(env), Session(env)
    try:
        uids = new_box(a, "lag3", 10)
        for s in (a, b, c):
            s.select("lag3")
        ta, tb, tc = (Tracker(a, "A"), Tracker(b, "B"), Tracker(c, "C"))
        eq(tc.uids, uids, "C's numbering at the start")
        # A expunges messages 2 and 5; B appends two; A expunges the
        # first and the newest. C says nothing meanwhile.
        ta.ok("STORE 2,5 +FLAGS.SILENT (\\Deleted)")
        untagged = ta.ok("EXPUNGE")
        eq(expunges_of(untagged), [5, 2], "A's own EXPUNGE, highest first")
        new1 = tb.append("lag3", msg(11))
        new2 = tb.append("lag3", msg(12))
        tb.ok("NOOP")
        ta.ok("NOOP")		# A must know of new2 to expunge it
        ta.ok(f"UID STORE {uids[0]},{new2} +FLAGS.SILENT (\\Deleted)")
        ta.ok("EXPUNGE")
        now = [u for u in uids if u not in (uids[0], uids[1], uids[4])]
        now.append(new1)
        tb.ok("NOOP")
        eq(ta.fill(), now, "A's numbering")
        eq(tb.fill(), now, "B's numbering")
        # C was told nothing: FETCH by its old numbers gives its old UIDs,
        # no EXPUNGE comes with it, the new message may come as EXISTS
        # (NO [EXPUNGEISSUED] for the ones gone, RFC 9051 7.1)
        untagged, t = tc.cmd("FETCH 1:10 (UID)")
        ok(t.split()[1] in (b"OK", b"NO"), f"C's FETCH: {t!r}")
        eq(expunges_of(untagged), [], "no EXPUNGE during FETCH")
        got = {seq: v[0] for seq, v in fetch_flags(untagged).items()}
        for seq, uid in got.items():
            eq(uid, uids[seq - 1], f"C's FETCH {seq}")
        for seq in (1, 2, 5):
            ok(seq not in got or got[seq] == uids[seq - 1],
               f"C's expunged message {seq}")
        eq(exists_of(untagged), 11, "C told of the new message only")
        untagged = tc.ok("FETCH 11 (UID)")
        eq(fetch_flags(untagged)[11][0], new1, "C's message 11")
        # a STORE by sequence number is by the old numbers too
        untagged = tc.ok("STORE 10 +FLAGS (\\Flagged)")
        eq(expunges_of(untagged), [], "no EXPUNGE during STORE")
        eq(fetch_flags(untagged)[10][0], uids[9], "C's STORE 10")
        untagged, t = tc.cmd("SEARCH UID %d" % uids[9])
        eq(expunges_of(untagged), [], "no EXPUNGE during SEARCH")
        found = [u for u in untagged if u.startswith(b"* SEARCH")]
        if t.split()[1] == b"OK":
            eq(found, [b"* SEARCH 10"], "C's SEARCH by its numbers")
        # NOOP: the three expunges, in C's numbering, highest first
        untagged = tc.ok("NOOP")
        eq(expunges_of(untagged), [5, 2, 1], "C told at NOOP")
        tc.agrees(now, "C's numbering after NOOP")
        # everybody agrees, and sees C's flag
        for t in (ta, tb, tc):
            t.check_current(now)
        untagged = ta.ok("NOOP")
        eq(untagged, [], "A was told C's flag with its own FETCH before")
    finally:
        for s in (a, b, c):
            s.close()


def idle_start(sess):
    tag = sess.tag()
    sess.send(tag + b" IDLE\r\n")
    line = sess.line()
    ok(line.startswith(b"+"), f"IDLE continuation: {line!r}")
    return tag


def idle_read(sess, n, kind, what):
    """Untagged lines an IDLE session is sent, up to the n-th of kind
    (b"EXPUNGE", b"EXISTS")."""
    out = []
    seen = 0
    while seen < n:
        try:
            line = sess.line(timeout=5)
        except OSError:
            raise AssertionError(f"{what}: got only {out!r}")
        out.append(line)
        if re.match(rb"\* \d+ " + kind + rb"$", line):
            seen += 1
    return out


@shared_test
def sync_lagging_session_catches_up_several_versions(env):
    """An IDLE session is told each change as it happens (it holds the
    newest view); a silent one lags through several versions and is told
    all of them at once, in numbers that fit each step; a new SELECT
    meanwhile sees the mailbox as it is."""
    idle, lag, doer = Session(env), Session(env), Session(env)
    try:
        uids = new_box(doer, "lagv", 6)
        for s in (idle, lag, doer):
            s.select("lagv")
        ti, tl, td = Tracker(idle, "idle"), Tracker(lag, "lag"), \
            Tracker(doer, "doer")
        tag = idle_start(idle)
        # version 2: 3 expunged
        td.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
        td.ok("EXPUNGE")
        ti.feed(idle_read(idle, 1, b"EXPUNGE", "expunge 3"))
        # version 3: two appended
        n1 = td.append("lagv", msg(7))
        ti.feed(idle_read(idle, 1, b"EXISTS", "append 7"))
        n2 = td.append("lagv", msg(8))
        ti.feed(idle_read(idle, 1, b"EXISTS", "append 8"))
        # version 4: the first, the last old one and n1 expunged
        td.ok(f"UID STORE {uids[0]},{uids[5]},{n1} +FLAGS.SILENT "
              "(\\Deleted)")
        untagged = td.ok("EXPUNGE")
        eq(len(expunges_of(untagged)), 3, "doer's EXPUNGE")
        ti.feed(idle_read(idle, 3, b"EXPUNGE", "three expunges"))
        now = [uids[1], uids[3], uids[4], n2]
        eq(td.fill(), now, "doer's numbering")
        ti.agrees(now, "idle's numbering as told")
        # a session that selects now sees version 4
        fresh = Session(env)
        try:
            eq(fresh.select("lagv"), 4, "EXISTS at a new SELECT")
            eq(Tracker(fresh, "fresh").uids, now, "new SELECT's numbering")
        finally:
            fresh.close()
        # the laggard: old numbers until told, then all of it at once
        untagged, t = tl.cmd("FETCH 2,6 (UID)")
        ok(t.split()[1] in (b"OK", b"NO"), f"FETCH of an expunged: {t!r}")
        eq(expunges_of(untagged), [], "no EXPUNGE during FETCH")
        eq(fetch_flags(untagged)[2][0], uids[1], "lag's 2")
        eq(fetch_flags(untagged).get(6, (uids[5],))[0], uids[5],
           "lag's 6 is still its old message")
        eq(len(tl.uids), 7, "lag told of n2 (n1 came and went)")
        untagged = tl.ok("NOOP")
        eq(expunges_of(untagged), [6, 3, 1], "lag's EXPUNGEs")
        tl.agrees(now, "lag's numbering after NOOP")
        idle.send(b"DONE\r\n")
        untagged, _ = idle.until(tag)
        ti.feed(untagged)
        for t in (ti, tl, td):
            t.check_current(now)
    finally:
        for s in (idle, lag, doer):
            s.close()


@shared_test
def sync_lagging_session_large_expunge(env):
    """An expunge of most of a mailbox while one session lags: it is told
    every EXPUNGE, highest first, and ends with the survivors."""
    a, lag = Session(env), Session(env)
    try:
        n = 600
        new_box(a, "lagbig")
        lits = [msg(i + 1) for i in range(n)]
        a.ok("APPEND lagbig " + " ".join(["{}"] * n), *lits)
        a.select("lagbig")
        lag.select("lagbig")
        tl = Tracker(lag, "lag")
        eq(len(tl.uids), n, "lag sees them all")
        keep = set(range(1, n + 1, 100))	# seqs 1, 101, ...
        gone = [s for s in range(1, n + 1) if s not in keep]
        a.ok("STORE %s +FLAGS.SILENT (\\Deleted)" %
             ",".join(f"{k + 1}:{k + 99}" for k in sorted(keep)))
        untagged, _ = a.ok("EXPUNGE")
        eq(len(expunges_of(untagged)), len(gone), "A's EXPUNGE count")
        survivors = [tl.uids[s - 1] for s in sorted(keep)]
        untagged = tl.ok("NOOP")
        eq(expunges_of(untagged), sorted(gone, reverse=True),
           "lag's EXPUNGEs, highest first")
        eq(tl.uids, survivors, "lag's survivors")
        tl.check_current(survivors)
    finally:
        a.close()
        lag.close()
