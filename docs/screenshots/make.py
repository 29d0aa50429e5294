"""Regenerate the screenshots of the web UI in this folder (Chromium at /usr/bin/chromium, a
private redis-server): ``python docs/screenshots/make.py``. It runs the browser test that
takes them, pointed at this folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

if __name__ == "__main__":
    env = {**os.environ, "TRUNQ_WEB_SCREENSHOTS": str(HERE)}
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "tests/web/test_web_browser.py::test_screenshot_of_every_page"], cwd=ROOT, env=env))
