#!/usr/bin/env python3
"""End-to-end tests of Postern with real clients (Python's imaplib and raw
sockets). Ends with a plain "N passed, N failed, N skipped" line."""

import argparse
import base64
import ctypes
import imaplib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postern_env import PosternEnv, USERS, LOGIN_USER, proc_status  # noqa
from checks import Skip, eq, ok  # noqa: F401,E402

TESTS = []


def test(shared=True):
    def deco(fn):
        TESTS.append((fn, shared))
        return fn
    return deco


class Raw:
    """A line-level IMAP connection for checks imaplib cannot express."""

    def __init__(self, port, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered: %r" % self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def until(self, tag):
        """Lines up to and including the tagged response of tag."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    def closed(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def unprivileged_copy(env, build, program):
    """A copy of a built program that an unprivileged user can execute:
    the build tree may sit in a directory only root can enter (a clone
    under mktemp -d), and a refused exec must not pass for the refusal
    a test looks for."""
    path = os.path.join(env.dir, program)
    shutil.copy2(os.path.join(build, program), path)
    os.chmod(path, 0o755)
    return path


def login(env, user="alice"):
    c = imaplib.IMAP4("127.0.0.1", env.port)
    c.login(user, USERS[user][2])
    return c


def wait_for(pred, timeout=5, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def worker_pids_of(env, user):
    return [p["pid"] for p in env.status()
            if p["role"] == "worker" and p.get("user") == user]


# ---------------------------------------------------------------- login

@test()
def greeting_and_capability(env):
    c = imaplib.IMAP4("127.0.0.1", env.port)
    ok(c.welcome.startswith(b"* OK [CAPABILITY "), "greeting has CAPABILITY")
    for cap in ("IMAP4rev1", "IMAP4rev2", "AUTH=PLAIN", "SASL-IR", "ID",
                "LITERAL+"):
        ok(cap.upper() in c.capabilities, f"{cap} advertised")
    typ, data = c.noop()
    eq(typ, "OK", "NOOP")
    typ, data = c.xatom("ID", '("name" "e2e")')
    eq(typ, "OK", "ID")
    eq(c.untagged_responses.get("ID"), [b'("name" "Postern")'], "ID reply")
    c.logout()


@test()
def login_right_and_wrong(env):
    c = imaplib.IMAP4("127.0.0.1", env.port)
    try:
        c.login("alice", "not-the-password")
        raise AssertionError("wrong password accepted")
    except imaplib.IMAP4.error as e:
        ok(b"AUTHENTICATIONFAILED" in str(e).encode(), f"response code: {e}")
    try:
        c.login("nosuchuser", "x")
        raise AssertionError("unknown user accepted")
    except imaplib.IMAP4.error as e:
        ok("AUTHENTICATIONFAILED" in str(e), f"response code: {e}")
    typ, data = c.login("alice", USERS["alice"][2])
    eq(typ, "OK", "LOGIN")
    ok(b"[CAPABILITY" in data[0], "tagged OK carries CAPABILITY")
    typ, _ = c.noop()
    eq(typ, "OK", "NOOP after login")
    c.logout()
    log = env.read_log()
    ok("not-the-password" not in log, "password never logged")
    ok(USERS["alice"][2] not in log, "password never logged")


@test()
def login_refused_accounts(env):
    c = imaplib.IMAP4("127.0.0.1", env.port)
    try:
        c.login("expired", USERS["expired"][2])
        raise AssertionError("account refused by pam_acct_mgmt logged in")
    except imaplib.IMAP4.error as e:
        ok("EXPIRED" in str(e), f"expired account: {e}")
    try:
        c.login("lowuid", USERS["lowuid"][2])
        raise AssertionError("uid below first_valid_uid logged in")
    except imaplib.IMAP4.error as e:
        ok("NO" in str(e) or "EXPIRED" in str(e), f"low uid: {e}")
    c.logout()


@test()
def authenticate_plain_without_ir(env):
    # imaplib sends AUTHENTICATE PLAIN and answers the "+" continuation.
    c = imaplib.IMAP4("127.0.0.1", env.port)
    pw = USERS["bob"][2]
    typ, _ = c.authenticate("PLAIN", lambda _: f"\0bob\0{pw}".encode())
    eq(typ, "OK", "AUTHENTICATE PLAIN")
    eq(c.noop()[0], "OK", "NOOP")
    c.logout()


@test()
def authenticate_plain_sasl_ir_and_errors(env):
    r = Raw(env.port)
    r.line()
    pw = USERS["alice"][2]
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    r.send(f"a1 AUTHENTICATE PLAIN {bad}\r\n".encode())
    ok(r.until(b"a1")[-1].startswith(b"a1 NO [AUTHENTICATIONFAILED]"),
       "wrong password with SASL-IR")
    r.send(b"a2 AUTHENTICATE PLAIN !!notbase64\r\n")
    ok(r.until(b"a2")[-1].startswith(b"a2 BAD"), "invalid base64 is BAD")
    r.send(b"a3 AUTHENTICATE PLAIN\r\n")
    ok(r.line().startswith(b"+"), "continuation")
    r.send(b"*\r\n")
    ok(r.until(b"a3")[-1].startswith(b"a3 BAD"), "cancel with * is BAD")
    r.send(b"a4 AUTHENTICATE CRAM-MD5\r\n")
    ok(r.until(b"a4")[-1].startswith(b"a4 NO"), "unknown mechanism NO")
    good = base64.b64encode(f"\0alice\0{pw}".encode()).decode()
    r.send(f"a5 AUTHENTICATE PLAIN {good}\r\n".encode())
    last = r.until(b"a5")[-1]
    ok(last.startswith(b"a5 OK [CAPABILITY"), f"SASL-IR login: {last!r}")
    r.send(b"a6 LOGOUT\r\n")
    lines = r.until(b"a6")
    ok(lines[0].startswith(b"* BYE"), "BYE before LOGOUT OK")
    r.close()


@test()
def authzid_other_user_refused(env):
    r = Raw(env.port)
    r.line()
    pw = USERS["alice"][2]
    tok = base64.b64encode(f"bob\0alice\0{pw}".encode()).decode()
    r.send(f"a1 AUTHENTICATE PLAIN {tok}\r\n".encode())
    ok(r.until(b"a1")[-1].startswith(b"a1 NO"), "authzid of another user")
    r.close()


@test()
def commands_pipelined_behind_login(env):
    r = Raw(env.port)
    r.line()
    pw = USERS["alice"][2]
    r.send(f"a LOGIN alice {pw}\r\nb NOOP\r\nc CAPABILITY\r\nd LOGOUT\r\n"
           .encode())
    ok(r.until(b"a")[-1].startswith(b"a OK"), "LOGIN answered first")
    ok(r.until(b"b")[-1].startswith(b"b OK"), "NOOP next")
    lines = r.until(b"c")
    ok(lines[0].startswith(b"* CAPABILITY"), "CAPABILITY data")
    lines = r.until(b"d")
    ok(lines[0].startswith(b"* BYE") and lines[-1].startswith(b"d OK"),
       "LOGOUT last")
    r.close()


@test()
def literal_login_and_literal_plus(env):
    r = Raw(env.port)
    r.line()
    pw = USERS["carol"][2].encode()
    r.send(b"a LOGIN {5}\r\n")
    ok(r.line().startswith(b"+"), "continuation for a synchronizing literal")
    r.send(b"carol {%d+}\r\n%s\r\n" % (len(pw), pw))
    ok(r.until(b"a")[-1].startswith(b"a OK"), "LOGIN with literals")
    r.send(b"b LOGOUT\r\n")
    r.until(b"b")
    r.close()


@test()
def bad_syntax_and_limits(env):
    r = Raw(env.port)
    r.line()
    r.send(b"a1 FROBNICATE\r\n")
    ok(r.until(b"a1")[-1].startswith(b"a1 BAD"), "unknown command BAD")
    r.send(b"a2 SELECT INBOX\r\n")
    ok(r.until(b"a2")[-1].startswith(b"a2 BAD"), "SELECT before login BAD")
    r.send(b"a3 LOGIN \"unterminated\r\n")
    ok(r.until(b"a3")[-1].startswith(b"a3 BAD"), "unterminated quote BAD")
    r.send(b"a4 NOOP\r\n")
    ok(r.until(b"a4")[-1].startswith(b"a4 OK"), "parser recovered")
    r.send(b"a5 NOOP " + b"x" * (70 * 1024) + b"\r\n")
    last = r.until(b"a5")[-1]
    ok(last.startswith(b"a5 BAD"), f"over-long line BAD: {last[:60]!r}")
    r.send(b"a6 NOOP\r\n")
    ok(r.until(b"a6")[-1].startswith(b"a6 OK"), "rest of long line skipped")
    r.send(b"a7 LOGIN {999999}\r\n")
    ok(r.until(b"a7")[-1].startswith(b"a7 BAD"), "literal over limit refused")
    r.send(b"a8 NOOP\r\n")
    ok(r.until(b"a8")[-1].startswith(b"a8 OK"), "after refused literal")
    r.close()


@test()
def too_many_bad_commands(env):
    r = Raw(env.port)
    r.line()
    for i in range(30):
        try:
            r.send(b"x%d BOGUS\r\n" % i)
        except (BrokenPipeError, ConnectionResetError):
            break
    seen_bye = False
    try:
        while True:
            if r.line().startswith(b"* BYE"):
                seen_bye = True
                break
    except (EOFError, ConnectionResetError):
        pass
    ok(seen_bye, "BYE after too many bad commands")
    ok(r.closed(), "connection closed")


@test(shared=False)
def preauth_idle_timeout(build):
    env = PosternEnv(build, "login_timeout = 1\n").start()
    try:
        r = Raw(env.port)
        r.line()
        t0 = time.time()
        line = r.line()
        ok(line.startswith(b"* BYE"), f"BYE on idle: {line!r}")
        ok(r.closed(), "closed after idle BYE")
        ok(0.5 < time.time() - t0 < 5, "timeout about 1 s")
    finally:
        env.cleanup()


@test()
def failed_login_penalty_grows(env):
    c = imaplib.IMAP4("127.0.0.1", env.port)
    times = []
    for _ in range(4):
        t0 = time.time()
        try:
            c.login("bob", "wrong")
        except imaplib.IMAP4.error:
            pass
        times.append(time.time() - t0)
    # base 20 ms doubling, capped at 200 ms: 20, 40, 80, 160
    ok(times[3] > times[0] and times[3] >= 0.14,
       f"penalty grows: {[round(t, 3) for t in times]}")
    ok(env.wait_log("answer delayed 160 ms"), "penalty logged")
    # A success resets it for the address.
    c.login("bob", USERS["bob"][2])
    c.logout()


# ------------------------------------------------- processes and privileges

@test()
def sessions_share_one_worker_per_user(env):
    a1 = login(env, "alice")
    a2 = login(env, "alice")
    b1 = login(env, "bob")
    try:
        who = {w["user"]: w for w in env.who()}
        eq(who["alice"]["sessions"], 2, "alice sessions")
        eq(who["bob"]["sessions"], 1, "bob sessions")
        ok(who["alice"]["worker_pid"] != who["bob"]["worker_pid"],
           "one worker per user")
        eq(len(worker_pids_of(env, "alice")), 1, "a single alice worker")
        for user in ("alice", "bob"):
            pid = who[user]["worker_pid"]
            st = proc_status(pid)
            uid, gid, _, extra = USERS[user]
            eq(st["Uid"].split(), [str(uid)] * 4, f"{user} worker Uid")
            eq(st["Gid"].split(), [str(gid)] * 4, f"{user} worker Gid")
            groups = sorted(int(g) for g in st["Groups"].split())
            eq(groups, sorted([gid] + extra), f"{user} worker Groups")
            eq(st["Seccomp"], "2", f"{user} worker seccomp filter mode")
            eq(st["NoNewPrivs"], "1", f"{user} worker no_new_privs")
            root = os.readlink(f"/proc/{pid}/root")
            eq(root, os.path.join(env.dir, "mail", user),
               f"{user} worker chroot")
            ok(len(who[user]["remote"]) == who[user]["sessions"],
               "who lists each remote address")
        # The store directory belongs to the user, private.
        st = os.stat(os.path.join(env.dir, "mail", "alice"))
        eq((st.st_uid, st.st_mode & 0o777), (20001, 0o700), "store dir")
    finally:
        for c in (a1, a2, b1):
            c.logout()


@test()
def login_processes_sandboxed(env):
    pids = env.pids("login")
    eq(len(pids), 2, "login_processes = 2")
    for pid in pids:
        st = proc_status(pid)
        eq(st["Uid"].split(), [str(LOGIN_USER[1])] * 4, "login Uid")
        eq(st["Gid"].split(), [str(LOGIN_USER[2])] * 4, "login Gid")
        eq(st["Groups"], "", "login has no supplementary groups")
        eq(st["Seccomp"], "2", "login seccomp")
        eq(os.readlink(f"/proc/{pid}/root"),
           os.path.join(env.dir, "run", "empty"), "login chroot")
        ok(os.listdir(os.path.join(env.dir, "run", "empty")) == [],
           "chroot is empty")
        # No file descriptor to anything but sockets, pipes and epoll.
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            ok(target.startswith(("socket:", "pipe:", "anon_inode:"))
               or target == "/dev/null",
               f"login fd {fd} -> {target}")


def inject_syscall(pid, nr, args=(0, 0, 0)):
    """Make a stopped-and-resumed process execute syscall nr by ptrace:
    attach, point the instruction pointer back at the syscall instruction
    it is blocked in, load the registers, detach. x86_64 only."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                            ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long

    class Regs(ctypes.Structure):
        _fields_ = [(n, ctypes.c_ulonglong) for n in (
            "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi "
            "orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs"
        ).split()]

    PTRACE_GETREGS, PTRACE_SETREGS = 12, 13
    PTRACE_ATTACH, PTRACE_DETACH = 16, 17
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        raise Skip("ptrace attach failed: errno %d" % ctypes.get_errno())
    os.waitpid(pid, 0x40000000)  # __WALL
    regs = Regs()
    libc.ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(regs))
    # Stopped inside a syscall (epoll_wait): rip is just past the 2-byte
    # "syscall" instruction.
    regs.rip -= 2
    regs.rax = nr
    regs.rdi, regs.rsi, regs.rdx = args
    libc.ptrace(PTRACE_SETREGS, pid, None, ctypes.byref(regs))
    libc.ptrace(PTRACE_DETACH, pid, None, None)


