"""The hostile-input harness (issue 20): a public entry point gets what a user, a survey or a hostile peer can
send, and the only outcomes allowed are a valid result or the project's own error, within a time and memory bound.

- ``run_module(name, args)`` runs a module the way Ansible does (an args file, a fresh interpreter) under a
  deadline and an address-space cap, and returns its JSON answer; ``assert_clean`` fails on a traceback, a hang,
  a memory blow-up or an answer that is not the module's own JSON.
- ``clean_call(func, ...)`` calls a pure entry point (filter, plan, parser) under a deadline: the result, or the
  ``PlanError`` it raised; any other exception fails the test.
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"
MODULE_PACKAGE = "ansible_collections.mediaops.wcs.plugins.modules"


class Hang(AssertionError):
    """The entry point did not answer within its bound."""


def _limit_memory(mem_mb):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    return limit


def run_module(name, args, timeout=30.0, mem_mb=768, check_mode=False, diff=False, env=None):
    """Run module ``name`` with ``args`` from an args file, as Ansible would; its parsed JSON answer, with
    ``_rc`` and ``_stderr`` added. Hang on timeout; AssertionError when the answer is not JSON."""
    module_args = dict(args)
    module_args["_ansible_check_mode"] = check_mode
    module_args["_ansible_diff"] = diff
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
        path = handle.name
    run_env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), **(env or {}))
    try:
        proc = subprocess.run([sys.executable, "-m", "%s.%s" % (MODULE_PACKAGE, name), path],
                              capture_output=True, text=True, timeout=timeout, env=run_env,
                              preexec_fn=_limit_memory(mem_mb), check=False)
    except subprocess.TimeoutExpired:
        raise Hang("module %s did not answer within %.0f s for %r" % (name, timeout, args)) from None
    finally:
        os.unlink(path)
    out = proc.stdout.strip()
    try:
        answer = json.loads(out[out.index("{"):]) if "{" in out else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise AssertionError("module %s gave no JSON answer (rc %s) for %r:\nstdout: %s\nstderr: %s"
                             % (name, proc.returncode, args, proc.stdout[-2000:], proc.stderr[-2000:]))
    answer["_rc"], answer["_stderr"] = proc.returncode, proc.stderr
    return answer


def assert_clean(answer, allow_ok=True):
    """A module answer is the project's: success, or a failure whose message says what to fix. Never a traceback,
    MemoryError or RecursionError; returns "ok" or "refused"."""
    text = json.dumps(answer, default=str)
    # what the interpreter printed, or the module put in 'exception': where a crash shows (a message may well
    # mention a JVM option such as -XX:+HeapDumpOnOutOfMemoryError)
    crash = " ".join(str(answer.get(key) or "") for key in ("_stderr", "exception", "module_stderr"))
    for sign in ("Traceback (most recent call last)", "MODULE FAILURE"):
        assert sign not in text, "the module answered with %s: %s" % (sign, text[-3000:])
    for sign in ("MemoryError", "RecursionError"):
        assert sign not in crash, "the module crashed with %s: %s" % (sign, crash[-3000:])
    if answer.get("failed"):
        assert answer.get("msg"), "a failure without a message: %s" % text[-2000:]
        return "refused"
    assert allow_ok, "accepted what must be refused: %s" % text[-2000:]
    return "ok"


@contextlib.contextmanager
def deadline(seconds):
    """Raise Hang in the main thread after ``seconds`` (SIGALRM): for pure entry points."""
    def expire(signum, frame):
        raise Hang("no answer within %.1f s" % seconds)
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def clean_call(func, *args, seconds=10.0, **kw):
    """``func(*args, **kw)`` under a deadline: ("ok", result) or ("refused", PlanError); anything else fails."""
    with deadline(seconds):
        try:
            return "ok", func(*args, **kw)
        except PlanError as err:
            assert err.field not in (None, ""), "a PlanError without a field: %r" % (err,)
            return "refused", err
