"""End-to-end tests of TLS (issue 5): implicit TLS and STARTTLS in the
login process, the plaintext proxy to the worker, plaintext_auth, and the
certificate checks at start-up. Each server gets its own self-signed
certificate made with certtool. run.py appends TLS_TESTS to its list.

The non-loopback side of plaintext_auth = loopback is tested with a client
in a network namespace the test creates, joined to the host by a veth pair
(ClientNetns): the server sees a 10.251.x.2 peer. plaintext_auth = no is
tested from 127.0.0.1."""

import atexit
import ctypes
import imaplib
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import traceback

from postern_env import PosternEnv, USERS, free_port
from checks import Skip, eq, ok  # noqa: F401,E402

TLS_TESTS = []


def tls_test(shared=True):
    """shared: gets the shared TLS server (TlsEnv); else the build dir."""
    def deco(fn):
        if shared:
            def run(build, fn=fn):
                fn(shared_env(build))
            run.__name__ = fn.__name__
            TLS_TESTS.append((run, False))
        else:
            TLS_TESTS.append((fn, False))
        return fn
    return deco


def make_cert(directory, name="server", key_type="ecdsa"):
    """A self-signed certificate for 127.0.0.1/localhost; returns paths."""
    key = os.path.join(directory, f"{name}-key.pem")
    cert = os.path.join(directory, f"{name}-cert.pem")
    tmpl = os.path.join(directory, f"{name}.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "localhost"\nexpiration_days = 30\ntls_www_server\n'
                'signing_key\nencryption_key\ndns_name = "localhost"\n'
                'ip_address = "127.0.0.1"\n')
    subprocess.run(["certtool", "--generate-privkey", f"--key-type={key_type}",
                    "--outfile", key], check=True, capture_output=True)
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey",
                    key, "--template", tmpl, "--outfile", cert],
                   check=True, capture_output=True)
    return cert, key


class TlsEnv(PosternEnv):
    """A server with a plaintext listener (STARTTLS) and an implicit TLS
    one, and its own certificate."""

    def __init__(self, build, extra_config="", listen_extra=""):
        self.certdir = tempfile.mkdtemp(prefix="postern-tls-")
        self.cert, self.key = make_cert(self.certdir)
        self.tls_port = free_port()
        super().__init__(build, f"listen_tls = 127.0.0.1:{self.tls_port}\n"
                         f"tls_cert = {self.cert}\ntls_key = {self.key}\n"
                         + listen_extra + extra_config)

    def cleanup(self):
        super().cleanup()
        subprocess.run(["rm", "-rf", self.certdir])


_shared = None


def shared_env(build):
    global _shared
    if _shared is None or _shared.proc.poll() is not None:
        _shared = TlsEnv(build).start()
        atexit.register(_shared.cleanup)
    return _shared


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def imaps(env):
    return imaplib.IMAP4_SSL("127.0.0.1", env.tls_port,
                             ssl_context=client_ctx())


