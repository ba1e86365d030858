"""Tests for the fake Heymarket server, over real loopback HTTP."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import warnings
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import httpx
import jwt
import pytest

from conftest import GatedSleep
from hmtui.fake import (
    DEMO_SECRET_ID,
    DEMO_SECRET_KEY,
    HOSTILE_THREAD_INBOX,
    HOSTILE_THREAD_TARGET,
    LONG_THREAD_INBOX,
    LONG_THREAD_TARGET,
    FakeData,
    FakeHeymarket,
    FakeOptions,
    Fault,
)

ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
ANCHOR_EPOCH = int(ANCHOR.timestamp())

INBOX_KEYS = {
    "id", "name", "phone", "phones", "members", "team", "rev", "op", "allowed_domains", "auto_assignable",
    "bco_chats", "forward_number", "invited", "widget_code", "widget_settings",
}
CONVERSATION_KEYS = {
    "id", "inbox", "target", "name", "status", "assigned", "blocked", "channel", "created", "creator", "updated",
    "read", "last_inbound", "replied", "muted", "snooze_till", "email_noti", "local_id", "members", "noreply",
    "op", "super", "support", "type", "unread", "unread_users", "last_msg",
}
MESSAGE_KEYS = {
    "id", "date", "updated", "text", "author", "user", "phone", "target", "type", "status", "media", "link_url",
    "flagged", "broadcast_id", "local_id", "custom", "super", "support", "conversation",
}


def sign(secret_id: str = DEMO_SECRET_ID, secret_key: str = DEMO_SECRET_KEY, **claims: Any) -> str:
    payload: dict[str, Any] = {"iss": secret_id, "iat": int(time.time())}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, f"{secret_id}||{secret_key}", algorithm="HS256")


class JwtAuth(httpx.Auth):
    """Signs a fresh token per request, as the real client should."""

    def __init__(self, secret_id: str = DEMO_SECRET_ID, secret_key: str = DEMO_SECRET_KEY) -> None:
        self.secret_id, self.secret_key = secret_id, secret_key

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {sign(self.secret_id, self.secret_key)}"
        yield request


# Generous: the first page of the 20,000-message thread builds it, which takes seconds on a loaded
# machine. A test about timeouts passes its own (and holds the server with `gated_stalls`).
def client(server: FakeHeymarket, timeout: float = 120) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=JwtAuth(server.secret_id, server.secret_key), timeout=timeout)


def epoch(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def conv_list(c: httpx.Client, inboxes: list[int], **extra: Any) -> list[dict[str, Any]]:
    r = c.post("/v1/conversations", json={"id": 101, "filters": {"inboxes": inboxes}, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def messages(c: httpx.Client, inbox: int, target: str, timestamp: int | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"phoneNumber": target, "inboxID": inbox}
    if timestamp is not None:
        params["timestamp"] = timestamp
    r = c.get("/v1/messages", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def shared() -> Iterator[FakeHeymarket]:
    """A server no test mutates (no option, fault or state changes)."""
    # rate_limit=0: its minute is the whole module's, far past 500 requests; the limit has its
    # own tests (test_fake_rate_limit.py) on fresh servers.
    with FakeHeymarket(anchor=ANCHOR, options=FakeOptions(rate_limit=0)) as server:
        yield server


@pytest.fixture(scope="module")
def sc(shared: FakeHeymarket) -> Iterator[httpx.Client]:
    with client(shared) as c:
        yield c


@pytest.fixture
def fresh() -> Iterator[FakeHeymarket]:
    with FakeHeymarket(anchor=ANCHOR) as server:
        yield server


@pytest.fixture
def fc(fresh: FakeHeymarket) -> Iterator[httpx.Client]:
    with client(fresh) as c:
        yield c


# ---------------------------------------------------------------------- auth


def test_valid_token_is_accepted(shared: FakeHeymarket) -> None:
    r = httpx.get(f"{shared.url}/v1/inboxes", headers={"Authorization": f"Bearer {sign()}"})
    assert r.status_code == 200
    assert shared.secret_id == DEMO_SECRET_ID and shared.secret_key == DEMO_SECRET_KEY


# The rejections are checked against a server whose clock stands still, with tokens made inside
# the test from that same instant: made at import time against the wall clock, the "future"
# token became valid once the suite ran slowly enough.
NOW = ANCHOR_EPOCH
SIGNING_KEY = f"{DEMO_SECRET_ID}||{DEMO_SECRET_KEY}"


@pytest.fixture(scope="module")
def frozen() -> Iterator[FakeHeymarket]:
    with FakeHeymarket(anchor=ANCHOR, clock=lambda: float(NOW)) as server:
        yield server


def _hs512_token(now: int) -> str:
    with warnings.catch_warnings():  # the key is short for HS512; irrelevant here
        warnings.simplefilter("ignore")
        return jwt.encode({"iss": DEMO_SECRET_ID, "iat": now}, SIGNING_KEY, algorithm="HS512")


REJECTED: dict[str, Any] = {
    "missing": lambda now: None,
    "empty": lambda now: "",
    "basic": lambda now: f"Basic {DEMO_SECRET_KEY}",
    "not-bearer": lambda now: f"Token {sign(iat=now)}",
    "bearer-no-token": lambda now: "Bearer",
    "garbage": lambda now: "Bearer not.a.jwt",
    "raw-key": lambda now: f"Bearer {DEMO_SECRET_KEY}",
    "wrong-key": lambda now: f"Bearer {sign(secret_key='wrong-key-wrong-key-wrong-key-wrong', iat=now)}",
    "unknown-iss": lambda now: f"Bearer {sign(secret_id='who-is-this', secret_key=DEMO_SECRET_KEY, iat=now)}",
    "alg-none": lambda now: "Bearer " + jwt.encode({"iss": DEMO_SECRET_ID, "iat": now}, None, algorithm="none"),
    "expired": lambda now: f"Bearer {sign(iat=now - 301)}",  # lifetime 300 s
    "future": lambda now: f"Bearer {sign(iat=now + 61)}",  # leeway 60 s
    "missing-iat": lambda now: "Bearer " + jwt.encode({"iss": DEMO_SECRET_ID}, SIGNING_KEY, algorithm="HS256"),
    "iat-string": lambda now: f"Bearer {sign(iat=str(now))}",
    "hs512": lambda now: "Bearer " + _hs512_token(now),
    "missing-iss": lambda now: "Bearer " + jwt.encode({"iat": now}, SIGNING_KEY, algorithm="HS256"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_auth_rejections(frozen: FakeHeymarket, case: str) -> None:
    header = REJECTED[case](NOW)
    headers = {} if header is None else {"Authorization": header}
    r = httpx.get(f"{frozen.url}/v1/inboxes", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == "Unauthorized" and body["message"]
    assert r.headers["x-request-id"]


@pytest.mark.parametrize("iat", [NOW, NOW - 300, NOW + 60], ids=["now", "oldest-accepted", "newest-accepted"])
def test_tokens_just_inside_the_limits_are_accepted(frozen: FakeHeymarket, iat: int) -> None:
    # The other side of "expired" and "future": without it, a server rejecting everything would pass.
    r = httpx.get(f"{frozen.url}/v1/inboxes", headers={"Authorization": f"Bearer {sign(iat=iat)}"})
    assert r.status_code == 200, r.text


def test_auth_is_checked_before_routing(shared: FakeHeymarket) -> None:
    assert httpx.get(f"{shared.url}/v1/nope").status_code == 401
    assert httpx.post(f"{shared.url}/v1/conversations/close", content=b"garbage").status_code == 401


def test_auth_uses_injected_clock_and_custom_secrets() -> None:
    fixed = 1_700_000_000.0
    secrets = {"rotated-id": "rotated-key-0123456789-abcdefghijkl", "second-id": "second-key-0123456789-abcdefghijk"}
    with FakeHeymarket(anchor=ANCHOR, clock=lambda: fixed, secrets=secrets) as server:
        assert (server.secret_id, server.secret_key) == ("rotated-id", secrets["rotated-id"])
        url = f"{server.url}/v1/team"

        def status(token: str) -> int:
            return httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code

        for sid, key in secrets.items():
            assert status(sign(sid, key, iat=int(fixed) - 299)) == 200
            assert status(sign(sid, key, iat=int(fixed) + 59)) == 200
        assert status(sign("rotated-id", secrets["rotated-id"], iat=int(fixed) - 301)) == 401
        assert status(sign("rotated-id", secrets["rotated-id"], iat=int(fixed) + 61)) == 401
        # Real-time tokens are years ahead of this clock; the demo pair is not accepted here.
        assert status(sign("rotated-id", secrets["rotated-id"])) == 401
        assert status(sign(iat=int(fixed))) == 401


# ------------------------------------------------------------ routing & 400s


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/nope"),
        ("GET", "/"),
        ("POST", "/v1/inboxes"),
        ("GET", "/v1/inboxes/"),
        ("DELETE", "/v1/team"),
        ("GET", "/v1/conversations"),
        ("GET", "/v1/conversations/abc"),
        ("GET", "/v1/conversations/999999999"),
        ("POST", "/v1/conversations/snooze"),
        ("GET", "/v1/message/send"),  # sending is POST only
        ("BREW", "/v1/coffee"),
    ],
)
def test_unknown_paths_and_methods_are_404(sc: httpx.Client, method: str, path: str) -> None:
    r = sc.request(method, path, json={} if method == "POST" else None)
    assert r.status_code == 404
    assert r.json()["error"] == "Not Found"
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    "body,field",
    [
        (b"not json", "body"),
        (b"\xff\xfe", "body"),
        (json.dumps([1, 2]).encode(), "body"),
        (json.dumps({"filters": {"inboxes": [501]}}).encode(), "id"),
        (json.dumps({"id": "101", "filters": {"inboxes": [501]}}).encode(), "id"),
        (json.dumps({"id": True, "filters": {"inboxes": [501]}}).encode(), "id"),
        (json.dumps({"id": 999, "filters": {"inboxes": [501]}}).encode(), "id"),
        (json.dumps({"id": 101}).encode(), "filters"),
        (json.dumps({"id": 101, "filters": []}).encode(), "filters"),
        (json.dumps({"id": 101, "filters": {}}).encode(), "filters.inboxes"),
        (json.dumps({"id": 101, "filters": {"inboxes": []}}).encode(), "filters.inboxes"),
        (json.dumps({"id": 101, "filters": {"inboxes": 501}}).encode(), "filters.inboxes"),
        (json.dumps({"id": 101, "filters": {"inboxes": ["501"]}}).encode(), "filters.inboxes"),
        (json.dumps({"id": 101, "filters": {"inboxes": [501], "closed": "yes"}}).encode(), "filters.closed"),
        (json.dumps({"id": 101, "filters": {"inboxes": [501], "unread": 1}}).encode(), "filters.unread"),
        (json.dumps({"id": 101, "filters": {"inboxes": [501]}, "date": "yesterday"}).encode(), "date"),
        (json.dumps({"id": 101, "filters": {"inboxes": [501]}, "date": 1795100000}).encode(), "date"),
        (json.dumps({"id": 101, "filters": {"inboxes": [501]}, "date": "2026-11-20T14:00:00"}).encode(), "date"),
        (json.dumps({"id": 101, "filters": {"inboxes": [501]}, "date": "2026-13-40T14:00:00Z"}).encode(), "date"),
    ],
)
def test_conversations_bad_body_is_400(sc: httpx.Client, body: bytes, field: str) -> None:
    r = sc.post("/v1/conversations", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field


@pytest.mark.parametrize(
    "params,field",
    [
        ({"inboxID": "501"}, "phoneNumber"),
        ({"phoneNumber": "", "inboxID": "501"}, "phoneNumber"),
        ({"phoneNumber": LONG_THREAD_TARGET}, "inboxID"),
        ({"phoneNumber": LONG_THREAD_TARGET, "inboxID": "support"}, "inboxID"),
        ({"phoneNumber": LONG_THREAD_TARGET, "inboxID": "501", "timestamp": "1.5"}, "timestamp"),
        ({"phoneNumber": LONG_THREAD_TARGET, "inboxID": "501", "timestamp": "2026-11-20T14:00:00Z"}, "timestamp"),
        ({"phoneNumber": LONG_THREAD_TARGET, "inboxID": "501", "timestamp": ""}, "timestamp"),
    ],
)
def test_messages_bad_params_are_400(sc: httpx.Client, params: dict[str, str], field: str) -> None:
    r = sc.get("/v1/messages", params=params)
    assert r.status_code == 400
    assert r.json()["field"] == field


def test_messages_unknown_conversation_is_empty(sc: httpx.Client) -> None:
    assert messages(sc, LONG_THREAD_INBOX, "19995550000") == []
    assert messages(sc, 999, LONG_THREAD_TARGET) == []
    # The number is stored without '+'; exact match only.
    assert messages(sc, LONG_THREAD_INBOX, "+" + LONG_THREAD_TARGET) == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/conversations",
        "/v1/conversations/open",
        "/v1/conversations/close",
        "/v1/conversations/read",
        "/v1/conversations/unread",
        "/v1/conversations/reassign",
        "/v1/conversations/transfer",
    ],
)
def test_wrong_types_never_500(shared: FakeHeymarket, sc: httpx.Client, path: str) -> None:
    values: list[Any] = [None, True, 1.5, -1, "x", [], {}, [1], {"a": 1}, "501", 10**30]
    keys = ["id", "filters", "date", "inbox_id", "user_id", "target", "chat_id", "reassign_id",
            "conversation_id", "transfer_inbox_id"]
    for value in values:
        for key in keys:
            body = {"id": 101, "inbox_id": 503, "user_id": 101, "target": "19995550000",
                    "filters": {"inboxes": [503]}, key: value}
            r = sc.post(path, json=body)
            assert r.status_code in (200, 400, 404), (path, body, r.status_code, r.text)
        r = sc.post(path, json=value)
        assert r.status_code in (400, 404), (path, value, r.text)
    assert shared.counts  # the server is still counting, i.e. alive


def test_raw_protocol_edge_cases(shared: FakeHeymarket) -> None:
    token = sign()
    # Keep-alive: two requests on one connection both succeed.
    conn = http.client.HTTPConnection("127.0.0.1", shared.port, timeout=5)
    for _ in range(2):
        conn.request("GET", "/v1/team", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["members"]
    # HEAD: headers only.
    conn.request("HEAD", "/v1/team", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 404 and resp.read() == b""
    conn.close()
    # A chunked body is read correctly.
    with client(shared) as c:
        chunks = [b'{"id": 101, ', b'"filters": {"inboxes": [502]}}']
        r = c.post("/v1/conversations", content=iter(chunks))
        assert r.status_code == 200 and r.json()[0]["inbox"] == 502
    # A nonsense Content-Length is a 400, not a hang or a crash.
    with socket.create_connection(("127.0.0.1", shared.port), timeout=5) as s:
        s.sendall(
            f"POST /v1/conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Length: banana\r\n\r\n".encode()
        )
        assert s.recv(4096).startswith(b"HTTP/1.1 400")
    # A garbage request line gets a JSON error with a request id, not a crash.
    with socket.create_connection(("127.0.0.1", shared.port), timeout=5) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        reply = b""
        for _ in range(1000):  # the server closes after an unparsable request (and a reply is small)
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        else:
            raise AssertionError("the server kept the connection open")
        assert reply.startswith(b"HTTP/") and b" 400 " in reply.split(b"\r\n")[0]
        assert b"X-Request-Id: fake-" in reply and b'"error"' in reply
    assert httpx.get(f"{shared.url}/v1/team", headers={"Authorization": f"Bearer {sign()}"}).status_code == 200


# -------------------------------------------------------------------- shapes


def test_inboxes_shape(sc: httpx.Client) -> None:
    r = sc.get("/v1/inboxes")
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"].startswith("fake-")
    inboxes = r.json()
    assert len(inboxes) >= 4
    names = {i["name"] for i in inboxes}
    assert {"Support", "Sales", "Billing", "Field Ops"} <= names
    for inbox in inboxes:
        assert set(inbox) == INBOX_KEYS
        assert isinstance(inbox["id"], int) and inbox["phone"].isdigit() and inbox["phone"] in inbox["phones"]
        assert inbox["members"] and all(isinstance(m, int) for m in inbox["members"])
        assert isinstance(inbox["widget_settings"], dict)
    assert LONG_THREAD_INBOX in {i["id"] for i in inboxes}
    assert HOSTILE_THREAD_INBOX in {i["id"] for i in inboxes}


def test_team_shape(sc: httpx.Client) -> None:
    team = sc.get("/v1/team").json()
    assert set(team) == {"id", "name", "list_size", "members"}
    assert team["name"] and isinstance(team["list_size"], int)
    assert len(team["members"]) >= 5
    for m in team["members"]:
        assert set(m) == {"id", "name", "role"} and isinstance(m["id"], int) and " " in m["name"]
        assert m["role"] in ("admin", "member")
    assert {m["role"] for m in team["members"]} == {"admin", "member"}
    member_ids = {m["id"] for m in team["members"]}
    for inbox in sc.get("/v1/inboxes").json():
        assert set(inbox["members"]) <= member_ids


def test_conversation_shape_and_get_by_id(sc: httpx.Client) -> None:
    page = conv_list(sc, [501])
    assert len(page) == 25
    for conv in page:
        assert set(conv) == CONVERSATION_KEYS
        assert conv["inbox"] == 501 and conv["target"].isdigit()
        assert conv["status"] in ("open", "closed")
        assert isinstance(conv["read"], int) and isinstance(conv["last_inbound"], int)
        assert isinstance(conv["unread"], bool) and isinstance(conv["last_msg"], str)
        assert epoch(conv["created"]) <= epoch(conv["updated"])
        one = sc.get(f"/v1/conversations/{conv['id']}")
        assert one.status_code == 200 and one.json() == conv


def test_message_shape(sc: httpx.Client) -> None:
    page = messages(sc, LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    assert len(page) == 50
    conv = conv_list(sc, [LONG_THREAD_INBOX])[0]
    assert conv["target"] == LONG_THREAD_TARGET  # recent, so at the top of its inbox
    for msg in page:
        assert set(msg) == MESSAGE_KEYS
        assert msg["target"] == LONG_THREAD_TARGET
        assert msg["conversation"] == {"id": conv["id"], "inbox": 501, "target": LONG_THREAD_TARGET,
                                       "name": conv["name"]}
    assert page[0]["date"] == conv["updated"]
    assert page[0]["text"] == conv["last_msg"]


# ---------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def all_threads(shared: FakeHeymarket) -> list[dict[str, Any]]:
    data = shared.data
    return [m for c in data.conversations for m in data.messages_for(c["inbox"], c["target"])]


def test_all_conversations_reachable_by_paging(sc: httpx.Client, shared: FakeHeymarket) -> None:
    # Exclusive cursor loses ties at page ends, so page by `date` and dedupe.
    seen: dict[int, dict[str, Any]] = {}
    for inbox in (501, 502, 503, 504):
        date = None
        for _ in range(len(shared.data.conversations)):  # at least one new conversation a page, or it ends
            extra = {"date": date} if date else {}
            page = conv_list(sc, [inbox], **extra)
            if not page:
                break
            seen.update((c["id"], c) for c in page)
            date = page[-1]["updated"]
        else:
            raise AssertionError(f"paging inbox {inbox} never ended")
    assert len(seen) >= 320
    assert len(seen) >= len(shared.data.conversations) - 8  # only tie losses are missing
    assert Counter(c["inbox"] for c in seen.values()).keys() == {501, 502, 503, 504}


def test_conversation_data_requirements(shared: FakeHeymarket) -> None:
    data = shared.data
    convs = data.conversations
    assert len(convs) >= 320
    assert len({c["id"] for c in convs}) == len(convs)
    assert len({(c["inbox"], c["target"]) for c in convs}) == len(convs)
    statuses = Counter(c["status"] for c in convs)
    assert statuses["open"] > statuses["closed"] > 0
    unread = [c for c in convs if c["unread"]]
    assert 0 < len(unread) < len(convs)
    for c in convs:
        assert c["unread"] == (c["last_inbound"] > c["read"])
        assert (c["unread_users"] == []) != c["unread"]
    assigned = Counter(c["assigned"] for c in convs)
    assert assigned[None] > 0 and len(assigned) >= 6
    names = [c["name"] for c in convs]
    assert any(not n for n in names)
    text = " ".join(n for n in names if n)
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)  # Japanese / Chinese
    assert any("\u0400" <= ch <= "\u04ff" for ch in text)  # Cyrillic
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)  # Arabic
    assert any("\u0900" <= ch <= "\u097f" for ch in text)  # Devanagari
    assert any("\u0370" <= ch <= "\u03ff" for ch in text)  # Greek
    targets = [c["target"] for c in convs]
    assert all(t.isdigit() and 10 <= len(t) <= 15 for t in targets)
    assert any(t.startswith("1") for t in targets) and any(t.startswith("44") for t in targets)
    assert len(set(targets)) < len(targets)  # some customers text two inboxes
    updated = [epoch(c["updated"]) for c in convs]
    assert all(ANCHOR_EPOCH - 90 * 86400 <= u <= ANCHOR_EPOCH for u in updated)
    assert sum(1 for u in updated if ANCHOR_EPOCH - u <= 3600) >= 5
    by_inbox = Counter((c["inbox"], c["updated"]) for c in convs)
    assert sum(1 for n in by_inbox.values() if n >= 2) >= 4


def test_conversation_summary_matches_thread(shared: FakeHeymarket) -> None:
    data = shared.data
    for conv in data.conversations:
        thread = data.messages_for(conv["inbox"], conv["target"])
        assert thread, conv["id"]
        last = thread[-1]
        assert conv["updated"] == last["date"]
        assert conv["last_msg"] == last["text"]
        assert epoch(conv["created"]) == epoch(thread[0]["date"])
        inbound = [m for m in thread if m["user"] is None and isinstance(m["date"], str)]
        assert conv["last_inbound"] == max(epoch(m["date"]) for m in inbound)


def test_message_data_requirements(all_threads: list[dict[str, Any]]) -> None:
    ids = [m["id"] for m in all_threads]
    assert len(set(ids)) == len(ids)
    kinds = Counter((m["type"], m["status"], m["user"] is None) for m in all_threads)
    assert kinds[("text", "received", True)] > 0
    assert kinds[("media", "received", True)] > 0
    assert kinds[("comment", None, False)] > 0
    assert kinds[("text", "failed", False)] > 0
    assert kinds[("text", "sent", False)] > 0
    assert kinds[("text", "delivered", False)] > 0
    medias = [m for m in all_threads if m["type"] == "media"]
    assert all(m["media"].startswith("https://") for m in medias if m["target"] != HOSTILE_THREAD_TARGET)
    assert any(m["link_url"] for m in all_threads)
    assert any(m["broadcast_id"] for m in all_threads)
    texts = [m["text"] for m in all_threads if isinstance(m["text"], str)]
    joined = "\n".join(set(texts))
    assert any(ord(ch) >= 0x1F300 for ch in joined)  # emoji
    assert any("\u0590" <= ch <= "\u06ff" for ch in joined)  # right-to-left
    assert any("\u3040" <= ch <= "\u30ff" for ch in joined)
    assert any("\n" in t for t in texts)
    assert any(len(t) > 300 for t in texts)
    for m in all_threads:
        if m["type"] == "comment":
            assert m["user"] is not None and m["status"] is None
        elif m["user"] is None and m["target"] != HOSTILE_THREAD_TARGET:
            assert m["status"] == "received" and m["author"]


def test_long_thread(shared: FakeHeymarket) -> None:
    thread = shared.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    assert len(thread) >= 20_500
    dates = [epoch(m["date"]) for m in thread]
    assert dates == sorted(dates)
    ids = [m["id"] for m in thread]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    span_days = (dates[-1] - dates[0]) / 86400
    assert 2.7 * 365 < span_days < 3.3 * 365
    tied = sum(1 for a, b in zip(dates, dates[1:]) if a == b)
    assert 0.01 * len(thread) < tied < 0.1 * len(thread)
    assert ANCHOR_EPOCH - dates[-1] < 3600


def test_hostile_thread(sc: httpx.Client, shared: FakeHeymarket) -> None:
    conv = shared.data.find_conversation(HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET)
    assert conv is not None and "[bold red]" in conv["name"] and "\x1b[" in conv["name"]
    page = messages(sc, HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET)
    texts = [m.get("text") for m in page]
    joined = "\n".join(t for t in texts if isinstance(t, str))
    for needle in (
        "[@click=app.quit]x[/]", "[bold red]not bold[/]", "[link=https://evil.invalid]x[/link]",
        "\x1b[31mred\x1b[0m", "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;aGVsbG8=\x07", "\x07", "\x00",
        "abc\rdef", "\t", "\u200b", "\u202e",
    ):
        assert needle in joined, repr(needle)
    assert any(isinstance(t, str) and len(t) == 5000 for t in texts)
    weird = [m for m in page if m.get("text") is None]
    assert weird and isinstance(weird[0]["date"], int) and weird[0]["conversation"] is None


# ------------------------------------------------------------------- cursors


def _tied_conversations(server: FakeHeymarket, inbox: int) -> tuple[str, set[int]]:
    counts = Counter(c["updated"] for c in server.data.conversations if c["inbox"] == inbox)
    stamp = max(s for s, n in counts.items() if n >= 2)
    return stamp, {c["id"] for c in server.data.conversations if c["inbox"] == inbox and c["updated"] == stamp}


def test_conversation_cursor_exclusive_vs_inclusive(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    stamp, tied = _tied_conversations(fresh, 501)
    page = conv_list(fc, [501], date=stamp)
    assert all(epoch(c["updated"]) < epoch(stamp) for c in page)
    assert not tied & {c["id"] for c in page}
    fresh.options.cursor = "inclusive"
    page = conv_list(fc, [501], date=stamp)
    assert all(epoch(c["updated"]) <= epoch(stamp) for c in page)
    assert {c["id"] for c in page[: len(tied)]} == tied
    # Offsets and fractions name the same instant.
    local = datetime.fromtimestamp(epoch(stamp), timezone(timedelta(hours=2))).isoformat()
    assert conv_list(fc, [501], date=local) == page
    fresh.options.cursor = "exclusive"
    frac = stamp.replace("Z", ".5Z")
    assert {c["id"] for c in conv_list(fc, [501], date=frac)} >= tied


def _tie_in_long_thread(server: FakeHeymarket) -> tuple[int, set[int]]:
    thread = server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    dates = Counter(m["date"] for m in thread[-3000:])
    stamp = max(s for s, n in dates.items() if n >= 3)
    return epoch(stamp), {m["id"] for m in thread if m["date"] == stamp}


def test_message_cursor_exclusive_vs_inclusive(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    stamp, tied = _tie_in_long_thread(fresh)
    page = messages(fc, LONG_THREAD_INBOX, LONG_THREAD_TARGET, stamp)
    assert len(page) == 50
    assert all(epoch(m["date"]) < stamp for m in page)
    assert not tied & {m["id"] for m in page}
    fresh.options.cursor = "inclusive"
    page = messages(fc, LONG_THREAD_INBOX, LONG_THREAD_TARGET, stamp)
    assert {m["id"] for m in page[: len(tied)]} == tied
    assert all(epoch(m["date"]) < stamp for m in page[len(tied) :])


def _page_whole_thread(c: httpx.Client, total: int) -> tuple[set[int], int]:
    seen: set[int] = set()
    stamp = None
    for requests in range(1, total + 2):  # each page brings something new, or paging ends
        page = messages(c, LONG_THREAD_INBOX, LONG_THREAD_TARGET, stamp)
        new = {m["id"] for m in page} - seen
        if not new:
            return seen, requests
        seen |= new
        stamp = min(epoch(m["date"]) for m in page)
    raise AssertionError("paging the long thread never ended")


def test_paging_the_long_thread(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    total = len(fresh.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET))
    fresh.options.rate_limit = 0  # two passes over the thread: over 800 requests in a minute
    page_size = fresh.options.message_page_size
    minimum = -(-total // page_size)
    seen, requests = _page_whole_thread(fc, total)
    # Page ends fall inside same-second bursts, so an exclusive cursor skips some.
    assert len(seen) < total
    assert minimum * 0.9 <= requests <= minimum + 1
    assert fresh.counts["GET /v1/messages"] == requests
    fresh.reset_counts()
    fresh.options.cursor = "inclusive"
    seen, requests = _page_whole_thread(fc, total)
    assert len(seen) == total
    # The work is counted, not timed (timing is python -m hmtui.bench's): one request a page,
    # plus the pages the same-second messages at each boundary make again.
    assert minimum <= requests <= minimum * 1.1 + 1
    assert fresh.counts["GET /v1/messages"] == requests


# -------------------------------------------------------------------- orders


def test_orders(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    newest_c = conv_list(fc, [501, 502])
    assert {c["inbox"] for c in newest_c} == {501, 502}
    keys = [(epoch(c["updated"]), c["id"]) for c in newest_c]
    assert keys == sorted(keys, reverse=True)
    newest_m = messages(fc, LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    mkeys = [(epoch(m["date"]), m["id"]) for m in newest_m]
    assert mkeys == sorted(mkeys, reverse=True)

    fresh.options.order = "oldest"
    assert conv_list(fc, [501, 502]) == newest_c[::-1]
    assert messages(fc, LONG_THREAD_INBOX, LONG_THREAD_TARGET) == newest_m[::-1]

    fresh.options.order = "shuffled"
    shuffled = [messages(fc, LONG_THREAD_INBOX, LONG_THREAD_TARGET) for _ in range(2)]
    for page in shuffled:
        assert sorted(m["id"] for m in page) == sorted(m["id"] for m in newest_m)
        assert page not in (newest_m, newest_m[::-1])
    assert shuffled[0] != shuffled[1]
    conv_shuffled = conv_list(fc, [501, 502])
    assert sorted(c["id"] for c in conv_shuffled) == sorted(c["id"] for c in newest_c)
    assert conv_shuffled not in (newest_c, newest_c[::-1])


def test_page_sizes_and_filters(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.options.conversation_page_size = 10
    fresh.options.message_page_size = 7
    assert len(conv_list(fc, [501])) == 10
    assert len(messages(fc, LONG_THREAD_INBOX, LONG_THREAD_TARGET)) == 7
    fresh.options.conversation_page_size = 500
    body = {"id": 101, "filters": {"inboxes": [503], "closed": True}}
    closed = fc.post("/v1/conversations", json=body).json()
    assert closed and all(c["status"] == "closed" for c in closed)
    body["filters"]["closed"] = False
    opened = fc.post("/v1/conversations", json=body).json()
    assert opened and all(c["status"] == "open" for c in opened)
    body["filters"] = {"inboxes": [501, 502, 503, 504], "unread": True}
    unread = fc.post("/v1/conversations", json=body).json()
    assert unread and all(c["unread"] for c in unread)
    assert len(unread) == sum(1 for c in fresh.data.conversations if c["unread"])
    assert conv_list(fc, [9999]) == []


def test_options_given_to_constructor() -> None:
    options = FakeOptions(conversation_page_size=5, message_page_size=3, cursor="inclusive", order="oldest")
    with FakeHeymarket(anchor=ANCHOR, options=options) as server, client(server) as c:
        assert server.options is options
        page = conv_list(c, [501])
        assert len(page) == 5
        assert [epoch(x["updated"]) for x in page] == sorted(epoch(x["updated"]) for x in page)
        stamp, tied = _tie_in_long_thread(server)
        page = messages(c, LONG_THREAD_INBOX, LONG_THREAD_TARGET, stamp)
        assert len(page) == 3 and page[-1]["id"] in tied


def test_latency_option(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.options.latency = 0.2
    started = time.perf_counter()
    fc.get("/v1/team")
    assert time.perf_counter() - started >= 0.2


# -------------------------------------------------------------------- faults


def test_fault_429_with_and_without_retry_after(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.inject(Fault("429", retry_after=2))
    fresh.inject(Fault("429", retry_after=1.5))
    fresh.inject(Fault("429"))
    r = fc.get("/v1/team")
    assert r.status_code == 429 and r.headers["retry-after"] == "2" and r.json() == {"error": "Too Many Requests"}
    assert r.headers["x-request-id"]
    assert fc.get("/v1/team").headers["retry-after"] == "1.5"
    r = fc.get("/v1/team")
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert fc.get("/v1/team").status_code == 200


def test_fault_429_does_not_process_and_precedes_auth(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = conv_list(fc, [501])[3]
    fresh.inject(Fault("429", times=2, path="/v1/conversations/close"))
    body = {"inbox_id": 501, "user_id": 101, "target": conv["target"]}
    assert httpx.post(f"{fresh.url}/v1/conversations/close", json=body).status_code == 429  # no token
    assert fc.post("/v1/conversations/close", json=body).status_code == 429
    assert fc.get(f"/v1/conversations/{conv['id']}").json()["status"] == conv["status"]
    assert fc.post("/v1/conversations/close", json=body).status_code == 200


def test_fault_500_is_html(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.inject(Fault("500"))
    r = fc.get("/v1/inboxes")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.startswith("<html>") and "500 Internal Server Error" in r.text
    assert fc.get("/v1/inboxes").status_code == 200


def test_fault_malformed(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.inject(Fault("malformed", path="/v1/messages"))
    r = fc.get("/v1/team")
    assert r.status_code == 200 and r.json()["members"]
    r = fc.get("/v1/messages", params={"phoneNumber": LONG_THREAD_TARGET, "inboxID": 501})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(r.content)


def test_fault_401_with_valid_token(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.inject(Fault("401", method="GET"))
    assert fc.post("/v1/conversations", json={"id": 101, "filters": {"inboxes": [501]}}).status_code == 200
    r = fc.get("/v1/inboxes")
    assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
    assert fc.get("/v1/inboxes").status_code == 200


def test_fault_stall_does_not_block_others(fresh: FakeHeymarket, gated_stalls: GatedSleep) -> None:
    fresh.inject(Fault("stall", stall=5.0, path="/v1/inboxes"))
    answer: list[httpx.Response] = []
    with client(fresh, timeout=60) as patient, client(fresh) as other:
        stalled = threading.Thread(target=lambda: answer.append(patient.get("/v1/inboxes")))
        stalled.start()
        try:
            assert gated_stalls.entered.wait(60), "the stalled request never reached the server"
            # While it is held, every other request is answered, the same path included.
            assert other.get("/v1/team").status_code == 200
            r = other.get("/v1/inboxes")
            assert r.status_code == 200 and r.json() == fresh.data.inboxes
            assert stalled.is_alive() and not answer
        finally:
            gated_stalls.gate.set()
            stalled.join(60)
    assert not stalled.is_alive()
    # The stalled request is answered too, in full, once the stall ends.
    assert gated_stalls.slept == [5.0]
    assert len(answer) == 1 and answer[0].status_code == 200 and answer[0].json() == fresh.data.inboxes
    assert [q.status for q in fresh.requests if q.path == "/v1/inboxes"] == [200, 200]
    assert fresh.counts["GET /v1/inboxes"] == 2


def test_a_stall_outlasts_a_client_timeout(fresh: FakeHeymarket, gated_stalls: GatedSleep) -> None:
    fresh.inject(Fault("stall", stall=5.0, path="/v1/inboxes"))
    with client(fresh, timeout=0.2) as slow:
        with pytest.raises(httpx.ReadTimeout):
            slow.get("/v1/inboxes")  # the gate is shut: the answer cannot come in time
    assert gated_stalls.slept == [5.0] and fresh.counts["GET /v1/inboxes"] == 1


def test_fault_every_path_and_method(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.inject(Fault("500", every=3, path="/v1/team", method="get"))
    statuses = [fc.get("/v1/team").status_code for _ in range(9)]
    assert statuses == [200, 200, 500] * 3
    assert all(fc.get("/v1/inboxes").status_code == 200 for _ in range(4))
    assert fc.request("POST", "/v1/team").status_code == 404
    fresh.clear_faults()
    assert all(fc.get("/v1/team").status_code == 200 for _ in range(4))


def test_faults_apply_in_injection_order(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    fresh.inject(Fault("500", path="/v1/"))
    fresh.inject(Fault("429", path="/v1/team"))
    assert fc.get("/v1/team").status_code == 500
    assert fc.get("/v1/team").status_code == 429
    assert fc.get("/v1/team").status_code == 200


def test_fault_after_processes_first(fresh: FakeHeymarket, fc: httpx.Client, gated_stalls: GatedSleep) -> None:
    conv = next(c for c in conv_list(fc, [502]) if c["status"] == "open")
    fresh.inject(Fault("500", path="/v1/conversations/close", after=True))
    r = fc.post("/v1/conversations/close", json={"inbox_id": 502, "user_id": 101, "target": conv["target"]})
    assert r.status_code == 500
    assert fc.get(f"/v1/conversations/{conv['id']}").json()["status"] == "closed"
    fresh.inject(Fault("stall", stall=0.5, path="/v1/conversations/open", after=True))
    with client(fresh, timeout=0.2) as slow, pytest.raises(httpx.ReadTimeout):
        # The gate holds the answer, so the timeout is certain however slow the machine is.
        slow.post("/v1/conversations/open", json={"inbox_id": 502, "user_id": 101, "target": conv["target"]})
    assert gated_stalls.slept == [0.5]
    assert fc.get(f"/v1/conversations/{conv['id']}").json()["status"] == "open"
    gated_stalls.gate.set()


# ---------------------------------------------------------- counts & records


def test_counts_and_request_log(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = conv_list(fc, [501])[0]
    fresh.reset_counts()
    assert not fresh.counts and not fresh.requests
    fresh.inject(Fault("429", path="/v1/messages"))
    fc.get("/v1/inboxes")
    fc.get(f"/v1/conversations/{conv['id']}")
    fc.get("/v1/conversations/42")
    fc.get("/v1/messages", params={"phoneNumber": conv["target"], "inboxID": 501})
    fc.get("/v1/messages", params={"phoneNumber": conv["target"], "inboxID": 501, "timestamp": 5})
    fc.post("/v1/conversations", json={"id": 101, "filters": {"inboxes": [501]}})
    body = {"inbox_id": 501, "user_id": 101, "target": conv["target"]}
    fc.post("/v1/conversations/close", json=body)
    httpx.get(f"{fresh.url}/v1/team")
    assert fresh.counts == Counter({
        "GET /v1/inboxes": 1,
        "GET /v1/conversations/{id}": 2,
        "GET /v1/messages": 2,
        "POST /v1/conversations": 1,
        "POST /v1/conversations/close": 1,
        "GET /v1/team": 1,
    })
    log = [(q.method, q.path, q.status) for q in fresh.requests]
    assert log == [
        ("GET", "/v1/inboxes", 200),
        ("GET", f"/v1/conversations/{conv['id']}", 200),
        ("GET", "/v1/conversations/42", 404),
        ("GET", "/v1/messages", 429),
        ("GET", "/v1/messages", 200),
        ("POST", "/v1/conversations", 200),
        ("POST", "/v1/conversations/close", 200),
        ("GET", "/v1/team", 401),
    ]
    assert fresh.requests[4].query == {"phoneNumber": conv["target"], "inboxID": "501", "timestamp": "5"}
    assert fresh.requests[6].body == body


# -------------------------------------------------------------------- triage


def _post_ok(c: httpx.Client, action: str, body: dict[str, Any]) -> None:
    r = c.post(f"/v1/conversations/{action}", json=body)
    assert r.status_code == 200, r.text
    assert r.text == "ok" and r.headers["content-type"].startswith("text/plain")


def test_triage_open_close(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = next(c for c in conv_list(fc, [501]) if c["status"] == "open")
    get = lambda: fc.get(f"/v1/conversations/{conv['id']}").json()  # noqa: E731
    _post_ok(fc, "close", {"inbox_id": 501, "user_id": 103, "target": conv["target"]})
    assert get()["status"] == "closed"
    _post_ok(fc, "open", {"inbox_id": 501, "user_id": 103, "chat_id": conv["id"]})
    assert get()["status"] == "open"
    _post_ok(fc, "close", {"inbox_id": 501, "user_id": 103, "chat_id": conv["id"]})
    after = get()
    assert after["status"] == "closed" and after["updated"] == conv["updated"]
    closed_ids = {c["id"] for c in fc.post("/v1/conversations", json={
        "id": 101, "filters": {"inboxes": [501], "closed": True}}).json()}
    assert conv["id"] in closed_ids


def test_triage_read_unread(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = next(c for c in fresh.data.conversations if c["unread"] and c["inbox"] == 502)
    get = lambda: fc.get(f"/v1/conversations/{conv['id']}").json()  # noqa: E731
    before = int(time.time())
    _post_ok(fc, "read", {"inbox_id": 502, "user_id": 101, "target": conv["target"]})
    after = get()
    assert after["unread"] is False and after["unread_users"] == []
    assert before <= after["read"] <= int(time.time())
    assert after["updated"] == conv["updated"]
    _post_ok(fc, "unread", {"inbox_id": 502, "user_id": 101, "target": conv["target"]})
    after = get()
    assert after["unread"] is True and after["read"] == 0


def test_triage_reassign(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = conv_list(fc, [503])[0]
    new_owner = 107 if conv["assigned"] != 107 else 103
    _post_ok(fc, "reassign", {"inbox_id": 503, "user_id": conv["assigned"] or 101, "reassign_id": new_owner,
                              "target": conv["target"]})
    assert fc.get(f"/v1/conversations/{conv['id']}").json()["assigned"] == new_owner


def test_triage_transfer(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = conv_list(fc, [504])[2]
    thread = messages(fc, 504, conv["target"])
    _post_ok(fc, "transfer", {"conversation_id": conv["id"], "transfer_inbox_id": 503})
    moved = fc.get(f"/v1/conversations/{conv['id']}").json()
    assert moved["inbox"] == 503 and moved["updated"] == conv["updated"]
    assert messages(fc, 504, conv["target"]) == []
    now = messages(fc, 503, conv["target"])
    assert [m["id"] for m in now] == [m["id"] for m in thread]
    assert all(m["conversation"]["inbox"] == 503 for m in now)
    assert conv["id"] in {c["id"] for c in conv_list(fc, [503], date="2030-01-01T00:00:00Z")}
    assert conv["id"] not in {c["id"] for c in conv_list(fc, [504])}


@pytest.mark.parametrize(
    "action,body,status,field",
    [
        ("close", {"user_id": 101, "target": LONG_THREAD_TARGET}, 400, "inbox_id"),
        ("close", {"inbox_id": "501", "user_id": 101, "target": LONG_THREAD_TARGET}, 400, "inbox_id"),
        ("close", {"inbox_id": 501, "target": LONG_THREAD_TARGET}, 400, "user_id"),
        ("close", {"inbox_id": 501, "user_id": 999, "target": LONG_THREAD_TARGET}, 400, "user_id"),
        ("close", {"inbox_id": 501, "user_id": 101}, 400, "target"),
        ("open", {"inbox_id": 501, "user_id": 101, "chat_id": "x"}, 400, "chat_id"),
        ("read", {"inbox_id": 501, "user_id": 101, "target": 14155550142}, 400, "target"),
        ("unread", ["inbox_id", 501], 400, "body"),
        ("reassign", {"inbox_id": 501, "user_id": 101, "target": LONG_THREAD_TARGET}, 400, "reassign_id"),
        ("reassign", {"inbox_id": 501, "user_id": 101, "reassign_id": 4, "target": LONG_THREAD_TARGET}, 400,
         "reassign_id"),
        ("transfer", {"conversation_id": 1}, 400, "transfer_inbox_id"),
        ("transfer", {"transfer_inbox_id": 502}, 400, "conversation_id"),
        ("transfer", {"conversation_id": 1, "transfer_inbox_id": 9}, 400, "transfer_inbox_id"),
        ("close", {"inbox_id": 501, "user_id": 101, "target": "19995550000"}, 404, None),
        ("open", {"inbox_id": 502, "user_id": 101, "target": LONG_THREAD_TARGET}, 404, None),
        ("open", {"inbox_id": 501, "user_id": 101, "chat_id": 1}, 404, None),
        ("read", {"inbox_id": 77, "user_id": 101, "target": LONG_THREAD_TARGET}, 404, None),
        ("unread", {"inbox_id": 501, "user_id": 101, "target": "19995550000"}, 404, None),
        ("reassign", {"inbox_id": 501, "user_id": 101, "reassign_id": 103, "target": "1"}, 404, None),
        ("transfer", {"conversation_id": 1, "transfer_inbox_id": 502}, 404, None),
    ],
)
def test_triage_errors(sc: httpx.Client, action: str, body: Any, status: int, field: str | None) -> None:
    r = sc.post(f"/v1/conversations/{action}", json=body)
    assert r.status_code == status, r.text
    if field is not None:
        assert r.json()["field"] == field
    else:
        assert r.json()["error"] == "Not Found"


def test_triage_bad_json_and_chat_id_in_wrong_inbox(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    r = fc.post("/v1/conversations/close", content=b"{inbox_id: 501", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["field"] == "body"
    conv = conv_list(fc, [502])[0]
    r = fc.post("/v1/conversations/close", json={"inbox_id": 501, "user_id": 101, "chat_id": conv["id"]})
    assert r.status_code == 404
    other = conv_list(fc, [501])[0]
    r = fc.post("/v1/conversations/transfer", json={"conversation_id": other["id"], "transfer_inbox_id": 502})
    assert r.status_code == 200
    # The same number now has a conversation in 502; moving another one there with that number is refused.
    dup = [c for c in fresh.data.conversations if sum(1 for d in fresh.data.conversations
                                                      if d["target"] == c["target"]) > 1]
    a = dup[0]
    b = next(d for d in dup if d["target"] == a["target"] and d["id"] != a["id"])
    r = fc.post("/v1/conversations/transfer", json={"conversation_id": a["id"], "transfer_inbox_id": b["inbox"]})
    assert r.status_code == 400 and r.json()["field"] == "transfer_inbox_id"


# --------------------------------------------------------------- add_message


def test_add_message(fresh: FakeHeymarket, fc: httpx.Client) -> None:
    conv = next(c for c in conv_list(fc, [503]) if not c["unread"] and c["status"] == "closed")
    before = messages(fc, 503, conv["target"])
    msg = fresh.add_message(503, conv["target"], "Any news? 🙂")
    assert msg["text"] == "Any news? 🙂" and msg["user"] is None and msg["status"] == "received"
    assert epoch(msg["date"]) > epoch(before[0]["date"])
    assert msg["id"] > max(m["id"] for m in before)
    page = messages(fc, 503, conv["target"])
    assert page[0] == msg and page[1:] == before[:49]
    after = fc.get(f"/v1/conversations/{conv['id']}").json()
    assert after["updated"] == msg["date"] and after["last_msg"] == msg["text"]
    assert after["unread"] is True and after["last_inbound"] == epoch(msg["date"])
    assert after["status"] == "open"
    assert conv_list(fc, [503])[0]["id"] == conv["id"]

    stamp = datetime.fromtimestamp(epoch(msg["date"]) + 3600, timezone.utc)
    reply = fresh.add_message(503, conv["target"], "Yes! Shipped today.", inbound=False, date=stamp)
    assert reply["user"] is not None and reply["author"] and reply["status"] == "delivered"
    assert messages(fc, 503, conv["target"])[0]["id"] == reply["id"]
    after = fc.get(f"/v1/conversations/{conv['id']}").json()
    assert after["updated"] == reply["date"] == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert after["replied"] is True and after["last_msg"] == "Yes! Shipped today."

    new = fresh.add_message(504, "447700900999", "Hello, new here")
    first = conv_list(fc, [504])[0]
    assert first["target"] == "447700900999" and first["unread"] is True
    assert first["created"] == first["updated"] == new["date"] and first["last_msg"] == "Hello, new here"
    assert messages(fc, 504, "447700900999") == [new]


# ---------------------------------------------------- determinism & laziness


def _snapshot(server: FakeHeymarket) -> list[bytes]:
    out = []
    with client(server) as c:
        out.append(c.get("/v1/inboxes").content)
        out.append(c.get("/v1/team").content)
        for inbox in (501, 502, 503, 504):
            out.append(c.post("/v1/conversations", json={"id": 101, "filters": {"inboxes": [inbox]}}).content)
        convs = json.loads(out[2])
        for target, inbox in [(c["target"], c["inbox"]) for c in convs[:5]] + [
            (LONG_THREAD_TARGET, LONG_THREAD_INBOX), (HOSTILE_THREAD_TARGET, HOSTILE_THREAD_INBOX)
        ]:
            out.append(c.get("/v1/messages", params={"phoneNumber": target, "inboxID": inbox}).content)
    return out


def test_determinism(shared: FakeHeymarket) -> None:
    with FakeHeymarket(anchor=ANCHOR) as twin, FakeHeymarket(anchor=ANCHOR, seed=8) as other:
        a, b, c = _snapshot(shared), _snapshot(twin), _snapshot(other)
    assert a == b
    assert a[2] != c[2] and a[-2] != c[-2]
    d1, d2 = FakeData(7, ANCHOR), FakeData(7, ANCHOR)
    assert json.dumps(d1.conversations) == json.dumps(d2.conversations)
    conv = d1.conversations[40]
    assert json.dumps(d1.messages_for(conv["inbox"], conv["target"])) == json.dumps(
        d2.messages_for(conv["inbox"], conv["target"]))


def test_anchor_default_is_now_truncated_to_minute() -> None:
    fixed = 1_790_000_123.7
    server = FakeHeymarket(clock=lambda: fixed)
    assert server.data.anchor == datetime.fromtimestamp(1_790_000_100, timezone.utc)
    newest = max(epoch(c["updated"]) for c in server.data.conversations)
    assert 1_790_000_100 - 3600 < newest <= 1_790_000_100


def test_generation_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The claim behind the old timings: making the data set builds no thread, and the first page
    # of the 20,000-message thread builds that one thread, once. Counted, not timed (timing is
    # python -m hmtui.bench's).
    from hmtui.fake.generate import Generator

    built: list[tuple[int, str]] = []
    build = Generator.thread

    def counting(self: Generator, plan: Any) -> Any:
        built.append((plan.ref["inbox"], plan.ref["target"]))
        return build(self, plan)

    monkeypatch.setattr(Generator, "thread", counting)
    FakeData(11, ANCHOR)
    assert built == []
    with FakeHeymarket(anchor=ANCHOR, seed=11) as server, client(server) as c:
        assert built == []
        page = messages(c, LONG_THREAD_INBOX, LONG_THREAD_TARGET)
        assert len(page) == 50
        messages(c, LONG_THREAD_INBOX, LONG_THREAD_TARGET, epoch(page[0]["date"]))
        assert built == [(LONG_THREAD_INBOX, LONG_THREAD_TARGET)]


def test_concurrent_first_access_is_safe() -> None:
    with FakeHeymarket(anchor=ANCHOR) as server:
        results: list[list[dict[str, Any]]] = []

        def fetch() -> None:
            with client(server) as c:
                results.append(messages(c, LONG_THREAD_INBOX, LONG_THREAD_TARGET))

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