@test(shared=False)
def forbidden_syscall_kills_worker_master_survives(build):
    if platform.machine() != "x86_64":
        raise Skip("syscall injection is written for x86_64")
    env = PosternEnv(build).start()
    try:
        c = login(env, "alice")
        pid = worker_pids_of(env, "alice")[0]
        inject_syscall(pid, 41, (socket.AF_INET, socket.SOCK_STREAM, 0))
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 5,
                 "the worker to die")
        ok(env.wait_log(f"worker[{pid}] killed by SIGSYS: sandbox violation, "
                        "syscall socket (41)"),
           "master logs the syscall name")
        c2 = login(env, "alice")
        eq(c2.noop()[0], "OK", "next login served")
        new = worker_pids_of(env, "alice")
        ok(new and new[0] != pid, "a new worker")
        c2.logout()
        # The same for a login process: it is replaced.
        lpid = env.pids("login")[0]
        inject_syscall(lpid, 83, (0, 0o700, 0))  # mkdir
        ok(env.wait_log(f"login[{lpid}] killed by SIGSYS: sandbox violation, "
                        "syscall mkdir (83)"), "login violation logged")
        wait_for(lambda: len(env.pids("login")) == 2, 5, "login respawn")
        login(env, "bob").logout()
    finally:
        env.cleanup()


