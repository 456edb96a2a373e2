# SPDX-License-Identifier: AGPL-3.0-or-later
"""Legacy Word files (.doc) converted first by headless LibreOffice (Debian's
libreoffice-writer-nogui, `soffice`), then imported as .docx (docx_import.py).

Each conversion runs `soffice --headless --convert-to docx` in a temporary folder of
its own with a user profile of its own (two conversions at once would otherwise fight
over one profile), off the reactor thread, within `convert_timeout_seconds`; the
folder is removed afterwards, so no copy of the file stays on disk. Without soffice
the import answers 501 CN_JWWX_DOCS_NO_CONVERTER. Legacy .ppt goes the same way to
.pptx (slide_files.py, which also needs LibreOffice's Impress), and .xls to .xlsx
(sheet_files.py, which needs its Calc)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

NO_CONVERTER = "CN_JWWX_DOCS_NO_CONVERTER"


class ConversionError(Exception):
    """soffice is missing (missing=True), failed, or did not finish in time."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def soffice(path: str | None) -> str | None:
    return shutil.which(path or "soffice")


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
