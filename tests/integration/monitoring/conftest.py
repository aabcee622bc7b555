"""Monitoring tests: names wcst-mon-*, block 198.51.100.128/28, veth parents wcstp*. Puts this directory on
sys.path for monhelpers."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