@test()
def sandbox_probe_kills_each_role(env):
    probe = os.path.join(env.build, "sandbox-probe")
    for role in ("login", "worker", "lmtp"):
        for call in ("execve", "socket" if role == "worker" else "open"):
            r = subprocess.run([probe, role, call], capture_output=True)
            eq(r.returncode, -signal.SIGSYS, f"{role} {call}")
        r = subprocess.run([probe, role, "getpid"], capture_output=True)
        eq(r.returncode, 0, f"{role} getpid allowed")


@test(shared=False)
def killed_children_are_respawned(build):
    env = PosternEnv(build).start()
    try:
        for role in ("login", "auth"):
            for pid in env.pids(role):
                os.kill(pid, signal.SIGKILL)
                ok(env.wait_log(f"{role}[{pid}] killed by signal 9"),
                   f"{role} death logged")
            wait_for(lambda: len(env.pids(role)) == (2 if role == "login"
                                                     else 1),
                     5, f"{role} respawn")
            c = wait_for(lambda: try_login(env), 5, "login after respawn")
            c.logout()
        # A worker crash ends only that user's sessions.
        a = login(env, "alice")
        b = login(env, "bob")
        os.kill(env.who()[0]["worker_pid"] if env.who()[0]["user"] == "alice"
                else env.who()[1]["worker_pid"], signal.SIGKILL)
        eq(b.noop()[0], "OK", "bob unaffected by alice's worker crash")
        try:
            a.noop()
            raise AssertionError("alice's session survived its worker")
        except (imaplib.IMAP4.abort, OSError, EOFError):
            pass
        b.logout()
    finally:
        env.cleanup()


