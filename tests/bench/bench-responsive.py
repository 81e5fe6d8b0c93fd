#!/usr/bin/env python3
"""Responsiveness benchmark (issue 4): how long one long command of a
session keeps the user's worker from serving its other sessions, on a
mailbox of N messages (test_big_mailbox.py's generated threads, loaded
with `posternctl import`). For each command, its own duration and the
worst round trip of a NOOP another session sends in a loop meanwhile:

  STORE 1:* +FLAGS (\\Seen) without .SILENT, read at once and with the
    client not reading for 1 s, then -FLAGS back;
  the NOOP of a session that has the mailbox selected and is told of all
    those flag changes at once;
  SORT (ARRIVAL), (DATE), (SUBJECT), (FROM), (REVERSE SIZE);
  THREAD REFERENCES and ORDEREDSUBJECT.

Figures only, nothing asserted. Needs root (like the e2e tests).

  bench-responsive.py [--n N] [BUILD]      (default 100000)"""

import argparse
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "e2e"))
from test_big_mailbox import (BigEnv, measure_sort_thread, session,  # noqa
                              timed_with_probe)
from test_fetch import worker_pid  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("build", nargs="?", default="build")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench-responsive: skipped: needs root")
        return 0
    env = BigEnv(args.build, n=args.n)
    try:
        print(f"{args.n} messages imported in {env.import_s:.1f}s")
        a = session(env, "SELECT")
        watcher = session(env, "SELECT")
        for cmd, delay in (("STORE 1:* +FLAGS (\\Seen)", 0.0),
                           ("STORE 1:* -FLAGS (\\Seen)", 0.0),
                           ("STORE 1:* +FLAGS (\\Seen)", 1.0),
                           ("STORE 1:* -FLAGS.SILENT (\\Seen)", 0.0)):
            u, t, dt, worst, _ = timed_with_probe(
                env, a, cmd, delay, pid=worker_pid(env, "carol"))
            what = f" (client reads after {delay:.0f} s)" if delay else ""
            print(f"    {cmd}{what}: {dt * 1000:.0f} ms, {len(u)} "
                  f"responses; NOOP of another session worst "
                  f"{worst * 1000:.0f} ms")
        # a session with the mailbox selected is told of every change
        # at its next command (worker-sync.c)
        a.cmd("STORE 1:* +FLAGS.SILENT (\\Flagged)")
        u, t, dt, worst, _ = timed_with_probe(env, watcher, "NOOP")
        print(f"    NOOP of a session told of {len(u)} flag changes: "
              f"{dt * 1000:.0f} ms; NOOP of another session worst "
              f"{worst * 1000:.0f} ms")
        watcher.close()
        a.close()
        measure_sort_thread(env)
    finally:
        env.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
