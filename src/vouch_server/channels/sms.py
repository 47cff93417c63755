"""SMS through Twilio (or any provider speaking Twilio's webhook and REST format).

Inbound: ``POST /inbound/twilio/sms`` (form-encoded). Twilio signs it in ``X-Twilio-Signature``:
base64 HMAC-SHA1, keyed with the auth token, of the full webhook URL followed by every POST
parameter sorted by name, each as name + value. JSON bodies are signed over the URL carrying a
``bodySHA256`` query parameter (hex SHA-256 of the raw body). vouch also accepts the same
construction with HMAC-SHA256 in ``X-Twilio-Signature-256`` (shared-key mode of Twilio-compatible
providers). All comparisons are constant time.
Outbound: ``POST {base}/2010-04-01/Accounts/{sid}/Messages.json``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from vouch_server.channels.base import provider_request
from vouch_server.config import Settings
from vouch_server.errors import RetryLater

SIGNATURE_HEADER = "x-twilio-signature"
SIGNATURE_256_HEADER = "x-twilio-signature-256"


def _signed_string(url: str, params: Iterable[tuple[str, str]]) -> bytes:
    ordered = sorted(params, key=lambda kv: (kv[0], kv[1]))
    return (url + "".join(k + v for k, v in ordered)).encode()


def twilio_signature(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], *, sha256: bool = False
) -> str:
    digest = hashlib.sha256 if sha256 else hashlib.sha1
    mac = hmac.new(auth_token.encode(), _signed_string(url, params), digest).digest()
    return base64.b64encode(mac).decode()


def signature_valid(
    auth_token: str | None,
    url: str,
    params: list[tuple[str, str]],
    *,
    sha1_header: str | None,
    sha256_header: str | None,
) -> bool:
    if not auth_token:
        return False
    ok = False
    if sha1_header:
        expected = twilio_signature(auth_token, url, params)
        ok |= hmac.compare_digest(expected.encode(), sha1_header.strip().encode())
    if sha256_header:
        expected = twilio_signature(auth_token, url, params, sha256=True)
        ok |= hmac.compare_digest(expected.encode(), sha256_header.strip().encode())
    return ok


def body_hash_valid(url: str, raw_body: bytes) -> bool:
    """JSON webhooks: the URL's ``bodySHA256`` must be the SHA-256 of the raw body."""
    from urllib.parse import parse_qs, urlsplit

    given = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
    expected = hashlib.sha256(raw_body).hexdigest()
    return bool(given) and hmac.compare_digest(expected.encode(), given.lower().encode())


class TwilioClient:
    def __init__(self, settings: Settings, account_sid: str, auth_token: str) -> None:
        self.settings = settings
        self.account_sid = account_sid
        self._auth_token = auth_token

    async def send_sms(self, from_: str, to: str, body: str) -> None:
        base = self.settings.twilio_api_base.rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = await provider_request(
            self.settings,
            "POST",
            url,
            data={"From": from_, "To": to, "Body": body},
            auth=(self.account_sid, self._auth_token),
        )
        if response.status_code >= 300:
            raise RetryLater(f"Twilio send failed with HTTP {response.status_code}")
