# SPDX-License-Identifier: AGPL-3.0-or-later
"""The rules between packages that import-linter (.importlinter, run by `make lint`)
cannot see: no function-local imports across packages, no private (`_name`) names or
modules of another package, SQL only in a package's storage and only on the tables its
own schema creates. docs/architecture.md, "Surfaces between modules"."""

import ast
import importlib.util
import re
import subprocess
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("modules", "homeserver", "admin_api", "bridges", "benchmarks")
CONTRACTS = (ROOT / ".importlinter").read_text(encoding="utf-8")


def package_of(module: str) -> str:
    """modules.X for the capability packages (modules.common included), else the top."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "modules" and len(parts) > 1 else parts[0]


def source_files() -> Iterator[tuple[Path, str]]:
    for top in CODE:
        for path in sorted((ROOT / top).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield path, module.removesuffix(".__init__")


def imports(node: ast.AST) -> Iterator[tuple[ast.stmt, str, list[str]]]:
    """(statement, imported module, imported names) of our own packages under node."""
    for child in ast.walk(node):
        if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
            names = [a.name for a in child.names]
            if child.module.split(".")[0] in CODE:
                yield child, child.module, names
        elif isinstance(child, ast.Import):
            for alias in child.names:
                if alias.name.split(".")[0] in CODE:
                    yield child, alias.name, []


# The start of an SQL statement (a route's "DELETE" is not one).
SQL = re.compile(
    r"\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s|DELETE\s+FROM\s|WITH\s|CREATE\s"
    r"|ALTER\s|DROP\s|ANALYZE\b|VACUUM\b|PRAGMA\s)"
)
TABLE = re.compile(r"\bjwwx_[a-z0-9_]+")
CREATED = re.compile(
    r"CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(jwwx_[a-z0-9_]+)", re.I
)


def is_storage(path: Path) -> bool:
    """modules/X/storage.py or a file of the package modules/X/storage/."""
    parts = path.relative_to(ROOT / "modules").parts
    return parts[1:2] == ("storage",) or parts[1:] == ("storage.py",)


def sql_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of the SQL statements written in a file; an f-string by its start."""
    parts = {
        id(v)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for v in node.values
    }
    for node in ast.walk(tree):
        text = None
        if id(node) in parts:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
            )
        if text is not None and SQL.match(text):
            yield node.lineno, text


def executes(tree: ast.AST) -> Iterator[int]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "executemany")
        ):
            yield node.lineno


def own_tables(package: Path) -> set[str]:
    tables: set[str] = set()
    for schema in (package / "schema").glob("*.sql*"):
        tables.update(CREATED.findall(schema.read_text(encoding="utf-8")))
    return tables


