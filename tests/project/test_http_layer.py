# SPDX-License-Identifier: AGPL-3.0-or-later
"""One HTTP layer (issue 13.3): only modules/common/http.py mounts resources and writes
answers, so every endpoint is in the route inventory and answers in one of the two
dialects. A module that calls Synapse's register_web_resource, or finishes requests
itself, would bypass both."""

import re
from pathlib import Path

from twisted.trial import unittest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "modules" / "common" / "http.py"
PACKAGES = ("modules", "admin_api", "bridges")
FORBIDDEN = {
    "register_web_resource": re.compile(r"\bregister_web_resource\("),
    "request.finish": re.compile(r"\brequest\.finish\("),
    "request.write": re.compile(r"\brequest\.write\("),
    "twisted Resource": re.compile(r"^from twisted\.web\.resource import", re.M),
}


class HttpLayerTest(unittest.TestCase):
    def test_only_the_layer_mounts_resources_and_writes_answers(self) -> None:
        offenders = []
        for top in PACKAGES:
            for path in (ROOT / top).rglob("*.py"):
                if path == LAYER or "__pycache__" in path.parts:
                    continue
                text = path.read_text(encoding="utf-8")
                for name, pattern in FORBIDDEN.items():
                    if pattern.search(text):
                        offenders.append(f"{path.relative_to(ROOT)}: {name}")
        self.assertEqual(
            offenders, [], "use modules.common.http (Router, register_resource)"
        )
