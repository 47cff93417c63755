"""schemathesis (an independent OpenAPI fuzzer, run as its own process) over every operation of
a live vouch with a test key: no 5xx, no status code or media type the document does not
declare, no response outside its schema.

Bounded for CI: a fixed seed (reproducible), a few examples per operation, two workers; the
event streams are left out (they never end by themselves). Run by hand on this machine it
generated about 5,500 cases over 109 operations (all passed) in 2.5 minutes.

The test also prints (``pytest -s``) how many operations answered 2xx at least once, and which
never did: a case refused with 400/404 only shows that the refusal is documented. With seed 1 on
2026-12-07 that was 60 of 122 operations; explicit ``examples`` on the create bodies (verification,
B2B domain, multi-channel, webhook endpoint, agent) and on the records path (the system signer)
brought it to 80 of 123 — a created object's id is then reused by schemathesis for the operations
that read it. Most of the rest need an object no example can name in advance (a HITL config, a
confirmation, a session, a signed proof)."""

from __future__ import annotations

import asyncio
import collections
import json
import re
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.fixtures.services import PG_URL
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app

SCHEMATHESIS = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
pytestmark = pytest.mark.skipif(
    not Path(SCHEMATHESIS).exists(), reason="schemathesis is not installed (make install)"
)


def answered_2xx(ndjson: Path) -> tuple[list[str], list[str]]:
    """From schemathesis' NDJSON event report: the operations that answered 2xx at least once,
    and those that never did (every case was refused, usually for want of a real id)."""
    statuses: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for line in ndjson.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        recorder = (scenario or {}).get("recorder") or {}
        if "label" not in recorder:
            continue
        counts = statuses[recorder["label"]]
        for interaction in (recorder.get("interactions") or {}).values():
            if interaction.get("response"):
                counts[interaction["response"]["status_code"]] += 1
    ok = sorted(op for op, c in statuses.items() if any(200 <= s < 300 for s in c))
    return ok, sorted(set(statuses) - set(ok))


@pytest.fixture
async def live(settings_factory: Any) -> AsyncIterator[tuple[str, Keys]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings_factory(public_url=url, rate_limit_enabled=False))
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            yield url, keys
        finally:
            server.should_exit = True
            await task
            sock.close()


# One run, on PostgreSQL where the suite has it (CI always does: it is where a text column refuses
# what SQLite keeps, e.g. U+0000), on SQLite otherwise: ~3 minutes of fuzzing is not worth
# paying twice for an API whose routes are the same on both.
@pytest.mark.parametrize("backend", ["postgres" if PG_URL else "sqlite"])
async def test_every_operation_answers_as_documented(
    live: tuple[str, Keys], tmp_path: Path
) -> None:
    url, keys = live
    async with httpx.AsyncClient() as client:
        operations = sum(
            len([m for m in item if m in ("get", "post", "put", "patch", "delete")])
            for path, item in (await client.get(url + "/openapi.json")).json()["paths"].items()
            if not path.endswith("/events")
        )
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS,
        "run",
        f"{url}/openapi.json",
        "-H",
        f"Authorization: Bearer {keys.test}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "10",
        "--seed",
        "1",
        "-w",
        "2",
        "--exclude-path-regex",
        ".*/events$",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(tmp_path / "events.ndjson"),
        # A loaded CI machine can be slow to answer; a lost answer is retried, not a finding.
        "--request-timeout",
        "60",
        "--request-retries",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    report = out.decode(errors="replace")
    # How much of the API the run got past validation and look-ups (shown with pytest -s).
    if (tmp_path / "events.ndjson").exists():
        ok, never = answered_2xx(tmp_path / "events.ndjson")
        print(f"\noperations answering 2xx at least once: {len(ok)}/{len(ok) + len(never)}")
        print("".join(f"  never 2xx: {op}\n" for op in never), end="")
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested is not None, report[-3000:]
    assert int(tested.group(1)) == operations, report[-3000:]
    assert "Failures:" not in report and "❌" not in report, report[-6000:]
    # A request httptools cannot parse (a header schemathesis made up) is refused by uvicorn
    # before vouch sees it, and schemathesis counts the closed connection as a network error;
    # any other kind of error fails the test, and so does a run that ended for another reason.
    errors = re.findall(r"🚫 ([^:\n]+): \d+", report)
    assert all(kind.strip() == "Network Error" for kind in errors), report[-6000:]
    assert process.returncode == 0 or errors, report[-6000:]
