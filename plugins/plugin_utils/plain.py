# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side: Ansible's tagged / lazy containers and strings as plain Python data, before they reach the pure
module_utils code (which compares with ``==``, serialises to JSON and checks types). Used by the action plugins and
the filters."""
from __future__ import annotations

from collections.abc import Mapping


def plain(value):
    """Dicts (keys as ``str``), lists and strings of plain types, recursively; anything else as it is."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
