"""Heymarket-style JWT checking for the fake server.

A token is HS256 with claims ``{iss: <secret id>, iat: <unix seconds>}``, signed
with ``"<secret id>||<secret key>"``, and lives 5 minutes after ``iat``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import jwt

DEMO_SECRET_ID = "demo-secret-id"
DEMO_SECRET_KEY = "demo-secret-key-not-a-real-secret"

TOKEN_LIFETIME = 300
# Clocks drift; a token from slightly in the future is still accepted.
FUTURE_LEEWAY = 60


class AuthError(Exception):
    """Why a request is unauthorised (the message goes into the 401 body)."""


def check_authorization(header: str | None, secrets: Mapping[str, str], now: Callable[[], float]) -> str:
    """Return the secret id of a valid `Authorization` header; raise AuthError otherwise."""
    if not header:
        raise AuthError("missing Authorization header")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("expected 'Authorization: Bearer <jwt>'")
    token = token.strip()
    try:
        head = jwt.get_unverified_header(token)
        if head.get("alg") != "HS256":
            raise AuthError("token must be signed with HS256")
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthError(f"malformed token: {exc}") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in secrets:
        raise AuthError("unknown issuer (secret id)")
    try:
        # Time claims are checked below against the injectable clock, not PyJWT's.
        jwt.decode(
            token,
            f"{issuer}||{secrets[issuer]}",
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from None
    issued = claims.get("iat")
    if type(issued) is not int:
        raise AuthError("claim 'iat' must be an integer (Unix seconds)")
    current = now()
    if current - issued > TOKEN_LIFETIME:
        raise AuthError("token expired")
    if issued - current > FUTURE_LEEWAY:
        raise AuthError("token issued in the future")
    return issuer
