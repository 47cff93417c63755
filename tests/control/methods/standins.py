"""Local stand-ins of the outside world, served on loopback from threads: a DNS server (dnspython's
message API over UDP), a generic HTTP server, an OAuth 2.0 provider with PKCE, the Telegram Bot API
(``getMe``) and an Ethereum JSON-RPC node with an EIP-1271 smart wallet."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from eth_account import Account

# --------------------------------------------------------------------------- DNS


class DnsStandIn:
    """An authoritative-style DNS server for a few names.

    ``chase_cnames`` makes it answer like a recursive resolver (the CNAME chain and the target's
    records in one answer); without it, it returns only the first CNAME."""

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[str, str]]] = {}
        self.chase_cnames = True
        self.queries: list[tuple[str, str]] = []
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                sock.sendto(outer.answer(data), self.client_address)

        self.server = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add(self, name: str, rdtype: str, *values: str) -> None:
        key = dns.name.from_text(name).to_text().lower()
        self.records.setdefault(key, []).extend((rdtype, value) for value in values)

    def clear(self, name: str) -> None:
        self.records.pop(dns.name.from_text(name).to_text().lower(), None)

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        question = query.question[0]
        name = question.name
        wanted = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name.to_text(), wanted))
        for _ in range(10):
            records = self.records.get(name.to_text().lower())
            if records is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                break
            aliases = [value for rdtype, value in records if rdtype == "CNAME"]
            if aliases and wanted != "CNAME":
                rrset = response.find_rrset(
                    response.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME, create=True
                )
                rrset.add(dns.rdata.from_text("IN", "CNAME", aliases[0]), 60)
                name = dns.name.from_text(aliases[0])
                if not self.chase_cnames:
                    break
                continue
            matching = [value for rdtype, value in records if rdtype == wanted]
            if matching:
                rrset = response.find_rrset(
                    response.answer,
                    name,
                    dns.rdataclass.IN,
                    dns.rdatatype.from_text(wanted),
                    create=True,
                )
                for value in matching:
                    rrset.add(dns.rdata.from_text("IN", wanted, value), 60)
            break
        return response.to_wire()

    def __enter__(self) -> DnsStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def unused_udp_port() -> int:
    """A loopback UDP port nobody answers on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- HTTP


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[Request], Reply]


