# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the benchmarks' smoke tests share: run a benchmark as its own process, as a
person would, with `--json`, and read its report's rows."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]


def report_rows(
    case: unittest.TestCase, module: str, *args: str
) -> dict[tuple[str, str], dict[str, Any]]:
    """`python -m module args --json OUT` must exit 0; its rows by (scenario, metric)."""
    folder = Path(tempfile.mkdtemp(prefix="jwwx-bench-smoke-"))
    case.addCleanup(shutil.rmtree, folder, ignore_errors=True)
    out = folder / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", module, *args, "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    case.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
    return {
        (r["scenario"], r["metric"]): r
        for r in json.loads(out.read_text(encoding="utf-8"))["rows"]
    }
