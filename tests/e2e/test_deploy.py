"""The deployment recipes (Dockerfile, compose.yaml, deploy/, docs/self-hosting.md "Deploying")
agree with the code they deploy.

What can be checked without Docker is checked against the real objects: every ``VOUCH_*`` name
against the ``Settings`` model, every command line against the Typer app's own parser, the health
check against the app's ``/health``, the proxies' stream rules against the app's streaming routes,
the trusted-proxy settings through ``scope_client_ip``. ``systemd-analyze verify`` and
``docker build`` run where the machine has them, and skip with the reason otherwise.
"""

from __future__ import annotations

import fnmatch
import inspect
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import yaml
from fastapi import FastAPI

from vouch_server.app import create_app
from vouch_server.cli.main import app as cli_app
from vouch_server.config import Settings
from vouch_server.http import scope_client_ip

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
UNIT = ROOT / "deploy" / "vouch.service"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
NGINX = ROOT / "deploy" / "nginx.conf"
SELF_HOSTING = ROOT / "docs" / "self-hosting.md"

# Files that name VOUCH_* variables for an operator to set.
RECIPES = [
    DOCKERFILE,
    COMPOSE,
    *sorted(p for p in (ROOT / "deploy").iterdir() if p.is_file()),
    SELF_HOSTING,
    ROOT / "README.md",
]

# VOUCH_* names that are not server settings, each with the file that reads it: the test
# suite's services (README, "Development").
NOT_SETTINGS = {
    "VOUCH_TEST_DATABASE_URL": ROOT / "tests" / "fixtures" / "services.py",
    "VOUCH_TEST_REDIS_URL": ROOT / "tests" / "fixtures" / "services.py",
}

VOUCH_NAME = re.compile(r"\bVOUCH_[A-Z0-9_]*[A-Z0-9](_\*)?")


def setting_names() -> set[str]:
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    assert prefix == "VOUCH_"
    return {prefix + name.upper() for name in Settings.model_fields}


def unknown_vouch_names(text: str) -> set[str]:
    """``VOUCH_*`` names in ``text`` that no setting answers to (``VOUCH_SMTP_*`` stands for a
    family and needs one setting with that prefix)."""
    known = setting_names() | set(NOT_SETTINGS)
    unknown = set()
    for match in VOUCH_NAME.finditer(text):
        name = match.group(0)
        if name.endswith("_*"):
            if not any(k.startswith(name[:-1]) for k in known):
                unknown.add(name)
        elif name not in known:
            unknown.add(name)
    return unknown


def resolve_cli(argv: list[str]) -> Any:
    """Parse ``argv`` (``vouch …``) with the real CLI's parser, without running it: an unknown
    command or option, or a bad value, raises the CLI's usage error."""
    assert Path(argv[0]).name == "vouch", argv
    command: Any = typer.main.get_command(cli_app)
    args = list(argv[1:])
    path = ["vouch"]
    while hasattr(command, "commands"):
        assert args, f"{' '.join(path)} needs a subcommand"
        name = args.pop(0)
        assert name in command.commands, f"no command {' '.join([*path, name])}"
        command = command.commands[name]
        path.append(name)
    return command.make_context(" ".join(path), args)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined: list[str] = []
    buffer = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        joined.append(buffer + stripped)
        buffer = ""
    out = []
    for entry in joined:
        keyword, _, rest = entry.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def dockerfile(keyword: str) -> list[str]:
    return [rest for kw, rest in dockerfile_instructions() if kw == keyword]


def exec_form(rest: str) -> list[str]:
    value = json.loads(rest)
    assert isinstance(value, list), f"not the exec form: {rest}"
    return [str(v) for v in value]


def health_url(text: str) -> tuple[int, str]:
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w./-]*)", text)
    assert match, f"no local URL in {text!r}"
    return int(match.group(1)), match.group(2)


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def unit_entries() -> dict[str, list[str]]:
    """``Key=value`` entries of the unit, every value of a repeated key kept in order."""
    entries: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def app_routes(app: FastAPI) -> Iterator[tuple[str, Any]]:
    """Every route's full path, through included routers."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for route in routes:
            if hasattr(route, "path"):
                yield prefix + route.path, route
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    yield from walk(list(app.routes), "")


def streaming_paths(app: FastAPI) -> list[str]:
    """Concrete paths of the routes that answer with a stream: endpoints declared to return a
    ``StreamingResponse`` (Server-Sent Events), and raw ASGI endpoints (MCP's Streamable HTTP)."""
    found = []
    for path, route in app_routes(app):
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            continue
        if inspect.isfunction(endpoint):
            streams = "StreamingResponse" in str(inspect.signature(endpoint).return_annotation)
        else:
            streams = True
        if streams:
            found.append(re.sub(r"\{[^}]+\}", "x", path))
    return found


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("app"), secret_key="x" * 32))


