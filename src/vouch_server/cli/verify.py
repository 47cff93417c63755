"""``vouch verify``: check a proof token from a shell, against its issuer or fully offline.

The checks are the SDK's (:class:`vouch_client.Verifier`: signature against the JWKS, key window,
``exp``, ``iss``, live/test environment, then the proof's slot in its Token Status List,
draft-ietf-oauth-status-list §5.1). This module only decides where the keys and the list come
from — the token's own ``iss``, ``--url``, or files the user saved — and turns every outcome
into one line (or one JSON object) and an exit code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
from rich.console import Console
from rich.markup import escape

from vouch_server.kit.clock import isoformat_ms

# Exit codes: a proof that is not valid, and an answer that could not be reached at all.
EXIT_INVALID = 1
EXIT_UNKNOWN = 2

TEST_PROOF_MESSAGE = (
    "a test-mode proof, made with a pk_test_ key; it proves nothing about a real person. "
    "Pass --test to check it against the test key set."
)


@dataclass(frozen=True)
class Outcome:
    """What ``vouch verify`` found. ``status`` is ``valid``, ``invalid`` (the proof was checked
    and fails), ``unknown`` (keys or status list out of reach) or ``error`` (bad input)."""

    status: str
    reason: str = "valid"
    message: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    test: bool = False
    revocation_checked: bool = False

    @property
    def exit_code(self) -> int:
        if self.status == "valid":
            return 0
        return EXIT_INVALID if self.status == "invalid" else EXIT_UNKNOWN

    def as_json(self) -> dict[str, Any]:
        if self.status != "valid":
            return {
                "valid": False,
                "status": self.status,
                "reason": self.reason,
                "message": self.message,
            }
        return {
            "valid": True,
            "status": "valid",
            "test": self.test,
            "issuer": self.claims.get("iss"),
            "subject": self.claims.get("sub"),
            "type": self.claims.get("type"),
            "channel": self.claims.get("channel"),
            "issued_at": _instant(self.claims.get("iat")),
            "expires_at": _instant(self.claims.get("exp")),
            "revocation_checked": self.revocation_checked,
            "claims": self.claims,
        }


class _Stop(Exception):
    """Ends a check early with the outcome to report."""

    def __init__(self, status: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.outcome = Outcome(status=status, reason=reason, message=message)


def _instant(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return isoformat_ms(datetime.fromtimestamp(value, UTC))
    return None


def _is_http_url(value: str) -> bool:
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _origin(value: str) -> str:
    url = httpx.URL(value)
    return str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload read without its signature, only to learn where to look for the keys."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _Stop("invalid", "malformed", f"not a proof token (JWT): {exc}") from None
    if not isinstance(claims, dict):
        raise _Stop("invalid", "malformed", "the token's payload is not a JSON object")
    return claims


def _status_uri(claims: dict[str, Any]) -> str | None:
    status = claims.get("status")
    reference = status.get("status_list") if isinstance(status, dict) else None
    uri = reference.get("uri") if isinstance(reference, dict) else None
    return uri if isinstance(uri, str) else None


def _read_jwks(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _Stop("error", "jwks_file", f"cannot read the JWKS file {path}: {why}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _Stop("error", "jwks_file", f"the JWKS file {path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _Stop(
            "error", "jwks_file", f'the JWKS file {path} is not a JWKS (an object with "keys")'
        )
    return document


def _read_status_list(path: str, expected_uri: str | None) -> bytes:
    """A Token Status List as served by ``GET /statuslists/{env}/{n}``: one compact JWT."""
    try:
        body = Path(path).read_bytes().strip()
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise _Stop("error", "status_list_file", f"cannot read {path}: {why}") from None
    try:
        header = jwt.get_unverified_header(body)
        claims = jwt.decode(body, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _Stop(
            "error",
            "status_list_file",
            f"{path} is not a Token Status List (save the body of GET <server>/statuslists/…)",
        ) from None
    if header.get("typ") != "statuslist+jwt":
        raise _Stop("error", "status_list_file", f"{path} is a JWT but not a Token Status List")
    if expected_uri is not None and claims.get("sub") != expected_uri:
        raise _Stop(
            "error",
            "status_list_file",
            f"{path} is the status list {claims.get('sub')!r}, but this proof's slot is in "
            f"{expected_uri}",
        )
    return body


class _SavedResponses(httpx.BaseTransport):
    """Answers requests for saved documents from their files. Without a fallback every other
    request fails, so an offline check cannot quietly reach the network."""

    def __init__(self, saved: dict[str, bytes], fallback: httpx.BaseTransport | None) -> None:
        self._saved = saved
        self._fallback = fallback

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = self._saved.get(str(request.url))
        if body is not None:
            return httpx.Response(
                200, content=body, headers={"Content-Type": "application/statuslist+jwt"}
            )
        if self._fallback is None:
            raise httpx.ConnectError(f"offline: no saved copy of {request.url}", request=request)
        return self._fallback.handle_request(request)

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()


def check(
    token: str,
    *,
    url: str | None = None,
    jwks: str | None = None,
    status_list: str | None = None,
    issuer: str | None = None,
    check_revocation: bool = True,
    test: bool = False,
    timeout: float = 10.0,
) -> Outcome:
    """Verify ``token``; never raises for a bad token, file or server."""
    try:
        return _check(
            token.strip(),
            url=url,
            jwks=jwks,
            status_list=status_list,
            issuer=issuer,
            check_revocation=check_revocation,
            test=test,
            timeout=timeout,
        )
    except _Stop as stop:
        return stop.outcome


def _check(
    token: str,
    *,
    url: str | None,
    jwks: str | None,
    status_list: str | None,
    issuer: str | None,
    check_revocation: bool,
    test: bool,
    timeout: float,
) -> Outcome:
    from vouch_client import (
        EnvironmentMismatch,
        JWKSUnavailable,
        ProofInvalid,
        RevocationListUnavailable,
        Verifier,
    )

    unverified = _unverified_claims(token)
    iss = unverified.get("iss")
    status_uri = _status_uri(unverified)
    jwks_url = jwks if jwks is not None and _is_http_url(jwks) else None
    jwks_file = jwks if jwks is not None and jwks_url is None else None
    offline = jwks_file is not None and url is None

    if url is not None and not _is_http_url(url):
        raise _Stop("error", "bad_url", f"--url {url!r} is not an http(s) URL")
    base: str | None
    if url is not None:
        base = url.rstrip("/")
    elif jwks_url is not None:
        base = jwks_url.split("/.well-known/")[0]
    elif isinstance(iss, str) and _is_http_url(iss):
        # iss is the issuing server's public URL: its keys live under it.
        base = iss.rstrip("/")
    elif offline:
        base = _origin(status_uri) if status_uri and _is_http_url(status_uri) else None
    else:
        raise _Stop(
            "error",
            "no_issuer_url",
            f"the token's iss {iss!r} is not a URL, so its keys cannot be found: "
            "pass --url BASE or --jwks FILE",
        )
    if issuer is None:
        issuer = iss if base is None or (url is None and jwks_url is None) else base
    if not isinstance(issuer, str) or not issuer:
        raise _Stop("invalid", "malformed", "the token has no iss claim")

    key_set = _read_jwks(jwks_file) if jwks_file is not None else None
    saved: dict[str, bytes] = {}
    if check_revocation and status_list is not None:
        body = _read_status_list(status_list, status_uri)
        if status_uri is not None:
            saved[str(httpx.URL(status_uri))] = body
    if offline and check_revocation and not saved:
        if status_uri is not None:
            raise _Stop(
                "unknown",
                "status_unavailable",
                f"offline, and this proof's revocation status is in {status_uri}: save it "
                f"(curl -o status.jwt {status_uri}) and pass --status-list status.jwt, "
                "or pass --no-revocation",
            )
        raise _Stop(
            "unknown",
            "status_unavailable",
            "offline, and this token has no status-list slot: only the server's revocation "
            "list can answer (pass --url), or pass --no-revocation",
        )

    fallback = None if offline else httpx.HTTPTransport()
    http = httpx.Client(transport=_SavedResponses(saved, fallback), timeout=timeout)
    try:
        verifier = Verifier(
            base,
            issuer=issuer,
            jwks_url=jwks_url,
            jwks=key_set,
            check_revocation=check_revocation,
            test=test,
            timeout=timeout,
            http_client=http,
        )
        claims = verifier.verify(token)
    except EnvironmentMismatch as exc:
        if exc.reason == "test_proof":
            return Outcome("invalid", "test_proof", TEST_PROOF_MESSAGE)
        return Outcome("invalid", exc.reason, str(exc))
    except ProofInvalid as exc:
        message = str(exc)
        if exc.reason == "unknown_key" and test and key_set is not None:
            message += " (test proofs are signed by the keys in jwks-test.json)"
        return Outcome("invalid", exc.reason, message)
    except JWKSUnavailable as exc:
        return Outcome("unknown", "jwks_unavailable", f"cannot get the issuer's keys: {exc}")
    except RevocationListUnavailable as exc:
        return Outcome("unknown", "status_unavailable", f"cannot check revocation: {exc}")
    except ValueError as exc:
        return Outcome("error", "bad_option", str(exc))
    finally:
        http.close()
    return Outcome(
        "valid",
        claims=claims.raw,
        test=claims.raw.get("test") is True,
        revocation_checked=check_revocation,
    )


def render(outcome: Outcome, console: Console, err_console: Console, *, as_json: bool) -> None:
    """JSON on stdout; else a verdict line (failures on stderr, one line, never wrapped)."""
    if as_json:
        console.out(json.dumps(outcome.as_json()), highlight=False)
        return
    if outcome.status != "valid":
        label = {"invalid": "invalid", "unknown": "unknown"}.get(outcome.status, "error")
        err_console.print(
            f"[bold red]{label}[/] ({escape(outcome.reason)}): {escape(outcome.message)}",
            soft_wrap=True,
        )
        return
    issued_by = escape(str(outcome.claims.get("iss")))
    if outcome.test:
        console.print(
            "[bold yellow]valid TEST proof[/] (test mode: not evidence of anything) "
            f"issued by {issued_by}",
            soft_wrap=True,
        )
    else:
        console.print(f"[bold green]valid[/] proof issued by {issued_by}", soft_wrap=True)
    if not outcome.revocation_checked:
        console.print("[yellow]revocation not checked (--no-revocation)[/]")
    console.print_json(json.dumps(outcome.claims))