def try_login(env):
    try:
        return login(env, "alice")
    except Exception:
        return None


@test()
def worker_exits_after_linger(env):
    c = login(env, "carol")
    pid = worker_pids_of(env, "carol")[0]
    c.logout()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10,
             "worker exit after worker_linger")
    c = login(env, "carol")
    ok(worker_pids_of(env, "carol")[0] != pid, "new worker on next login")
    c.logout()


# ------------------------------------------------------------ posternctl

@test()
def posternctl_status_who_kick(env):
    out = env.ctl("status").stdout
    for role in ("master", "auth", "login"):
        ok(role in out, f"status lists {role}")
    a1 = login(env, "alice")
    a2 = Raw(env.port)
    a2.line()
    a2.send(b"a LOGIN alice %s\r\n" % USERS["alice"][2].encode())
    a2.until(b"a")
    b = login(env, "bob")
    out = env.ctl("who").stdout
    ok("alice" in out and "bob" in out, "who lists users")
    r = env.ctl("kick", "alice")
    ok("kicked 2 sessions of alice" in r.stdout, r.stdout)
    eq(a2.line(), b"* BYE Disconnected by the administrator", "BYE reason")
    ok(a2.closed(), "kicked connection closed")
    try:
        a1.noop()
        raise AssertionError("kicked session still answers")
    except (imaplib.IMAP4.abort, OSError, EOFError):
        pass
    eq(b.noop()[0], "OK", "other users untouched")
    b.logout()
    wait_for(lambda: "alice" not in {w["user"] for w in env.who()
                                     if w["sessions"]}, 5, "who updated")
    r = env.ctl("kick", check=False)
    ok(r.returncode != 0, "kick without a user fails")
    r = env.ctl("frobnicate", check=False)
    ok(r.returncode != 0 and "unknown command" in r.stderr, "unknown command")


