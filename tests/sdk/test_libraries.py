# SPDX-License-Identifier: AGPL-3.0-or-later
"""The C++, PHP and Java callback crypto libraries in sdk/ each run every case of
sdk/vectors.json with their own runner (compiled once per test run, the compilers in
parallel). A language whose toolchain is absent is skipped with what to install;
under CI=true it must run (`make install` installs the Debian packages as root).

Each runner is also shown a vectors file with one wrong answer and one wrong error
code, and must name both cases: the runners compare, they do not just execute."""

import atexit
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from twisted.trial import unittest

from tests.harness import postgres

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "sdk"
VECTORS = SDK / "vectors.json"
BCPROV = Path(os.environ.get("JWWX_BCPROV", "/usr/share/java/bcprov.jar"))
PACKAGES = {
    "cpp": "g++ libssl-dev",
    "php": "php-cli",
    "java": "default-jdk-headless libbcprov-java",
}


@dataclass
class Runner:
    command: list[str] | None  # the runner, minus the vectors path
    problem: str = (
        ""  # why there is no runner: missing toolchain (skip) or a build error
    )


_built: dict[str, Runner] = {}


def _missing(tools: list[str]) -> str:
    return ", ".join(t for t in tools if shutil.which(t) is None)


def _build_all() -> dict[str, Runner]:
    """Compile the C++ and Java runners side by side, once per process."""
    if _built:
        return _built
    out = Path(tempfile.mkdtemp(prefix="jwwx-sdk-"))
    atexit.register(shutil.rmtree, out, True)
    started: dict[str, tuple[subprocess.Popen, list[str]]] = {}
    if missing := _missing(["g++"]):
        _built["cpp"] = Runner(None, f"no {missing}")
    else:
        cpp = SDK / "cpp"
        binary = str(out / "cpp_vectors")
        build = ["g++", "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{cpp}"]
        build += [str(cpp / "WXBizMsgCrypt.cpp"), str(cpp / "tests/test_vectors.cpp")]
        started["cpp"] = (_spawn([*build, "-lcrypto", "-o", binary]), [binary])
    if missing := _missing(["javac", "java"]):
        _built["java"] = Runner(None, f"no {missing}")
    elif not BCPROV.is_file():
        _built["java"] = Runner(
            None, f"no BouncyCastle at {BCPROV} (or set JWWX_BCPROV)"
        )
    else:
        java = SDK / "java"
        sources = sorted(str(p) for p in java.glob("*/cn/jwwx/callback/*.java"))
        classes = out / "java"
        build = ["javac", "-Xlint:all", "-Werror", "-d", str(classes), *sources]
        run = ["java", "-cp", f"{classes}{os.pathsep}{BCPROV}"]
        started["java"] = (_spawn(build), [*run, "cn.jwwx.callback.VectorsTest"])
    for language, (process, command) in started.items():
        output = process.communicate()[0]
        if process.returncode == 0:
            _built[language] = Runner(command)
        elif "openssl/" in output and "No such file" in output:
            _built[language] = Runner(None, "no OpenSSL headers")
        else:
            _built[language] = Runner(None, f"build failed:\n{output}")
    if missing := _missing(["php"]):
        _built["php"] = Runner(None, f"no {missing}")
    else:
        _built["php"] = Runner(["php", str(SDK / "php/tests/run_vectors.php")])
    return _built


def _spawn(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _run(command: list[str], vectors: Path) -> tuple[int, str]:
    done = subprocess.run(
        [*command, str(vectors)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


class LibraryTests:
    language = ""

    def runner(self) -> list[str]:
        found = _build_all()[self.language]
        if found.command is not None:
            return found.command
        if found.problem.startswith("build failed"):
            raise AssertionError(f"{self.language}: {found.problem}")
        reason = f"{found.problem} (apt-get install {PACKAGES[self.language]})"
        postgres.skip_or_fail(reason, f"the {self.language} SDK test")

    def test_every_vector(self) -> None:
        code, output = _run(self.runner(), VECTORS)
        assert isinstance(self, unittest.TestCase)
        self.assertEqual(code, 0, output)
        self.assertIn(f"{self.language}: ", output)
        self.assertIn(" 0 failed", output)
        self.assertNotIn("FAIL", output)

    def test_a_wrong_vector_fails(self) -> None:
        command = self.runner()
        data = json.loads(VECTORS.read_text(encoding="utf-8"))
        answer = next(c for c in data["cases"] if c["name"] == "sm4-decrypt-text")
        answer["result"] += "x"
        code_case = next(
            c for c in data["cases"] if c["name"] == "aes-decrypt-bad-padding"
        )
        code_case["error"] = -40007
        wrong = Path(tempfile.mkdtemp(prefix="jwwx-sdk-")) / "vectors.json"
        try:
            wrong.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            code, output = _run(command, wrong)
        finally:
            shutil.rmtree(wrong.parent)
        assert isinstance(self, unittest.TestCase)
        self.assertEqual(code, 1, output)
        self.assertIn("FAIL sm4-decrypt-text", output)
        self.assertIn("FAIL aes-decrypt-bad-padding", output)


class CppLibraryTest(LibraryTests, unittest.TestCase):
    language = "cpp"


class PhpLibraryTest(LibraryTests, unittest.TestCase):
    language = "php"


class JavaLibraryTest(LibraryTests, unittest.TestCase):
    language = "java"

    def test_sm4_without_bouncycastle_says_what_to_add(self) -> None:
        """Without bcprov the AES mode works and the SM4 mode answers -40004 with the fix."""
        command = self.runner()
        classpath = command[command.index("-cp") + 1].split(os.pathsep)[0]
        plain = [*command[: command.index("-cp")], "-cp", classpath, command[-1]]
        code, output = _run(plain, VECTORS)
        self.assertEqual(code, 1, output)
        failures = [line for line in output.splitlines() if line.startswith("FAIL")]
        self.assertTrue(failures)
        for line in failures:
            self.assertRegex(line, r"^FAIL (sm4-|new-sm4).*-40004: mode sm4 needs SM4")
