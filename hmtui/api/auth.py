"""JWT signing for Heymarket: HS256 over {iss, iat}, keyed by "<id>||<key>"."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

# Heymarket rejects a token 5 minutes after `iat`; re-signing after 4 leaves a minute of margin
# for clock skew and for a slow request.
TOKEN_MAX_AGE = 240.0

# Heymarket chooses the key, not the user: PyJWT's advice on HMAC key length is noise here.
_KEY_LENGTH_WARNING: type[Warning] = getattr(
    getattr(jwt, "warnings", None), "InsecureKeyLengthWarning", UserWarning
)


@dataclass(frozen=True)
class Credentials:
    secret_id: str
    secret_key: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.secret_id or not self.secret_key:
            raise ValueError("both the secret id and the secret key are required")


class TokenSigner:
    """Hands out a Bearer token, signing a new one once the cached one is TOKEN_MAX_AGE old."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.time,
        max_age: float = TOKEN_MAX_AGE,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._max_age = max_age
        self._token: str | None = None
        self._issued_at: int = 0

    @property
    def secret_id(self) -> str:
        return self._credentials.secret_id

    @property
    def secret_key(self) -> str:
        return self._credentials.secret_key

    def token(self) -> str:
        now = self._clock()
        if self._token is None or now - self._issued_at >= self._max_age or now < self._issued_at:
            self._issued_at = int(now)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", _KEY_LENGTH_WARNING)
                self._token = jwt.encode(
                    {"iss": self._credentials.secret_id, "iat": self._issued_at},
                    f"{self._credentials.secret_id}||{self._credentials.secret_key}",
                    algorithm="HS256",
                )
        return self._token

    def invalidate(self) -> None:
        """Forget the cached token, so the next request signs afresh (after a 401)."""
        self._token = None

    def token_age(self) -> float | None:
        return None if self._token is None else self._clock() - self._issued_at