class TestVariableNames:
    @pytest.mark.parametrize("path", RECIPES, ids=lambda p: str(p.relative_to(ROOT)))
    def test_every_vouch_name_is_a_setting(self, path: Path) -> None:
        assert unknown_vouch_names(path.read_text()) == set()

    def test_a_misspelt_name_is_caught(self) -> None:
        assert unknown_vouch_names("VOUCH_PUBLIC_ULR=x VOUCH_NOPE_* VOUCH_SMTP_* ok") == {
            "VOUCH_PUBLIC_ULR",
            "VOUCH_NOPE_*",
        }

    def test_names_that_are_not_settings_are_read_where_listed(self) -> None:
        for name, reader in NOT_SETTINGS.items():
            assert name not in setting_names()
            assert name in reader.read_text()

    def test_the_recipes_set_the_design_contract(self) -> None:
        """DESIGN.md's environment contract: the data dir, database, Redis, public URL and
        master secret are what an operator sets; each recipe names them."""
        env = compose()["services"]["vouch"]["environment"]
        for name in (
            "VOUCH_DATABASE_URL",
            "VOUCH_REDIS_URL",
            "VOUCH_PUBLIC_URL",
            "VOUCH_SECRET_KEY",
        ):
            assert name in env
        assert "VOUCH_DATA_DIR=/var/lib/vouch" in " ".join(dockerfile("ENV"))
        unit_env = (ROOT / "deploy" / "vouch.env.example").read_text()
        for name in ("VOUCH_PUBLIC_URL", "VOUCH_DATABASE_URL", "VOUCH_SECRET_KEY"):
            assert re.search(rf"^{name}=", unit_env, re.M)


