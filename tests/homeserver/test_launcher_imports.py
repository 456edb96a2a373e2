# SPDX-License-Identifier: AGPL-3.0-or-later
"""The launcher's `run` leaves Synapse to Synapse's own process: the module config check
runs there (homeserver/synapse_main.py), so a server start imports Synapse and our
modules once. Importing the launcher's command line must not pull Synapse in (through a
module that imports it at the top: seconds of CPU on every start)."""

import subprocess
import sys
from pathlib import Path

from twisted.trial import unittest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import sys, homeserver.cli, homeserver.supervisor\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] == 'synapse'))"
)


class LauncherImportsTest(unittest.TestCase):
    def test_the_launcher_does_not_import_synapse(self) -> None:
        result = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        self.assertEqual(result.stdout.strip(), "[]", result.stderr)
