"""Smart Reuse over HTTP against the real app: a browser that completed a verification on the
hosted page completes a later request's asset from that proof — with a new proof marked as a
reuse — and nothing else ever does (too old for ``validity_requirement``, revoked, another
project, test into live, a forged or absent cookie, two reuses racing)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE
from vouch_server.kit.clock import utcnow
from vouch_server.models import Verification, WebhookEvent
from vouch_server.runtime import Runtime
from vouch_server.web import person

REQUESTS = "/api/v1/verification-requests"
PUBLIC = "/api/v1/verify/request"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"assets": [{"type": "phone", "identifier": PHONE}], **body}
    response = await client.post(REQUESTS, json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def prove_on_the_page(
    client: httpx.AsyncClient, keys: Keys, headers: dict[str, str] | None = None
) -> str:
    """The person opens a request on the hosted page, starts its phone asset (the page shows
    the code) and the code arrives (test-verify); the page, seen again, names the verification
    in the person cookie. Returns that verification's id."""
    headers = headers or keys.test_headers
    first = await create(
        client, headers, assets=[{"type": "phone", "allowed_channels": ["telegram"]}]
    )
    page = await client.get(f"/verify/{first['id']}")
    started = await client.post(
        f"/verify/{first['id']}",
        data={"csrf": csrf_of(page.text), "asset": "0", "identifier": PHONE},
    )
    assert started.status_code == 303, started.text
    read = await client.get(f"{REQUESTS}/{first['id']}", headers=headers)
    verification_id = read.json()["assets"][0]["verification_id"]
    done = await client.post(
        f"/api/v1/verifications/{verification_id}/test-verify", headers=headers
    )
    assert done.status_code == 200, done.text
    seen = await client.get(f"/verify/{first['id']}")
    assert person.COOKIE in seen.headers.get("set-cookie", "")
    assert "HttpOnly" in seen.headers["set-cookie"] and "Secure" in seen.headers["set-cookie"]
    assert "samesite=lax" in seen.headers["set-cookie"].lower()
    return str(verification_id)


async def auto_verify(
    client: httpx.AsyncClient, request_id: str, index: int = 0, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{PUBLIC}/{request_id}/assets/{index}/auto-verify", json={"reuse_proof": True, **body}
    )


async def verification_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Verification)) or 0)


class TestEligible:
    async def test_a_proof_held_completes_the_asset_with_a_new_proof_marked_as_a_reuse(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        original = await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers, validity_requirement="1h")
        offered = await client.get(f"{PUBLIC}/{second['id']}/proofs")
        assert offered.status_code == 200
        body = offered.json()
        assert body["user_logged_in"] is True and body["reusable_count"] == 1
        assert body["assets"][0]["can_reuse"] is True
        assert PHONE not in offered.text  # masked
        done = await auto_verify(client, second["id"])
        assert done.status_code == 200, done.text
        result = done.json()
        assert result["method"] == "reused_proof" and result["request_status"] == "completed"
        assert result["progress"] == {"verified": 1, "total": 1, "required": 1}
        read = (await client.get(f"{REQUESTS}/{second['id']}", headers=keys.test_headers)).json()
        asset = read["assets"][0]
        assert asset["status"] == "verified" and asset["verification_id"] != original
        claims = claims_of(asset["proof_token"])
        assert claims["reuse"] is True and claims["original_proof_id"] == original
        assert claims["original_verified_at"] == result["original_verified_at"]
        first = await client.get(f"/api/v1/verifications/{original}", headers=keys.test_headers)
        assert claims["original_verified_at"] == first.json()["verified_at"]
        # The new proof is a real one: the server validates it.
        valid = await client.post(
            "/api/v1/proofs/validate",
            json={"proof_token": asset["proof_token"]},
            headers=keys.test_headers,
        )
        assert valid.json()["valid"] is True
        async with runtime.db.session() as session:
            completed = await session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.type == "verification_request.completed")
            )
        assert completed == 2

    async def test_the_hosted_page_offers_the_proof_and_its_form_completes_the_asset(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers)
        page = await client.get(f"/verify/{second['id']}")
        assert 'id="asset-0-reuse"' in page.text and "Use my existing proof" in page.text
        posted = await client.post(
            f"/verify/{second['id']}/reuse", data={"csrf": csrf_of(page.text), "asset": "0"}
        )
        assert posted.status_code == 303
        read = (await client.get(f"{REQUESTS}/{second['id']}", headers=keys.test_headers)).json()
        assert read["status"] == "completed"
        assert claims_of(read["assets"][0]["proof_token"])["reuse"] is True

    async def test_the_reuse_form_without_its_csrf_token_changes_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers)
        before = await verification_count(runtime)
        posted = await client.post(f"/verify/{second['id']}/reuse", data={"asset": "0"})
        assert posted.status_code == 403
        assert await verification_count(runtime) == before

    async def test_an_asset_the_person_identifies_takes_the_identifier_held(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers, assets=[{"type": "phone"}])
        done = await auto_verify(client, second["id"], identifier=PHONE)
        assert done.status_code == 200, done.text
        other = await create(client, keys.test_headers, assets=[{"type": "phone"}])
        refused = await auto_verify(client, other["id"], identifier="+14155550199")
        assert refused.json()["error"]["code"] == "no_existing_proof"


