# SPDX-License-Identifier: AGPL-3.0-or-later
"""benchmarks.asr_overhead still runs end to end (automatic transcription, a burst of
voice messages at once and dictation against the stand-in engine): every voice message
transcribed, every dictation answered, every row of the report there, and the burst
handed to the engine no more than auto_concurrency at a time. Nothing here asserts a
timing."""

from twisted.trial import unittest

from tests.benchmarks.runs import report_rows


class AsrOverheadSmokeTest(unittest.TestCase):
    def test_every_request_completed_and_reported(self) -> None:
        rows = report_rows(
            self, "benchmarks.asr_overhead",
            "--officers", "2", "--voices", "2", "--dictations", "2", "--burst", "6",
            "--auto-concurrency", "2", "--think-ms", "20", "--audio-seconds", "0.5",
        )  # fmt: skip
        for scenario in ("voice message, auto", "dictation"):
            overhead = rows[(scenario, "ours' overhead (round trip − engine)")]
            self.assertEqual(overhead["summary"]["n"], 4, scenario)
        burst = rows[("voice burst, auto", "messages transcribed per second")]
        self.assertEqual(burst["n"], 6)
        self.assertRegex(burst["note"], r"the engine had at most [12] at once")
        self.assertEqual(rows[("all", "requests completed")]["n"], 14)
        self.assertIn(("dictation", "homeserver CPU per request"), rows)
        self.assertIn(("voice burst, auto", "homeserver CPU per message"), rows)
