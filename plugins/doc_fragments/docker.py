# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module that talks to a Docker engine (action group mediaops.wcs.docker)."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker engine to talk to, as a URL such as V(unix:///var/run/docker.sock) or V(tcp://10.0.0.5:2376).
      - If not set, the value of the E(DOCKER_HOST) environment variable is used, and failing that the local socket.
      - Helpers that need the host itself (the parent check in sysfs, asking a container from inside its network
        namespace, reading the online CPUs) only work when this is a local V(unix://) socket.
    type: str
    default: unix:///var/run/docker.sock
  tls:
    description:
      - Talk to the engine over TLS (without verifying its certificate unless O(validate_certs=true)).
    type: bool
    default: false
  validate_certs:
    description:
      - Talk TLS and verify the engine's certificate against O(ca_path).
    type: bool
    default: false
  ca_path:
    description:
      - CA certificate file used to verify the engine when O(validate_certs=true).
    type: path
  client_cert:
    description:
      - Client certificate file presented to the engine (TLS client authentication).
    type: path
  client_key:
    description:
      - Private key file of O(client_cert).
    type: path
  api_version:
    description:
      - Docker API version to speak. V(auto) asks the engine (one call).
    type: str
    default: auto
  timeout:
    description:
      - Seconds to wait for one engine API call (the Docker SDK applies it to each socket operation). From 1 to
        86400.
    type: int
    default: 60
requirements:
  - docker (the Docker SDK for Python) >= 7.0.0 on the host the module runs on
"""
