# SPDX-License-Identifier: AGPL-3.0-or-later
"""Legacy Word files (.doc) converted first by headless LibreOffice (Debian's
libreoffice-writer-nogui, `soffice`), then imported as .docx (docx_import.py).

Each conversion runs `soffice --headless --convert-to docx` in a temporary folder of
its own with a user profile of its own (two conversions at once would otherwise fight
over one profile), off the reactor thread, within `convert_timeout_seconds`; the
folder is removed afterwards, so no copy of the file stays on disk. Without soffice
the import answers 501 CN_JWWX_DOCS_NO_CONVERTER. Legacy .ppt goes the same way to
.pptx (slide_files.py, which also needs LibreOffice's Impress), and .xls to .xlsx
(sheet_files.py, which needs its Calc): `for_import` is what the three imports call.
A component is found by its registry file beside soffice (share/registry/impress.xcd
of Debian's libreoffice-impress-nogui, calc.xcd of libreoffice-calc-nogui)."""

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from modules.common.errors import error
from modules.common.synapse.errors import Codes

NO_CONVERTER = "CN_JWWX_DOCS_NO_CONVERTER"
# LibreOffice's components beyond Writer: what the 501's message calls them.
COMPONENTS = {"calc": "表格", "impress": "演示"}


class ConversionError(Exception):
    """soffice is missing (missing=True), failed, or did not finish in time."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def soffice(path: str | None) -> str | None:
    return shutil.which(path or "soffice")


def with_component(binary: str | None, component: str) -> str | None:
    """soffice, if LibreOffice's `component` ("calc", "impress") is installed."""
    if binary is None:
        return None
    program = Path(binary).resolve().parent
    registry = program.parent / "share" / "registry" / f"{component}.xcd"
    return binary if registry.exists() else None


async def for_import(
    api: Any,
    config: Any,
    data: bytes,
    source: str,
    target: str,
    component: str | None = None,
) -> bytes:
    """A legacy file converted for an import, off the reactor thread: without soffice
    (or without the `component` it needs) 501 NO_CONVERTER, a file it cannot convert
    400 M_INVALID_PARAM."""
    binary = soffice(config.soffice_path)
    if component is not None:
        binary = with_component(binary, component)
    try:
        return bytes(
            await api.defer_to_thread(
                convert, binary, data, source, target, config.convert_timeout_seconds
            )
        )
    except ConversionError as e:
        if not e.missing:
            raise error(400, Codes.INVALID_PARAM, str(e)) from e
        message = str(e)
        if component is not None:
            message = (
                f"未安装 LibreOffice {COMPONENTS[component]}组件"
                f"（libreoffice-{component}），无法转换 .{source}"
            )
        raise error(501, NO_CONVERTER, message) from e


def convert(
    binary: str | None, data: bytes, source: str, target: str, timeout: int
) -> bytes:
    """The file `data` (extension `source`, e.g. "doc") as `target` (e.g. "docx")."""
    if binary is None:
        raise ConversionError("未安装 LibreOffice（soffice），无法转换旧版格式", True)
    with tempfile.TemporaryDirectory(prefix="jwwx-docs-convert-") as folder:
        work = Path(folder)
        (work / f"in.{source}").write_bytes(data)
        profile = (work / "profile").as_uri()
        try:
            done = subprocess.run(
                [
                    binary,
                    f"-env:UserInstallation={profile}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    target,
                    "--outdir",
                    str(work / "out"),
                    str(work / f"in.{source}"),
                ],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ConversionError(f"转换超时（{timeout} 秒）") from None
        out = work / "out" / f"in.{target}"
        if done.returncode != 0 or not out.exists():
            raise ConversionError(f"无法转换此 .{source} 文件")
        return out.read_bytes()