class TestRefused:
    async def test_a_proof_older_than_the_validity_requirement_is_not_reused(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        original = await prove_on_the_page(client, keys)
        async with runtime.db.session() as session:
            await session.execute(
                update(Verification)
                .where(Verification.id == original)
                .values(verified_at=utcnow() - timedelta(hours=3))
            )
            await session.commit()
        strict = await create(client, keys.test_headers, validity_requirement="2h")
        listed = (await client.get(f"{PUBLIC}/{strict['id']}/proofs")).json()
        assert (
            listed["assets"][0] | {"can_reuse": False, "reason": "proof_too_old"}
            == (listed["assets"][0])
        )
        refused = await auto_verify(client, strict["id"])
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "proof_too_old"
        lenient = await create(client, keys.test_headers, validity_requirement="1d")
        assert (await auto_verify(client, lenient["id"])).status_code == 200

    async def test_a_bad_validity_requirement_is_a_400_envelope(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        for bad in ("1y", "0h", "h", "12", "1.5d", " 1d"):
            response = await client.post(
                REQUESTS,
                json={"assets": [{"type": "phone"}], "validity_requirement": bad},
                headers=keys.test_headers,
            )
            assert response.status_code == 400, bad
            error = response.json()["error"]
            assert error["code"] == "validation_error"
            assert error["details"][0]["field"] == "validity_requirement"

    async def test_a_revoked_original_is_not_reused(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        original = await prove_on_the_page(client, keys)
        revoked = await client.post(
            f"/api/v1/proofs/{original}/revoke",
            json={"reason": "fraud"},
            headers=keys.test_headers,
        )
        assert revoked.status_code == 200, revoked.text
        second = await create(client, keys.test_headers)
        refused = await auto_verify(client, second["id"])
        assert refused.json()["error"]["code"] == "no_existing_proof"
        assert "Use my existing proof" not in (await client.get(f"/verify/{second['id']}")).text

    async def test_another_projects_request_cannot_use_the_proof(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await prove_on_the_page(client, keys)
        other = await create(client, keys.auth(keys.other_test))
        refused = await auto_verify(client, other["id"])
        assert refused.json()["error"]["code"] == "no_existing_proof"
        read = await client.get(f"{REQUESTS}/{other['id']}", headers=keys.auth(keys.other_test))
        assert read.json()["assets"][0]["status"] == "pending"

    async def test_a_test_proof_never_completes_a_live_request(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await prove_on_the_page(client, keys)
        live = await create(client, keys.live_headers, assets=[{"type": "phone"}])
        offered = (await client.get(f"{PUBLIC}/{live['id']}/proofs")).json()
        assert offered["reusable_count"] == 0
        refused = await auto_verify(client, live["id"], identifier=PHONE)
        assert refused.json()["error"]["code"] == "no_existing_proof"
        read = await client.get(f"{REQUESTS}/{live['id']}", headers=keys.live_headers)
        assert read.json()["status"] == "pending"

    async def test_without_the_cookie_or_with_a_forged_one_nobody_is_known(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        original = await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers)
        held = client.cookies.get(person.COOKIE)
        assert held
        client.cookies.delete(person.COOKIE)
        anonymous = (await client.get(f"{PUBLIC}/{second['id']}/proofs")).json()
        assert anonymous["user_logged_in"] is False and anonymous["assets"] == []
        assert (await auto_verify(client, second["id"])).status_code == 401
        payload = (
            base64.urlsafe_b64encode(
                json.dumps({"v": [original], "t": int(utcnow().timestamp())}).encode()
            )
            .decode()
            .rstrip("=")
        )
        forged = f"{payload}.{held.rpartition('.')[2]}"  # a mac of another payload
        for value in (forged, f"{payload}.", payload, "garbage"):
            client.cookies.set(person.COOKIE, value, domain="vouch.test")
            refused = await auto_verify(client, second["id"])
            assert refused.status_code == 401, value
            client.cookies.delete(person.COOKIE)
        # An integrator's key does not make anyone the person either.
        keyed = await client.post(
            f"{PUBLIC}/{second['id']}/assets/0/auto-verify",
            json={"reuse_proof": True},
            headers=keys.test_headers,
        )
        assert keyed.status_code == 401
        read = await client.get(f"{REQUESTS}/{second['id']}", headers=keys.test_headers)
        assert read.json()["status"] == "pending"

    async def test_a_stale_cookie_names_nobody(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        original = await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers)
        old = person.value(runtime, [original])
        text, _, _ = old.rpartition(".")
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        data["t"] -= int(person.MAX_AGE.total_seconds()) + 60
        payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        client.cookies.delete(person.COOKIE)
        client.cookies.set(
            person.COOKIE, f"{payload}.{person._mac(runtime, payload)}", domain="vouch.test"
        )
        assert (await auto_verify(client, second["id"])).status_code == 401

    async def test_a_form_post_is_not_accepted_by_the_json_endpoint(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await prove_on_the_page(client, keys)
        second = await create(client, keys.test_headers)
        response = await client.post(
            f"{PUBLIC}/{second['id']}/assets/0/auto-verify", data={"reuse_proof": "true"}
        )
        assert response.status_code in (400, 415)
        assert response.json()["error"]["code"]
        missing = await client.post(f"{PUBLIC}/{second['id']}/assets/0/auto-verify", json={})
        assert missing.status_code == 400
        read = await client.get(f"{REQUESTS}/{second['id']}", headers=keys.test_headers)
        assert read.json()["status"] == "pending"

    async def test_an_asset_already_verified_is_refused(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await prove_on_the_page(client, keys)
        second = await create(
            client,
            keys.test_headers,
            assets=[{"type": "phone", "identifier": PHONE}, {"type": "email"}],
        )
        assert (await auto_verify(client, second["id"])).status_code == 200
        again = await auto_verify(client, second["id"])
        assert again.json()["error"]["code"] == "already_verified"


class TestConcurrency:
    async def test_two_reuses_of_one_asset_complete_it_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        await prove_on_the_page(client, keys)
        second = await create(
            client,
            keys.test_headers,
            assets=[{"type": "phone", "identifier": PHONE}, {"type": "email"}],
        )
        results = await asyncio.gather(*(auto_verify(client, second["id"]) for _ in range(2)))
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 400], [r.text for r in results]
        refused = next(r for r in results if r.status_code == 400)
        assert refused.json()["error"]["code"] == "already_verified"
        async with runtime.db.session() as session:
            reuses = await session.scalars(select(Verification))
            made = [v for v in reuses if (v.method_state or {}).get("reused_from")]
        assert len(made) == 1 and made[0].status == "verified"