class TestDockerfile:
    def test_is_multi_stage_on_slim_python_311(self) -> None:
        stages = dockerfile("FROM")
        assert len(stages) >= 2
        assert stages[0].startswith("python:3.11-slim") and stages[0].endswith("AS builder")
        assert stages[-1].startswith("python:3.11-slim")
        builds = " ".join(dockerfile("RUN")[:2])
        assert "pip wheel" in builds and "./sdk/python" in builds
        install = [r for r in dockerfile("RUN") if "pip install" in r]
        assert install and "from=builder" in install[0] and "--no-index" in install[0]

    def test_runs_as_a_user_that_is_not_root(self) -> None:
        users = dockerfile("USER")
        assert users and users[-1] not in ("root", "0")
        assert "useradd" in " ".join(dockerfile("RUN")) and users[-1] in " ".join(dockerfile("RUN"))

    def test_command_is_a_real_cli_command(self) -> None:
        argv = exec_form(dockerfile("ENTRYPOINT")[-1]) + exec_form(dockerfile("CMD")[-1])
        ctx = resolve_cli(argv)
        assert ctx.command.name == "serve"
        assert ctx.params["host"] == "0.0.0.0"
        assert ctx.params["port"] == 8080

    async def test_healthcheck_asks_the_served_port_and_a_healthy_route(
        self, client: httpx.AsyncClient
    ) -> None:
        (check,) = dockerfile("HEALTHCHECK")
        port, path = health_url(check)
        served = resolve_cli(
            exec_form(dockerfile("ENTRYPOINT")[-1]) + exec_form(dockerfile("CMD")[-1])
        )
        assert port == served.params["port"]
        assert dockerfile("EXPOSE") == [str(port)]
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json()["status"] == "healthy"

    def test_copied_sources_exist_and_are_not_docker_ignored(self) -> None:
        ignored = [
            line.strip()
            for line in (ROOT / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        sources = []
        for rest in dockerfile("COPY"):
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            sources += parts[:-1]
        assert sources
        for source in sources:
            assert (ROOT / source).exists(), source
            for pattern in ignored:
                assert not fnmatch.fnmatch(source, pattern), (source, pattern)
                assert not source.startswith(pattern.rstrip("/") + "/"), (source, pattern)
        # What the build needs from the packages: migrations and the hosted pages' files.
        for needed in ("src/vouch_server/migrations/versions", "src/vouch_server/web/templates"):
            assert any(needed.startswith(s.rstrip("/")) for s in sources), needed

    def test_docker_build(self, tmp_path: Path) -> None:
        docker = shutil.which("docker")
        if docker is None:
            pytest.skip("docker is not installed")
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60)
        if info.returncode != 0:
            pytest.skip(f"no Docker daemon: {info.stderr.strip().splitlines()[-1:]}")
        tag = f"vouch-server:test-{os.getpid()}"
        try:
            build = subprocess.run(
                [docker, "build", "-t", tag, str(ROOT)],
                capture_output=True,
                text=True,
                timeout=1800,
            )
            assert build.returncode == 0, build.stderr[-4000:]
            user = subprocess.run(
                [docker, "image", "inspect", "-f", "{{.Config.User}}", tag],
                capture_output=True,
                text=True,
                check=True,
            )
            assert user.stdout.strip() == "vouch"
            run = subprocess.run(
                [docker, "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=120
            )
            assert run.returncode == 0 and "serve" in run.stdout
        finally:
            subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, check=False)


class TestCompose:
    def test_services_have_healthchecks(self) -> None:
        services = compose()["services"]
        for name in ("vouch", "postgres", "redis"):
            assert name in services
            assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")

    def test_vouch_waits_for_healthy_postgres_and_redis(self) -> None:
        depends = compose()["services"]["vouch"]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"

    def test_vouch_points_at_the_compose_services(self) -> None:
        services = compose()["services"]
        env = services["vouch"]["environment"]
        # ${POSTGRES_PASSWORD:?…} is compose's interpolation: any value will do here.
        url = re.sub(r"\$\{[^}]*\}", "password", env["VOUCH_DATABASE_URL"])
        assert url.startswith("postgresql+asyncpg://")
        database = httpx.URL(url.replace("postgresql+asyncpg://", "postgresql://"))
        postgres = services["postgres"]["environment"]
        assert (database.host, database.port) == ("postgres", 5432)
        assert database.username == postgres["POSTGRES_USER"]
        assert database.path == "/" + postgres["POSTGRES_DB"]
        assert httpx.URL(env["VOUCH_REDIS_URL"]).host == "redis"

    def test_healthcheck_asks_the_port_the_image_serves(self) -> None:
        vouch = compose()["services"]["vouch"]
        port, path = health_url(" ".join(vouch["healthcheck"]["test"]))
        assert (port, path) == health_url(dockerfile("HEALTHCHECK")[0])
        assert any(str(p).endswith(f":{port}") for p in vouch["ports"])

    def test_named_volumes_are_declared_and_hold_the_data(self) -> None:
        data = compose()
        declared = set(data["volumes"])
        for service in data["services"].values():
            for volume in service.get("volumes", []):
                source = str(volume).split(":")[0]
                if source.startswith("."):
                    assert (ROOT / source).exists(), source
                else:
                    assert source in declared, source
        assert "vouch-data:/var/lib/vouch" in data["services"]["vouch"]["volumes"]
        assert any("/var/lib/postgresql/data" in v for v in data["services"]["postgres"]["volumes"])

    def test_only_the_proxy_may_name_the_client(self) -> None:
        """With the proxy profile, vouch believes X-Forwarded-For from Caddy's fixed address and
        from nothing else on the network (the published port arrives from the gateway)."""
        data = compose()
        env = data["services"]["vouch"]["environment"]
        caddy_ip = data["services"]["caddy"]["networks"]["default"]["ipv4_address"]
        subnet = ipaddress.ip_network(data["networks"]["default"]["ipam"]["config"][0]["subnet"])
        assert ipaddress.ip_address(caddy_ip) in subnet
        gateway = str(next(subnet.hosts()))

        def client(peer: str) -> str | None:
            scope = {
                "type": "http",
                "client": (peer, 40000),
                "headers": [(b"x-forwarded-for", b"203.0.113.7")],
            }
            return scope_client_ip(
                scope, trust_forwarded_for=True, trusted_proxies=env["VOUCH_TRUSTED_PROXIES"]
            )

        assert client(caddy_ip) == "203.0.113.7"
        assert client(gateway) == gateway


class TestSystemdUnit:
    def test_is_hardened(self) -> None:
        unit = unit_entries()
        assert unit.get("DynamicUser") == ["yes"] or unit.get("User")
        assert unit["NoNewPrivileges"] == ["yes"]
        assert unit["ProtectSystem"] == ["strict"]
        assert unit["CapabilityBoundingSet"] == [""]
        assert unit["EnvironmentFile"]

    def test_data_dir_is_the_state_directory(self) -> None:
        unit = unit_entries()
        (state,) = unit["StateDirectory"]
        assert f"VOUCH_DATA_DIR=%S/{state}" in unit["Environment"]

    def test_exec_start_is_a_real_cli_command(self) -> None:
        (exec_start,) = unit_entries()["ExecStart"]
        ctx = resolve_cli(shlex.split(exec_start))
        assert ctx.command.name == "serve"

    def test_systemd_analyze_verify(self, tmp_path: Path) -> None:
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            pytest.skip("systemd-analyze is not installed")
        # The unit names the vouch of /opt/vouch; verify checks that ExecStart exists, so the
        # copy points at this environment's.
        (exec_start,) = unit_entries()["ExecStart"]
        here = str(Path(sys.executable).parent / "vouch")
        copy = tmp_path / "vouch.service"
        copy.write_text(UNIT.read_text().replace(shlex.split(exec_start)[0], here))
        result = subprocess.run(
            [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
        )
        # Unknown keys and bad values are only warnings (exit 0): any line about the file fails.
        about_unit = [line for line in result.stderr.splitlines() if "vouch.service" in line]
        assert result.returncode == 0, result.stderr
        assert about_unit == []


class TestReverseProxies:
    def test_there_are_streams_to_check(self, bare_app: FastAPI) -> None:
        paths = streaming_paths(bare_app)
        assert "/mcp" in paths
        assert any(p.endswith("/events") for p in paths)

    def test_nginx_does_not_buffer_streams(self, bare_app: FastAPI) -> None:
        text = NGINX.read_text()
        match = re.search(r"location ~ (\S+) \{(.*?)\n    \}", text, re.S)
        assert match
        pattern, body = re.compile(match.group(1)), match.group(2)
        for path in streaming_paths(bare_app):
            assert pattern.search(path), path
        assert not pattern.search("/api/v1/verifications/x")
        assert "proxy_buffering off;" in body and "gzip off;" in body
        read_timeout = re.search(r"proxy_read_timeout (\d+)([smh]);", body)
        assert read_timeout
        seconds = int(read_timeout.group(1)) * {"s": 1, "m": 60, "h": 3600}[read_timeout.group(2)]
        assert seconds > Settings.model_fields["sse_heartbeat_seconds"].default * 2

    def test_nginx_overwrites_forwarded_for(self) -> None:
        text = NGINX.read_text()
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
        assert "ssl_certificate " in text and "listen 443 ssl" in text

    def test_caddy_flushes_streams(self, bare_app: FastAPI) -> None:
        text = CADDYFILE.read_text()
        match = re.search(r"@streams path (.+)", text)
        assert match
        patterns = match.group(1).split()

        def matches(path: str) -> bool:
            # Caddy's path matcher: a leading or trailing * is a suffix or prefix match.
            return any(
                path.endswith(p[1:])
                if p.startswith("*")
                else path.startswith(p[:-1])
                if p.endswith("*")
                else path == p
                for p in patterns
            )

        for path in streaming_paths(bare_app):
            assert matches(path), path
        assert not matches("/api/v1/verifications/x")
        streams = text[text.index("handle @streams") :]
        assert "flush_interval -1" in streams[: streams.index("}\n")]

    def test_docs_name_every_recipe(self) -> None:
        docs = SELF_HOSTING.read_text()
        section = docs[docs.index("## Deploying") :]
        for path in (DOCKERFILE, COMPOSE, *(ROOT / "deploy").iterdir()):
            assert f"]({os.path.relpath(path, SELF_HOSTING.parent)})" in section, path.name


class TestMigrationLogs:
    def test_upgrade_logs_migrations_without_alembic_plugin_noise(self, tmp_path: Path) -> None:
        """As ``vouch serve`` does it: logging configured first, then the schema migrated."""
        script = (
            "from vouch_server.config import Settings\n"
            "from vouch_server.observability.logs import configure_logging\n"
            "settings = Settings()\n"
            "configure_logging(settings)\n"
            "from vouch_server import db\n"
            "db.upgrade(settings)\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        env |= {
            "VOUCH_DATA_DIR": str(tmp_path),
            "VOUCH_LOG_LEVEL": "INFO",
            "VOUCH_LOG_FORMAT": "text",
        }
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "Running upgrade  -> 0001" in result.stderr  # real migration output stays
        assert "setup plugin" not in result.stderr
        assert (tmp_path / "vouch.db").exists()
