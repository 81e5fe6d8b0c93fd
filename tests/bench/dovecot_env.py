"""A throwaway Dovecot for side-by-side figures: its own configuration,
base_dir, state_dir and log in a temporary directory, loopback ports, a
passwd-file with the benchmark users under fake uids, maildirs in the
temporary directory. Nothing of the system's Dovecot is read or changed
(no /etc/dovecot include, no system service), and stop() ends only the
master this object started.

Login processes run in Dovecot's "high-performance" mode (service_count
= 0, two processes, like Postern's two login processes) so TLS sessions
share login processes as they do in Postern; each IMAP session still gets
its own imap process, which is how Dovecot is normally run."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from postern_env import free_port


def dovecot_binary():
    for p in (shutil.which("dovecot"), "/usr/sbin/dovecot"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def dovecot_version():
    b = dovecot_binary()
    if b is None:
        return None
    r = subprocess.run([b, "--version"], capture_output=True, text=True)
    return (r.stdout.split() or ["?"])[0]


DOVECOT_VERSION = dovecot_version()


class DovecotEnv:
    def __init__(self, users, ssl_cert=None, ssl_key=None):
        """users: name -> (uid, gid, password). With ssl_cert, ssl = yes
        and an implicit-TLS listener on tls_port; without, ssl = no."""
        self.binary = dovecot_binary()
        if self.binary is None:
            raise RuntimeError("dovecot is not installed")
        self.dir = tempfile.mkdtemp(prefix="postern-bench-dovecot-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.tls_port = free_port() if ssl_cert else None
        self.users = users
        self.proc = None
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        d = self.dir
        for sub in ("run", "state", "mail"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "mail"), 0o755)
        with open(os.path.join(d, "users"), "w") as f:
            for name, (uid, gid, pw) in users.items():
                f.write(f"{name}:{{PLAIN}}{pw}:{uid}:{gid}::{d}/mail/{name}"
                        "::\n")
        os.chmod(os.path.join(d, "users"), 0o644)
        for name, (uid, gid, _) in users.items():
            os.makedirs(self.maildir(name))
            os.chown(self.maildir(name), uid, gid)
        ssl_lines = "ssl = no\n"
        imaps = ""
        if ssl_cert:
            ssl_lines = (f"ssl = yes\nssl_cert = <{ssl_cert}\n"
                         f"ssl_key = <{ssl_key}\n")
            imaps = (f"  inet_listener imaps {{\n    address = 127.0.0.1\n"
                     f"    port = {self.tls_port}\n    ssl = yes\n  }}\n")
        with open(self.conf, "w") as f:
            f.write(f"""# written by tests/bench/dovecot_env.py
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = postern-bench-{os.getpid()}
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
disable_plaintext_auth = no
auth_mechanisms = plain login
{ssl_lines}first_valid_uid = 500
mail_location = maildir:{d}/mail/%u
default_process_limit = 1000
default_client_limit = 4000
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}  service_count = 0
  process_min_avail = 2
  client_limit = 1000
}}
service imap {{
  process_limit = 1000
}}
""")

    def maildir(self, user):
        return os.path.join(self.dir, "mail", user)

    def load_maildir(self, user, src):
        """The user's INBOX becomes a copy of the maildir src (hard links
        where the file system allows; Dovecot only reads the files)."""
        dst = self.maildir(user)
        os.rmdir(dst)
        r = subprocess.run(["cp", "-al", src, dst], capture_output=True)
        if r.returncode != 0:
            shutil.rmtree(dst, ignore_errors=True)
            subprocess.run(["cp", "-a", src, dst], check=True)
        uid, gid, _ = self.users[user]
        subprocess.run(["chown", "-R", f"{uid}:{gid}", dst], check=True)

    def start(self, timeout=20):
        self.log = open(os.path.join(self.dir, "stdout.log"), "ab")
        # -F: the master stays in the foreground as our child, so we
        # know its pid and can end exactly it
        self.proc = subprocess.Popen([self.binary, "-F", "-c", self.conf],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: " + self.read_log())
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 0.5)
                greeting = s.recv(200)
                s.close()
                if greeting.startswith(b"* OK"):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("dovecot did not become ready: " + self.read_log())

    def read_log(self):
        out = ""
        for name in ("dovecot.log", "stdout.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    out += f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return out

    def pids(self, comm=None):
        from benchlib import children
        if self.proc is None:
            return []
        return children(self.proc.pid, comm)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        subprocess.run([self.binary, "-c", self.conf, "stop"],
                       capture_output=True, timeout=20)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
