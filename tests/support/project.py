"""Where things are, and whether this run is CI's."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
EXAMPLE_HALL = ROOT / "server" / "hallq" / "examples" / "district-hall.toml"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
