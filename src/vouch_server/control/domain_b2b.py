"""B2B domain verification, in proof.holdings' shape: ``POST /api/v1/verifications/domain`` and
``POST /api/v1/verifications/domain/{id}/check``, and ``DELETE /api/v1/verifications/domain/{id}``
(proof.holdings' SDK 1.2.0 ``delete_domain_verification``).

Nothing new is checked here. A B2B domain verification is a verification of ``type: domain``
(``manual_dns`` → channel ``dns``, ``http_file`` → channel ``http``) made by the control
service, with the business's ``customer_id`` carried as its ``external_user_id`` (so it is listed
under ``/api/v1/verifications/users`` too). ``check`` runs that method's own check — the DNS TXT
look-up with dnspython, or the file fetched through the SSRF guard (``methods/domain.py``) — and
a proof is minted only when that check found the record or the file.

``DELETE`` removes an attempt that never produced a proof (pending, failed or expired) and was
started here; a verification that minted a proof (verified, or since revoked) is refused with 409
``domain_verified``, as proof.holdings refuses it: its proof, its status-list entry and any
revocation record stay, and the way to withdraw it is ``POST /api/v1/proofs/{id}/revoke``.

``provider`` names the DNS host from the domain's NS records (one look-up, through the same
resolver the TXT check uses), mapped by :data:`DNS_PROVIDERS`, the one table of them. It is a hint
for the instructions a caller shows; nothing depends on it.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import dns.exception
import dns.resolver
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from vouch_server.config import Settings
from vouch_server.control import repository, service
from vouch_server.control.catalog import AssetType, Channel
from vouch_server.control.methods.domain import (
    FILE_PATH,
    build_resolver,
    expected_value,
    record_name,
)
from vouch_server.control.schemas import CreateVerification
from vouch_server.deps import ApiCaller, RuntimeDep, Session
from vouch_server.errors import Conflict, NotFound
from vouch_server.kit.clock import isoformat_ms
from vouch_server.models import Verification
from vouch_server.openapi import documented

router = APIRouter(prefix="/api/v1/verifications/domain", tags=["verifications"])

METHOD_CHANNELS: Final = {"manual_dns": "dns", "http_file": "http"}
# Attempts that may be deleted: none of them ever minted a proof.
DELETABLE_STATUSES: Final = ("pending", "failed", "expired")
# Marks, in method_state, a verification this module started (only those may be deleted here:
# one made through /api/v1/verifications may belong to a verification request or a session).
STARTED_HERE: Final = "b2b"
CHANNEL_METHODS: Final = {v: k for k, v in METHOD_CHANNELS.items()}
# NS host suffix → provider name. The first suffix a domain's name server ends with wins.
DNS_PROVIDERS: Final[tuple[tuple[str, str], ...]] = (
    (".ns.cloudflare.com", "Cloudflare"),
    (".awsdns-", "Amazon Route 53"),  # ns-123.awsdns-45.org: matched inside the name
    (".domaincontrol.com", "GoDaddy"),
    (".googledomains.com", "Google Domains"),
    (".google.com", "Google Cloud DNS"),
    (".azure-dns.com", "Azure DNS"),
    (".digitalocean.com", "DigitalOcean"),
    (".registrar-servers.com", "Namecheap"),
    (".hetzner.com", "Hetzner"),
    (".ovh.net", "OVHcloud"),
    (".gandi.net", "Gandi"),
    (".vercel-dns.com", "Vercel"),
    (".nsone.net", "NS1"),
    (".dnsimple.com", "DNSimple"),
    (".linode.com", "Akamai (Linode)"),
)


def provider_for(nameservers: list[str]) -> str | None:
    for host in nameservers:
        name = "." + host.lower().rstrip(".")
        for suffix, provider in DNS_PROVIDERS:
            if name.endswith(suffix) or (suffix.endswith("-") and suffix in name):
                return provider
    return None


async def detect_provider(domain: str, settings: Settings) -> dict[str, Any]:
    try:
        resolver = await build_resolver(settings)
        answer = await resolver.resolve(domain, "NS", raise_on_no_answer=False, search=False)
    except (dns.exception.DNSException, OSError, ValueError):
        return {"detected": False, "name": None}
    hosts = [str(r.target) for r in answer.rrset] if answer.rrset is not None else []
    name = provider_for(hosts)
    return {"detected": name is not None, "name": name}


class StartDomainB2B(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"domain": "example.com", "customer_id": "cust_42"}]},
    )

    domain: str = Field(min_length=1, max_length=253)
    customer_id: str | None = Field(default=None, min_length=1, max_length=255)
    verification_method: Literal["manual_dns", "http_file"] = "manual_dns"


class DnsRecordOut(BaseModel):
    type: Literal["TXT"]
    name: str
    value: str


class HttpFileOut(BaseModel):
    path: str
    content: str


class DnsProviderOut(BaseModel):
    detected: bool
    name: str | None


class DomainB2BOut(BaseModel):
    """A B2B domain verification as ``POST /api/v1/verifications/domain`` answers it."""

    id: str
    domain: str
    status: str
    verification_method: Literal["manual_dns", "http_file"]
    customer_id: str | None
    dns_record: DnsRecordOut
    http_file: HttpFileOut
    provider: DnsProviderOut
    expires_at: str
    test_mode: bool


class DomainB2BDeletedOut(BaseModel):
    success: bool
    deleted: bool
    id: str
    domain: str
    status: str = Field(description="The status the attempt had when it was deleted.")


class DomainB2BCheckOut(BaseModel):
    id: str
    domain: str
    status: str
    verified: bool
    verified_at: str | None
    check_count: int
    reason: str | None = None
    message: str | None = None
    proof_token: str | None = None


def _b2b(verification: Verification) -> Verification:
    if verification.type != "domain" or verification.channel not in CHANNEL_METHODS:
        raise NotFound("Domain verification not found")
    return verification


@router.post("", **documented(DomainB2BOut, 201))
async def start_domain_verification(
    body: StartDomainB2B, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    create = CreateVerification(
        type=AssetType("domain"),
        channel=Channel(METHOD_CHANNELS[body.verification_method]),
        identifier=body.domain,
        external_user_id=body.customer_id,
    )
    verification, _ = await service.create(session, runtime, caller, body=create)
    verification.method_state = {**(verification.method_state or {}), STARTED_HERE: True}
    await session.flush()
    settings = runtime.settings
    value = expected_value(verification)
    return {
        "id": verification.id,
        "domain": verification.identifier,
        "status": verification.status,
        "verification_method": body.verification_method,
        "customer_id": verification.external_user_id,
        "dns_record": {
            "type": "TXT",
            "name": record_name(verification.identifier, settings),
            "value": value,
        },
        "http_file": {"path": FILE_PATH, "content": value},
        "provider": await detect_provider(verification.identifier, settings),
        "expires_at": isoformat_ms(verification.challenge_expires_at),
        "test_mode": verification.environment == "test",
    }


@router.post("/{verification_id}/check", **documented(DomainB2BCheckOut))
async def check_domain_verification(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """Look for the record (or file) now. Only a pending verification is checked; the answer
    counts the checks made, and says why one found nothing."""
    verification = _b2b(await service.get(session, runtime, caller, verification_id))
    check: dict[str, Any] = {}
    if verification.status == "pending":
        verification, check = await service.verify_now(session, runtime, caller, verification.id)
        state = dict(verification.method_state or {})
        state["check_count"] = int(state.get("check_count", 0)) + 1
        verification.method_state = state
        await session.flush()
    count = int((verification.method_state or {}).get("check_count", 0))
    verified = verification.status == "verified"
    return {
        "id": verification.id,
        "domain": verification.identifier,
        "status": verification.status,
        "verified": verified,
        "verified_at": isoformat_ms(verification.verified_at) if verification.verified_at else None,
        "check_count": count,
        "reason": check.get("reason"),
        "message": check.get("message"),
        "proof_token": verification.proof_token if verified else None,
    }


@router.delete("/{verification_id}", **documented(DomainB2BDeletedOut))
async def delete_domain_verification(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """Delete an attempt that never produced a proof. Nothing is revoked: a verified domain (or
    one whose proof was since revoked) is ``409 domain_verified``."""
    verification = _b2b(await service.get(session, runtime, caller, verification_id))
    if not (verification.method_state or {}).get(STARTED_HERE):
        raise NotFound("Domain verification not found")
    answer = {
        "success": True,
        "deleted": True,
        "id": verification.id,
        "domain": verification.identifier,
        "status": verification.status,
    }
    if await repository.delete_unproven(
        session, caller, verification.id, statuses=DELETABLE_STATUSES
    ):
        session.expunge(verification)
        return answer
    # Not deletable, or a check completed it between the read and the delete.
    await session.refresh(verification)
    raise Conflict(
        "This domain was verified: its proof stays. Revoke it with "
        "POST /api/v1/proofs/{id}/revoke instead.",
        code="domain_verified",
        status_detail=verification.status,
    )
