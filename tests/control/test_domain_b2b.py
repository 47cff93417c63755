"""B2B domain verification (``control/domain_b2b.py``) against a DNS server on loopback, over HTTP
and through proof.holdings' SDK (``verifications.start_domain_verification`` / ``check_…`` /
``delete_…``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.control.methods.conftest import Build, Env, build, dns_server  # noqa: F401
from tests.control.methods.standins import DnsStandIn
from tests.fixtures import proof_sdk
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_server.control.domain_b2b import provider_for
from vouch_server.kit.clock import utcnow
from vouch_server.models import Verification

START = "/api/v1/verifications/domain"
DOMAIN = "acme.example"


async def _env(build: Build, dns_server: DnsStandIn) -> Env:  # noqa: F811
    return await build(dns_nameservers=dns_server.nameserver)


async def _start(env: Env, **body: Any) -> dict[str, Any]:
    response = await env.client.post(START, json=body, headers=env.headers())
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def _check(env: Env, id_: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return await env.client.post(f"{START}/{id_}/check", headers=headers or env.headers())


class TestStart:
    async def test_dns_record_file_and_provider_from_ns(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        dns_server.add(DOMAIN, "NS", "lola.ns.cloudflare.com.", "rob.ns.cloudflare.com.")
        data = await _start(env, domain=DOMAIN, customer_id="cust_42")
        assert data["verification_method"] == "manual_dns"
        assert data["dns_record"]["type"] == "TXT"
        assert data["dns_record"]["name"] == f"_vouch.{DOMAIN}"
        assert data["dns_record"]["value"].startswith("vouch-verify=")
        assert data["http_file"] == {
            "path": "/.well-known/vouch-verify.txt",
            "content": data["dns_record"]["value"],
        }
        assert data["provider"] == {"detected": True, "name": "Cloudflare"}
        assert data["customer_id"] == "cust_42" and data["status"] == "pending"
        # It is an ordinary domain verification, carrying the customer as external_user_id.
        row = await env.get(data["id"])
        assert (row["type"], row["channel"], row["external_user_id"]) == (
            "domain",
            "dns",
            "cust_42",
        )

    async def test_unknown_provider_and_http_file_method(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN, verification_method="http_file")
        assert data["provider"] == {"detected": False, "name": None}
        assert (await env.get(data["id"]))["channel"] == "http"

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"domain": ""},
            {"domain": DOMAIN, "verification_method": "auto_dns"},
            {"domain": "a b"},
        ],
    )
    async def test_bad_input_is_400_and_makes_nothing(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
        body: dict[str, Any],
    ) -> None:
        env = await _env(build, dns_server)
        response = await env.client.post(START, json=body, headers=env.headers())
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"error"}
        assert await env.verifications() == 0

    def test_provider_table(self) -> None:
        assert provider_for(["ns-12.awsdns-34.org."]) == "Amazon Route 53"
        assert provider_for(["ns51.domaincontrol.com"]) == "GoDaddy"
        assert provider_for(["ns1.example.net"]) is None


class TestCheck:
    async def test_pending_until_the_txt_record_is_served_then_one_proof(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN)
        first = (await _check(env, data["id"])).json()
        assert first["status"] == "pending" and first["verified"] is False
        assert first["check_count"] == 1 and first["reason"] == "dns_record_not_found"
        assert await env.proofs() == 0

        dns_server.add(data["dns_record"]["name"], "TXT", f'"{data["dns_record"]["value"]}"')
        second = (await _check(env, data["id"])).json()
        assert second["verified"] is True and second["status"] == "verified"
        assert second["check_count"] == 2 and second["verified_at"]
        assert second["proof_token"].startswith("eyJ")
        assert await env.proofs() == 1
        # Checking again mints nothing more.
        third = (await _check(env, data["id"])).json()
        assert third["verified"] is True and third["check_count"] == 2
        assert await env.proofs() == 1

    async def test_a_wrong_value_is_no_proof(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN)
        dns_server.add(data["dns_record"]["name"], "TXT", '"vouch-verify=0000"')
        body = (await _check(env, data["id"])).json()
        assert body["verified"] is False and body["reason"] == "dns_record_mismatch"
        assert await env.proofs() == 0

    async def test_another_project_and_a_non_domain_verification_are_404(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN)
        other = await _check(
            env, data["id"], headers={"Authorization": f"Bearer {env.keys.other_test}"}
        )
        assert other.status_code == 404
        email = await env.created("email", "email", "a@acme.example")
        assert (await _check(env, email["id"])).status_code == 404
        assert (await _check(env, "not-an-id")).status_code == 404


async def _delete(env: Env, id_: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return await env.client.delete(f"{START}/{id_}", headers=headers or env.headers())


async def _verified(env: Env, dns_server: DnsStandIn) -> dict[str, Any]:  # noqa: F811
    data = await _start(env, domain=DOMAIN)
    dns_server.add(data["dns_record"]["name"], "TXT", f'"{data["dns_record"]["value"]}"')
    assert (await _check(env, data["id"])).json()["verified"] is True
    return data


class TestDelete:
    async def test_a_pending_attempt_is_deleted_and_gone(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN, customer_id="cust_9")
        response = await _delete(env, data["id"])
        assert response.status_code == 200, response.text
        assert response.json() == {
            "success": True,
            "deleted": True,
            "id": data["id"],
            "domain": DOMAIN,
            "status": "pending",
        }
        assert await env.verifications() == 0
        assert (await _check(env, data["id"])).status_code == 404
        again = await _delete(env, data["id"])
        assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"

    async def test_an_expired_attempt_is_deleted(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN)
        async with env.runtime.db.session() as session:
            row = await session.get(Verification, data["id"])
            assert row is not None
            row.challenge_expires_at = utcnow() - timedelta(seconds=1)
            await session.commit()
        response = await _delete(env, data["id"])
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "expired"
        assert await env.verifications() == 0

    async def test_a_verified_domain_is_409_and_keeps_its_proof(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _verified(env, dns_server)
        response = await _delete(env, data["id"])
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "domain_verified"
        assert (await env.get(data["id"]))["status"] == "verified"
        assert await env.proofs() == 1

    async def test_a_revoked_domain_is_409_and_stays_revoked(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _verified(env, dns_server)
        revoked = await env.client.post(
            f"/api/v1/proofs/{data['id']}/revoke", json={"reason": "other"}, headers=env.headers()
        )
        assert revoked.status_code == 200, revoked.text
        response = await _delete(env, data["id"])
        assert response.status_code == 409 and response.json()["error"]["code"] == "domain_verified"
        assert (await env.get(data["id"]))["status"] == "revoked"

    async def test_another_project_others_and_ordinary_verifications_are_404(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
    ) -> None:
        env = await _env(build, dns_server)
        data = await _start(env, domain=DOMAIN)
        other = await _delete(
            env, data["id"], headers={"Authorization": f"Bearer {env.keys.other_test}"}
        )
        assert other.status_code == 404 and set(other.json()) == {"error"}
        live = await _delete(env, data["id"], headers=env.headers(live=True))
        assert live.status_code == 404
        # A dns verification made through /api/v1/verifications may be part of a verification
        # request or session: it is not deleted through this route.
        plain = await env.created("domain", "dns", "plain.example")
        email = await env.created("email", "email", "a@acme.example")
        for id_ in (plain["id"], email["id"], "not-an-id"):
            assert (await _delete(env, id_)).status_code == 404
        assert await env.verifications() == 3


class TestThroughTheSdk:
    async def test_start_and_check_satisfy_the_sdk_types(
        self,
        build: Build,  # noqa: F811
        dns_server: DnsStandIn,  # noqa: F811
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        sdk = proof_sdk.load(tmp_path_factory.mktemp("proof_sdk_domain"))
        import importlib

        types = importlib.import_module("proof_sdk.types")
        env = await _env(build, dns_server)
        client = sdk.Proof(env.keys.test, base_url="https://vouch.test", max_retries=0)
        client._http._get_client()._transport = env.client._transport
        try:
            started = await client.verifications.start_domain_verification(
                domain=DOMAIN, customer_id="cust_7"
            )
            assert_satisfies(started, types.DomainVerificationResponse)
            dns_server.add(
                started["dns_record"]["name"], "TXT", f'"{started["dns_record"]["value"]}"'
            )
            checked = await client.verifications.check_domain_verification(started["id"])
            assert_satisfies(checked, types.DomainCheckResponse)
            assert checked["verified"] is True
            with pytest.raises(sdk.ConflictError) as refused:
                await client.verifications.delete_domain_verification(started["id"])
            assert refused.value.code == "domain_verified"

            other = await client.verifications.start_domain_verification(domain="other.example")
            deleted = await client.verifications.delete_domain_verification(other["id"])
            assert deleted["deleted"] is True and deleted["id"] == other["id"]
            with pytest.raises(sdk.NotFoundError):
                await client.verifications.check_domain_verification(other["id"])
        finally:
            await client.close()
