"""Offline stand-in for the get-pip.py that ansible-test downloads from ci-files.testing.ansible.com.

ansible-test creates its sanity virtualenvs without pip and bootstraps pip by running a cached get-pip script
with pip-install arguments (`pip==24.2 --no-setuptools --no-wheel ...`). That host is not reachable from this
workplace, so scripts/sanity.sh puts this file in the cache instead: it installs the interpreter's bundled pip
with `ensurepip`, then lets that pip install what was asked for from the configured package index.
"""
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args, check=False).returncode)
