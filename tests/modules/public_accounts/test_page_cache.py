# SPDX-License-Identifier: AGPL-3.0-or-later
"""The article pages' cache (modules/public_accounts/page_cache.py): kept for its time,
emptied by a write, and a read that began before the write is not kept."""

import unittest

from modules.public_accounts.page_cache import PageCache


class PageCacheTest(unittest.TestCase):
    def setUp(self) -> None:
        self.now = 100.0
        self.cache = PageCache(2.0, clock=lambda: self.now)

    def test_kept_for_its_time(self) -> None:
        self.cache.put("a", 1, self.cache.generation)
        self.assertEqual(self.cache.get("a"), (True, 1))
        self.now += 2.5
        self.assertEqual(self.cache.get("a"), (False, None))

    def test_a_write_empties_it(self) -> None:
        self.cache.put("a", None, self.cache.generation)
        self.assertEqual(self.cache.get("a"), (True, None))  # None is a value
        self.cache.clear()
        self.assertEqual(self.cache.get("a"), (False, None))

    def test_a_read_from_before_a_write_is_not_kept(self) -> None:
        began = self.cache.generation
        self.cache.clear()  # e.g. a withdraw while the page read the article
        self.cache.put("a", "published", began)
        self.assertEqual(self.cache.get("a"), (False, None))

    def test_off(self) -> None:
        cache = PageCache(0.0)
        cache.put("a", 1, cache.generation)
        self.assertEqual(cache.get("a"), (False, None))
