# SPDX-License-Identifier: AGPL-3.0-or-later
"""Start and stop servers for benchmarks: ours (Synapse + our modules, through our
launcher) and vanilla Synapse (the same launcher-rendered config, `modules: []`).

Both reuse tests.harness.server.TestServer: a temporary data directory, a free loopback
port, SQLite or a fresh PostgreSQL database (UTF8, C collation, from template0; dropped
on stop), and the test overlay conf.d/testing.yaml (bcrypt_rounds 4, rate limits
lifted). Benchmarks say so in their output (OVERLAY_NOTE).
"""

import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from benchmarks.client import Client, HttpError
from homeserver.config_file import load_server_config
from homeserver.health import probe
from homeserver.supervisor import status as supervisor_status
from tests.harness import postgres
from tests.harness.server import (
    START_TIMEOUT,
    TEST_OVERRIDES,
    TestServer,
    free_port,
    free_port_block,
    init_in_process,
)

REPO = Path(__file__).resolve().parents[1]
VANILLA_FILE = "zz-benchmark-vanilla.yaml"
OVERLAY_FILE = "zy-benchmark-overlay.yaml"
SETTINGS_FILE = "zx-benchmark-scenario.yaml"
DEFAULTS_FILE = "zw-benchmark-synapse-defaults.yaml"
# The Synapse settings our rendered config tunes (issue 17, item 8), back at Synapse's
# defaults: `--vanilla-defaults` runs vanilla with these (vanilla as it ships), the
# suite's usual vanilla keeps our tuning (so a ratio shows what the modules cost).
# tests/benchmarks/test_units.py checks that each key is in the rendered config.
SYNAPSE_DEFAULTS: dict[str, Any] = {
    "federation_sender_instances": None,
    "caches": None,
    # Synapse's default: presence on (`presence: null` reads as no section).
    "presence": None,
}
OVERLAY_NOTE = (
    "servers run with the test overlay conf.d/testing.yaml: bcrypt_rounds="
    f"{TEST_OVERRIDES['bcrypt_rounds']}, rate limits lifted (rc_*); both servers alike"
)

TEST_BCRYPT_ROUNDS = int(TEST_OVERRIDES["bcrypt_rounds"])

# `--workers PROFILE` (docs/availability.md, "Capacity"): both sides are ours behind
# the rendered nginx/jwwx.conf, one as a single process ("monolith"), one as the worker
# deployment; PostgreSQL's connections per process, so that the bureau profile's 12
# processes fit a shared test PostgreSQL (max_connections 100): pool size over all
# processes about the monolith's 10.
DEPLOYMENT_POOLS = {"monolith": 10, "small": 3, "bureau": 2}
DEPLOYMENT_FILE = "zv-benchmark-deployment.yaml"
PROFILE_PROCESSES = {"small": 5, "bureau": 12}
WORKERS_START_TIMEOUT = 1200.0
# nginx's connections: two per long-poll (client and upstream); the bureau size has
# 10,000 officers polling at once, plus the page readers and the admin.
NGINX_CONNECTIONS = 24_000

CPU_NOTE = (
    "server CPU: launcher + Synapse (+ PostgreSQL backends); robust to other load"
)


