"""What every end-to-end test file shares: its assertions and the signal
for a test that cannot run here (run.py counts it as skipped and prints
the reason)."""


class Skip(Exception):
    """Raised with the reason a test cannot run on this machine."""


def eq(a, b, what=""):
    if a != b:
        raise AssertionError(f"{what}: expected {b!r}, got {a!r}")


def ok(cond, what):
    if not cond:
        raise AssertionError(what)
