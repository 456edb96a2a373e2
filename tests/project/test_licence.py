# SPDX-License-Identifier: AGPL-3.0-or-later
"""The project is AGPL-3.0-or-later (Synapse is): LICENSE is present and every source
file says so in an SPDX line near its top. Schema .sql files are exempt: the migration
runner records their checksums, so a header added later would break deployed databases.

sdk/ is what app developers link into their own apps: Apache-2.0 (sdk/LICENSE, why in
sdk/README.md), and so is the Python library they copy, modules/openapi/crypto.py, as
a second choice beside the project's AGPL."""

from pathlib import Path

from twisted.trial import unittest

ROOT = Path(__file__).resolve().parents[2]
SPDX = "SPDX-License-Identifier: AGPL-3.0-or-later"
SDK_SPDX = "SPDX-License-Identifier: Apache-2.0"
DUAL = {
    "modules/openapi/crypto.py": "SPDX-License-Identifier: AGPL-3.0-or-later OR Apache-2.0"
}
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

    def test_sdk_licence_file(self) -> None:
        text = (ROOT / "sdk" / "LICENSE").read_text(encoding="utf-8")
        self.assertIn("Apache License", text)
        self.assertIn("Version 2.0", text)

    def test_every_source_file_has_an_spdx_line(self) -> None:
        files = _source_files()
        self.assertGreater(len(files), 100)
        missing = []
        for path in files:
            name = path.relative_to(ROOT).as_posix()
            wanted = DUAL.get(name, SDK_SPDX if name.startswith("sdk/") else SPDX)
            head = path.read_text(encoding="utf-8").splitlines()[:3]
            if not any(wanted in line for line in head):
                missing.append(f"{name}: {wanted}")
        self.assertEqual(missing, [], "add the SPDX line at the top of these files")