class TlsRaw:
    """Line-level IMAP over a socket that may be upgraded to TLS."""

    def __init__(self, port, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""

    def starttls(self):
        self.s = client_ctx().wrap_socket(self.s)

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed; buffered: %r" % self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def until(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    def close(self):
        self.s.close()


def gnutls_cli(args, commands, final_tag, timeout=20):
    """Runs gnutls-cli, feeds it IMAP commands and keeps its stdin open
    until the response tagged final_tag has arrived (gnutls-cli closes the
    connection at the end of its input). Returns (exit code, stdout)."""
    p = subprocess.Popen(["gnutls-cli", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    deadline = time.time() + timeout
    # One line per read: gnutls-cli --crlf converts only the newline
    # that ends what it read at once.
    time.sleep(0.3)
    for line in commands.splitlines(keepends=True):
        p.stdin.write(line)
        p.stdin.flush()
        time.sleep(0.1)
    while time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            if (b"\n" + final_tag + b" ") in out:
                break
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    out += p.stdout.read()
    p.stdout.close()
    return p.returncode, out.decode("utf-8", "replace")


class ClientNetns:
    """A network namespace joined to this one by a veth pair, so a test
    client has a real non-loopback address (10.251.N.2) and talks to the
    server on 10.251.N.1. Nothing leaves the machine."""

    def __init__(self):
        n = os.getpid() % 250
        self.name = f"postern-e2e-{os.getpid()}"
        self.host_if = f"pe{os.getpid() % 100000}a"
        self.server_ip = f"10.251.{n}.1"
        self.client_ip = f"10.251.{n}.2"
        cmds = [
            ["ip", "netns", "add", self.name],
            ["ip", "link", "add", self.host_if, "type", "veth", "peer",
             "name", "eth-client", "netns", self.name],
            ["ip", "addr", "add", f"{self.server_ip}/30", "dev", self.host_if],
            ["ip", "link", "set", self.host_if, "up"],
            ["ip", "-n", self.name, "addr", "add", f"{self.client_ip}/30",
             "dev", "eth-client"],
            ["ip", "-n", self.name, "link", "set", "eth-client", "up"],
            ["ip", "-n", self.name, "link", "set", "lo", "up"],
        ]
        for c in cmds:
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode != 0:
                self.close()
                raise Skip(f"cannot create a network namespace: {' '.join(c)}: "
                           f"{r.stderr.strip()}")

    def run(self, fn, *args):
        """Runs fn(*args) in a child process inside the namespace;
        returns its exit status (0 when fn returned normally)."""
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
                if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
                    raise OSError(ctypes.get_errno(), "setns")
                fn(*args)
                code = 0
            except BaseException:
                traceback.print_exc()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def close(self):
        subprocess.run(["ip", "link", "del", self.host_if],
                       capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


# ---------------------------------------------------------------- clients

@tls_test()
def tls_imaplib_implicit_and_starttls(env):
    c = imaps(env)
    ok(c.welcome.startswith(b"* OK [CAPABILITY "), "greeting over TLS")
    ok("STARTTLS" not in c.capabilities, "no STARTTLS inside TLS")
    ok("AUTH=PLAIN" in c.capabilities, "AUTH=PLAIN over TLS")
    eq(c.login("alice", USERS["alice"][2])[0], "OK", "IMAP4_SSL login")
    eq(c.noop()[0], "OK", "NOOP through the proxy")
    imaplib.Commands["ID"] = ("NONAUTH", "AUTH", "SELECTED")
    eq(c.xatom("ID", "NIL")[0], "OK", "ID through the proxy")
    who = env.who()
    conns = [x for w in who if w["user"] == "alice" for x in w["connections"]]
    tls = [x["tls"] for x in conns if x["tls"]]
    ok(tls and tls[0].startswith("TLS1.3/"), f"who shows TLS: {conns}")
    text = env.ctl("who").stdout
    ok("/TLS1.3/" in text, f"who text shows TLS: {text}")
    ok(env.wait_log("tls=TLS1.3/"), "master logs the TLS version/cipher")
    c.logout()

    c = imaplib.IMAP4("127.0.0.1", env.port)
    ok("STARTTLS" in c.capabilities, "STARTTLS advertised before TLS")
    c.starttls(ssl_context=client_ctx())
    c.capability()
    ok("STARTTLS" not in c.capabilities, "STARTTLS gone after TLS")
    eq(c.login("bob", USERS["bob"][2])[0], "OK", "login after STARTTLS")
    eq(c.noop()[0], "OK", "NOOP after STARTTLS")
    who = {w["user"]: w for w in env.who()}
    ok(any(x["tls"] for x in who["bob"]["connections"]), "bob over TLS")
    c.logout()


@tls_test()
def tls_gnutls_cli_implicit_and_starttls(env):
    pw = USERS["alice"][2]
    # --crlf turns each \n into CRLF.
    cmds = (f"a LOGIN alice {pw}\nb NOOP\nc LOGOUT\n").encode()
    rc, out = gnutls_cli(["--x509cafile", env.cert, "-p",
                          str(env.tls_port), "127.0.0.1", "--crlf"],
                         cmds, b"c")
    ok("a OK" in out and "b OK NOOP" in out and "c OK" in out,
       f"gnutls-cli implicit TLS: {out[-2000:]}")
    rc, out = gnutls_cli(["--x509cafile", env.cert, "--starttls-proto=imap",
                          "-p", str(env.port), "127.0.0.1", "--crlf"],
                         cmds, b"c")
    ok("a OK" in out and "b OK NOOP" in out and "c OK" in out,
       f"gnutls-cli STARTTLS: {out[-2000:]}")


@tls_test()
def tls_curl_imaps(env):
    pw = USERS["carol"][2]
    r = subprocess.run(["curl", "-sS", "-k", "--user", f"carol:{pw}",
                        f"imaps://127.0.0.1:{env.tls_port}", "-X", "NOOP"],
                       capture_output=True, text=True, timeout=20)
    eq(r.returncode, 0, f"curl imaps: {r.stderr}")
    r = subprocess.run(["curl", "-sS", "-k", "--ssl-reqd", "--user",
                        f"carol:{pw}", f"imap://127.0.0.1:{env.port}",
                        "-X", "NOOP"],
                       capture_output=True, text=True, timeout=20)
    eq(r.returncode, 0, f"curl imap + STARTTLS: {r.stderr}")
    r = subprocess.run(["curl", "-sS", "-k", "--user", "carol:wrong",
                        f"imaps://127.0.0.1:{env.tls_port}", "-X", "NOOP"],
                       capture_output=True, text=True, timeout=20)
    ok(r.returncode != 0, "curl imaps with a wrong password fails")


# ---------------------------------------------------------------- STARTTLS

@tls_test()
def starttls_injected_command_not_executed(env):
    """CVE-2011-0411: a command sent in plaintext behind STARTTLS, before
    the handshake, must not run inside the TLS session."""
    r = TlsRaw(env.port)
    r.line()
    pw = USERS["alice"][2]
    # One write: both lines reach the server together.
    r.send(b"a STARTTLS\r\nb LOGIN alice " + pw.encode() + b"\r\n")
    eq(r.line(), b"a OK Begin TLS negotiation now", "STARTTLS OK")
    eq(r.buf, b"", "nothing else answered in plaintext")
    r.starttls()
    r.send(b"c CAPABILITY\r\n")
    lines = r.until(b"c")
    ok(all(not l.startswith(b"b ") for l in lines),
       f"injected LOGIN answered: {lines}")
    ok(b"AUTH=PLAIN" in lines[0] and b"STARTTLS" not in lines[0],
       f"still before login, TLS on: {lines}")
    r.send(b"d NOOP\r\n")
    eq(r.line(), b"d OK NOOP completed", "first answer is to d")
    ok(env.wait_log("bytes pipelined after STARTTLS"),
       "discarded bytes are logged")
    r.send(b"e STARTTLS\r\n")
    ok(r.line().startswith(b"e BAD"), "second STARTTLS refused")
    r.close()


# ---------------------------------------------------------------- plaintext_auth

def plaintext_refused(port, host="127.0.0.1"):
    s = socket.create_connection((host, port), 5)
    f = s.makefile("rwb")
    greeting = f.readline()
    ok(b"LOGINDISABLED" in greeting and b"AUTH=" not in greeting
       and b"STARTTLS" in greeting, f"greeting: {greeting!r}")
    pw = USERS["alice"][2].encode()
    f.write(b"a LOGIN alice " + pw + b"\r\nb AUTHENTICATE PLAIN AGFsaWNlAHg=\r\n"
            b"c AUTHENTICATE PLAIN\r\nd CAPABILITY\r\n")
    f.flush()
    for tag in (b"a", b"b", b"c"):
        line = f.readline()
        ok(line.startswith(tag + b" NO [PRIVACYREQUIRED]"), f"{tag}: {line!r}")
    caps = f.readline()
    ok(b"LOGINDISABLED" in caps and b"AUTH=PLAIN" not in caps, f"{caps!r}")
    f.readline()
    s.close()


@tls_test(shared=False)
def plaintext_auth_no_and_loopback(build):
    env = TlsEnv(build, "plaintext_auth = no\n").start()
    try:
        plaintext_refused(env.port)
        # After STARTTLS the same client may log in.
        c = imaplib.IMAP4("127.0.0.1", env.port)
        c.starttls(ssl_context=client_ctx())
        c.capability()
        ok("AUTH=PLAIN" in c.capabilities and
           "LOGINDISABLED" not in c.capabilities, f"{c.capabilities}")
        eq(c.login("alice", USERS["alice"][2])[0], "OK", "login over TLS")
        c.logout()
        c = imaps(env)
        eq(c.login("alice", USERS["alice"][2])[0], "OK", "login over TLS")
        c.logout()
    finally:
        env.cleanup()
    # The default, loopback: allowed from 127.0.0.1, refused from a client
    # in a network namespace of its own (a non-loopback peer).
    ns = ClientNetns()
    try:
        port2 = free_port()
        env = TlsEnv(build, "", f"listen = {ns.server_ip}:{port2}\n").start()
        try:
            c = imaplib.IMAP4("127.0.0.1", env.port)
            ok("AUTH=PLAIN" in c.capabilities, "loopback: AUTH=PLAIN")
            eq(c.login("alice", USERS["alice"][2])[0], "OK", "loopback login")
            c.logout()
            eq(ns.run(plaintext_refused, port2, ns.server_ip), 0,
               "non-loopback client refused plaintext auth")
        finally:
            env.cleanup()
    finally:
        ns.close()


# ---------------------------------------------------------------- failures

@tls_test()
def tls_old_versions_refused(env):
    for vers in ("VERS-TLS1.1", "VERS-TLS1.0"):
        rc, out = gnutls_cli(["--insecure", "--priority",
                              f"NORMAL:-VERS-ALL:+{vers}", "-p",
                              str(env.tls_port), "127.0.0.1"],
                             b"", b"never", timeout=10)
        ok(rc != 0 and ("Error in protocol version" in out or
                        "Handshake has failed" in out),
           f"{vers} refused: rc={rc} {out[-600:]}")
    ok(env.wait_log("TLS handshake with 127.0.0.1"), "logged")
    c = imaps(env)
    eq(c.login("alice", USERS["alice"][2])[0], "OK", "server still serves")
    c.logout()


@tls_test()
def tls_plaintext_client_and_alert(env):
    s = socket.create_connection(("127.0.0.1", env.tls_port), 5)
    s.sendall(b"a LOGIN alice secret-alice\r\n")
    s.settimeout(5)
    try:
        data = s.recv(1000)
    except ConnectionResetError:
        data = b""
    ok(not data.startswith(b"* ") and b"OK" not in data,
       f"plaintext on the TLS port gets no IMAP: {data!r}")
    try:
        ok(s.recv(1000) == b"", "closed")
    except ConnectionResetError:
        pass
    s.close()
    ok(env.wait_log("TLS handshake with 127.0.0.1"), "a log line")
    # No common cipher: the server answers with an alert and logs it.
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-SHA")
    s = socket.create_connection(("127.0.0.1", env.tls_port), 5)
    try:
        ctx.wrap_socket(s)
        raise AssertionError("handshake without a common cipher succeeded")
    except ssl.SSLError as e:
        ok("HANDSHAKE_FAILURE" in str(e) or "alert" in str(e).lower(),
           f"alert: {e}")
    c = imaps(env)
    eq(c.noop()[0], "OK", "others unaffected")
    c.logout()


@tls_test(shared=False)
def tls_handshake_timeout(build):
    env = TlsEnv(build, "login_timeout = 1\n").start()
    try:
        s = socket.create_connection(("127.0.0.1", env.tls_port), 5)
        t0 = time.time()
        s.settimeout(5)
        eq(s.recv(100), b"", "closed without a byte")
        ok(time.time() - t0 < 4, "within about login_timeout")
        ok(env.wait_log("TLS handshake timeout from 127.0.0.1"), "logged")
        s.close()
    finally:
        env.cleanup()


# ---------------------------------------------------------------- proxy

def pump(sock, data, final, timeout=60):
    """Sends data while reading, over a non-blocking TLS socket, until the
    received bytes end with final. Returns what was received."""
    sock.setblocking(False)
    sent = 0
    got = bytearray()
    deadline = time.time() + timeout
    while not got.endswith(final):
        if time.time() > deadline:
            raise AssertionError(f"timeout: sent {sent}/{len(data)}, "
                                 f"got {len(got)}")
        want_w = [sock] if sent < len(data) else []
        select.select([sock], want_w, [], 1)
        if sent < len(data):
            try:
                sent += sock.send(data[sent:sent + 65536])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        try:
            while True:
                chunk = sock.recv(262144)
                if not chunk:
                    raise AssertionError("connection closed")
                got += chunk
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
    sock.setblocking(True)
    return bytes(got)


@tls_test()
def tls_proxy_large_data_both_directions(env):
    """Megabytes through the proxy both ways, every response in order and
    byte for byte. (A 20 MB FETCH waits for the IMAP commands issue: the
    worker has only CAPABILITY, NOOP, ID and LOGOUT.)"""
    c = imaps(env)
    c.login("alice", USERS["alice"][2])
    sock = c.sock
    big_value = b"v" * 1000
    id_args = b" ".join(b'"k%d" "%s"' % (i, big_value) for i in range(30))
    out = bytearray()
    expect = bytearray()
    for i in range(60000):
        if i % 600 == 0:        # a 30 KB command every 600
            out += b"i%d ID (%s)\r\n" % (i, id_args)
            expect += b'* ID ("name" "Postern")\r\ni%d OK ID completed\r\n' % i
        else:
            out += b"n%d NOOP\r\n" % i
            expect += b"n%d OK NOOP completed\r\n" % i
    out += b"z NOOP\r\n"
    expect += b"z OK NOOP completed\r\n"
    got = pump(sock, bytes(out), b"z OK NOOP completed\r\n")
    eq(len(got), len(expect), "bytes received")
    ok(got == bytes(expect), "responses in order, byte for byte")
    ok(len(out) > 1_500_000 and len(expect) > 1_300_000,
       f"sizes {len(out)} up, {len(expect)} down")
    c.logout()


@tls_test()
def tls_proxy_many_sessions(env):
    conns = [imaps(env) for _ in range(20)]
    for i, c in enumerate(conns):
        user = ("alice", "bob", "carol")[i % 3]
        c.login(user, USERS[user][2])
    for c in conns:
        eq(c.noop()[0], "OK", "NOOP")
    for c in conns:
        c.logout()


# ---------------------------------------------------------------- lifecycle

@tls_test(shared=False)
def tls_login_crash_master_survives(build):
    env = TlsEnv(build).start()
    try:
        c = imaps(env)
        c.login("alice", USERS["alice"][2])
        half = socket.create_connection(("127.0.0.1", env.tls_port), 5)
        half.sendall(b"\x16\x03\x01\x00\xff")   # a ClientHello cut short
        time.sleep(0.2)
        logins = env.pids("login")
        for pid in logins:
            os.kill(pid, signal.SIGKILL)
        try:
            c.noop()
            raise AssertionError("proxied session survived its process")
        except (imaplib.IMAP4.abort, OSError, EOFError):
            pass
        ok(env.wait_log("killed by signal 9"), "death logged")

        def respawned():
            new = env.pids("login")
            return len(new) == len(logins) and not set(new) & set(logins)
        deadline = time.time() + 10
        while not respawned() and time.time() < deadline:
            time.sleep(0.1)
        ok(respawned(), "login processes respawned")
        ok(env.proc.poll() is None, "master alive")
        c = imaps(env)
        eq(c.login("alice", USERS["alice"][2])[0], "OK", "next TLS login")
        c.logout()
        half.close()
    finally:
        env.cleanup()


@tls_test(shared=False)
def tls_reload_keeps_sessions(build):
    env = TlsEnv(build).start()
    try:
        c = imaps(env)
        c.login("alice", USERS["alice"][2])
        old_der = c.sock.getpeercert(binary_form=True)
        cert2, key2 = make_cert(env.certdir, "second", "rsa")
        # A mismatched pair is refused and the running one kept.
        os.rename(env.key, env.key + ".old")
        subprocess.run(["cp", key2, env.key], check=True)
        env.proc.send_signal(signal.SIGHUP)
        ok(env.wait_log("does not match the certificate"), "mismatch logged")
        eq(c.noop()[0], "OK", "session alive")
        c2 = imaps(env)
        eq(c2.sock.getpeercert(binary_form=True), old_der, "old cert kept")
        c2.logout()
        subprocess.run(["cp", cert2, env.cert], check=True)
        env.proc.send_signal(signal.SIGHUP)
        ok(env.wait_log("configuration reloaded"), "reloaded")
        time.sleep(0.3)
        eq(c.noop()[0], "OK", "old session survives the reload")
        c3 = imaps(env)
        ok(c3.sock.getpeercert(binary_form=True) != old_der,
           "new connections get the new certificate")
        eq(c3.login("bob", USERS["bob"][2])[0], "OK", "login with new cert")
        c3.logout()
        eq(c.noop()[0], "OK", "old session still alive")
        c.logout()
    finally:
        env.cleanup()


@tls_test(shared=False)
def tls_only_server(build):
    env = TlsEnv(build, "listen =\n")
    try:
        env.start(wait=False)
        deadline = time.time() + 10
        c = None
        while time.time() < deadline and c is None:
            try:
                c = imaps(env)
            except OSError:
                time.sleep(0.1)
        ok(c is not None, "TLS-only server answers: " + env.read_log()[-800:])
        eq(c.login("alice", USERS["alice"][2])[0], "OK", "login")
        c.logout()
        try:
            socket.create_connection(("127.0.0.1", env.port), 1).close()
            raise AssertionError("a plaintext listener is open")
        except ConnectionRefusedError:
            pass
    finally:
        env.cleanup()


@tls_test(shared=False)
def tls_bad_certificate_configs_refuse_to_start(build):
    d = tempfile.mkdtemp(prefix="postern-badtls-")
    try:
        cert, key = make_cert(d, "a")
        cert_b, key_b = make_cert(d, "b")
        garbage = os.path.join(d, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                    "-----END CERTIFICATE-----\n")
        missing = os.path.join(d, "missing.pem")
        a_dir = os.path.join(d, "adir")
        os.mkdir(a_dir)
        cases = [
            (f"tls_cert = {missing}\ntls_key = {key}\n",
             f"tls_cert {missing}: No such file or directory"),
            (f"tls_cert = {cert}\ntls_key = {missing}\n",
             f"tls_key {missing}: No such file or directory"),
            (f"tls_cert = {a_dir}\ntls_key = {key}\n",
             f"tls_cert {a_dir}: not a regular file"),
            (f"tls_cert = {cert}\ntls_key = {key_b}\n",
             f"tls_key {key_b} does not match the certificate in tls_cert {cert}"),
            (f"tls_cert = {garbage}\ntls_key = {key}\n",
             f"tls_cert {garbage}: no PEM certificate"),
            (f"tls_cert = {cert}\ntls_key = {garbage}\n",
             f"tls_key {garbage}: no unencrypted PEM private key"),
            (f"tls_cert = {cert}\ntls_key = {key}\ntls_priority = NORMAL:+BOGUS\n",
             "tls_priority: invalid near"),
            (f"listen_tls = 127.0.0.1:{free_port()}\n",
             "listen_tls needs tls_cert and tls_key"),
            (f"tls_cert = {cert}\n", "tls_cert is set but tls_key is not"),
        ]
        # Unreadable for root too: a file behind a path that cannot be
        # opened by the process is hard to make; a FIFO-free check is the
        # directory case above, and a permission case when not root.
        for extra, message in cases:
            env = PosternEnv(build, extra)
            try:
                r = subprocess.run([f"{build}/posternd", "-t", "-c",
                                    env.config], capture_output=True,
                                   text=True, timeout=10)
                eq(r.returncode, 1, f"-t exit code for {message}")
                ok(message in r.stderr, f"-t says {message!r}: {r.stderr}")
                r = subprocess.run([f"{build}/posternd", "-f", "-c",
                                    env.config], capture_output=True,
                                   text=True, timeout=10, env=env.environ())
                eq(r.returncode, 1, f"start refused for {message}")
                ok(message in r.stderr, f"start says {message!r}: {r.stderr}")
            finally:
                env.cleanup()
        # Unreadable for the server: as root, permissions do not stop a
        # read, so drop the capability that overrides them.
        os.chmod(key, 0)
        env = PosternEnv(build, f"tls_cert = {cert}\ntls_key = {key}\n")
        try:
            r = subprocess.run(["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                                "--bounding-set=-dac_override,-dac_read_search",
                                f"{build}/posternd", "-t", "-c", env.config],
                               capture_output=True, text=True, timeout=10)
            ok(r.returncode == 1 and
               f"tls_key {key}: Permission denied" in r.stderr,
               f"unreadable key: {r.returncode} {r.stderr}")
        finally:
            env.cleanup()
    finally:
        subprocess.run(["rm", "-rf", d])
