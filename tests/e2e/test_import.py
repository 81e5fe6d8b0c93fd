#!/usr/bin/env python3
"""End-to-end tests of posternctl import and export (issue 3, item 6).

posternctl works on a user's store offline, as the user: the tests use
PosternEnv's fake users (nss_wrapper) without starting the server. They
import a generated mbox and a generated maildir (with flags, a Dovecot
keyword and Maildir++ folders), export the mailboxes again as maildirs,
and compare every message byte for byte (the export has CRLF line ends:
the store keeps messages as received, with bare LF turned into CRLF),
its flags and its date. Malformed input must import what it can, report
the rest with counts and exit 3.

run.py appends IMPORT_TESTS to its list; this file also runs alone:
    python3 tests/e2e/test_import.py [--build build] [-k NAME]"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postern_env import PosternEnv, USERS  # noqa: E402
from checks import Skip, eq, ok  # noqa: F401,E402

IMPORT_TESTS = []


def import_test(fn):
    IMPORT_TESTS.append((fn, False))    # gets the build directory
    return fn


ALICE_UID, ALICE_GID = USERS["alice"][0], USERS["alice"][1]


class Ctl:
    """A PosternEnv (fake users, config) for offline posternctl runs, and
    a work directory alice can read and write."""

    def __init__(self, build):
        self.build = build
        self.env = PosternEnv(build)
        self.work = tempfile.mkdtemp(prefix="postern-import-")
        os.chmod(self.work, 0o755)
        self.out = os.path.join(self.work, "out")
        os.mkdir(self.out)
        os.chown(self.out, ALICE_UID, ALICE_GID)

    def run(self, *args):
        return subprocess.run([f"{self.build}/posternctl", "-c",
                               self.env.config, *args],
                              env=self.env.environ(), capture_output=True,
                              timeout=120)

    def store_dir(self, user="alice"):
        return os.path.join(self.env.dir, "mail", user)

    def cleanup(self):
        self.env.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)


def crlf(data):
    """What the store keeps: every bare LF as CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def make_message(i, size=600):
    """A message with the lines mbox makes hard: From at a line start,
    already quoted >From, an empty body line, 8-bit bytes."""
    head = (f"From: Sender {i} <s{i}@example.org>\n"
            f"To: alice@example.org\nSubject: message {i}\n"
            f"Message-ID: <{i}@example.org>\n\n").encode()
    body = [b"Hello,", b"", b"From the start of a line.",
            b">From a quoted line.", b">>From a twice quoted line.",
            b"> a reply", b"caf\xc3\xa9 and \xff bytes"]
    if i % 3 == 0:
        body.append(b"From someone Thu Jan  1 00:00:00 2015")
    data = head + b"\n".join(body) + b"\n"
    filler = b"x" * 70 + b"\n"
    while len(data) < size:
        data += filler
    return data


def quote(data):
    """mboxrd: one more '>' on every >*From line."""
    return b"".join(b">" + line if re.match(rb">*From ", line) else line
                    for line in data.splitlines(keepends=True))


def write_mboxrd(path, messages, dates):
    """A last message without a final newline is written as the end of
    the file, so it keeps that form."""
    with open(path, "wb") as f:
        for i, (data, date) in enumerate(zip(messages, dates)):
            stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(date))
            f.write(f"From sender@example.org {stamp}\n".encode())
            f.write(quote(data))
            if i == len(messages) - 1 and not data.endswith(b"\n"):
                break
            if not data.endswith(b"\n"):
                f.write(b"\n")
            f.write(b"\n")
    os.chmod(path, 0o644)


INFO_RE = re.compile(r"U(\d+)\.[^:]*:2,([A-Za-z]*)$")


