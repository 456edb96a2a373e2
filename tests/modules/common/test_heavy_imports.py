# SPDX-License-Identifier: AGPL-3.0-or-later
"""import_frozen from two threads at once: the second waits for the first import.

An admin's directory export runs in a worker thread; two at once met xlsxwriter half
imported (AttributeError: no Workbook, a 500) when import_frozen answered from
sys.modules without importlib's per-module lock (test_routes found it)."""

import sys
import tempfile
import threading
import time
from pathlib import Path

from twisted.trial import unittest

from modules.common.heavy_imports import import_frozen

SLOW_MODULE = """
import time
time.sleep(0.3)
READY = True
"""


class ImportFrozenTest(unittest.TestCase):
    def test_a_second_thread_waits_for_the_first_import(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="jwwx-heavy-"))
        name = f"jwwx_slow_{time.monotonic_ns()}"
        (folder / f"{name}.py").write_text(SLOW_MODULE, encoding="utf-8")
        sys.path.insert(0, str(folder))
        self.addCleanup(sys.path.remove, str(folder))
        self.addCleanup(sys.modules.pop, name, None)
        seen: list[object] = []

        def use() -> None:
            seen.append(getattr(import_frozen(name), "READY", "half imported"))

        first = threading.Thread(target=use)
        first.start()
        time.sleep(0.1)  # the first import is inside its 0.3-s body now
        second = threading.Thread(target=use)
        second.start()
        first.join()
        second.join()
        self.assertEqual(seen, [True, True])
