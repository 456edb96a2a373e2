# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.asr_overhead still runs end to end (automatic transcription and dictation
against the stand-in engine): every voice message transcribed, every dictation
answered, every row of the report there. Nothing here asserts a timing."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]


class AsrOverheadSmokeTest(unittest.TestCase):
    def test_every_request_completed_and_reported(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="jwwx-bench-asr-"))
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        out = folder / "run.json"
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.asr_overhead",
             "--officers", "2", "--voices", "2", "--dictations", "2",
             "--think-ms", "20", "--audio-seconds", "0.5", "--json", str(out)],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
        rows = {
            (r["scenario"], r["metric"]): r
            for r in json.loads(out.read_text(encoding="utf-8"))["rows"]
        }
        for scenario in ("voice message, auto", "dictation"):
            overhead = rows[(scenario, "ours' overhead (round trip − engine)")]
            self.assertEqual(overhead["summary"]["n"], 4, scenario)
        self.assertEqual(rows[("all", "requests completed")]["n"], 8)
        self.assertIn(("dictation", "homeserver CPU per request"), rows)
