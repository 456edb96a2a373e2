# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.ocr_cards still runs end to end, its throughput phase with two images
read at once included: every line of its output there. Nothing here asserts a timing
or an accuracy (tests/modules/ocr tests reading)."""

import subprocess
import sys
from pathlib import Path

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]


class OcrThroughputSmokeTest(unittest.TestCase):
    def test_accuracy_latency_and_throughput_printed(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.ocr_cards", "--cards", "2",
             "--concurrency", "2"],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
        out = result.stdout
        self.assertIn("cards: 2, character accuracy of the fields:", out)
        self.assertIn("latency per image: p50", out)
        self.assertIn("throughput, one at a time:", out)
        self.assertIn("throughput, 2 at once (1 ONNX threads each):", out)
        self.assertIn("images/s over 2 images", out)
