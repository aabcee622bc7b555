"""Makes helpers.py importable whatever pytest's import mode (the repository's pytest.ini may set importlib)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