def exported(ctl, mailbox, name):
    """Exports mailbox to out/name; returns [(uid, info, bytes, mtime)]
    in UID order and the dovecot-keywords table {letter: name}."""
    dest = os.path.join(ctl.out, name)
    r = ctl.run("export", "alice", mailbox, dest)
    eq(r.returncode, 0, f"export {mailbox}: {r.stderr.decode()}")
    ok(re.search(rb"^exported \d+ messages from ", r.stdout, re.M),
       f"summary line: {r.stdout!r}")
    for sub in ("cur", "new", "tmp"):
        ok(os.path.isdir(os.path.join(dest, sub)), f"{sub}/ exists")
    eq(os.listdir(os.path.join(dest, "tmp")), [], "tmp/ left empty")
    out = []
    for fn in os.listdir(os.path.join(dest, "cur")):
        m = INFO_RE.search(fn)
        ok(m is not None, f"maildir name {fn}")
        p = os.path.join(dest, "cur", fn)
        st = os.stat(p)
        eq((st.st_uid, st.st_gid), (ALICE_UID, ALICE_GID),
           "exported file owned by the user")
        with open(p, "rb") as f:
            out.append((int(m.group(1)), m.group(2), f.read(),
                        int(st.st_mtime)))
    out.sort()
    keywords = {}
    kwfile = os.path.join(dest, "dovecot-keywords")
    if os.path.exists(kwfile):
        with open(kwfile) as f:
            for line in f:
                n, _, kw = line.rstrip("\n").partition(" ")
                keywords[chr(ord("a") + int(n))] = kw
    return out, keywords


def summary(r):
    return r.stdout.decode()


@import_test
def import_mbox_and_export_roundtrip(build):
    ctl = Ctl(build)
    try:
        n = 60
        msgs = [make_message(i, 300 + 97 * i) for i in range(n)]
        msgs[7] = msgs[7].replace(b"\n", b"\r\n")       # a CRLF message
        msgs[-1] = msgs[-1].rstrip(b"\n")               # no final newline
        dates = [1420070400 + 86400 * i + i for i in range(n)]
        mbox = os.path.join(ctl.work, "in.mbox")
        write_mboxrd(mbox, msgs, dates)
        r = ctl.run("import", "alice", mbox)
        eq(r.returncode, 0, f"import exit status ({r.stderr!r})")
        ok(f"imported {n} messages into INBOX, 0 skipped" in summary(r),
           f"summary: {r.stdout!r}")
        # the store directory as the master makes it
        st = os.stat(ctl.store_dir())
        eq((st.st_uid, st.st_mode & 0o777), (ALICE_UID, 0o700),
           "store directory owner and mode")
        for root, _, files in os.walk(ctl.store_dir()):
            for fn in files:
                eq(os.stat(os.path.join(root, fn)).st_uid, ALICE_UID,
                   f"{fn} owned by alice")
        out, _ = exported(ctl, "INBOX", "inbox")
        eq(len(out), n, "exported message count")
        for i, (uid, info, data, mtime) in enumerate(out):
            eq(uid, i + 1, "UIDs in mbox order")
            want = crlf(msgs[i])
            ok(data == want, f"message {i} bytes: {data[:200]!r} != "
               f"{want[:200]!r}")
            eq(mtime, dates[i], f"message {i} date")
            eq(info, "", f"message {i} flags")

        # --mailbox: created with its parent, then exported from there
        r = ctl.run("import", "alice", mbox, "--mailbox", "Archive/2015")
        eq(r.returncode, 0, f"import --mailbox ({r.stderr!r})")
        ok(f"imported {n} messages into Archive/2015, 0 skipped"
           in summary(r), f"summary: {r.stdout!r}")
        out2, _ = exported(ctl, "Archive/2015", "archive")
        eq([d for _, _, d, _ in out2], [d for _, _, d, _ in out],
           "same bytes in the second mailbox")
        # usage errors
        eq(ctl.run("import", "alice").returncode, 2, "import without PATH")
        eq(ctl.run("export", "alice", "INBOX").returncode, 2,
           "export without DIR")
        eq(ctl.run("status", "--mailbox", "X").returncode, 2,
           "--mailbox on another command")
    finally:
        ctl.cleanup()


