"""The hosted approval page ``/approve/{token}``: server-rendered HTML under a strict CSP; GET
shows, POST decides (with a comment); the signed token is single-use and expiring, and a replayed,
forged or expired link is refused with a clear page."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.approval.standins import (
    EMAIL,
    create_confirmation,
    create_hitl,
    events_of,
    verify_offline,
)
from tests.channels.email_standins import SmtpSink
from tests.fixtures.tenancy import Keys
from vouch_server.approval import links
from vouch_server.kit.clock import utcnow
from vouch_server.models.delegation import ApprovalLink, Confirmation

WEB = {"type": "web"}


async def web_confirmation(
    dc: httpx.AsyncClient, dkeys: Keys, message: str = "Deploy v2.1 to production?"
) -> tuple[dict[str, Any], str]:
    hitl = await create_hitl(dc, dkeys.test_headers, [WEB])
    created = (
        await create_confirmation(dc, dkeys.test_headers, hitl["id"], message=message)
    ).json()
    return created, created["approval_url"].replace("https://vouch.test", "")


async def fetch(dc: httpx.AsyncClient, dkeys: Keys, id_: str) -> dict[str, Any]:
    return (await dc.get(f"/api/v1/confirmations/{id_}", headers=dkeys.test_headers)).json()  # type: ignore[no-any-return]


class TestPage:
    async def test_get_shows_the_request_and_decides_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created, path = await web_confirmation(dc, dkeys)
        response = await dc.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "Deploy v2.1 to production?" in html
        assert 'name="comment"' in html and 'value="approve"' in html and 'value="deny"' in html
        assert "<script" not in html
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"

    async def test_strict_csp_and_the_shared_stylesheet(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        _, path = await web_confirmation(dc, dkeys)
        response = await dc.get(path)
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; style-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        html = response.text
        assert '<link rel="stylesheet" href="/static/hosted.css">' in html
        assert '<link rel="stylesheet" href="/static/brand/1f6feb.css">' in html
        assert "<style" not in html and "style=" not in html and "<script" not in html
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in html

    async def test_the_message_is_escaped(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        _, path = await web_confirmation(dc, dkeys, message='<script>alert("x")</script> & <b>')
        html = (await dc.get(path)).text
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in html


class TestDecision:
    async def test_approve_with_a_comment(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        created, path = await web_confirmation(dc, dkeys)
        response = await dc.post(path, data={"action": "approve", "comment": "Ship it!"})
        assert response.status_code == 200
        assert "Approved. Thank you." in response.text
        final = await fetch(dc, dkeys, created["id"])
        assert final["status"] == "approved"
        assert final["response"]["channel"] == "web"
        assert final["response"]["text"] == "Ship it!"
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["comment_hash"] == hashlib.sha256(b"Ship it!").hexdigest()
        assert claims["channel"] == "web"
        assert [e["type"] for e in await events_of(dapp, "confirmation.")] == [
            "confirmation.approved"
        ]

    async def test_a_replayed_link_is_refused(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        created, path = await web_confirmation(dc, dkeys)
        await dc.post(path, data={"action": "deny", "comment": "no"})
        replay = await dc.post(path, data={"action": "approve"})
        assert replay.status_code == 409
        assert "already been used" in replay.text
        assert (await dc.get(path)).status_code == 409
        final = await fetch(dc, dkeys, created["id"])
        assert final["status"] == "denied" and final["response"]["text"] == "no"

    @pytest.mark.parametrize("part", ["id", "expiry", "signature"])
    async def test_a_forged_link_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, part: str
    ) -> None:
        created, path = await web_confirmation(dc, dkeys)
        link_id, expiry, signature = path.rsplit("/", 1)[1].split(".")
        if part == "id":
            link_id = link_id[:-1] + ("0" if link_id[-1] != "0" else "1")
        elif part == "expiry":
            expiry = str(int(expiry) + 86400)
        else:
            signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
        forged = f"/approve/{link_id}.{expiry}.{signature}"
        response = await dc.post(forged, data={"action": "approve"})
        assert response.status_code == 404
        assert "not valid" in response.text
        assert response.headers["content-type"].startswith("text/html")
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"

    async def test_garbage_tokens_are_refused(self, dc: httpx.AsyncClient) -> None:
        # ".." alone is a dot segment the client folds into "/" (the landing
        # page), so the dotted shapes here keep a non-dot character.
        for token in ("x", "a" * 300, "...", "a..b", "6b0.1.abc"):
            response = await dc.get(f"/approve/{token}")
            assert response.status_code == 404, token
            assert "not valid" in response.text, token

    async def test_an_expired_link_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        created, path = await web_confirmation(dc, dkeys)
        async with dapp.state.vouch.db.session() as session:
            await session.execute(
                update(Confirmation)
                .where(Confirmation.id == created["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        response = await dc.post(path, data={"action": "approve"})
        assert response.status_code == 409
        assert "expired" in response.text
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "expired"

    async def test_a_link_past_its_own_expiry_is_gone(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        created, _ = await web_confirmation(dc, dkeys)
        runtime = dapp.state.vouch
        async with runtime.db.session() as session:
            _, token = await links.issue(
                session,
                runtime,
                kind="web",
                subject_id=created["id"],
                # Already past: the token is genuine (its MAC covers this expiry), only late.
                expires_at=utcnow() - timedelta(seconds=1),
            )
        response = await dc.post(f"/approve/{token}", data={"action": "approve"})
        assert response.status_code == 410 and "expired" in response.text
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"

    async def test_an_edited_expiry_does_not_match_the_link(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        created, path = await web_confirmation(dc, dkeys)
        async with dapp.state.vouch.db.session() as session:
            link = await session.get(ApprovalLink, path.rsplit("/", 1)[1].split(".")[0])
            assert link is not None
            link.expires_at = utcnow() - timedelta(seconds=1)
        response = await dc.get(path)
        assert response.status_code == 404
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"

    async def test_no_action_is_refused(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        created, path = await web_confirmation(dc, dkeys)
        response = await dc.post(path, data={"comment": "hm"})
        assert response.status_code == 400
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"
        # The link was not used up by a submission that decided nothing.
        assert (await dc.post(path, data={"action": "approve"})).status_code == 200

    async def test_a_decision_on_another_channel_first_is_reported(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created, path = await web_confirmation(dc, dkeys)
        await dc.post(
            f"/api/v1/confirmations/{created['id']}/test-respond",
            json={"action": "deny"},
            headers=dkeys.test_headers,
        )
        response = await dc.post(path, data={"action": "approve"})
        assert response.status_code == 409
        assert "Already denied via test mode." in response.text

    async def test_the_page_is_rate_limited_per_address(
        self, dkeys: Keys, dc: httpx.AsyncClient
    ) -> None:
        _, path = await web_confirmation(dc, dkeys)
        statuses = [(await dc.get(path)).status_code for _ in range(31)]
        assert statuses[:30] == [200] * 30
        assert statuses[30] == 429


class TestEmailLinks:
    async def test_the_email_link_decides_over_the_email_channel(
        self, dc: httpx.AsyncClient, dkeys: Keys, smtp: SmtpSink
    ) -> None:
        hitl = await create_hitl(
            dc, dkeys.test_headers, [{"type": "email", "config": {"address": EMAIL}}]
        )
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        from tests.approval.standins import outbound_of

        [mail] = await outbound_of(dc._transport.app, "approval_request")  # type: ignore[attr-defined]
        deny_url = mail.payload["deny_url"].replace("https://vouch.test", "")
        page = await dc.get(deny_url)
        assert 'class="deny chosen"' in page.text  # the chosen action is preselected, not taken
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"
        await dc.post(deny_url.split("?")[0], data={"action": "deny", "comment": "wrong branch"})
        final = await fetch(dc, dkeys, created["id"])
        assert final["status"] == "denied" and final["response"]["channel"] == "email"
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["decided_by_hash"] == hashlib.sha256(f"email:{EMAIL}".encode()).hexdigest()


class TestConsentPage:
    async def test_email_consent_is_given_on_the_page(
        self, dc: httpx.AsyncClient, dkeys: Keys, smtp: SmtpSink, dapp: FastAPI
    ) -> None:
        created = (
            await dc.post(
                "/api/v1/authorizations",
                json={"channel": "email", "recipient": EMAIL, "business_name": "Acme Deploys"},
                headers=dkeys.live_headers,
            )
        ).json()
        [(_, _, message)] = smtp.messages
        link = next(w for w in message.get_content().split() if "/approve/" in w)
        path = link.replace("https://vouch.test", "")
        page = await dc.get(path)
        assert "Allow Acme Deploys to send you approval requests?" in page.text
        answer = await dc.post(path, data={"action": "allow"})
        assert answer.status_code == 200 and "may now send you approval requests" in answer.text
        final = (
            await dc.get(f"/api/v1/authorizations/{created['id']}", headers=dkeys.live_headers)
        ).json()
        assert final["status"] == "active"
        assert (await verify_offline(dc, final["proof_token"]))["channel"] == "email"
        assert (await dc.post(path, data={"action": "deny"})).status_code == 409
