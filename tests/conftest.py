"""Test-wide settings: shared candidate pools go to a folder of this run, never the user's cache."""

import os
import tempfile

os.environ.setdefault("PNAG_CACHE_DIR", tempfile.mkdtemp(prefix="pnag-test-pools-"))