def write_maildir(root, files, keywords=None):
    """files: {relative path: (bytes, mtime)}"""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for rel, (data, mtime) in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (mtime, mtime))
    if keywords:
        with open(os.path.join(root, "dovecot-keywords"), "w") as f:
            for i, kw in enumerate(keywords):
                f.write(f"{i} {kw}\n")
    subprocess.run(["chmod", "-R", "a+rX", root], check=True)


@import_test
def import_maildir_flags_folders_and_export(build):
    ctl = Ctl(build)
    try:
        md = os.path.join(ctl.work, "Maildir")
        flagsets = ["", "S", "RS", "FS", "DFPRST", "T", "P", "D", "Sa",
                    "Sab", "FRS"]
        files, want = {}, []
        t0 = 1500000000
        for i, fl in enumerate(flagsets):
            data = make_message(100 + i, 2000)
            if i == 3:
                data = data.replace(b"\n", b"\r\n")
            name = f"{t0 + i}.M{i}P1.example.org:2,{fl}"
            files[f"cur/{name}"] = (data, t0 + i * 3600)
            want.append((fl, data, t0 + i * 3600))
        # new/: no info, so no flags (and not \Seen)
        newdata = make_message(200, 1000)
        files[f"new/{t0 + 99}.M99P1.example.org"] = (newdata, t0 + 99)
        want.append(("", newdata, t0 + 99))
        # Maildir++ folders: .Sub.Folder and modified UTF-7 "Entwürfe"
        sub1 = make_message(300, 800)
        sub2 = make_message(301, 800)
        files[".Sub.Folder/cur/1.M1P1.h:2,S"] = (sub1, t0)
        files[".Entw&APw-rfe/cur/2.M1P1.h:2,D"] = (sub2, t0 + 1)
        write_maildir(md, files, ["$Label1", "work"])
        for f in (".Sub.Folder", ".Entw&APw-rfe"):
            write_maildir(os.path.join(md, f), {})

        r = ctl.run("import", "alice", md, "--mailbox", "Restored")
        eq(r.returncode, 0, f"import exit status ({r.stderr!r})")
        text = summary(r)
        ok(f"imported {len(want)} messages into Restored, 0 skipped" in text,
           f"summary: {text!r}")
        ok("imported 1 messages into Restored/Sub/Folder, 0 skipped" in text,
           f"summary: {text!r}")
        ok("imported 1 messages into Restored/Entw\u00fcrfe, 0 skipped"
           in text, f"summary: {text!r}")
        ok("total: imported 14 messages into 3 mailboxes, 0 skipped" in text,
           f"summary: {text!r}")

        out, kwtable = exported(ctl, "Restored", "restored")
        eq(len(out), len(want), "exported count")
        src_kw = {"a": "$Label1", "b": "work"}
        for (uid, info, data, mtime), (fl, wdata, wdate) in zip(out, want):
            ok(data == crlf(wdata), f"UID {uid} bytes")
            eq(mtime, wdate, f"UID {uid} date")
            sysflags = "".join(c for c in info if c.isupper())
            eq(sysflags, "".join(c for c in fl if c.isupper()),
               f"UID {uid} flags")
            eq(sorted(kwtable[c] for c in info if c.islower()),
               sorted(src_kw[c] for c in fl if c.islower()),
               f"UID {uid} keywords")
        out, _ = exported(ctl, "Restored/Sub/Folder", "sub")
        eq([(i, d) for _, i, d, _ in out], [("S", crlf(sub1))], "Sub/Folder")
        out, _ = exported(ctl, "Restored/Entw\u00fcrfe", "entw")
        eq([(i, d) for _, i, d, _ in out], [("D", crlf(sub2))], "Entwürfe")

        # Into INBOX (the default), folders become top-level mailboxes
        # and .Sent joins the special-use Sent mailbox of a new store.
        md2 = os.path.join(ctl.work, "Maildir2")
        write_maildir(md2, {"cur/5.M1P1.h:2,S": (sub1, t0),
                            ".Sent/cur/6.M1P1.h:2,S": (sub2, t0)})
        write_maildir(os.path.join(md2, ".Sent"), {})
        r = ctl.run("import", "alice", md2)
        eq(r.returncode, 0, f"import into INBOX ({r.stderr!r})")
        ok("imported 1 messages into INBOX, 0 skipped" in summary(r) and
           "imported 1 messages into Sent, 0 skipped" in summary(r),
           f"summary: {r.stdout!r}")
    finally:
        ctl.cleanup()


