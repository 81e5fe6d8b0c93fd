#!/usr/bin/env python3
"""Login latency through PAM (pam_wrapper) and worker start, and memory of
each process kind, idle and with many sessions. Prints figures; asserts
nothing. Needs root (like the e2e tests)."""

import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
from postern_env import PosternEnv, USERS, proc_status  # noqa: E402


def raw_login(port, user):
    """Connect, LOGIN, return (socket, seconds from connect to tagged OK)."""
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rwb")
    f.readline()
    f.write(b"a LOGIN %s %s\r\n" % (user.encode(), USERS[user][2].encode()))
    f.flush()
    while True:
        line = f.readline()
        if line.startswith(b"a "):
            break
    dt = time.perf_counter() - t0
    if not line.startswith(b"a OK"):
        raise RuntimeError(line)
    return s, f, dt


def kb(pid, field="VmRSS"):
    return int(proc_status(pid)[field].split()[0])


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    if os.geteuid() != 0:
        print("bench-login: skipped: needs root")
        return
    env = PosternEnv(build, "log_level = info\nworker_linger = 1\n").start()
    try:
        cold = []
        for _ in range(5):
            s, f, dt = raw_login(env.port, "bob")
            cold.append(dt)
            f.write(b"z LOGOUT\r\n")
            f.flush()
            s.close()
            # wait for the worker to exit (linger 1 s)
            deadline = time.time() + 5
            while time.time() < deadline and any(
                    p.get("user") == "bob" for p in env.status()
                    if p["role"] == "worker"):
                time.sleep(0.05)
        keep, f0, _ = raw_login(env.port, "alice")
        warm = []
        for _ in range(50):
            s, f, dt = raw_login(env.port, "alice")
            warm.append(dt)
            s.close()
        print(f"login latency, new worker (PAM + fork/exec + sandbox + store "
              f"open): median {statistics.median(cold) * 1000:.1f} ms, "
              f"max {max(cold) * 1000:.1f} ms")
        print(f"login latency, worker running: median "
              f"{statistics.median(warm) * 1000:.2f} ms, p95 "
              f"{sorted(warm)[int(len(warm) * 0.95)] * 1000:.2f} ms")
        procs = env.status()
        worker = [p["pid"] for p in procs if p.get("user") == "alice"][0]
        for role in ("master", "auth", "login"):
            pids = [p["pid"] for p in procs if p["role"] == role]
            print(f"memory {role}: VmRSS {kb(pids[0])} KB "
                  f"(private+shared pages mapped)")
        time.sleep(0.5)
        base = kb(worker)
        print(f"memory worker with 1 idle session: VmRSS {base} KB")
        sessions = [raw_login(env.port, "alice")[:2] for _ in range(100)]
        time.sleep(0.5)
        more = kb(worker)
        print(f"memory worker with 101 idle sessions: VmRSS {more} KB "
              f"({(more - base) / 100:.1f} KB per additional session)")
        for s, _ in sessions:
            s.close()
        keep.close()
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