@test()
def posternctl_reload_and_errors(env):
    r = env.ctl("reload")
    ok("reloaded" in r.stdout, r.stdout)
    os.kill(env.proc.pid, signal.SIGHUP)
    ok(env.wait_log("configuration reloaded"), "SIGHUP reloads")
    login(env, "alice").logout()


@test(shared=False)
def posternctl_without_daemon_and_unprivileged(build):
    env = PosternEnv(build)
    try:
        r = env.ctl("status", check=False)
        ok(r.returncode == 1 and "not running" in r.stderr, r.stderr)
        env.start()
        # An unprivileged caller cannot connect (socket is 0600 root).
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             unprivileged_copy(env, build, "posternctl"), "-c", env.config,
             "status"],
            capture_output=True, text=True)
        ok(r.returncode == 1 and ("permission denied" in r.stderr
                                  or "Permission denied" in r.stderr),
           f"unprivileged: {r.stderr}")
    finally:
        env.cleanup()


@test(shared=False)
def config_errors_refuse_to_start(build):
    env = PosternEnv(build, "bogus_key = 1\n")
    try:
        r = subprocess.run([f"{build}/posternd", "-t", "-c", env.config],
                           capture_output=True, text=True)
        eq(r.returncode, 1, "-t exit code")
        ok("postern.conf:11: bogus_key: unknown key" in r.stderr, r.stderr)
        r = subprocess.run([f"{build}/posternd", "-f", "-c", env.config],
                           capture_output=True, text=True, timeout=10)
        eq(r.returncode, 1, "refuses to start")
    finally:
        env.cleanup()
    env = PosternEnv(build)
    try:
        r = subprocess.run([f"{build}/posternd", "-t", "-c", env.config],
                           capture_output=True, text=True)
        eq(r.returncode, 0, "-t on a good config")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                            "--clear-groups",
                            unprivileged_copy(env, build, "posternd"), "-f",
                            "-c", env.config], capture_output=True,
                           text=True, timeout=10)
        ok(r.returncode == 1 and "must be started as root" in r.stderr,
           f"non-root refused: {r.stderr}")
    finally:
        env.cleanup()


