# SPDX-License-Identifier: AGPL-3.0-or-later
"""Synapse's private surface is reached only through the adapter, modules/common/synapse/.

Outside it, our code may import from `synapse.module_api` (the public module API) and
nothing else of Synapse, and may not reach into private attributes of objects that are
not ours (`request._disconnected`, `api._hs`, getattr(x, "_name")...). An AST scan, not
a type check: a private name counts as ours when our own code outside the adapter
defines it (a `_name` function, class or method, or an assignment to `self._name`)."""

import ast
from pathlib import Path

from twisted.trial import unittest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("modules", "admin_api", "homeserver", "bridges")
ADAPTER = ROOT / "modules" / "common" / "synapse"
PUBLIC_SYNAPSE = "synapse.module_api"
# Public API of namedtuples (urllib's SplitResult and others), underscore or not.
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _files() -> list[Path]:
    files = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if ADAPTER not in path.parents:
                files.append(path)
    return files


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in _files()}


def _our_private_names(trees: dict[Path, ast.Module]) -> set[str]:
    names = set(NAMEDTUPLE_API)
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in (
                    "self",
                    "cls",
                ):
                    names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {name for name in names if _private(name)}


def _synapse_import(node: ast.AST) -> str | None:
    modules: list[str] = []
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        modules = [node.module]
    for module in modules:
        top = module.split(".")[0]
        if top == "synapse" and not (
            module == PUBLIC_SYNAPSE or module.startswith(PUBLIC_SYNAPSE + ".")
        ):
            return module
    return None


def _scan(tree: ast.Module, where: str, ours: set[str]) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        module = _synapse_import(node)
        if module is not None:
            found.append(f"{where}:{node.lineno}: imports {module}")
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and node.attr not in ours
            and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            )
        ):
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
            and node.args[1].value not in ours
        ):
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def violations() -> list[str]:
    trees = _trees()
    ours = _our_private_names(trees)
    found: list[str] = []
    for path, tree in trees.items():
        found += _scan(tree, str(path.relative_to(ROOT)), ours)
    return found


class SynapseSurfaceTest(unittest.TestCase):
    def test_private_synapse_access_only_in_the_adapter(self) -> None:
        self.assertGreater(len(_files()), 100)
        self.assertEqual(
            violations(),
            [],
            "Synapse's private surface belongs in modules/common/synapse/ "
            "(docs/upgrading.md)",
        )

    def test_the_scan_finds_what_it_forbids(self) -> None:
        tree = ast.parse(
            "import synapse.handlers.auth\n"
            "from synapse.api.errors import Codes\n"
            "from synapse.module_api import ModuleApi\n"
            "from synapse.module_api.errors import SynapseError\n"
            "gone = request._disconnected\n"
            "gone = getattr(request, '_disconnected', False)\n"
            "parts = parts._replace(query='')\n"
            "self._api = api\n"
        )
        self.assertEqual(
            _scan(tree, "x.py", _our_private_names(_trees())),
            [
                "x.py:1: imports synapse.handlers.auth",
                "x.py:2: imports synapse.api.errors",
                "x.py:5: request._disconnected",
                "x.py:6: getattr(request, '_disconnected', False)",
            ],
        )
