# SPDX-License-Identifier: AGPL-3.0-or-later
"""Keeps clients/web/dist/ built from the sources beside it (docs/web_client.md).

`python -m modules.web_client.bundle` (run by `make install`, so by `make run` and
`make test`): when the committed bundle's stamp (dist/SOURCE_HASH) differs from the
hash of the sources, rebuilds it with `npm ci` and `npm run build` if node and npm are
installed; without them it says so and the committed bundle is served as it is. On a
fresh clone the stamp matches and nothing runs, so the tests never wait for a build.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "clients" / "web"
STAMP_NAME = "SOURCE_HASH"
# What the bundle is built from; node_modules and dist are not sources.
SOURCES = ("package.json", "package-lock.json", "vite.config.js", "index.html", "src")


def source_files(web: Path = WEB) -> list[Path]:
    found: list[Path] = []
    for name in SOURCES:
        path = web / name
        found += (
            sorted(p for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else [path]
        )
    return found


def source_hash(web: Path = WEB) -> str:
    digest = hashlib.sha256()
    for path in source_files(web):
        digest.update(path.relative_to(web).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def built_hash(web: Path = WEB) -> str | None:
    stamp = web / "dist" / STAMP_NAME
    return stamp.read_text(encoding="ascii").strip() if stamp.is_file() else None


def build(web: Path = WEB) -> None:
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
        subprocess.run(command, cwd=web, check=True)
    (web / "dist" / STAMP_NAME).write_text(source_hash(web) + "\n", encoding="ascii")


def main(web: Path = WEB) -> int:
    """Also for another client laid out the same way (clients/docs: the document
    editor), named as the first argument relative to the repository."""
    name = web.relative_to(WEB.parents[1]).as_posix()
    if built_hash(web) == source_hash(web):
        return 0
    if shutil.which("node") is None or shutil.which("npm") is None:
        print(
            f"make: {name} changed since dist/ was built, and node/npm are not "
            "installed: serving the committed bundle (install nodejs and npm to rebuild)"
        )
        return 0
    print(f"make: building {name} (npm ci, npm run build)")
    try:
        build(web)
    except subprocess.CalledProcessError as e:
        print(f"make: building {name} failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(WEB.parents[1] / sys.argv[1] if len(sys.argv) > 1 else WEB))
