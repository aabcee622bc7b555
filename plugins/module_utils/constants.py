# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one home of the names the collection shares with the engine and with Web Call Server.

Stdlib only and import-free, so the monitoring role can ship it to a host next to the WCS exporter. Labels are
what wcs_containers writes on every container it manages (and what the exporter, timer_probe and the isolation
role look for); the paths and port are WCS's own HTTP interface (the statistics page and the stream REST API).
"""
from __future__ import annotations

# Labels on every managed container.
LABEL_PREFIX = "mediaops.wcs."
MANAGED_LABEL = "mediaops.wcs.managed"
MANAGED_FILTER = MANAGED_LABEL + "=true"      # the engine's label filter for "managed by mediaops.wcs"
SPEC_LABEL = "mediaops.wcs.spec"              # the spec the module set, as JSON (idempotence reads it back)
CPUSET_LABEL = "mediaops.wcs.cpuset"
SECRET_LABEL = "mediaops.wcs.secret.%s"       # % field: a salted digest, never the secret
# sha256 of the conf dir's files the container was created with: files changed since (a run that rendered them but
# failed or was refused before the restart) still count as a change on the next run
CONF_HASH_LABEL = "mediaops.wcs.conf_hash"

# Where a container's property files are mounted (read-only).
CONF_MOUNT = "/conf"
# The collection's mark on a directory it made (a container's directory and its conf directory): JSON naming the owner,
# the kind of directory and the container. Only a directory carrying it is ever removed (wcs_config state=absent).
DIR_MARKER = ".mediaops-wcs"
DIR_MARK_OWNER = "mediaops.wcs"

# WCS's HTTP port (statistics page and REST API) and the paths the collection calls on it.
WCS_HTTP_PORT = 8081
STAT_PATH = "/?action=stat"
STREAM_FIND_ALL_PATH = "/rest-api/stream/find_all"
STREAM_FIND_PATH = "/rest-api/stream/find"
STREAM_TERMINATE_PATH = "/rest-api/stream/terminate"
# CDN status (Flashphoner CDN documentation): POST, JSON array of the nodes the asked node sees, itself excluded.
CDN_SHOW_NODES_PATH = "/rest-api/cdn/show_nodes"

# A replaced container waits under this suffix until its successor runs (then it is removed, or renamed back).
ASIDE_SUFFIX = ".mediaops-old"
# A rollout keeps the image each container ran under this repository (tag = container name) until it ends.
ROLLBACK_REPOSITORY = "mediaops-wcs/rollback"
