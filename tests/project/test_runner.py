# SPDX-License-Identifier: AGPL-3.0-or-later
"""tests.run: which tests a trial output names as failed (they are run once more),
and how a second run's verdict is counted."""

from unittest import mock

from twisted.trial import unittest

from tests import run

SEP = "=" * 79
OUTPUT = f"""tests.modules.x.test_y
  YTest
    test_a ...                                                   [OK]
    test_b ...                                                 [FAIL]
    test_c ...                                              [SKIPPED]

{SEP}
[SKIPPED]
PostgreSQL is not running

tests.modules.x.test_y.YTest.test_c
{SEP}
[FAIL]
Traceback (most recent call last):
builtins.AssertionError: 1 != 2

tests.modules.x.test_y.YTest.test_b
{SEP}
[ERROR]
Traceback (most recent call last):
builtins.RuntimeError: boom

tests.modules.x.test_y.YTest.test_d
{"-" * 79}
Ran 4 tests in 1.0s

FAILED (skips=1, failures=1, errors=1, successes=1)
"""


class FailedIdsTest(unittest.TestCase):
    def test_only_failures_and_errors_are_named(self) -> None:
        outcome = run.Outcome("m", 1.0, OUTPUT, 1, {"failures": 1, "errors": 1})
        self.assertEqual(
            outcome.failed_ids(),
            [
                "tests.modules.x.test_y.YTest.test_b",
                "tests.modules.x.test_y.YTest.test_d",
            ],
        )

    def test_a_second_pass_counts_and_is_named_a_second_fail_stays(self) -> None:
        counts = {"failures": 1, "errors": 1, "successes": 1, "skips": 1}
        first = run.Outcome("m", 1.0, OUTPUT, 1, counts)
        passed = run.Outcome("ids", 1.0, "", 0, {"successes": 2})
        with mock.patch.object(run, "_trial", return_value=passed):
            kept, second = run._retry_failed([first])
        self.assertEqual((kept[0].failed, kept[0].passed, kept[0].skipped), (0, 3, 1))
        self.assertEqual(len(second), 2)
        failed = run.Outcome("ids", 1.0, "", 1, {"failures": 1, "successes": 1})
        with mock.patch.object(run, "_trial", return_value=failed):
            kept, second = run._retry_failed([first])
        self.assertEqual((kept[0].failed, second), (2, []))


class BatchTest(unittest.TestCase):
    def test_small_modules_share_a_process_longest_first(self) -> None:
        known = {"big": 100.0, "mid": 30.0, **{f"u{n}": 3.0 for n in range(10)}}
        batches = run._batches(list(known), known)
        self.assertEqual(batches[:2], [["big"], ["mid"]])
        small = [u for batch in batches[2:] for u in batch]
        self.assertEqual(sorted(small), sorted(f"u{n}" for n in range(10)))
        self.assertEqual([len(b) for b in batches[2:]], [7, 3])

    def test_a_batch_time_is_shared_out_by_estimate(self) -> None:
        outcome = run.Outcome("a b", 9.0, "", 0, {"successes": 2})
        with mock.patch.object(run, "_estimate", side_effect=[2.0, 1.0]):
            self.assertEqual(run._durations([outcome]), {"a": 6.0, "b": 3.0})
