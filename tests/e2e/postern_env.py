"""A throwaway Postern installation for end-to-end tests.

Fake users come from nss_wrapper and passwords from pam_wrapper's
pam_matrix, so nothing on the machine (/etc/passwd, /etc/pam.d) is read or
changed. The server runs as root, as in production, with its login
processes under an unprivileged fake user."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PAM_MATRIX = LIBDIR + "/pam_wrapper/pam_matrix.so"

USERS = {
    # name: (uid, gid, password, extra groups)
    "alice": (20001, 20001, "secret-alice", [20050]),
    "bob": (20002, 20002, "secret-bob", []),
    "carol": (20003, 20003, "secret-carol", []),
    "expired": (20004, 20004, "secret-expired", []),
    "lowuid": (500, 500, "secret-lowuid", []),
}
LOGIN_USER = ("postern-login", 20100, 20100)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PosternEnv:
    def __init__(self, build, extra_config="", login_processes=2):
        self.build = os.path.abspath(build)
        self.dir = tempfile.mkdtemp(prefix="postern-e2e-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.dir, "posternd.log")
        self._write_files(extra_config, login_processes)

    def _write_files(self, extra_config, login_processes):
        d = self.dir
        with open(f"{d}/passwd", "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
            for name, (uid, gid, _, _) in USERS.items():
                f.write(f"{name}:x:{uid}:{gid}:{name}:/home/{name}:/bin/sh\n")
            n, uid, gid = LOGIN_USER
            f.write(f"{n}:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")
        with open(f"{d}/group", "w") as f:
            f.write("root:x:0:\n")
            for name, (uid, gid, _, _) in USERS.items():
                f.write(f"{name}:x:{gid}:\n")
            f.write(f"{LOGIN_USER[0]}:x:{LOGIN_USER[2]}:\n")
            f.write("mailgrp:x:20050:alice\n")
        # pam_matrix's account module refuses a user whose service field
        # does not match: that is how "expired" is refused after a right
        # password.
        with open(f"{d}/passdb", "w") as f:
            for name, (_, _, pw, _) in USERS.items():
                svc = "elsewhere" if name == "expired" else "postern-test"
                f.write(f"{name}:{pw}:{svc}\n")
        os.makedirs(f"{d}/pam.d")
        with open(f"{d}/pam.d/postern-test", "w") as f:
            f.write(f"auth required {PAM_MATRIX} passdb={d}/passdb\n")
            f.write(f"account required {PAM_MATRIX} passdb={d}/passdb\n")
        with open(f"{d}/pam.d/other", "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n")
        self.config = f"{d}/postern.conf"
        with open(self.config, "w") as f:
            f.write(f"listen = 127.0.0.1:{self.port}\n")
            f.write(f"mail_root = {d}/mail\n")
            f.write(f"run_dir = {d}/run\n")
            f.write("pam_service = postern-test\n")
            f.write(f"login_user = {LOGIN_USER[0]}\n")
            f.write(f"login_processes = {login_processes}\n")
            f.write("worker_linger = 2\n")
            f.write("log_level = debug\n")
            f.write("auth_penalty_base_ms = 20\n")
            f.write("auth_penalty_max_ms = 200\n")
            f.write(extra_config)

    def environ(self):
        env = dict(os.environ)
        env.update({
            "LD_PRELOAD": "libpam_wrapper.so libnss_wrapper.so",
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": f"{self.dir}/pam.d",
            "NSS_WRAPPER_PASSWD": f"{self.dir}/passwd",
            "NSS_WRAPPER_GROUP": f"{self.dir}/group",
            # The wrappers dlopen libpam/libc with RTLD_DEEPBIND, which
            # AddressSanitizer refuses; without it they work the same here.
            "PAM_WRAPPER_DISABLE_DEEPBIND": "1",
            # pam_wrapper 1.1.4 (Debian 12) reads this name instead.
            "UID_WRAPPER_DISABLE_DEEPBIND": "1",
            "NSS_WRAPPER_DISABLE_DEEPBIND": "1",
        })
        if self.build.rstrip("/").endswith("build-san"):
            # The preloaded wrappers come before the ASan runtime.
            # A small quarantine, so the tests that watch a process's
            # peak memory measure our buffers, not ASan's 256 MB of freed
            # blocks held back to catch use-after-free.
            env["ASAN_OPTIONS"] = "verify_asan_link_order=0:" \
                "quarantine_size_mb=4:thread_local_quarantine_size_kb=64:" + \
                env.get("ASAN_OPTIONS", "")
        return env

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [f"{self.build}/posternd", "-f", "-c", self.config],
            env=self.environ(), stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("posternd exited: " + self.read_log())
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 0.5)
                greeting = s.recv(200)
                s.close()
                if greeting.startswith(b"* OK"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("posternd did not become ready: " + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, needle, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.read_log():
                return True
            time.sleep(0.05)
        return False

    def ctl(self, *args, check=True):
        r = subprocess.run([f"{self.build}/posternctl", "-c", self.config,
                            *args], capture_output=True, text=True,
                           timeout=20)
        if check and r.returncode != 0:
            raise RuntimeError(f"posternctl {args}: {r.returncode} "
                               f"{r.stdout} {r.stderr}")
        return r

    def status(self):
        return json.loads(self.ctl("status", "--json").stdout)["processes"]

    def who(self):
        return json.loads(self.ctl("who", "--json").stdout)

    def pids(self, role):
        return [p["pid"] for p in self.status() if p["role"] == role]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_status(pid):
    """Fields of /proc/PID/status as a dict of strings."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out