@import_test
def import_malformed_input_partial(build):
    ctl = Ctl(build)
    try:
        good = [make_message(1), make_message(2)]
        mbox = os.path.join(ctl.work, "bad.mbox")
        with open(mbox, "wb") as f:
            f.write(b"this is not a From_ line\n\x00\xff garbage\n\n")
            f.write(b"From a Thu Jan  1 00:00:00 2015\n" + quote(good[0]) +
                    b"\n")
            f.write(b"From a Thu Jan  1 00:00:01 2015\n\n")      # empty
            f.write(b"From a Thu Jan  1 00:00:02 2015\n" + quote(good[1]) +
                    b"\n")
            f.write(b"From a Thu Jan  1 00:00:03 2015\n")        # empty
        os.chmod(mbox, 0o644)
        r = ctl.run("import", "alice", mbox, "--mailbox", "Bad")
        eq(r.returncode, 3, f"partial import exit status ({r.stderr!r})")
        ok("imported 2 messages into Bad, 3 skipped" in summary(r),
           f"summary: {r.stdout!r}")
        err = r.stderr.decode()
        ok("text before the first From_ line" in err, f"junk: {err}")
        eq(err.count("empty message, skipped"), 2, f"empty messages: {err}")
        out, _ = exported(ctl, "Bad", "bad")
        eq([d for _, _, d, _ in out], [crlf(m) for m in good],
           "the good messages")

        # Not an mbox at all: nothing imported, the whole file reported.
        eml = os.path.join(ctl.work, "mail.eml")
        with open(eml, "wb") as f:
            f.write(good[0])
        os.chmod(eml, 0o644)
        r = ctl.run("import", "alice", eml, "--mailbox", "Eml")
        eq(r.returncode, 3, "garbage file")
        ok("imported 0 messages into Eml, 1 skipped" in summary(r),
           f"summary: {r.stdout!r}")
        # An empty mbox is fine.
        empty = os.path.join(ctl.work, "empty.mbox")
        open(empty, "wb").close()
        os.chmod(empty, 0o644)
        r = ctl.run("import", "alice", empty)
        eq(r.returncode, 0, "empty mbox")
        ok("imported 0 messages into INBOX, 0 skipped" in summary(r),
           f"summary: {r.stdout!r}")

        # A maildir with an empty file, a directory, a FIFO and a symlink
        # among good messages.
        md = os.path.join(ctl.work, "BadMaildir")
        write_maildir(md, {"cur/1.a.h:2,S": (good[0], 1500000000),
                           "cur/2.a.h:2,": (b"", 1500000000),
                           "new/3.a.h": (good[1], 1500000001)})
        os.mkdir(os.path.join(md, "cur", "4.a.h:2,S"))
        os.mkfifo(os.path.join(md, "cur", "5.a.h:2,S"))
        os.symlink("/etc/shadow", os.path.join(md, "cur", "6.a.h:2,S"))
        r = ctl.run("import", "alice", md, "--mailbox", "BadMd")
        eq(r.returncode, 3, f"maildir partial ({r.stderr!r})")
        ok("imported 2 messages into BadMd, 4 skipped" in summary(r),
           f"summary: {r.stdout!r} {r.stderr!r}")
        ok(b"shadow" not in r.stdout, "no symlink followed")

        # Hard errors: exit 1
        r = ctl.run("import", "alice", os.path.join(ctl.work, "missing"))
        eq(r.returncode, 1, "missing file")
        ok(b"No such file" in r.stderr, f"says why: {r.stderr!r}")
        r = ctl.run("import", "nosuchuser", mbox)
        eq(r.returncode, 1, "unknown user")
        ok(b"no such user" in r.stderr, f"says why: {r.stderr!r}")
        r = ctl.run("import", "lowuid", mbox)
        eq(r.returncode, 1, "uid below first_valid_uid")
        ok(b"first_valid_uid" in r.stderr, f"says why: {r.stderr!r}")
        secret = os.path.join(ctl.work, "root-only.mbox")
        shutil.copy(mbox, secret)
        os.chmod(secret, 0o600)
        r = ctl.run("import", "alice", secret)
        eq(r.returncode, 1, "file alice cannot read")
        ok(b"Permission denied" in r.stderr, f"read as alice: {r.stderr!r}")
        r = ctl.run("export", "alice", "NoSuchBox",
                    os.path.join(ctl.out, "x"))
        eq(r.returncode, 1, "export of a missing mailbox")
        r = ctl.run("export", "alice", "INBOX", "/root/not-alices")
        eq(r.returncode, 1, "export where alice may not write")
    finally:
        ctl.cleanup()