class SurfaceRulesTest(unittest.TestCase):
    def test_no_function_local_imports_across_packages(self) -> None:
        """An import of another package sits at the top of the file, where readers and
        import-linter's reviewers see it, not inside a function. The launcher is the
        exception: it imports Synapse and the modules only for the commands that need
        them (`init` and `check` stay light)."""
        found = []
        for path, module in source_files():
            if module.split(".")[0] == "homeserver":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for stmt, target, _names in imports(node):
                    if package_of(target) != package_of(module):
                        found.append(f"{path.relative_to(ROOT)}:{stmt.lineno} {target}")
        self.assertEqual(sorted(set(found)), [], "function-local cross-package imports")

    def test_our_imports_resolve(self) -> None:
        """Every import of our own packages names a module that exists (mypy, with
        ignore_missing_imports, would not say when one moves away)."""
        missing = []
        for path, _module in source_files():
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for stmt, target, _names in imports(tree):
                try:
                    found = importlib.util.find_spec(target) is not None
                except ImportError as e:  # a parent package fails to import
                    found, target = False, f"{target} ({e})"
                if not found:
                    missing.append(f"{path.relative_to(ROOT)}:{stmt.lineno} {target}")
        self.assertEqual(missing, [], "imports of modules that do not exist")

    def test_no_private_names_of_other_packages(self) -> None:
        found = []
        for path, module in source_files():
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for stmt, target, names in imports(tree):
                if package_of(target) == package_of(module):
                    continue
                private = [
                    n
                    for n in [*target.split("."), *names]
                    if n.startswith("_") and not n.startswith("__")
                ]
                if private:
                    found.append(
                        f"{path.relative_to(ROOT)}:{stmt.lineno} {target} {private}"
                    )
        self.assertEqual(found, [], "private names imported from another package")

    def test_sql_lives_in_storage(self) -> None:
        """Every package's SQL is in its storage; modules.common (the shared helpers and
        the Synapse adapter, whose SQL is on Synapse's own tables) is the exception."""
        found = []
        for path in sorted((ROOT / "modules").rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[1] == "common" or is_storage(path):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [f"{rel}:{line} SQL" for line, _text in sql_literals(tree)]
            found += [f"{rel}:{line} execute" for line in executes(tree)]
        self.assertEqual(found, [], "SQL outside a storage module")

    def test_storage_uses_only_its_own_tables(self) -> None:
        """A package's SQL names only the tables its own schema creates: another
        package's data is read through that package's public.py."""
        found = []
        for package in sorted(p for p in (ROOT / "modules").iterdir() if p.is_dir()):
            if package.name == "common":
                continue
            mine = own_tables(package)
            files = [package / "storage.py", *sorted(package.glob("storage/*.py"))]
            for path in (f for f in files if f.exists()):
                tree = ast.parse(path.read_text(encoding="utf-8"))
                for line, text in sql_literals(tree):
                    others = set(TABLE.findall(text)) - mine
                    if others:
                        rel = path.relative_to(ROOT)
                        found.append(f"{rel}:{line} {sorted(others)}")
        self.assertEqual(found, [], "SQL on another package's tables")

    def test_the_sql_rules_see_sql(self) -> None:
        tree = ast.parse(
            "x = 'SELECT a FROM jwwx_dir_members'\n"
            "y = f'UPDATE jwwx_acc_totp SET a = {b}'\n"
            "z = ('DELETE', 'route/{id}')\n"
            "txn.execute(q)\n"
        )
        self.assertEqual([line for line, _t in sql_literals(tree)], [1, 2])
        self.assertEqual(list(executes(tree)), [4])
        self.assertIn("jwwx_dir_members", own_tables(ROOT / "modules" / "directory"))

    def test_import_contracts(self) -> None:
        """.importlinter's contracts (storage private, other packages only through
        public.py) also hold when only the tests run."""
        lint_imports = Path(sys.executable).parent / "lint-imports"
        done = subprocess.run(
            [str(lint_imports), "--no-cache"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_every_package_has_its_contracts(self) -> None:
        """A new package under modules/ gets its pair of contracts in .importlinter."""
        contracts = set(
            re.findall(r"^\[importlinter:contract:(.+)\]$", CONTRACTS, re.MULTILINE)
        )
        missing = []
        for package in sorted((ROOT / "modules").iterdir()):
            if not (package / "__init__.py").exists() or package.name == "common":
                continue
            wanted = [f"{package.name}-surface"]
            if (package / "storage.py").exists() or (package / "storage").is_dir():
                wanted.append(f"{package.name}-storage")
            missing += [c for c in wanted if c not in contracts]
        self.assertEqual(missing, [], "contracts missing from .importlinter")

    def test_the_rules_see_our_files(self) -> None:
        """Guards the walk above: it does find imports across packages."""
        modules = dict((m, p) for p, m in source_files())
        self.assertIn("modules.directory.public", modules)
        tree = ast.parse(
            modules["modules.openapi.directory_api"].read_text(encoding="utf-8")
        )
        targets = {t for _s, t, _n in imports(tree)}
        self.assertIn("modules.directory.public", targets)


if __name__ == "__main__":
    unittest.main()