@test(shared=False)
def unprivileged_development_mode(build):
    """--unprivileged-dev: the whole server as one ordinary user, no
    chroot, seccomp still on."""
    env = PosternEnv(build, "first_valid_uid = 1\n")
    try:
        posternd = unprivileged_copy(env, build, "posternd")
        os.system(f"chown -R 65534:65534 {env.dir}")
        env.log = open(env.log_path, "ab")
        env.proc = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             posternd, "-f", "--unprivileged-dev", "-c",
             env.config], env=env.environ(), stdout=env.log,
            stderr=subprocess.STDOUT)
        env.wait_ready()
        ok(env.wait_log("unprivileged development mode"), "warning logged")
        c = login(env, "alice")
        c.select()
        eq(c.append("INBOX", None, None, b"Subject: dev\r\n\r\nbody\r\n")[0],
           "OK", "APPEND")
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        eq(data[0][1], b"Subject: dev\r\n\r\nbody\r\n", "FETCH")
        c.logout()
        for p in env.status():
            if p["role"] != "master":
                st = proc_status(p["pid"])
                eq(st["Uid"].split()[0], "65534", f"{p['role']} uid")
                if p["role"] in ("login", "worker"):
                    eq(st["Seccomp"], "2", f"{p['role']} seccomp")
    finally:
        env.cleanup()


@test(shared=False)
def sigterm_leaves_no_process(build):
    env = PosternEnv(build).start()
    try:
        a = login(env, "alice")
        login(env, "bob")
        pids = [p["pid"] for p in env.status()]
        ok(len(pids) >= 5, f"processes: {pids}")
        t0 = time.time()
        env.proc.send_signal(signal.SIGTERM)
        env.proc.wait(10)
        ok(time.time() - t0 < 5, "stopped within 5 s")
        for pid in pids:
            ok(not os.path.exists(f"/proc/{pid}") or
               proc_status(pid).get("State", "").startswith("Z"),
               f"pid {pid} gone")
        ok(not os.path.exists(os.path.join(env.dir, "run", "posternd.pid")),
           "pid file removed")
        try:
            line = a.readline()
            ok(line == b"" or line.startswith(b"* BYE"), f"BYE: {line!r}")
        except OSError:
            pass
    finally:
        env.cleanup()


# ---------------------------------------------------------------- TLS
# Issue 5: the tests live in test_tls.py (each server there has its own
# certificate); they run after the tests above.
from test_tls import TLS_TESTS  # noqa: E402
TESTS.extend(TLS_TESTS)

# ---------------------------------------------------------------- import
# Issue 3 item 6: posternctl import/export, in test_import.py (each test
# has its own store).
from test_import import IMPORT_TESTS  # noqa: E402
TESTS.extend(IMPORT_TESTS)

