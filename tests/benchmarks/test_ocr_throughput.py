# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.ocr_cards still runs end to end, its throughput phase with two images
read at once included: every line of its output there. Nothing here asserts a timing
or an accuracy (tests/modules/ocr tests reading)."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]


class OcrThroughputSmokeTest(unittest.TestCase):
    def test_accuracy_latency_and_throughput_printed(self) -> None:
        lines = Path(tempfile.mkdtemp()) / "lines.json"
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.ocr_cards", "--cards", "2",
             "--backs", "1", "--concurrency", "2", "--lines", str(lines)],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
        out = result.stdout
        self.assertIn("cards: 1 ID card fronts, 1 licences, 1 ID card backs", out)
        self.assertIn("character accuracy of the fields (cards):", out)
        self.assertIn("character accuracy of the fields (backs):", out)
        self.assertIn("idcard_back.authority", out)
        self.assertIn("latency per image (3): p50", out)
        self.assertIn("throughput, one at a time:", out)
        self.assertIn("throughput, 2 at once (1 ONNX threads each):", out)
        self.assertIn("images/s over 3 images", out)
        kept = json.loads(lines.read_text())
        self.assertEqual(
            [c["kind"] for c in kept], ["idcard", "licence", "idcard_back"]
        )
        self.assertTrue(all(c["lines"] and c["expected"] for c in kept))
