# SPDX-License-Identifier: AGPL-3.0-or-later
"""Heavy libraries are loaded when first used, not at start (issue 17, memory).

pypinyin's dictionaries, imagehash with numpy/scipy, reportlab and pypdf cost tens of
MB each, python-docx with lxml ≈ 7 MiB, xlsxwriter ≈ 2 MiB; a process that never
indexes a name, fingerprints an image, marks a PDF, imports a Word file or exports a
workbook should not carry them. Importing every file of the launcher, the modules and
the admin API (what Synapse and the launcher import at start) must leave them out of
sys.modules. Pillow is not on the list: vanilla Synapse imports it for thumbnails."""

import json
import subprocess
import sys
from pathlib import Path

from twisted.trial import unittest

ROOT = Path(__file__).resolve().parents[2]
STARTED = ("homeserver", "modules", "admin_api")
HEAVY = (
    "pypinyin",
    "imagehash",
    "numpy",
    "scipy",
    "pywt",
    "reportlab",
    "pypdf",
    "rapidocr",
    "onnxruntime",
    "cv2",
    "docx",
    "lxml",
    "xlsxwriter",
    "pptx",
)
# Our files that exist to be imported on first use (heavy_imports.import_frozen): if
# anything imported them at start, their libraries would show in `at_start`.
ON_FIRST_USE = (
    "modules.docs.docx_import",
    "modules.docs.slide_import",
    "modules.docs.slide_export",
)

PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
heavy = json.loads(sys.argv[2])
import synapse.app.homeserver
for name in names:
    importlib.import_module(name)
def loaded():
    return sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
at_start = loaded()
# The probe sees them once used: the first name indexed, image hashed, PDF read.
from modules.directory.pinyin import name_search_terms
from modules.audit.media import perceptual_hash
import gc
frozen_before = gc.get_freeze_count()
name_search_terms("张三")
import pypinyin.constants
# Frozen out of the garbage collector's full collections once loaded (heavy_imports.py).
tracked = gc.is_tracked(pypinyin.constants.PHRASES_DICT)
frozen = gc.get_freeze_count() - frozen_before
in_reach = any(o is pypinyin.constants.PHRASES_DICT for o in gc.get_objects())
perceptual_hash(b"not an image")
import modules.watermark.pdf_mark as pdf_mark
try:
    pdf_mark.watermark_pdf(b"%PDF-1.4 broken", "x", 0.2, "/nonexistent")
except pdf_mark.PdfUnreadableError:
    pass
from modules.directory.exporter import export_directory_xlsx
export_directory_xlsx([], [], [])
print(json.dumps({"at_start": at_start, "after_use": loaded(), "tracked": tracked,
                  "frozen": frozen, "in_reach": in_reach}))
"""


def _started_modules() -> list[str]:
    names = []
    for top in STARTED:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts).removesuffix(".__init__")
            if parts[-1] == "__main__" or name in ON_FIRST_USE:
                continue
            names.append(name)
    return names


class LazyHeavyImportsTest(unittest.TestCase):
    def test_importing_our_code_loads_no_heavy_library(self) -> None:
        names = _started_modules()
        self.assertGreater(len(names), 100)
        result = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(names), json.dumps(HEAVY)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        found = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(found["at_start"], [], "heavy libraries imported at start")
        # The check can fail: used once, they are there.
        for library in ("pypinyin", "imagehash", "numpy", "pypdf", "xlsxwriter"):
            self.assertIn(library, found["after_use"])
        # pypinyin's dictionaries (~320,000 objects) are out of the collector's reach:
        # a full collection (a stop of the whole process) no longer walks them.
        self.assertTrue(found["tracked"])
        self.assertGreater(found["frozen"], 300_000)
        self.assertFalse(found["in_reach"])
