# SPDX-License-Identifier: AGPL-3.0-or-later
"""The idle back-off of background polls (modules/common/pacer.py), on a fake clock."""

from twisted.trial import unittest

from modules.common.pacer import Pacer


class PacerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.now = 0
        self.pacer = Pacer(lambda: self.now, tick_s=1.0, idle_max_s=5.0)

    def reads(self, seconds: int) -> list[int]:
        """The ticks (one a second) at which the poll reads, finding nothing."""
        seen = []
        for second in range(seconds):
            self.now = second * 1000
            if self.pacer.due():
                seen.append(second)
                self.pacer.found(False)
        return seen

    def test_idle_reads_back_off_to_the_maximum(self) -> None:
        self.assertEqual(self.reads(30), [0, 2, 6, 11, 16, 21, 26])

    def test_work_keeps_the_tick_and_a_wake_reads_at_once(self) -> None:
        self.reads(12)
        self.now = 12_000
        self.assertFalse(self.pacer.due())
        self.pacer.wake()
        self.assertTrue(self.pacer.due())
        self.pacer.found(True)
        self.now = 13_000
        self.assertTrue(self.pacer.due())
        self.pacer.found(False)
        self.now = 14_000
        self.assertFalse(self.pacer.due())  # idle again: 2 s, then longer
        self.now = 15_000
        self.assertTrue(self.pacer.due())

    def test_a_known_due_time_comes_before_the_idle_wait(self) -> None:
        self.reads(20)  # waiting the longest (5 s) by now
        self.now = 21_000
        self.assertTrue(self.pacer.due())
        self.pacer.found(False, next_due_ms=23_000)
        self.now = 22_000
        self.assertFalse(self.pacer.due())
        self.now = 23_000
        self.assertTrue(self.pacer.due())
        # A due time already past: the next tick reads.
        self.pacer.found(False, next_due_ms=20_000)
        self.now = 24_000
        self.assertTrue(self.pacer.due())

    def test_a_wake_during_a_read_is_not_lost(self) -> None:
        # The read began before the woken work was committed and found nothing: the
        # next tick must read again, not wait out the idle back-off.
        self.reads(20)  # waiting the longest (5 s) by now
        self.now = 21_000
        self.assertTrue(self.pacer.due())
        self.pacer.wake()  # while that read is under way
        self.pacer.found(False)
        self.now = 22_000
        self.assertTrue(self.pacer.due())
        self.pacer.found(True)
        self.now = 23_000
        self.assertTrue(self.pacer.due())  # the woken read found work: the tick again
