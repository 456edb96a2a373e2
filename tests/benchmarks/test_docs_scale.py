# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.docs_scale still runs end to end (it is not exercised otherwise): its
tiny variant, a 40-department directory and a dozen shared documents, every measured
request answered (the benchmark raises on any refusal). Nothing asserts a timing."""

import subprocess
import sys
from pathlib import Path

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]
ROWS = (
    "open: GET docs/{id}",
    "socket: WebSocket handshake",
    "listing: shared with me",
    "listing: mine",
    "share: PUT sharing",
    "document admin: unit listing",
)


class DocsScaleSmokeTest(unittest.TestCase):
    def test_tiny_variant(self) -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.docs_scale",
                "--departments",
                "40",
                "--members",
                "40",
                "--documents",
                "12",
                "--officers",
                "6",
                "--requests",
                "4",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
        lines = result.stdout.splitlines()
        for row in ROWS:
            found = [line for line in lines if line.startswith(row)]
            self.assertEqual(len(found), 1, (row, result.stdout))
        self.assertIn("documents shared with an officer: min ", result.stdout)
        self.assertNotIn("min 0,", result.stdout)  # every officer sees shared ones
