# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real headless Chromium for the console's tests: Debian's `chromium` package driven
by Playwright (the pip package; its driver talks to the system browser, nothing is
downloaded). Where no Chromium is installed the tests skip with the reason; under
CI=true they must run (`make test` installs the package as root, like the CJK font).
"""

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.harness import postgres

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Playwright's waits (its own default is 30 s): CI runs two jobs on a loaded machine; a
# wait that succeeds returns as soon as it does.
WAIT_MS = 90_000
# Where the screenshots go: trial runs in _trial_temp/, they stay there after the run.
SCREENSHOTS = Path("console-screenshots")


def chromium_path() -> str | None:
    wanted = os.environ.get("JWWX_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable_reason() -> str | None:
    if chromium_path() is None:
        return "no Chromium found (apt-get install chromium, or set JWWX_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


def require_browser() -> None:
    postgres.skip_unless_ready(unavailable_reason(), "the browser tests to run")


# Chromium's own stand-ins for a microphone and camera (a tone), and no permission
# prompt for them: what a test of voice recording passes as `args`.
FAKE_MEDIA = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


@contextmanager
def browser_page(
    width: int = 1366, height: int = 768, args: tuple[str, ...] = ()
) -> Iterator[Any]:
    """A fresh page (its own sessionStorage) in a headless Chromium at 1366×768.
    JavaScript errors of the page fail the test that reads `page.errors`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright starts Chromium without its sandbox (it cannot start as root).
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=list(args)
        )
        try:
            page = browser.new_page(
                viewport={"width": width, "height": height}, locale="zh-CN"
            )
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.errors = errors
            try:
                yield page
            except BaseException:
                # What the page showed when the test failed, beside the others.
                screenshot(page, f"failed-{int(time.time())}")
                raise
        finally:
            browser.close()


def another_page(page: Any, width: int = 1366, height: int = 768) -> Any:
    """A second officer's page in the same browser (its own context: its own
    sessionStorage), closed with the browser; its JavaScript errors in `errors`."""
    context = page.context.browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN"
    )
    other = context.new_page()
    other.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    other.on("pageerror", lambda e: errors.append(str(e)))
    other.errors = errors
    return other


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
