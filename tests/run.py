# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run the whole suite with Twisted trial and end with one plain summary line.

    python -m tests.run [trial arguments…]   (default: all of tests/)

The last line reads "tests: N passed, N failed, N skipped" so any CI reader can count.
"""

import re
import subprocess
import sys

_COUNTS = re.compile(r"(\w+)=(\d+)")


def main() -> int:
    args = sys.argv[1:] or ["tests"]
    process = subprocess.Popen(
        [sys.executable, "-m", "twisted.trial", "--temp-directory=_trial_temp", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    verdict = ""
    for line in process.stdout:
        sys.stdout.write(line)
        if line.startswith(("PASSED", "FAILED")):
            verdict = line.strip()
    code = process.wait()
    counts = {k: int(v) for k, v in _COUNTS.findall(verdict)}
    failed = sum(
        counts.get(k, 0) for k in ("failures", "errors", "unexpectedSuccesses")
    )
    passed = counts.get("successes", 0) + counts.get("expectedFailures", 0)
    skipped = counts.get("skips", 0)
    if not verdict:
        failed = max(failed, 1)
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    if passed == 0 and failed == 0:
        print("tests: no test ran", file=sys.stderr)
        return 1
    return code if code else (1 if failed else 0)


if __name__ == "__main__":
    sys.exit(main())
