"""The ``vouch`` command: key management, migrations, the demo, and ``serve`` as a new user runs it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from vouch_server.cli.main import app

runner = CliRunner()


def invoke(*args: str, data_dir: Path) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


class TestApikeysCreate:
    def test_json_output_and_the_key_works(self, tmp_path: Path) -> None:
        out = invoke(
            "apikeys",
            "create",
            "--project",
            "shop",
            "--create-project",
            "--mode",
            "live",
            "--json",
            data_dir=tmp_path,
        )
        data = json.loads(out)
        assert data["project"] == "shop" and data["mode"] == "live"
        assert re.match(r"^pk_live_[A-Za-z0-9]{32}$", data["key"])
        db_bytes = (tmp_path / "vouch.db").read_bytes()
        assert data["key"].encode() not in db_bytes  # only the hash is stored

    def test_bad_mode_is_refused(self, tmp_path: Path) -> None:
        result = runner.invoke(
            app,
            ["apikeys", "create", "--project", "p", "--mode", "prod", "--data-dir", str(tmp_path)],
        )
        assert result.exit_code != 0

    def test_unknown_project_is_refused_and_nothing_is_created(self, tmp_path: Path) -> None:
        invoke("apikeys", "create", "--project", "shop", "--create-project", data_dir=tmp_path)
        result = runner.invoke(
            app, ["apikeys", "create", "--project", "shpo", "--data-dir", str(tmp_path)]
        )
        assert result.exit_code == 1
        line = result.stderr.strip()
        assert "\n" not in line and "no project named 'shpo'" in line, result.output
        assert "projects: shop" in line and "--create-project" in line
        assert "pk_" not in result.output
        projects = json.loads(invoke("projects", "list", "--json", data_dir=tmp_path))
        assert [p["name"] for p in projects] == ["shop"]
        assert len(json.loads(invoke("apikeys", "list", "--json", data_dir=tmp_path))) == 1

    def test_existing_project_needs_no_flag(self, tmp_path: Path) -> None:
        invoke("apikeys", "create", "--project", "shop", "--create-project", data_dir=tmp_path)
        out = invoke("apikeys", "create", "--project", "shop", "--json", data_dir=tmp_path)
        assert json.loads(out)["project"] == "shop"
        projects = json.loads(invoke("projects", "list", "--json", data_dir=tmp_path))
        assert [(p["name"], p["active_keys"]) for p in projects] == [("shop", 2)]


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class TestListingsAsJson:
    def test_apikeys_list_has_iso_times(self, tmp_path: Path) -> None:
        key = json.loads(
            invoke(
                "apikeys",
                "create",
                "--project",
                "p",
                "--create-project",
                "--json",
                data_dir=tmp_path,
            )
        )["key"]
        invoke("apikeys", "revoke", key[:12], data_dir=tmp_path)
        (row,) = json.loads(invoke("apikeys", "list", "--json", data_dir=tmp_path))
        assert ISO.match(row["created_at"]) and ISO.match(row["revoked_at"]), row

    def test_keys_list_has_iso_times(self, tmp_path: Path) -> None:
        rows = json.loads(invoke("keys", "list", "--json", data_dir=tmp_path))
        for row in rows:
            for name in ("created_at", "not_before", "not_after"):
                assert ISO.match(row[name]), (name, row)
            assert row["withdrawn_at"] is None

    def test_projects_list(self, tmp_path: Path) -> None:
        assert json.loads(invoke("projects", "list", "--json", data_dir=tmp_path)) == []
        invoke("apikeys", "create", "--project", "a", "--create-project", data_dir=tmp_path)
        (row,) = json.loads(invoke("projects", "list", "--json", data_dir=tmp_path))
        assert row["name"] == "a" and row["active_keys"] == 1 and ISO.match(row["created_at"])
        assert "a" in invoke("projects", "list", data_dir=tmp_path)


def _roles(tmp_path: Path, env: str = "live", purpose: str = "proof") -> list[str]:
    listed = json.loads(invoke("keys", "list", "--json", data_dir=tmp_path))
    return [k["role"] for k in listed if k["environment"] == env and k["purpose"] == purpose]


class TestKeys:
    def test_every_environment_and_purpose_has_its_own_signing_key(self, tmp_path: Path) -> None:
        listed = json.loads(invoke("keys", "list", "--json", data_dir=tmp_path))
        groups = sorted((k["environment"], k["purpose"], k["role"]) for k in listed)
        assert groups == [
            ("live", "proof", "signing"),
            ("live", "status-list", "signing"),
            ("test", "proof", "signing"),
            ("test", "status-list", "signing"),
        ]

    def test_rotate_publishes_a_next_key_and_list_shows_roles(self, tmp_path: Path) -> None:
        assert _roles(tmp_path) == ["signing"]
        invoke("keys", "rotate", data_dir=tmp_path)
        assert _roles(tmp_path) == ["signing", "next"]
        invoke("keys", "rotate", "--immediate", data_dir=tmp_path)
        # The first key signed nothing, so it is no longer published once superseded.
        assert _roles(tmp_path) == ["retired", "next", "signing"]
        # Other groups were not touched.
        assert _roles(tmp_path, "test") == ["signing"]
        assert _roles(tmp_path, "live", "status-list") == ["signing"]

    def test_rotate_with_withdraw_old_withdraws_only_that_group(self, tmp_path: Path) -> None:
        out = invoke("keys", "rotate", "--env", "test", "--withdraw-old", data_dir=tmp_path)
        assert "withdrawn:" in out
        assert _roles(tmp_path, "test") == ["withdrawn", "signing"]
        assert _roles(tmp_path) == ["signing"]

    def test_rotate_refuses_an_unknown_group(self, tmp_path: Path) -> None:
        result = runner.invoke(
            app, ["keys", "rotate", "--env", "prod", "--data-dir", str(tmp_path)]
        )
        assert result.exit_code != 0
        result = runner.invoke(
            app, ["keys", "rotate", "--purpose", "delegation", "--data-dir", str(tmp_path)]
        )
        assert result.exit_code != 0


class TestDbUpgrade:
    def test_upgrade_is_idempotent(self, tmp_path: Path) -> None:
        invoke("db", "upgrade", data_dir=tmp_path)
        invoke("db", "upgrade", data_dir=tmp_path)
        assert (tmp_path / "vouch.db").exists()


class TestDemo:
    def test_demo_walks_to_revoked(self, tmp_path: Path) -> None:
        out = invoke("demo", data_dir=tmp_path)
        assert "valid" in out
        assert "revoked" in out.split("5. verify again")[1]

    def test_demo_prints_the_token_plainly_on_one_line(self, tmp_path: Path) -> None:
        out = invoke("demo", data_dir=tmp_path)
        tokens = [line for line in out.splitlines() if line.startswith("eyJ")]
        assert len(tokens) == 1, out
        (token,) = tokens
        assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token), token
        assert jwt.decode(token, options={"verify_signature": False})["test"] is True
        assert not set("│╭╮╰╯─┃") & set(out.split("2. test-verify")[1].split("3.")[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, proc: subprocess.Popen[str], seconds: float = 60) -> None:
    """Until ``/health`` answers 200; fails if the server exits or never gets there."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {proc.communicate()[0]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not answer /health at {base} within {seconds} s")


