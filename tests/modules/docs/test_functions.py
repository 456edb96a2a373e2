# SPDX-License-Identifier: AGPL-3.0-or-later
"""The spreadsheet functions written for the sheets' formula engine
(clients/docs/src/sheet/functions.js: PRICE, YIELD, DURATION, MDURATION, the COUP*
family, ACCRINT(M), PRICEMAT, YIELDMAT, YIELDDISC, INTRATE, RECEIVED, the T-bill
functions, AMORLINC, AMORDEGRC, VDB, T.TEST, SKEW.P) against the values of Excel's documentation
examples, with node's test runner (clients/docs/test/functions.test.js). A sheet in
the browser shows PRICE's value: tests.modules.docs.test_sheets."""

import shutil
import subprocess
from pathlib import Path

from twisted.trial import unittest

from tests.harness import postgres

DOCS_CLIENT = Path(__file__).resolve().parents[3] / "clients" / "docs"


class FunctionsTest(unittest.TestCase):
    def test_functions_against_excel_examples(self) -> None:
        node = shutil.which("node")
        if node is None:
            postgres.skip_or_fail(
                "node is not installed (apt-get install nodejs)",
                "node for the sheet functions' tests",
            )
        result = subprocess.run(
            [node, "--test", "test/"],
            cwd=DOCS_CLIENT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("# pass ", result.stdout)
        self.assertNotIn("# pass 0", result.stdout)
        self.assertIn("# fail 0", result.stdout)
