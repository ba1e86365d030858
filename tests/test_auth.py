import jwt
import pytest

from hmtui.api import AuthError, TokenSigner
from hmtui.api.auth import TOKEN_MAX_AGE, Credentials

from helpers import CREDS, FakeClock, json_response, mock_client


def decode(token: str) -> dict:
    return jwt.decode(token, f"{CREDS.secret_id}||{CREDS.secret_key}", algorithms=["HS256"],
                      options={"verify_iat": False})


def test_token_is_hs256_with_iss_and_iat_signed_with_id_and_key() -> None:
    clock = FakeClock(1_800_000_000.7)
    token = TokenSigner(CREDS, clock=clock).token()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert decode(token) == {"iss": CREDS.secret_id, "iat": 1_800_000_000}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, CREDS.secret_key, algorithms=["HS256"], options={"verify_iat": False})


def test_credentials_repr_hides_the_key() -> None:
    assert CREDS.secret_key not in repr(CREDS)
    with pytest.raises(ValueError):
        Credentials("id", "")


async def test_no_request_ever_carries_a_token_older_than_four_minutes() -> None:
    clock = FakeClock()
    seen: list[tuple[float, dict]] = []

    def handler(request):
        token = request.headers["Authorization"].removeprefix("Bearer ")
        seen.append((clock.now, decode(token)))
        return json_response([])

    async with mock_client(handler, clock=clock) as client:
        for _ in range(300):  # 300 requests, 7 s apart: 35 minutes
            await client.inboxes()
            clock.advance(7)
    ages = [now - claims["iat"] for now, claims in seen]
    assert max(ages) <= TOKEN_MAX_AGE == 240
    assert min(ages) >= 0
    # It is reused, not signed per request: about one token per 4 minutes.
    distinct = {claims["iat"] for _, claims in seen}
    assert 8 <= len(distinct) <= 10


async def test_a_clock_that_jumps_back_gets_a_fresh_token() -> None:
    clock = FakeClock()
    signer = TokenSigner(CREDS, clock=clock)
    first = signer.token()
    clock.advance(-600)
    assert decode(signer.token())["iat"] == decode(first)["iat"] - 600


async def test_401_signs_anew_and_retries_once() -> None:
    clock = FakeClock(tick=1.0)  # every clock read moves a second, so a re-signed token differs
    tokens: list[str] = []

    def handler(request):
        tokens.append(request.headers["Authorization"])
        if len(tokens) == 1:
            return json_response({"error": "Unauthorized"}, 401)
        return json_response([{"id": 1, "name": "Support"}])

    async with mock_client(handler, clock=clock) as client:
        inboxes = await client.inboxes()
    assert [i.name for i in inboxes] == ["Support"]
    assert len(tokens) == 2 and tokens[0] != tokens[1]


async def test_second_401_is_an_auth_error_that_never_quotes_the_key() -> None:
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        return json_response({"error": "Unauthorized"}, 401, request_id="rid-401")

    async with mock_client(handler) as client:
        with pytest.raises(AuthError) as caught:
            await client.inboxes()
    assert calls == 2
    message = str(caught.value)
    assert "secret id" in message and "secret key" in message
    assert "rid-401" in message
    assert CREDS.secret_key not in message
