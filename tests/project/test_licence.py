# SPDX-License-Identifier: AGPL-3.0-or-later
"""The project is AGPL-3.0-or-later (Synapse is): LICENSE is present and every source
file says so in an SPDX line near its top. Schema .sql files are exempt: the migration
runner records their checksums, so a header added later would break deployed databases."""

from pathlib import Path

from twisted.trial import unittest

ROOT = Path(__file__).resolve().parents[2]
SPDX = "SPDX-License-Identifier: AGPL-3.0-or-later"
SOURCE_DIRS = (
    "homeserver",
    "modules",
    "admin_api",
    "bridges",
    "sdk",
    "tests",
    "benchmarks",
)
SUFFIXES = {".py", ".j2", ".html", ".js", ".css", ".cpp", ".h", ".php", ".java"}
SKIPPED_PARTS = {"__pycache__", "node_modules", "dist", "out"}


def _source_files() -> list[Path]:
    files = []
    for top in (*SOURCE_DIRS, "synapse_config"):
        for path in (ROOT / top).rglob("*"):
            if path.suffix in SUFFIXES and not SKIPPED_PARTS & set(path.parts):
                files.append(path)
    return files


class LicenceTest(unittest.TestCase):
    def test_licence_file(self) -> None:
        text = (ROOT / "LICENSE").read_text(encoding="utf-8")
        self.assertIn("GNU AFFERO GENERAL PUBLIC LICENSE", text)

    def test_every_source_file_has_an_spdx_line(self) -> None:
        files = _source_files()
        self.assertGreater(len(files), 100)
        missing = [
            str(path.relative_to(ROOT))
            for path in files
            if SPDX not in "\n".join(path.read_text(encoding="utf-8").splitlines()[:3])
        ]
        self.assertEqual(missing, [], f"add '# {SPDX}' at the top of these files")
