"""The top-level README's shell commands, run as a reader runs them against a real ``vouch serve``.

The ```sh blocks are parsed from README.md, so a changed README changes what runs here. Only what
a reader substitutes is substituted: the server's URL (the test's free port instead of 8080), the
test key ``vouch serve`` printed on its first start, the verification's ``<id>`` and the proof
token. ``pip install`` is not run (too slow); its distribution names are checked against the
``pyproject.toml`` files instead."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import _free_port, _wait_healthy

REPO = Path(__file__).parents[2]
README = REPO / "README.md"
README_URL = "http://127.0.0.1:8080"
EXAMPLE_URL = "https://vouch.example.com"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the README's commands use curl"),
]


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)


def commands(block: str) -> list[str]:
    """A block's commands: continuation lines joined, trailing ``# …`` comments kept (the shell
    drops them)."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def block_with(needle: str) -> list[str]:
    found = [commands(b) for b in sh_blocks() if needle in b]
    assert len(found) == 1, f"expected one ```sh block with {needle!r} in README.md"
    return found[0]


def prose_command(pattern: str) -> str:
    """A command the README gives inline, in backticks."""
    match = re.search(rf"`({pattern})`", README.read_text())
    assert match, f"README.md no longer says `{pattern}`"
    return match.group(1)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    text = (result.stdout + result.stderr).strip()
    assert "Traceback" not in text, text
    assert "\n" not in text, text
    return text


class Reader:
    """A shell in a fresh directory, with the venv's ``vouch`` on PATH, as after ``make install``."""

    def __init__(self, cwd: Path, base: str) -> None:
        self.cwd = cwd
        self.base = base
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.substitutions: dict[str, str] = {README_URL: base, EXAMPLE_URL: base}

    def run(self, line: str, *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        for written, actual in self.substitutions.items():
            line = line.replace(written, actual)
        return subprocess.run(  # noqa: S602 - the README's line, as a reader pastes it
            line,
            shell=True,
            cwd=cwd or self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


def printed_key(log: Path) -> str:
    """The test key as the first start printed it, copied as a reader copies it."""
    match = re.search(r"test API key \(shown once\):\s+(pk_test_\S+)", log.read_text())
    assert match, log.read_text()
    return match.group(1)


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_make_run_is_vouch_serve_on_the_readmes_url() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert re.search(
        r"^run:.*\n\t\$\(BIN\)/vouch serve --host \$\(HOST\) --port \$\(PORT\)$", makefile, re.M
    )
    assert re.search(r"^HOST\s+\?= 127\.0\.0\.1$", makefile, re.M)
    assert re.search(r"^PORT\s+\?= 8080$", makefile, re.M)
    assert f"serves on {README_URL}" in README.read_text()


def test_the_install_names_are_the_distributions_names() -> None:
    (checkout, published) = block_with("pip install")
    assert checkout.split("#")[0].split() == ["pip", "install", ".", "./sdk/python"]
    names = [
        tomllib.loads((REPO / where / "pyproject.toml").read_text())["project"]["name"]
        for where in (".", "sdk/python")
    ]
    assert published.split("#")[0].split() == ["pip", "install", *names]
    assert f"the server `{names[0]}`" in README.read_text()
    assert f"the client and offline verifier `{names[1]}`" in README.read_text()


def test_the_readmes_commands_run_against_a_fresh_server(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    reader = Reader(tmp_path, base)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        # `make run` is `vouch serve --host 127.0.0.1 --port 8080` in a checkout, data in ./.vouch.
        proc = subprocess.Popen(
            [sys.executable, "-m", "vouch_server.cli.main", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=reader.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base, proc)  # type: ignore[arg-type]
        reader.substitutions["pk_test_…"] = printed_key(log)
        assert (tmp_path / ".vouch").is_dir()

        (create,) = block_with("/api/v1/verifications \\")
        created = reader.run(create)
        assert created.returncode == 0, created.stderr
        verification = json.loads(created.stdout)
        assert verification["status"] == "pending" and verification["test_mode"] is True
        reader.substitutions["<id>"] = verification["id"]

        (test_verify,) = block_with("/test-verify")
        verified = json.loads(reader.run(test_verify).stdout)
        assert verified["status"] == "verified", verified
        token = verified["proof_token"]
        reader.substitutions["<token>"] = token
        reader.env["TOKEN"] = token

        check = prose_command(r"vouch verify --test <token>")
        ok = reader.run(check)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert (
            f"valid TEST proof (test mode: not evidence of anything) issued by {base}" in ok.stdout
        )
        as_json = json.loads(reader.run(f"{check} --json").stdout)
        assert as_json["valid"] is True and as_json["test"] is True
        assert as_json["subject"] == verification["id"]

        # The live recipe, pointed at this server: the files it fetches are a JWKS and a signed
        # list, and they cannot check the quick start's test proof, which names the test list.
        live = block_with("/statuslists/live/0")
        for line in live[:2]:
            assert reader.run(line).returncode == 0
        assert json.loads((tmp_path / "jwks.json").read_text())["keys"]
        assert (tmp_path / "status.jwt").read_text().count(".") == 2
        refused = reader.run(live[2])
        assert refused.returncode == 2  # could not check: the wrong list for this proof
        assert f"this proof's slot is in {base}/statuslists/test/0" in one_line(refused)

        offline = block_with("/statuslists/test/0")
        for line in offline[:2]:
            fetched = reader.run(line)
            assert fetched.returncode == 0, fetched.stderr
        assert json.loads((tmp_path / "jwks.json").read_text())["keys"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()

    # The server is gone: what follows uses only the saved files.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/health", timeout=1)
    valid = reader.run(offline[2])
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "valid TEST proof" in valid.stdout
    assert '"revocation_checked": true' in reader.run(f"{offline[2]} --json").stdout

    reader.env["TOKEN"] = tampered(token)
    forged = reader.run(offline[2])
    assert forged.returncode == 1
    assert one_line(forged).startswith("invalid (invalid_signature)")


def test_the_demo_prints_a_token_a_reader_can_paste(tmp_path: Path) -> None:
    demo = prose_command(r"\.venv/bin/vouch demo")
    reader = Reader(tmp_path, README_URL)
    if not (REPO / ".venv" / "bin" / "vouch").exists():  # a venv made elsewhere (CI, tox)
        reader.substitutions[".venv/bin/"] = f"{Path(sys.executable).parent}/"
    played = reader.run(demo, cwd=REPO)
    assert played.returncode == 0, played.stdout + played.stderr
    assert "revoked" in played.stdout.split("5. verify again")[1]
    section = played.stdout.split("2. test-verify")[1].split("3.")[0]
    assert not set("│╭╮╰╯─┃┏┓┗┛═║") & set(section), section
    (token,) = [line for line in played.stdout.splitlines() if line.startswith("eyJ")]
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token), token
    # Pasted as printed, vouch verify reads it as a proof. Its keys lived in the demo's own
    # temporary server (https://vouch.demo), gone when the demo ends: "could not check", exit 2.
    pasted = reader.run(f"vouch verify --test {token}")
    assert pasted.returncode == 2, pasted.stdout + pasted.stderr
    message = one_line(pasted)
    assert message.startswith("unknown (jwks_unavailable)")
    assert "https://vouch.demo/.well-known/jwks-test.json" in message
    assert "so `vouch verify` answers 2 (could not check) for it" in " ".join(
        README.read_text().split()
    )