# ------------------------------------------------- mailbox changes, sync
# Issue 4: APPEND, STORE, COPY, MOVE, EXPUNGE, IDLE and two sessions of
# one user in step; the tests live in test_mailbox_sync.py.
from test_mailbox_sync import SYNC_TESTS  # noqa: E402
TESTS.extend(SYNC_TESTS)
# Three sessions sharing a mailbox's view while one lags
# (test_shared_view.py).
from test_shared_view import SHARED_VIEW_TESTS  # noqa: E402
TESTS.extend(SHARED_VIEW_TESTS)

# ---------------------------------------------------------------- FETCH
# Issue 4: FETCH and UID FETCH; the tests live in test_fetch.py (their
# own server, holding a 20 MB message).
from test_fetch import FETCH_TESTS  # noqa: E402
TESTS.extend(FETCH_TESTS)

# ---------------------------------------------------------------- SEARCH
# Issue 4: SEARCH and UID SEARCH, ESEARCH, SEARCHRES, CHARSET; the tests
# live in test_search.py (their own server, with a corpus imported before
# the first login).
from test_search import SEARCH_TESTS  # noqa: E402
TESTS.extend(SEARCH_TESTS)

# Issue 4: a real-client round trip with mbsync (test_mbsync.py).
from test_mbsync import MBSYNC_TESTS  # noqa: E402
TESTS.extend(MBSYNC_TESTS)

# ------------------------------------------------------- SORT and THREAD
# Issue 6: SORT, UID SORT, ESORT, SORT=DISPLAY, THREAD (both algorithms),
# posternctl reindex and index-status; the tests live in
# test_sort_thread.py (their own servers).
from test_sort_thread import SORT_THREAD_TESTS  # noqa: E402
TESTS.extend(SORT_THREAD_TESTS)

# Issue 4: APPEND literals streamed to the store, a 60 MB message with the
# worker's memory watched, and the refusals (test_append_stream.py).
from test_append_stream import APPEND_STREAM_TESTS  # noqa: E402
TESTS.extend(APPEND_STREAM_TESTS)

# Issue 5: a 20 MB APPEND and FETCH through the login process's TLS proxy
# (implicit TLS and STARTTLS), byte for byte, its memory watched; in
# test_tls_fetch.py (its own server).
from test_tls_fetch import TLS_FETCH_TESTS  # noqa: E402
TESTS.extend(TLS_FETCH_TESTS)

# Issue 4: SELECT's [UNSEEN n], INTERNALDATE with its zone, RENAME and the
# response codes no other test asserts (test_mailbox_rfc.py).
from test_mailbox_rfc import RFC_TESTS  # noqa: E402
TESTS.extend(RFC_TESTS)

# Issue 4: BINARY of large base64 and quoted-printable parts decoded as
# the output drains (test_binary_stream.py, its own server).
from test_binary_stream import BINARY_STREAM_TESTS  # noqa: E402
TESTS.extend(BINARY_STREAM_TESTS)

# Issue 4: STORE, SORT and THREAD over 20k messages while another session
# of the user stays responsive (test_big_mailbox.py, its own server).
from test_big_mailbox import BIG_MAILBOX_TESTS  # noqa: E402
TESTS.extend(BIG_MAILBOX_TESTS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-k", default="", help="run tests whose name contains")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    selected = [(fn, sh) for fn, sh in TESTS if args.k in fn.__name__]
    passed = failed = skipped = 0
    if os.geteuid() != 0:
        print("e2e: skipped: the tests need root (the server runs workers "
              "under each user's uid)")
        print(f"0 passed, 0 failed, {len(selected)} skipped")
        return 0
    env = PosternEnv(build).start()
    try:
        for fn, shared in selected:
            t0 = time.time()
            try:
                fn(env if shared else build)
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
            if env.proc.poll() is not None:
                print("the shared server died; log follows")
                print(env.read_log()[-4000:])
                env = PosternEnv(build).start()
    finally:
        if failed:
            print("---- shared server log (tail) ----")
            print(env.read_log()[-6000:])
        env.cleanup()
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