@pytest.mark.slow
class TestServe:
    def test_fresh_serve_prints_a_key_and_a_working_curl_line(self, tmp_path: Path) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        env["VOUCH_DATA_DIR"] = str(tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "vouch_server.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output = ""
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, proc)
            proc.send_signal(signal.SIGINT)
            output = proc.communicate(timeout=30)[0]
        finally:
            if proc.poll() is None:
                proc.kill()
        key_match = re.search(r"pk_test_[A-Za-z0-9]{32}", output)
        assert key_match, output
        assert f"curl -s -X POST {base}/api/v1/verifications" in output
        # Run the printed curl line's request for real against a second start (same data dir).
        proc = subprocess.Popen(
            [sys.executable, "-m", "vouch_server.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_healthy(base, proc)
            response = httpx.post(
                f"{base}/api/v1/verifications",
                headers={"Authorization": f"Bearer {key_match.group(0)}"},
                json={"type": "phone", "channel": "telegram", "identifier": "+37069199199"},
            )
            assert response.status_code == 201, response.text
            token = httpx.post(
                f"{base}/api/v1/verifications/{response.json()['id']}/test-verify",
                headers={"Authorization": f"Bearer {key_match.group(0)}"},
            ).json()["proof_token"]
            verify = [sys.executable, "-m", "vouch_server.cli.main", "verify", token, "--url", base]
            # The printed key is a test key: its proof is reported as a test proof, not valid.
            live = subprocess.run(verify, env=env, capture_output=True, text=True, timeout=60)
            assert live.returncode == 1, live.stdout + live.stderr
            assert "test_proof" in live.stdout + live.stderr
            ok = subprocess.run(
                [*verify, "--test"], env=env, capture_output=True, text=True, timeout=60
            )
            assert ok.returncode == 0, ok.stdout + ok.stderr
            assert "valid TEST proof" in ok.stdout
            # Without --url the keys are found from the token's own iss (the server's URL).
            by_iss = subprocess.run(
                [*verify[:-2], "--test", "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert by_iss.returncode == 0, by_iss.stdout + by_iss.stderr
            assert json.loads(by_iss.stdout)["issuer"] == base
            httpx.post(
                f"{base}/api/v1/proofs/{response.json()['id']}/revoke",
                headers={"Authorization": f"Bearer {key_match.group(0)}"},
            )
            jwks_only = [*verify[:-2], "--jwks", f"{base}/.well-known/jwks-test.json", "--test"]
            revoked = subprocess.run(jwks_only, env=env, capture_output=True, text=True, timeout=60)
            assert revoked.returncode == 1, revoked.stdout + revoked.stderr
            assert "revoked" in revoked.stdout + revoked.stderr
        finally:
            proc.send_signal(signal.SIGINT)
            second_output = proc.communicate(timeout=30)[0]
        assert "pk_test_" not in second_output  # the key is shown once


class TestServeBindsFirst:
    def test_taken_port_fails_in_one_line_and_creates_nothing(self, tmp_path: Path) -> None:
        data_dir = tmp_path / "fresh"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "vouch_server.cli.main",
                    "serve",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data_dir),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stdout == ""
        line = result.stderr.strip()
        assert "\n" not in line and f"cannot listen on 127.0.0.1:{port}" in line, line
        assert "Traceback" not in result.stderr
        assert not data_dir.exists()  # no database, no project, no key


class TestApikeysRevoke:
    def test_listed_key_can_be_revoked_by_prefix(self, tmp_path: Path) -> None:
        key = json.loads(
            invoke(
                "apikeys",
                "create",
                "--project",
                "p",
                "--create-project",
                "--json",
                data_dir=tmp_path,
            )
        )["key"]
        listed = json.loads(invoke("apikeys", "list", "--json", data_dir=tmp_path))
        assert [k["prefix"] for k in listed] == [key[:12]]
        assert key not in json.dumps(listed)
        invoke("apikeys", "revoke", key[:12], data_dir=tmp_path)
        listed = json.loads(invoke("apikeys", "list", "--json", data_dir=tmp_path))
        assert listed[0]["revoked_at"]
        again = runner.invoke(app, ["apikeys", "revoke", key[:12], "--data-dir", str(tmp_path)])
        assert again.exit_code == 1


def _start(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vouch_server.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("server did not start")


@pytest.mark.slow
class TestCrashDurability:
    def test_acknowledged_changes_survive_kill_9(self, tmp_path: Path) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        env["VOUCH_DATA_DIR"] = str(tmp_path)
        key = json.loads(
            invoke(
                "apikeys",
                "create",
                "--project",
                "p",
                "--create-project",
                "--json",
                data_dir=tmp_path,
            )
        )["key"]
        headers = {"Authorization": f"Bearer {key}"}
        base = f"http://127.0.0.1:{port}"
        proc = _start(env, port)
        try:
            created = httpx.post(
                f"{base}/api/v1/verifications",
                headers=headers,
                json={"type": "phone", "channel": "sms", "identifier": "+37069199199"},
            ).json()
            verified = httpx.post(
                f"{base}/api/v1/verifications/{created['id']}/test-verify", headers=headers
            ).json()
            other = httpx.post(
                f"{base}/api/v1/verifications",
                headers=headers,
                json={"type": "email", "channel": "email", "identifier": "a@example.com"},
            ).json()
            revoked = httpx.post(
                f"{base}/api/v1/proofs/{created['id']}/revoke", headers=headers, json={}
            )
            assert revoked.status_code == 200
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        proc = _start(env, port)
        try:
            after = httpx.get(
                f"{base}/api/v1/verifications/{created['id']}", headers=headers
            ).json()
            assert after["status"] == "revoked"
            assert after["proof_token"] == verified["proof_token"]
            pending = httpx.get(f"{base}/api/v1/verifications/{other['id']}", headers=headers)
            assert pending.json()["status"] == "pending"
            listed = httpx.get(f"{base}/api/v1/proofs/revoked").json()
            assert [e["proof_id"] for e in listed["revoked"]] == [created["id"]]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)


class TestTelegramCommands:
    def test_demo_plays_a_telegram_verification(self, tmp_path: Path) -> None:
        out = invoke("demo", "--channel", "telegram", data_dir=tmp_path)
        assert "[button: Share my phone number]" in out
        assert "the verification is verified" in out
        assert "its proof verifies offline" in out

    def test_set_webhook_registers_url_and_secret(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tests.fixtures.providers import run_fake_api

        with run_fake_api() as api:
            monkeypatch.setenv("VOUCH_TELEGRAM_BOT_TOKEN", "42:token")
            monkeypatch.setenv("VOUCH_TELEGRAM_WEBHOOK_SECRET", "s3cret-s3cret")
            monkeypatch.setenv("VOUCH_TELEGRAM_API_BASE", api.base)
            monkeypatch.setenv("VOUCH_ALLOW_PRIVATE_TARGETS", "true")
            monkeypatch.setenv("VOUCH_PUBLIC_URL", "https://vouch.example.com")
            out = invoke("telegram", "set-webhook", data_dir=tmp_path)
        assert "https://vouch.example.com/inbound/telegram" in out
        (call,) = api.calls_to("/bot42:token/setWebhook")
        assert call.json()["secret_token"] == "s3cret-s3cret"
        assert call.json()["url"] == "https://vouch.example.com/inbound/telegram"
