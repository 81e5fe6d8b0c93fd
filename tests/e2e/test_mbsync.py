"""A real-client round trip with Debian's mbsync (isync): push a local
maildir of a few hundred messages to Postern over TLS, change flags and
delete on both sides, sync again, and compare both sides."""

import imaplib
import os
import random
import re
import shutil
import subprocess
import tempfile

from postern_env import USERS
from checks import Skip, ok  # noqa: F401,E402
from test_tls import TlsEnv, client_ctx

MBSYNC_TESTS = []


def mbsync_test(fn):
    MBSYNC_TESTS.append((fn, False))
    return fn


def make_message(i):
    body = "".join(f"line {j} of message {i}: {random.random()}\n"
                   for j in range(random.randint(1, 40)))
    return (f"From: sender{i % 7}@example.org\n"
            f"To: alice@example.org\n"
            f"Subject: message number {i}\n"
            f"Message-ID: <msg{i}@example.org>\n"
            f"Date: Mon, 2 Nov 2026 10:{i % 60:02d}:00 +0000\n"
            f"\n{body}")


MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered",
                 "S": "\\Seen", "T": "\\Deleted"}


def local_state(maildir):
    """Message-ID -> set of IMAP flags, from the maildir."""
    state = {}
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(maildir, sub)):
            with open(os.path.join(maildir, sub, name), "rb") as f:
                m = re.search(rb"Message-ID: <([^>]+)>", f.read())
            flags = set()
            if ":2," in name:
                flags = {MAILDIR_FLAGS[c] for c in name.split(":2,")[1]
                         if c in MAILDIR_FLAGS}
            state[m.group(1).decode()] = flags
    return state


def server_state(env):
    c = imaplib.IMAP4_SSL("127.0.0.1", env.tls_port, ssl_context=client_ctx())
    c.login("alice", USERS["alice"][2])
    c.select("INBOX", readonly=True)
    typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    c.logout()
    state = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1)
                    .decode().split()) - {"\\Recent"}
        mid = re.search(rb"<([^>]+)>", item[1]).group(1).decode()
        state[mid] = flags
    return state


def run_mbsync(rc):
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"mbsync failed ({r.returncode}): "
                             f"{r.stdout[-2000:]} {r.stderr[-2000:]}")


@mbsync_test
def mbsync_round_trip(build):
    if shutil.which("mbsync") is None:
        raise Skip("mbsync (isync) is not installed")
    env = TlsEnv(build).start()
    work = tempfile.mkdtemp(prefix="postern-mbsync-")
    try:
        maildir = os.path.join(work, "Mail", "INBOX")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub))
        random.seed(7)
        n = 300
        for i in range(n):
            flags = "".join(sorted(random.sample("FRS", random.randint(0, 2))))
            name = f"{1700000000 + i}.{i}_0.local:2,{flags}"
            with open(os.path.join(maildir, "cur", name), "w") as f:
                f.write(make_message(i))
        rc = os.path.join(work, "mbsyncrc")
        with open(rc, "w") as f:
            f.write(f"""IMAPAccount postern
Host 127.0.0.1
Port {env.tls_port}
User alice
Pass {USERS['alice'][2]}
SSLType IMAPS
CertificateFile {env.cert}
AuthMechs LOGIN

IMAPStore remote
Account postern

MaildirStore local
Path {work}/Mail/
Inbox {maildir}
SubFolders Verbatim

Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Both
Expunge Both
SyncState *
""")
        run_mbsync(rc)
        local, remote = local_state(maildir), server_state(env)
        ok(len(remote) == n, f"server has {len(remote)} of {n} messages")
        ok(local == remote, "flags equal after the first sync")

        # Server side: flag some, delete some (and expunge).
        c = imaplib.IMAP4_SSL("127.0.0.1", env.tls_port,
                              ssl_context=client_ctx())
        c.login("alice", USERS["alice"][2])
        c.select("INBOX")
        c.store("1:10", "+FLAGS", "(\\Flagged)")
        c.store("11:15", "+FLAGS", "(\\Deleted)")
        c.expunge()
        c.logout()
        # Local side: mark some seen, delete some files.
        cur = sorted(os.listdir(os.path.join(maildir, "cur")))
        for name in cur[-20:-10]:
            base, _, fl = name.partition(":2,")
            new = base + ":2," + "".join(sorted(set(fl) | {"S"}))
            os.rename(os.path.join(maildir, "cur", name),
                      os.path.join(maildir, "cur", new))
        for name in cur[-5:]:
            os.unlink(os.path.join(maildir, "cur", name))
        run_mbsync(rc)
        local, remote = local_state(maildir), server_state(env)
        ok(len(remote) == n - 10, f"server has {len(remote)}, want {n - 10}")
        ok(local == remote, "both sides equal after the second sync: "
           f"only local {set(local) - set(remote)}, only remote "
           f"{set(remote) - set(local)}, differing flags "
           f"{[k for k in local if k in remote and local[k] != remote[k]][:5]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        env.cleanup()
