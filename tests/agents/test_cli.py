"""``vouch agents keygen`` / ``vouch agents prove`` (the Typer app the main CLI mounts as
``agents``): a key made and a proof made from the shell verify through the API."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
from typer.testing import CliRunner

from tests.agents.factories import api, challenge, submit
from tests.fixtures.tenancy import Keys
from vouch_client.agents import AgentKey
from vouch_server.agents.cli import app

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> dict[str, object]:
    result = runner.invoke(app, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


class TestKeygen:
    def test_writes_a_private_jwk_only_its_owner_can_read(self, tmp_path: Path) -> None:
        path = tmp_path / "agent.jwk"
        out = run("keygen", "--out", str(path))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        private = json.loads(path.read_text())
        key = AgentKey.from_jwk(private)
        assert out["kid"] == key.thumbprint == private["kid"]
        assert out["public_key"] == key.public_key
        assert "private_jwk" not in out
        assert "d" not in out["jwk"]  # type: ignore[operator]

    def test_without_out_prints_the_private_jwk(self) -> None:
        out = run("keygen")
        assert AgentKey.from_jwk(out["private_jwk"]).public_key == out["public_key"]  # type: ignore[arg-type]

    def test_refuses_to_overwrite_a_key_file(self, tmp_path: Path) -> None:
        path = tmp_path / "agent.jwk"
        run("keygen", "--out", str(path))
        before = path.read_text()
        result = runner.invoke(app, ["keygen", "--out", str(path)])
        assert result.exit_code != 0
        assert path.read_text() == before


class TestProve:
    async def test_proof_from_the_shell_verifies(
        self, client: httpx.AsyncClient, keys: Keys, tmp_path: Path
    ) -> None:
        headers = api(keys.test)
        path = tmp_path / "agent.jwk"
        made = run("keygen", "--out", str(path))
        await client.post(
            "/v1/agents",
            json={"agent_id": "cli-bot", "public_key": made["public_key"]},
            headers=headers,
        )
        ch = await challenge(client, headers, agent_id="cli-bot", context={"order": 7})
        body = run("prove", "--key", str(path), stdin=json.dumps(ch))
        assert body["challenge_id"] == ch["challenge_id"]
        response = await submit(client, headers, str(body["challenge_id"]), str(body["proof"]))
        assert response.status_code == 200, response.text

    def test_challenge_file_and_explicit_intent(self, tmp_path: Path) -> None:
        key = AgentKey.generate()
        (tmp_path / "k.jwk").write_text(json.dumps(key.private_jwk()))
        bare = {"challenge_id": "ch_0123456789abcdef", "nonce": "n0nce"}
        (tmp_path / "ch.json").write_text(json.dumps(bare))
        out = run(
            "prove",
            "--key",
            str(tmp_path / "k.jwk"),
            "--challenge",
            str(tmp_path / "ch.json"),
            "--agent-id",
            "bot",
            "--action",
            "buy",
            "--context",
            '{"b": 2, "a": 1}',
        )
        expected = key.prove(bare, agent_id="bot", action="buy", context={"a": 1, "b": 2})
        assert out["proof"] == expected

    def test_refuses_a_challenge_for_another_action(self, tmp_path: Path) -> None:
        key = AgentKey.generate()
        (tmp_path / "k.jwk").write_text(json.dumps(key.private_jwk()))
        ch = {"challenge_id": "ch_0123456789abcdef", "nonce": "n", "agent_id": "a", "action": "x"}
        result = runner.invoke(
            app,
            ["prove", "--key", str(tmp_path / "k.jwk"), "--action", "y"],
            input=json.dumps(ch),
        )
        assert result.exit_code != 0
        assert "challenge is for 'x'" in result.output

    def test_refuses_a_file_that_is_not_a_private_key(self, tmp_path: Path) -> None:
        (tmp_path / "k.jwk").write_text(json.dumps(AgentKey.generate().public_jwk))
        result = runner.invoke(app, ["prove", "--key", str(tmp_path / "k.jwk")], input="{}")
        assert result.exit_code != 0
