# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Docker SDK client helper: connection options (doc fragment mediaops.wcs.docker) and clear errors.

Modules use the low-level ``docker.APIClient`` so that every engine round trip is explicit and counted: a
no-op converge must cost one list call plus one inspect per container, nothing hidden behind the high-level
object model.

Bounds: the client always has a timeout (the ``timeout`` option, 1 to 86400 s; never None, which would wait
forever). The SDK applies it per socket operation (requests/urllib3), not to a whole answer, and reads an answer
whole and loads its JSON without a size or depth cap: the SDK allows no cap there. The engine is the host's own
root daemon; what containers control in its answers (labels, names) is text, checked where it is used. The WCS
exporter, which runs as root on every host and reads the engine itself, does so through ``bounded``.
"""
from __future__ import annotations

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.mediaops.wcs.plugins.module_utils.bounded import MAX_TIMEOUT, BoundedReadError, check_timeout

try:
    import docker
    from docker.errors import APIError, DockerException, NotFound
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only on hosts without the SDK
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()
    docker = None

    class DockerException(Exception):
        """Stand-in so that ``except`` clauses still parse without the SDK."""

    class APIError(DockerException):
        """Stand-in."""

    class NotFound(APIError):
        """Stand-in."""

__all__ = ["APIError", "DockerException", "NotFound", "HAS_DOCKER", "DOCKER_ARGUMENT_SPEC", "docker",
           "docker_argument_spec", "engine_is_local", "engine_error", "get_client"]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DEFAULT_TIMEOUT = 60

DOCKER_ARGUMENT_SPEC = dict(
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, fallback=(env_fallback, ["DOCKER_HOST"])),
    tls=dict(type="bool", default=False),
    validate_certs=dict(type="bool", default=False),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path"),
    api_version=dict(type="str", default="auto"),
    timeout=dict(type="int", default=DEFAULT_TIMEOUT),
)


def docker_argument_spec(**module_options):
    """The module's own options plus the shared connection options."""
    spec = dict(module_options)
    spec.update(DOCKER_ARGUMENT_SPEC)
    return spec


def engine_is_local(params):
    """True when the engine listens on a unix socket of this host (sysfs and /proc belong to it)."""
    return (params.get("docker_host") or DEFAULT_DOCKER_HOST).startswith("unix://")


def engine_error(module, exc, doing):
    """fail_json with the engine's own explanation, without a traceback."""
    explanation = getattr(exc, "explanation", None) or str(exc)
    module.fail_json(msg="Docker engine at %s refused to %s: %s" % (module.params["docker_host"], doing, explanation))


def _tls_config(module):
    p = module.params
    if not (p["tls"] or p["validate_certs"] or p["client_cert"]):
        return False
    if bool(p["client_cert"]) != bool(p["client_key"]):
        module.fail_json(msg="client_cert and client_key go together: set both (or neither).")
    cert = (p["client_cert"], p["client_key"]) if p["client_cert"] else None
    if p["validate_certs"] and not p["ca_path"]:
        module.fail_json(msg="validate_certs=true needs ca_path (the CA that signed the engine's certificate).")
    return docker.tls.TLSConfig(client_cert=cert, ca_cert=p["ca_path"], verify=p["validate_certs"])


def _base_url(module):
    url = module.params["docker_host"] or DEFAULT_DOCKER_HOST
    if module.params["tls"] or module.params["validate_certs"]:
        url = url.replace("tcp://", "https://", 1)
    return url


def get_client(module):
    """A connected ``docker.APIClient``; fails the module with the fix when the SDK or the engine is missing."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker (Docker SDK for Python >= 7.0.0)",
                                                  url="https://pypi.org/project/docker/"),
                         exception=DOCKER_IMPORT_ERROR)
    host = module.params["docker_host"] or DEFAULT_DOCKER_HOST
    timeout = module.params.get("timeout")
    try:
        timeout = check_timeout(DEFAULT_TIMEOUT if timeout is None else timeout, "timeout", lo=1, hi=MAX_TIMEOUT)
    except BoundedReadError as exc:
        module.fail_json(msg=str(exc))
    try:
        # With api_version=auto the constructor already asks the engine for its version: that is the
        # reachability check, no separate ping.
        client = docker.APIClient(base_url=_base_url(module), version=module.params["api_version"],
                                  timeout=timeout, tls=_tls_config(module))
        if module.params["api_version"] != "auto":
            client.ping()
        return client
    except DockerException as exc:
        module.fail_json(
            msg="Cannot reach the Docker engine at docker_host=%s: %s. Fix: start the engine on that host "
                "(e.g. 'systemctl start docker'), or point docker_host (or the DOCKER_HOST environment variable) "
                "at the engine's socket or URL, and check TLS options for tcp:// engines." % (host, exc))