class HttpStandIn:
    """A threaded HTTP/1.1 server on loopback that answers with ``handler`` and keeps a log."""

    def __init__(self, handler: Handler, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                outer.requests.append(request)
                reply = outer.handler(request)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                headers = dict(reply.headers)
                if not isinstance(payload, bytes | str):
                    payload = json.dumps(payload)
                    headers.setdefault("Content-Type", "application/json")
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HttpStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@contextmanager
def http_standin(handler: Handler) -> Iterator[HttpStandIn]:
    with HttpStandIn(handler) as server:
        yield server


# --------------------------------------------------------------------------- OAuth 2.0 provider


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class _Grant:
    user: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    used: bool = False


class OAuthProviderStandIn:
    """An OAuth 2.0 authorization server (RFC 6749 §4.1 + RFC 7636) and its profile endpoint.

    ``GET /authorize?…&login_as=<user>`` plays the person approving: it redirects to the client's
    redirect URI with a code bound to the PKCE challenge. ``POST /token`` checks client
    authentication (``client_secret_post`` or ``client_secret_basic``), the code, the redirect URI
    and the ``code_verifier``. ``GET /userinfo`` returns ``profiles[user]`` for the token."""

    def __init__(self, client_id: str, client_secret: str, *, client_auth: str = "post") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_auth = client_auth
        self.client_id_param = "client_id"
        self.profiles: dict[str, Any] = {}
        self.grants: dict[str, _Grant] = {}
        self.tokens: dict[str, str] = {}
        self.token_requests = 0
        self.server = HttpStandIn(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def settings(self, provider: str) -> dict[str, Any]:
        return {
            f"oauth_{provider}_client_id": self.client_id,
            f"oauth_{provider}_client_secret": self.client_secret,
            f"oauth_{provider}_authorize_url": f"{self.base_url}/authorize",
            f"oauth_{provider}_token_url": f"{self.base_url}/token",
            f"oauth_{provider}_userinfo_url": f"{self.base_url}/userinfo",
        }

    def handle(self, request: Request) -> Reply:
        if request.path == "/authorize":
            return self._authorize(request)
        if request.path == "/token":
            return self._token(request)
        if request.path == "/userinfo":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            user = self.tokens.get(token)
            if user is None:
                return Reply(401, {"error": "invalid_token"})
            return Reply(200, self.profiles[user])
        return Reply(404, {"error": "not_found"})

    def _authorize(self, request: Request) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        if q.get("response_type") != "code" or q.get(self.client_id_param) != self.client_id:
            return Reply(400, {"error": "invalid_request"})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Reply(400, {"error": "invalid_request", "error_description": "PKCE S256"})
        code = secrets.token_urlsafe(24)
        self.grants[code] = _Grant(
            q["login_as"], q[self.client_id_param], q["redirect_uri"], q["code_challenge"]
        )
        location = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        return Reply(302, b"", {"Location": location})

    def _token(self, request: Request) -> Reply:
        self.token_requests += 1
        form = request.form()
        if self.client_auth == "basic":
            raw = request.headers.get("authorization", "").removeprefix("Basic ")
            # RFC 6749 §2.3.1: each part is form-encoded before the Basic encoding.
            encoded_id, _, encoded_secret = base64.b64decode(raw).decode().partition(":")
            client_id, secret = unquote_plus(encoded_id), unquote_plus(encoded_secret)
        else:
            client_id = form.get(self.client_id_param, "")
            secret = form.get("client_secret", "")
        if (client_id, secret) != (self.client_id, self.client_secret):
            return Reply(401, {"error": "invalid_client"})
        grant = self.grants.get(form.get("code", ""))
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.used
            or grant.redirect_uri != form.get("redirect_uri")
            or s256(form.get("code_verifier", "")) != grant.code_challenge
        ):
            return Reply(400, {"error": "invalid_grant"})
        grant.used = True
        token = secrets.token_urlsafe(24)
        self.tokens[token] = grant.user
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def __enter__(self) -> OAuthProviderStandIn:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


# --------------------------------------------------------------------------- Telegram Bot API


class BotApiStandIn:
    """``GET /bot<token>/getMe`` as the Bot API answers it."""

    def __init__(self) -> None:
        self.bots: dict[str, dict[str, Any]] = {}
        self.down = False
        self.server = HttpStandIn(self.handle)

    def add_bot(self, token: str, username: str) -> None:
        bot_id = int(token.split(":")[0])
        self.bots[token] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": username,
            "username": username,
            "can_join_groups": True,
        }

    def handle(self, request: Request) -> Reply:
        if self.down:
            return Reply(502, "Bad Gateway")
        prefix, _, method = request.path.removeprefix("/bot").rpartition("/")
        if method != "getMe":
            return Reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        bot = self.bots.get(prefix)
        if bot is None:
            return Reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        return Reply(200, {"ok": True, "result": bot})


# --------------------------------------------------------------------------- Ethereum JSON-RPC


class EthRpcStandIn:
    """A node on ``chain_id`` with one EIP-1271 smart wallet at ``wallet``, which accepts a
    signature when its owner EOA signed the 32-byte hash (as most smart accounts do)."""

    MAGIC = "1626ba7e"

    def __init__(self, *, chain_id: int, wallet: str, owner: str) -> None:
        self.chain_id = chain_id
        self.wallet = wallet.lower()
        self.owner = owner.lower()
        self.calls: list[dict[str, Any]] = []
        self.server = HttpStandIn(self.handle)

    def handle(self, request: Request) -> Reply:
        body = request.json()
        method, params = body["method"], body.get("params", [])
        if method == "eth_chainId":
            return Reply(200, {"jsonrpc": "2.0", "id": body["id"], "result": hex(self.chain_id)})
        if method == "eth_call":
            call = params[0]
            self.calls.append(call)
            result = "0x"  # an account without code returns nothing
            if call["to"].lower() == self.wallet:
                result = "0x" + self._is_valid_signature(bytes.fromhex(call["data"][2:])).hex()
            return Reply(200, {"jsonrpc": "2.0", "id": body["id"], "result": result})
        return Reply(200, {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601}})

    def _is_valid_signature(self, data: bytes) -> bytes:
        assert data[:4].hex() == self.MAGIC
        digest = data[4:36]
        offset = int.from_bytes(data[36:68], "big")
        length = int.from_bytes(data[4 + offset : 4 + offset + 32], "big")
        signature = data[4 + offset + 32 : 4 + offset + 32 + length]
        try:
            signer = Account._recover_hash(digest, signature=signature)
        except Exception:
            signer = ""
        if signer.lower() == self.owner:
            return bytes.fromhex(self.MAGIC) + b"\x00" * 28
        return b"\xff\xff\xff\xff" + b"\x00" * 28


# --------------------------------------------------------------------------- TLS


def self_signed_tls(hostname: str, directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for ``hostname``: the server's context, and a client context trusting it."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client
