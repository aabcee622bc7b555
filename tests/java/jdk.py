"""Java's own ``java.util.Properties.load`` as a test oracle: ``PropsRoundTrip.java`` runs in one JVM for a whole
test session and answers, for each property file it is given, what Java reads from it.

``Jdk.start()`` compiles the program with ``javac`` when there is one (else runs it with the single-file source
launcher, ``java PropsRoundTrip.java``, which needs a JDK too) or raises ``JdkMissing`` with the reason: the tests
skip with that reason where no JDK exists (``scripts/ensure-packages.sh`` installs openjdk-17-jdk-headless).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "PropsRoundTrip.java"


class JdkMissing(RuntimeError):
    """No JDK to run the oracle with (the reason says what is missing)."""


class Jdk:
    """One JVM running PropsRoundTrip over stdin: ``read(texts)`` -> one answer per text (a dict with ``reader``
    and ``stream`` maps of what Java read, or ``error``)."""

    def __init__(self, proc, workdir):
        self.proc = proc
        self.workdir = workdir
        self.count = 0

    @classmethod
    def start(cls):
        java = shutil.which("java")
        if not java:
            raise JdkMissing("no `java` on PATH: run scripts/ensure-packages.sh (openjdk-17-jdk-headless)")
        workdir = tempfile.mkdtemp(prefix="mediaops-jdk-")
        javac = shutil.which("javac")
        if javac:
            built = subprocess.run([javac, "-d", workdir, str(SOURCE)], capture_output=True, text=True, check=False,
                                   timeout=120)
            if built.returncode != 0:
                raise JdkMissing("javac failed on %s: %s" % (SOURCE.name, built.stderr[-500:]))
            command = [java, "-Xshare:auto", "-cp", workdir, "PropsRoundTrip"]
        else:
            command = [java, str(SOURCE)]
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, encoding="utf-8")
        jdk = cls(proc, workdir)
        try:
            probe = jdk.read(["k=v\n"])[0]
        except (OSError, ValueError) as err:
            jdk.stop()
            raise JdkMissing("`%s` does not run Java source (a JRE without a compiler?): %s; install "
                             "openjdk-17-jdk-headless (scripts/ensure-packages.sh)" % (" ".join(command), err))
        if probe != {"reader": [["k", "v"]], "stream": [["k", "v"]]}:
            jdk.stop()
            raise JdkMissing("PropsRoundTrip answered %r to a one-line file" % (probe,))
        return jdk

    def read(self, texts):
        """What Java reads from each text (written as UTF-8 bytes; bytes are written as they are)."""
        paths = []
        for text in texts:
            self.count += 1
            path = os.path.join(self.workdir, "p%d.properties" % self.count)
            with open(path, "wb") as handle:
                handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            paths.append(path)
        self.proc.stdin.write("".join(p + "\n" for p in paths))
        self.proc.stdin.flush()
        answers = []
        for path in paths:
            line = self.proc.stdout.readline()
            if not line:
                raise OSError("the JVM stopped: %s" % self.proc.stderr.read()[-2000:])
            answers.append(json.loads(line))
            os.unlink(path)
        return answers

    def maps(self, texts, mode="reader"):
        """``{key: value}`` Java reads from each text (``mode`` reader: UTF-8 text; stream: ISO-8859-1 bytes), or
        None for a file Java refuses."""
        return [None if "error" in a else dict((k, v) for k, v in a[mode]) for a in self.read(texts)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
