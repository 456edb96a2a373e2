# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.assistant_overhead still runs end to end (the launcher starting the
assistant bridge, the stand-in model): a few questions, each answered, and every row of
the report there. Nothing here asserts a timing."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]


class AssistantOverheadSmokeTest(unittest.TestCase):
    def test_every_question_answered_and_reported(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="jwwx-bench-assistant-"))
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        out = folder / "run.json"
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.assistant_overhead",
             "--officers", "2", "--questions", "2", "--group-questions", "1",
             "--think-ms", "50", "--piece-ms", "5", "--json", str(out)],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
        rows = {
            (r["scenario"], r["metric"]): r
            for r in json.loads(out.read_text(encoding="utf-8"))["rows"]
        }
        for scenario, count in (("chat of two", 4), ("group @mention", 2)):
            overhead = rows[(scenario, "ours' overhead (round trip − engine)")]
            self.assertEqual(overhead["summary"]["n"], count, scenario)
            self.assertEqual(
                rows[(scenario, "engine's own time (stand-in)")]["summary"]["n"], count
            )
        self.assertEqual(rows[("all", "questions answered")]["n"], 6)
        self.assertIn("sync errors 0", rows[("all", "questions answered")]["note"])
        self.assertIn(("all", "bridge CPU per question"), rows)
        self.assertIn(("all", "homeserver CPU per question"), rows)
