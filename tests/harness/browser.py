# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real headless Chromium for the console's tests: Debian's `chromium` package driven
by Playwright (the pip package; its driver talks to the system browser, nothing is
downloaded). Where no Chromium is installed the tests skip with the reason; under
CI=true they must run (`make test` installs the package as root, like the CJK font).
"""

import atexit
import contextlib
import os
import shutil
import threading
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


# One Chromium per set of launch arguments for the trial process's main thread: a
# launch (and Playwright's driver) costs more than most browser tests; each test still
# gets fresh contexts (their own storage, cache and cookies), closed when its page is
# done. Playwright's sync objects belong to the thread that made them: a page opened on
# another thread (deferToThread in the documents' tests) gets a browser of its own.
_browsers: dict[tuple[str, ...], Any] = {}
_playwright: Any = None


def _browser(args: tuple[str, ...]) -> Any:
    global _playwright  # noqa: PLW0603 - one driver per process, started on first use
    from playwright.sync_api import sync_playwright

    browser = _browsers.get(args)
    if browser is not None and browser.is_connected():
        return browser
    if _playwright is None:
        _playwright = sync_playwright().start()
        atexit.register(_close_browsers)
    # Playwright starts Chromium without its sandbox (it cannot start as root).
    browser = _playwright.chromium.launch(
        executable_path=chromium_path(), args=list(args)
    )
    _browsers[args] = browser
    return browser


def _close_browsers() -> None:
    global _playwright  # noqa: PLW0603
    for browser in _browsers.values():
        with contextlib.suppress(Exception):
            browser.close()
    _browsers.clear()
    if _playwright is not None:
        with contextlib.suppress(Exception):
            _playwright.stop()
        _playwright = None


def _new_page(browser: Any, width: int, height: int) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    # Contexts another_page opened beside this page, closed with it.
    page.others = []
    return page


@contextmanager
def browser_page(
    width: int = 1366, height: int = 768, args: tuple[str, ...] = ()
) -> Iterator[Any]:
    """A fresh page (its own context: sessionStorage, cookies, cache) in a headless
    Chromium at 1366×768. JavaScript errors of the page fail the test that reads
    `page.errors`."""
    if threading.current_thread() is not threading.main_thread():
        with (
            _own_browser(tuple(args)) as browser,
            _page_of(browser, width, height) as page,
        ):
            yield page
        return
    with _page_of(_browser(tuple(args)), width, height) as page:
        yield page


@contextmanager
def _own_browser(args: tuple[str, ...]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=list(args)
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def _page_of(browser: Any, width: int, height: int) -> Iterator[Any]:
    page = _new_page(browser, width, height)
    try:
        yield page
    except BaseException:
        # What the page showed when the test failed, beside the others.
        with contextlib.suppress(Exception):
            screenshot(page, f"failed-{int(time.time())}")
        raise
    finally:
        for context in [page.context, *page.others]:
            with contextlib.suppress(Exception):
                context.close()


def another_page(page: Any, width: int = 1366, height: int = 768) -> Any:
    """A second officer's page in the same browser (its own context: its own
    sessionStorage), closed with the first page; its JavaScript errors in `errors`."""
    other = _new_page(page.context.browser, width, height)
    page.others.append(other.context)
    return other


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
