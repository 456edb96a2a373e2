# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.assistant_overhead still runs end to end (the launcher starting the
assistant bridge, the stand-in model): a few questions, each answered, and every row of
the report there. Nothing here asserts a timing."""

from twisted.trial import unittest

from tests.benchmarks.runs import report_rows


class AssistantOverheadSmokeTest(unittest.TestCase):
    def test_every_question_answered_and_reported(self) -> None:
        rows = report_rows(
            self, "benchmarks.assistant_overhead",
            "--officers", "2", "--questions", "2", "--group-questions", "1",
            "--think-ms", "50", "--piece-ms", "5",
        )  # fmt: skip
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