@import_test
def import_refused_while_user_logged_in(build):
    """The user's worker holds the store's lock while it runs; the tools
    must say so and suggest posternctl kick. The lock is taken here the
    way the worker takes it (flock on <store>/lock)."""
    ctl = Ctl(build)
    try:
        mbox = os.path.join(ctl.work, "in.mbox")
        write_mboxrd(mbox, [make_message(1)], [1420070400])
        eq(ctl.run("import", "alice", mbox).returncode, 0, "first import")
        fd = os.open(os.path.join(ctl.store_dir(), "lock"), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            for args in (("import", "alice", mbox),
                         ("export", "alice", "INBOX",
                          os.path.join(ctl.out, "x"))):
                r = ctl.run(*args)
                eq(r.returncode, 1, f"{args[0]} while logged in")
                err = r.stderr.decode()
                ok("alice is logged in" in err and
                   "posternctl kick alice" in err, f"message: {err}")
        finally:
            os.close(fd)
        r = ctl.run("import", "alice", mbox)
        eq(r.returncode, 0, f"import after the worker left ({r.stderr!r})")
        ok("imported 1 messages into INBOX" in summary(r), "second import")
    finally:
        ctl.cleanup()


@import_test
def import_refused_while_worker_runs(build):
    """The same with a real login: the worker holds the store until it
    exits (worker_linger after the last session)."""
    import imaplib
    ctl = Ctl(build)
    try:
        mbox = os.path.join(ctl.work, "in.mbox")
        write_mboxrd(mbox, [make_message(1)], [1420070400])
        ctl.env.start()
        c = imaplib.IMAP4("127.0.0.1", ctl.env.port)
        c.login("alice", USERS["alice"][2])
        c.noop()
        r = ctl.run("import", "alice", mbox)
        eq(r.returncode, 1, f"import while logged in ({r.stdout!r})")
        ok(b"posternctl kick alice" in r.stderr, f"message: {r.stderr!r}")
        c.logout()
        deadline = time.time() + 15
        while True:
            r = ctl.run("import", "alice", mbox)
            if r.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.5)
        eq(r.returncode, 0, f"import once the worker exited ({r.stderr!r})")
    finally:
        ctl.cleanup()


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-k", default="", help="run tests whose name contains")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    selected = [fn for fn, _ in IMPORT_TESTS if args.k in fn.__name__]
    if os.geteuid() != 0:
        print("import tests: skipped: they need root (posternctl drops to "
              "the users' uids)")
        print(f"0 passed, 0 failed, {len(selected)} skipped")
        return 0
    passed = failed = skipped = 0
    for fn in selected:
        t0 = time.time()
        try:
            fn(build)
            passed += 1
            print(f"PASS {fn.__name__} ({time.time() - t0:.2f}s)")
        except Skip as e:
            skipped += 1
            print(f"SKIP {fn.__name__}: {e}")
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
