# SPDX-License-Identifier: AGPL-3.0-or-later
"""Burn config: the hours in which the database files may be rewritten after burns."""

from twisted.trial import unittest

from modules.burn.config import BurnConfig
from modules.common.config import ConfigError


class ScrubHoursTest(unittest.TestCase):
    def test_default_is_any_hour(self) -> None:
        self.assertEqual(BurnConfig.parse({}).scrub_hours, ())

    def test_hours_are_kept_sorted_and_unique(self) -> None:
        config = BurnConfig.parse({"scrub_hours": [4, 3, 3]})
        self.assertEqual(config.scrub_hours, (3, 4))

    def test_bad_hours_name_the_key(self) -> None:
        for bad in (24, -1, "3", True):
            with self.assertRaises(ConfigError) as caught:
                BurnConfig.parse({"scrub_hours": [bad]})
            self.assertIn("scrub_hours[0]", str(caught.exception))
        with self.assertRaises(ConfigError):
            BurnConfig.parse({"scrub_hours": 3})
