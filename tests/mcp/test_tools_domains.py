"""The B2B domain verification tools (``mcp/tools_domains.py``) through the official MCP client,
over Streamable HTTP and stdio, against a live vouch whose resolver is a DNS server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from mcp import Client
from tests.control.methods.standins import DnsStandIn
from tests.mcp.conftest import Live, serve
from tests.mcp.test_tools import ok, text_of

Connect = Callable[[Live, "str | None"], Client]
DOMAIN = "acme.example"


@pytest.fixture
def dns() -> Iterator[DnsStandIn]:
    with DnsStandIn() as server:
        yield server


@pytest.fixture
async def live_dns(settings_factory: Any, dns: DnsStandIn) -> AsyncIterator[Live]:
    async with serve(settings_factory, dns_nameservers=dns.nameserver) as server:
        yield server


class TestDomainVerificationTools:
    async def test_start_check_until_the_record_is_served_and_a_verified_one_stays(
        self, live_dns: Live, dns: DnsStandIn, connect: Connect
    ) -> None:
        dns.add(DOMAIN, "NS", "lola.ns.cloudflare.com.")
        async with connect(live_dns, live_dns.keys.test) as client:
            started = await ok(
                client, "start_domain_verification", {"domain": DOMAIN, "customer_id": "cust_1"}
            )
            assert started["status"] == "pending" and started["customer_id"] == "cust_1"
            assert started["provider"] == {"detected": True, "name": "Cloudflare"}
            record = started["dns_record"]
            first = await ok(
                client, "check_domain_verification", {"verification_id": started["id"]}
            )
            assert first["verified"] is False and first["reason"] == "dns_record_not_found"

            dns.add(record["name"], "TXT", f'"{record["value"]}"')
            second = await ok(
                client, "check_domain_verification", {"verification_id": started["id"]}
            )
            assert second["verified"] is True and second["check_count"] == 2
            offline = await ok(
                client,
                "verify_proof_offline",
                {"proof_token": second["proof_token"], "allow_test": True},
            )
            assert offline["valid"] is True and offline["claims"]["sub"] == started["id"]

            refused = await client.call_tool(
                "delete_domain_verification", {"verification_id": started["id"]}
            )
            assert refused.is_error and "[domain_verified]" in text_of(refused)
            still = await ok(client, "get_verification", {"verification_id": started["id"]})
            assert still["status"] == "verified"

    async def test_an_unverified_attempt_is_deleted(self, live_dns: Live, connect: Connect) -> None:
        async with connect(live_dns, live_dns.keys.test) as client:
            started = await ok(
                client,
                "start_domain_verification",
                {"domain": DOMAIN, "verification_method": "http_file"},
            )
            assert started["http_file"]["path"] == "/.well-known/vouch-verify.txt"
            deleted = await ok(
                client, "delete_domain_verification", {"verification_id": started["id"]}
            )
            assert deleted == {
                "success": True,
                "deleted": True,
                "id": started["id"],
                "domain": DOMAIN,
                "status": "pending",
            }
            gone = await client.call_tool(
                "check_domain_verification", {"verification_id": started["id"]}
            )
            assert gone.is_error and "[not_found]" in text_of(gone)