class BenchServer(TestServer):
    """TestServer, optionally as vanilla Synapse (our modules removed via conf.d)."""

    def __init__(
        self,
        engine: str = "sqlite",
        vanilla: bool = False,
        without: tuple[str, ...] = (),
        overlay: Path | None = None,
        module_config: dict[str, dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
        metrics: bool = False,
        smtp_port: int | None = None,
        synapse_defaults: bool = False,
        deployment: str | None = None,
        setup_on_monolith: bool = False,
    ) -> None:
        # `deployment`: None (as `make run` starts it: clients talk to Synapse itself),
        # "monolith" (one process behind nginx) or a worker profile ("small", "bureau":
        # PostgreSQL, a Redis of its own, the supervisor, nginx in front).
        self.deployment = deployment
        self.workers = deployment if deployment not in (None, "monolith") else None
        # `setup_on_monolith` (a worker profile only): the server starts as one process
        # on the deployment's database and ports, the scenario sets its users up there,
        # and `hand_over()` restarts the same data directory and database as the worker
        # deployment (benchmarks/README.md, "Set-up on the monolith").
        self.setting_up = bool(setup_on_monolith and self.workers is not None)
        self._worker_args: tuple[str, ...] = ()
        # A metrics listener (transaction counts) and an SMTP server (our mailer) only
        # for the scenarios that ask for them; the Synapse settings of a scenario
        # (`settings`, e.g. presence off) go to both servers alike.
        self.metrics_port = free_port() if metrics else None
        init_args: tuple[str, ...] = ()
        if self.metrics_port is not None:
            init_args += ("--metrics-port", str(self.metrics_port))
        if smtp_port is not None:
            init_args += ("--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port))
            init_args += ("--mail-from", "noreply@bench.example")
        self.redis_port = 0
        self.nginx_port = 0
        self._redis: subprocess.Popen[bytes] | None = None
        self._nginx: subprocess.Popen[bytes] | None = None
        if deployment is not None:
            self.nginx_port = free_port()
            init_args += ("--nginx-listen", f"127.0.0.1:{self.nginx_port}")
        if self.workers is not None:
            if engine != "postgres":
                raise ValueError("--workers needs --engine postgres")
            processes = PROFILE_PROCESSES[self.workers]
            self.redis_port = free_port()
            # HTTP and replication ports 2 per process; metrics above them.
            base = free_port_block(3 * processes + 2)
            worker_args = ("--workers", self.workers, "--worker-base-port", str(base))
            worker_args += ("--redis-host", "127.0.0.1")
            worker_args += ("--redis-port", str(self.redis_port))
            if self.setting_up:
                self._worker_args = worker_args  # rendered at hand_over()
            else:
                init_args += worker_args
            if self.metrics_port is not None:
                # Main on M, worker k on M + k: all in the block.
                self.metrics_port = base + 2 * processes + 1
                init_args = _replace_option(
                    init_args, "--metrics-port", str(self.metrics_port)
                )
        super().__init__(
            engine=engine, init_args=init_args, module_config=module_config
        )
        self.settings = settings or {}
        self.synapse_defaults = synapse_defaults
        # Ours with some modules left out (`--without`): to find which one costs what.
        self.without = without
        # Extra Synapse settings for both servers alike (`--overlay FILE`).
        self.overlay = overlay
        # Our own prefix: clean-ups of the tests' leftovers (jwwx-test-*) spare us.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir = Path(tempfile.mkdtemp(prefix="jwwx-bench-"))
        self.vanilla = vanilla
        self.label = "vanilla" if vanilla else "ours"
        if deployment == "monolith":
            self.label = "monolith"
        elif self.workers is not None:
            self.label = f"workers-{self.workers}"

    @property
    def running_workers(self) -> str | None:
        """The worker profile now running (None: one process, e.g. while set up)."""
        return None if self.setting_up else self.workers

    @property
    def metrics_ports(self) -> list[int]:
        """Every process's metrics listener (main first)."""
        if self.metrics_port is None:
            return []
        workers = self.running_workers
        count = PROFILE_PROCESSES[workers] if workers else 1
        return [self.metrics_port + k for k in range(count)]

    def hand_over(self) -> float:
        """After a set-up on the monolith: stop it (and nginx), render the worker
        deployment into the same data directory (`init --force-config`: same keys,
        same database, so every account, device, access token and room stays), start
        Redis, the supervisor's processes and nginx (same port). Returns the seconds
        it took. Clients must open new connections (nginx restarted). No-op (0) when
        the server is not being set up on the monolith."""
        if not self.setting_up:
            return 0.0
        began = time.perf_counter()
        self._stop_nginx()
        self._terminate()
        self.render_workers()
        self.setting_up = False
        self._spawn()
        return time.perf_counter() - began

    def render_workers(self) -> None:
        """The worker deployment's config over the monolith's in the data directory
        (`init --force-config`: the keys and secrets kept, the same database)."""
        rendered = yaml.safe_load(
            (self.data_dir / "homeserver.yaml").read_text(encoding="utf-8")
        )
        db = rendered["database"]["args"]
        args = ["init", "--data-dir", str(self.data_dir)]
        args += ["--server-name", self.server_name, "--port", str(self.port)]
        args += [*self.init_args, *self._worker_args, "--force-config"]
        args += ["--pg-db", str(db["dbname"]), "--pg-host", str(db["host"])]
        args += ["--pg-port", str(db["port"]), "--pg-user", str(db["user"])]
        if db.get("password"):
            args += ["--pg-password", str(db["password"])]
        init_in_process(*args)
        if self.module_config:
            self._write_module_config()  # the modules as the workers' config has them

    def _spawn(self) -> None:
        if self.deployment is not None:
            (self.data_dir / "conf.d" / DEPLOYMENT_FILE).write_text(
                yaml.safe_dump(self._pool_settings()), encoding="utf-8"
            )
        if self.running_workers is not None and self._redis is None:
            if shutil.which("redis-server") is None:
                raise RuntimeError(
                    "--workers needs redis-server (apt-get install redis)"
                )
            # A Redis of its own: replication channels are named after the server
            # name, which every test and benchmark server shares.
            self._redis = subprocess.Popen(
                ["redis-server", "--port", str(self.redis_port)]
                + ["--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        if self.synapse_defaults:
            # Sorts before the scenario's settings: those still apply to both.
            (self.data_dir / "conf.d" / DEFAULTS_FILE).write_text(
                yaml.safe_dump(SYNAPSE_DEFAULTS), encoding="utf-8"
            )
        if self.settings:
            # Named to sort after testing.yaml and before --overlay and the modules.
            (self.data_dir / "conf.d" / SETTINGS_FILE).write_text(
                yaml.safe_dump(self.settings), encoding="utf-8"
            )
        if self.overlay is not None:
            # Named to sort after testing.yaml, before the module override below.
            (self.data_dir / "conf.d" / OVERLAY_FILE).write_text(
                self.overlay.read_text(encoding="utf-8"), encoding="utf-8"
            )
        if self.vanilla:
            # conf.d is read after homeserver.yaml; a top-level key replaces the rendered one.
            (self.data_dir / "conf.d" / VANILLA_FILE).write_text(
                yaml.safe_dump({"modules": []}), encoding="utf-8"
            )
        elif self.without:
            rendered = yaml.safe_load(
                (self.data_dir / "homeserver.yaml").read_text(encoding="utf-8")
            )
            kept = [
                m
                for m in rendered.get("modules", [])
                if m["module"].split(".")[-2] not in self.without
            ]
            (self.data_dir / "conf.d" / VANILLA_FILE).write_text(
                yaml.safe_dump({"modules": kept}), encoding="utf-8"
            )
        super()._spawn()
        if self.deployment is not None and self._nginx is None:
            self._start_nginx()

    def _pool_settings(self) -> dict[str, Any]:
        rendered = yaml.safe_load(
            (self.data_dir / "homeserver.yaml").read_text(encoding="utf-8")
        )
        database = rendered["database"]
        pool = DEPLOYMENT_POOLS[self.running_workers or "monolith"]
        database["args"].update(cp_min=1, cp_max=pool)
        # The bureau's last seven workers start at once: on 2 loaded cores they need
        # longer than the supervisor's default 180 s to answer their health checks.
        return {
            "database": database,
            "jwwx_supervisor": {"start_timeout_seconds": WORKERS_START_TIMEOUT},
        }

    def _start_nginx(self) -> None:
        """Debian's nginx with the rendered nginx/jwwx.conf; clients go through it."""
        from tests.homeserver import nginx

        root = self.data_dir / "nginx-run"
        root.mkdir(exist_ok=True)
        conf = nginx.wrapper(
            root, self.data_dir / "nginx" / "jwwx.conf", connections=NGINX_CONNECTIONS
        )
        self._nginx = subprocess.Popen(
            [nginx.nginx_binary(), "-c", str(conf), "-p", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                client = Client(f"http://127.0.0.1:{self.nginx_port}", timeout=5)
                client.ok("GET", "/_matrix/client/versions")
                client.close()
                break
            except (HttpError, OSError):
                if self._nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"nginx did not start: {(root / 'error.log').read_text()}"
                    ) from None
                time.sleep(0.1)
        self.base_url = f"http://127.0.0.1:{self.nginx_port}"

    def restarts(self) -> dict[str, int]:
        """Per process, how often the supervisor started it again (workers only)."""
        if self.running_workers is None:
            return {}
        try:
            current = supervisor_status(self.data_dir)
        except (OSError, ValueError):
            return {}
        return {name: int(p.get("restarts", 0)) for name, p in current.items()}

    def extra_pids(self) -> list[int]:
        """Redis and nginx: part of the deployment's cost."""
        found = []
        for process in (self._redis, self._nginx):
            if process is not None and process.poll() is None:
                found += _process_tree(process.pid)
        return found

    def _stop_nginx(self) -> None:
        self._stop_helper("_nginx")

    def _stop_helper(self, attr: str) -> None:
        process = getattr(self, attr)
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            setattr(self, attr, None)

    def stop(self) -> None:
        for attr in ("_nginx", "_redis"):
            self._stop_helper(attr)
        super().stop()

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        if self.running_workers is not None:
            # The supervisor starts main, then the stream writers, then the other
            # workers, each group within its own start timeout (180 s): on 2 loaded
            # cores the bureau's 12 processes take many minutes.
            super().wait_healthy(WORKERS_START_TIMEOUT)
            deadline = time.monotonic() + WORKERS_START_TIMEOUT
            current: dict[str, Any] = {}
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise RuntimeError(f"supervisor exited:\n{self.log_tail()}")
                try:
                    current = supervisor_status(self.data_dir)
                except (OSError, ValueError):
                    current = {}
                expected = PROFILE_PROCESSES[self.running_workers]
                if len(current) == expected and all(p["up"] for p in current.values()):
                    return
                time.sleep(0.5)
            raise RuntimeError(f"workers not up: {current}\n{self.log_tail()}")
        if not self.vanilla:
            super().wait_healthy(timeout)
            return
        # No modules, so no /_jwwx/client/v1/health: the Matrix API answering is enough.
        config = load_server_config(self.data_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"vanilla server exited:\n{self.log_tail()}")
            client = Client(self.base_url, timeout=5)
            try:
                client.ok("GET", "/_matrix/client/versions")
            except (HttpError, OSError):
                time.sleep(0.1)
                continue
            finally:
                client.close()
            healthy, _why = probe(config)
            if healthy:
                raise RuntimeError("vanilla server still answers our module health")
            return
        raise RuntimeError(f"vanilla server not up after {timeout}s\n{self.log_tail()}")

    def server_version(self, admin_token: str) -> str:
        client = Client(self.base_url, admin_token, timeout=10)
        try:
            result = client.ok("GET", "/_synapse/admin/v1/server_version")
        finally:
            client.close()
        return str(result.get("server_version", "?"))


@contextmanager
def running(
    engine: str,
    vanilla: bool = False,
    without: tuple[str, ...] = (),
    overlay: Path | None = None,
    module_config: dict[str, dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
    metrics: bool = False,
    smtp_port: int | None = None,
    synapse_defaults: bool = False,
    deployment: str | None = None,
    setup_on_monolith: bool = False,
) -> Iterator[BenchServer]:
    """A started server, stopped (and its database dropped) whatever happens."""
    server = BenchServer(
        engine,
        vanilla,
        () if vanilla else without,
        overlay,
        module_config,
        settings,
        metrics,
        smtp_port,
        synapse_defaults,
        deployment,
        setup_on_monolith,
    )
    try:
        started = time.perf_counter()
        server.start()
        print(
            f"[{server.label}] {engine} server up at {server.base_url} "
            f"in {time.perf_counter() - started:.1f}s (data {server.data_dir})",
            flush=True,
        )
        yield server
    finally:
        server.stop()


def _replace_option(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    at = args.index(option)
    return args[: at + 1] + (value,) + args[at + 2 :]


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.stdout.strip() if out.returncode == 0 else "?"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _postgres_settings() -> dict[str, str]:
    """Server version and the settings that change plans (autovacuum: statistics)."""
    try:
        conn = postgres.connect("postgres")
    except Exception as e:  # noqa: BLE001 - informational only
        return {"postgres": f"unavailable ({type(e).__name__})"}
    found: dict[str, str] = {}
    try:
        with conn.cursor() as cur:
            for name in ("server_version", "autovacuum", "shared_buffers", "work_mem"):
                cur.execute(f"SHOW {name}")
                row = cur.fetchone()
                found[f"postgres_{name}"] = str(row[0]) if row else "?"
    finally:
        conn.close()
    return found


def load_average() -> str:
    """1/5/15-minute load averages: other work on the machine skews every number."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine_info(engine: str) -> dict[str, Any]:
    import synapse

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "synapse": synapse.__version__,
        "engine": engine,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "loadavg_start": load_average(),
    }
    if engine == "postgres":
        info.update(_postgres_settings())
    return info


def pg_last_analyzed(dbname: str, tables: tuple[str, ...]) -> dict[str, str]:
    """When each table last got planner statistics (auto or manual); 'never' if not."""
    conn = postgres.connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT relname, GREATEST(last_analyze, last_autoanalyze)"
                " FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                (list(tables),),
            )
            return {str(r[0]): str(r[1] or "never") for r in cur.fetchall()}
    finally:
        conn.close()


def pg_table_reads(dbname: str) -> dict[str, tuple[int, int]]:
    """Rows read so far per table: (by sequential scans, through indexes). The
    statistics lag: a backend reports at most every second, an idle one within 10 s."""
    conn = postgres.connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT relname, COALESCE(seq_tup_read, 0), COALESCE(idx_tup_fetch, 0)"
                " FROM pg_stat_user_tables"
            )
            return {str(r[0]): (int(r[1]), int(r[2])) for r in cur.fetchall()}
    finally:
        conn.close()


def _proc_cpu(pid: int) -> tuple[float, int]:
    """(user+system CPU seconds, parent pid) of a process; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK"), int(fields[1])


def _pg_backend_pids(dbname: str) -> list[int]:
    conn = postgres.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,)
            )
            return [int(r[0]) for r in cur.fetchall()]
    finally:
        conn.close()


def _process_tree(root: int) -> list[int]:
    """root and all its descendants (the launcher and the Synapse under it)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            _cpu, parent = _proc_cpu(int(entry.name))
            children.setdefault(parent, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def server_pids(server: TestServer) -> list[int]:
    """The launcher and every Synapse process under it (the supervisor's workers), and
    a deployment's own Redis and nginx."""
    process = server._process  # noqa: SLF001 - the harness keeps the handle private
    pids = [] if process is None else _process_tree(process.pid)
    if isinstance(server, BenchServer):
        pids += server.extra_pids()
    return pids


def server_cpu_seconds(server: TestServer) -> float:
    """CPU time used so far by the launcher, Synapse under it and, on PostgreSQL, the
    backends connected to its database: what the server costs, whatever else runs on
    the machine. Backends that already exited are not counted."""
    pids = server_pids(server)
    if not pids:
        return 0.0
    if server.pg_database:
        pids += _pg_backend_pids(server.pg_database)
    return sum(_proc_cpu(pid)[0] for pid in pids)


def synapse_name(pid: int) -> str | None:
    """The name of a Synapse process, "main" or the worker's (from its command line: the
    supervisor gives a worker its workers/NAME.yaml last), None for anything else."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    words = [a.decode("utf-8", "replace") for a in args if a]
    if "synapse.app.generic_worker" in words:
        configs = [w for w in words if w.endswith(".yaml")]
        return Path(configs[-1]).stem if configs else "worker"
    if "synapse.app.homeserver" in words or "homeserver.synapse_main" in words:
        return "main"
    return None


def synapse_processes(server: TestServer) -> dict[str, int]:
    """Every Synapse process of the server by name ("main", the workers' names)."""
    found: dict[str, int] = {}
    for pid in server_pids(server):
        name = synapse_name(pid)
        if name is not None:
            found.setdefault(name, pid)
    return found


def server_cpu_by_process(server: TestServer) -> dict[str, float]:
    """server_cpu_seconds split by process: each Synapse process by name, the
    PostgreSQL backends of its database together ("postgres"), and the launcher,
    supervisor, nginx and Redis together ("other")."""
    split: dict[str, float] = {}
    for pid in server_pids(server):
        name = synapse_name(pid) or "other"
        split[name] = split.get(name, 0.0) + _proc_cpu(pid)[0]
    if split and server.pg_database:
        split["postgres"] = sum(
            _proc_cpu(pid)[0] for pid in _pg_backend_pids(server.pg_database)
        )
    return split


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_rss_mib(server: TestServer) -> float:
    """Resident memory of the launcher and Synapse (not PostgreSQL), in MiB."""
    return sum(_rss_kib(pid) for pid in server_pids(server)) / 1024


class CpuMeter:
    """`with CpuMeter(server) as cpu: ...` then cpu.seconds: server CPU used inside."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> "CpuMeter":
        self._start = server_cpu_seconds(self.server)
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = server_cpu_seconds(self.server) - self._start
