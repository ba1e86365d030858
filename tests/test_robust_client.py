"""Issue 15, items 6, 7 and 14: every transport or decoding failure is an API error; the timeout is
a deadline on the whole request; a response has a size cap; a base URL's password never shows."""

from __future__ import annotations

import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from hmtui.api import ApiTimeoutError, Credentials, HeymarketClient, MalformedResponseError, RetryPolicy
from hmtui.api.client import MAX_RESPONSE_BYTES, redact_url, validate_base_url
from hmtui.api.errors import ResponseTooLargeError
from hmtui.fake.server import Fault
from hmtui.logs import RedactingFilter

from conftest import env_for, run_cli
from helpers import CREDS, RecordingSleep, eventually, mock_client


def fake_client(server, *, attempts: int = 3, sleep: RecordingSleep | None = None) -> HeymarketClient:
    return HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                           retry=RetryPolicy(attempts=attempts), sleep=sleep or RecordingSleep(),
                           timeout=httpx.Timeout(30.0))


def write_config(env: dict[str, str], text: str) -> None:
    path = Path(env["HMTUI_CONFIG"])
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def one_line_error(result, code: int = 1) -> str:
    assert result.returncode == code, result
    lines = result.stderr.strip().splitlines()
    # A command that retries says so once, at its first retry; then comes the one-line error.
    if len(lines) == 2 and lines[0].endswith("retrying…"):
        lines = lines[1:]
    err = "\n".join(lines)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in err and err.startswith("hmtui: ")
    return err


# -- item 6: a bad gzip body or deeply nested JSON is a malformed response, retried ---------------


@pytest.mark.parametrize("kind", ["badgzip", "deepjson"])
async def test_undecodable_body_is_a_malformed_response_retried_as_such(server, kind) -> None:
    server.inject(Fault(kind, times=3, path="/v1/inboxes"))
    sleep = RecordingSleep()
    async with fake_client(server, attempts=3, sleep=sleep) as client:
        with pytest.raises(MalformedResponseError) as caught:
            await client.inboxes()
    assert client.requests["GET /v1/inboxes"] == 3
    assert len(sleep.delays) == 2  # retried like any malformed answer
    expected = "cannot be decoded" if kind == "badgzip" else "nested too deeply"
    assert expected in str(caught.value)


@pytest.mark.parametrize("kind", ["badgzip", "deepjson"])
async def test_undecodable_body_then_a_good_one_recovers(server, kind) -> None:
    server.inject(Fault(kind, times=1, path="/v1/inboxes"))
    async with fake_client(server, attempts=2) as client:
        inboxes = await client.inboxes()
    assert inboxes and client.requests["GET /v1/inboxes"] == 2


@pytest.mark.parametrize("kind, words", [("badgzip", "cannot be decoded"), ("deepjson", "nested too deeply")])
def test_cli_says_an_undecodable_body_in_one_line(server, isolated_env, kind, words) -> None:
    server.inject(Fault(kind, every=1, path="/v1/inboxes"))
    env = env_for(server, isolated_env)
    write_config(env, "retries = 1\n")
    err = one_line_error(run_cli("inboxes", env=env))
    assert words in err and "GET /v1/inboxes" in err
    assert sum(1 for r in server.requests if r.path == "/v1/inboxes") == 2  # retried once, as configured


# -- item 7: the timeout is a deadline on the whole attempt ---------------------------------------


class _Trickle:
    """A loopback HTTP server that answers 200 and then sends its body one byte every `gap` s."""

    def __init__(self, *, size: int = 400, gap: float = 0.05) -> None:
        self.requests = 0
        self.bytes_sent = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                with lock:
                    owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                for _ in range(size):
                    if stop.wait(gap):
                        return
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:  # the client gave up: what the test wants
                        return
                    with lock:
                        owner.bytes_sent += 1

        lock = threading.Lock()
        stop = threading.Event()
        self._stop = stop
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def trickle() -> Iterator[_Trickle]:
    # 400 bytes at 20 a second: 20 s for the whole body, far past the deadlines used below.
    with _Trickle() as server:
        yield server


async def test_a_trickling_body_hits_the_deadline_on_every_attempt(trickle) -> None:
    sleep = RecordingSleep()
    # httpx's per-read timeout (30 s) never fires: a byte arrives every 50 ms. Only the client's
    # own deadline on the whole attempt can stop it.
    client = HeymarketClient(CREDS, base_url=trickle.url, timeout=httpx.Timeout(30.0), deadline=0.5,
                             retry=RetryPolicy(attempts=3), sleep=sleep)
    async with client:
        with pytest.raises(ApiTimeoutError) as caught:
            await client.inboxes()
    assert "within 0.5 s" in str(caught.value)  # the deadline fired, not an httpx timeout
    assert client.requests["GET /v1/inboxes"] == 3
    # Each attempt was sent; the server thread may read the last one after the client gave up.
    eventually(lambda: trickle.requests == 3, "the server saw three attempts")
    assert len(sleep.delays) == 2
    assert trickle.bytes_sent < 3 * 400  # no attempt read its whole body


def test_the_configured_timeout_is_the_deadline() -> None:
    client = HeymarketClient(CREDS, base_url="https://api.example.invalid", timeout=httpx.Timeout(3.0, connect=3.0))
    assert client.deadline == 3.0
    assert HeymarketClient(CREDS, base_url="https://x.invalid", timeout=7).deadline == 7.0


def test_cli_timeout_bounds_the_whole_request(trickle, isolated_env) -> None:
    env = {**isolated_env, "HEYMARKET_BASE_URL": trickle.url, "HEYMARKET_SECRET_ID": "id-123",
           "HEYMARKET_SECRET_KEY": "key-0123456789abcdef"}
    write_config(env, "timeout = 1\nretries = 1\n")
    err = one_line_error(run_cli("inboxes", env=env))
    assert "within 1 s" in err
    # Two attempts of at most 1 s each, not 20 s each (the server may read the second late).
    eventually(lambda: trickle.requests == 2, "the server saw two attempts")
    assert trickle.requests == 2


# -- item 7: a size cap on responses --------------------------------------------------------------


class _CountingStream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0  # chunks handed to the client
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def gzip_bomb(decoded: int, chunk: int = 1 << 20) -> bytes:
    """`decoded` zero bytes, gzipped (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(chunk)
    parts = [packer.compress(zeros) for _ in range(decoded // chunk)]
    parts.append(packer.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(MAX_RESPONSE_BYTES + (16 << 20))  # 80 MiB of zeros in ~80 KB


async def test_a_gzip_bomb_stops_at_the_cap(bomb) -> None:
    streams: list[_CountingStream] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stream = _CountingStream([bomb[i:i + 1024] for i in range(0, len(bomb), 1024)])
        streams.append(stream)
        return httpx.Response(200, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
                              stream=stream)

    client = mock_client(handler, attempts=5)
    with pytest.raises(ResponseTooLargeError) as caught:
        await client.inboxes()
    assert "response too large: over 64 MiB" in str(caught.value)
    assert "GET /v1/inboxes" in str(caught.value)
    # Not retried: the same request would fetch the same answer. Reading stopped near the cap.
    assert len(streams) == 1
    stream = streams[0]
    assert stream.closed
    assert stream.sent < len(stream.chunks) * 0.9
    await client.aclose()


async def test_a_declared_oversized_body_is_refused_before_reading() -> None:
    streams: list[_CountingStream] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stream = _CountingStream([b"x" * 1000] * 10)
        streams.append(stream)
        return httpx.Response(200, headers={"Content-Length": str(10_000)}, stream=stream)

    client = mock_client(handler, max_response_bytes=5000)
    with pytest.raises(ResponseTooLargeError, match="over 4.88281 KiB"):
        await client.inboxes()
    assert streams[0].sent == 0
    await client.aclose()


async def test_a_body_under_the_cap_still_reads_whole() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = b'[{"id": 1, "name": "Support", "members": [1]}]'
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=zlib.compress(body, wbits=31))

    client = mock_client(handler)
    inboxes = await client.inboxes()
    assert [i.name for i in inboxes] == ["Support"]
    await client.aclose()


# -- item 14: a base URL's user:password is never shown -------------------------------------------


PASSWORD = "s3cr3tPW"


def test_redact_url() -> None:
    assert redact_url(f"http://user:{PASSWORD}@127.0.0.1:9/") == "http://[redacted]@127.0.0.1:9/"
    assert redact_url(f"https://u:p@ss{PASSWORD}@host/v1?a=b@c") == "https://[redacted]@host/v1?a=b@c"
    assert redact_url("https://api.heymarket.com/x@y") == "https://api.heymarket.com/x@y"
    assert validate_base_url(f"http://user:{PASSWORD}@127.0.0.1:9/") == "http://127.0.0.1:9"
    with pytest.raises(ValueError) as caught:
        validate_base_url(f"ftp://user:{PASSWORD}@host")
    assert PASSWORD not in str(caught.value) and "[redacted]@host" in str(caught.value)
    assert PASSWORD not in RedactingFilter().redact(f"GET http://user:{PASSWORD}@h/v1 200")


def _log_text(env: dict[str, str]) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in Path(env["XDG_STATE_HOME"]).rglob("*.log*"))


@pytest.mark.parametrize("debug", [False, True])
def test_cli_never_shows_the_base_url_password(isolated_env, debug) -> None:
    env = {**isolated_env, "HEYMARKET_BASE_URL": f"http://user:{PASSWORD}@127.0.0.1:9/",
           "HEYMARKET_SECRET_ID": "id-123", "HEYMARKET_SECRET_KEY": "key-0123456789abcdef"}
    write_config(env, "retries = 1\n")
    result = run_cli(*(["--debug"] if debug else []), "inboxes", env=env)
    assert result.returncode == 1, result
    assert "127.0.0.1:9" in result.stderr  # the error says where it tried
    assert PASSWORD not in result.stderr and PASSWORD not in result.stdout
    assert "user:" not in result.stderr
    log = _log_text(env)
    assert "127.0.0.1:9" in log  # the log did record the failure
    assert PASSWORD not in log


def test_cli_invalid_base_url_error_hides_the_password(isolated_env) -> None:
    env = {**isolated_env, "HEYMARKET_BASE_URL": f"ftp://user:{PASSWORD}@example.invalid/",
           "HEYMARKET_SECRET_ID": "id-123", "HEYMARKET_SECRET_KEY": "key-0123456789abcdef"}
    err = one_line_error(run_cli("inboxes", env=env), 2)
    assert "invalid base URL" in err and PASSWORD not in err


def test_cli_base_url_credentials_are_dropped_not_sent(server, isolated_env) -> None:
    # httpx would send them as Basic auth in place of the bearer token: the request would fail.
    env = env_for(server, isolated_env)
    env["HEYMARKET_BASE_URL"] = server.url.replace("://", f"://user:{PASSWORD}@")
    result = run_cli("inboxes", env=env)
    assert result.returncode == 0, result
    assert "Support" in result.stdout
    assert "ignored" in result.stderr and PASSWORD not in result.stderr


# -- item 6: the refresh loop starts whatever the first load did ----------------------------------


def _live_app(server, **kw):
    """The app with its background refresh on (every 50 ms), unlike the harness's."""
    from app_harness import frozen_clock

    from hmtui.config import Config
    from hmtui.ui.app import HmtuiApp

    client = HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                             retry=RetryPolicy(attempts=2), sleep=RecordingSleep(), timeout=httpx.Timeout(10.0))
    app = HmtuiApp(client, config=Config(), clock=frozen_clock(), tz=timezone.utc, refresh_interval=0.05, **kw)
    app.preview_delay = 0.0
    return app


async def _wait_for(pilot, condition, rounds: int = 400) -> bool:
    for _ in range(rounds):
        if condition():
            return True
        await pilot.pause(0.02)
    return condition()


def _refresh_loop_running(app) -> bool:
    return any(w.group == "refresh-loop" and not w.is_finished for w in app.workers)


@pytest.mark.parametrize("kind", ["badgzip", "deepjson"])
async def test_an_undecodable_first_load_still_starts_the_refresh_loop(server, kind) -> None:
    server.inject(Fault(kind, every=1, path="/v1/inboxes"))
    app = _live_app(server)
    async with app.run_test(size=(160, 45)) as pilot:
        # The status says what happened, never "connecting…" forever ...
        assert await _wait_for(pilot, lambda: "offline" in app.main.status.describe())
        assert "connecting" not in app.main.status.describe()
        assert _refresh_loop_running(app)
        # ... and the refresh loop finds the server working again by itself.
        server.clear_faults()
        assert await _wait_for(pilot, lambda: bool(app.main.inboxes) and "online" in app.main.status.describe(),
                               rounds=1500)


async def test_a_non_api_error_on_the_first_load_still_starts_the_refresh_loop(server) -> None:
    async def broken() -> list:
        raise RuntimeError("not an API error")

    app = _live_app(server, prefetched_inboxes=broken())
    async with app.run_test(size=(160, 45)) as pilot:
        assert await _wait_for(pilot, lambda: _refresh_loop_running(app))
        assert await _wait_for(pilot, lambda: bool(app.main.inboxes))


def test_the_first_attempt_of_a_process_is_not_spent_on_imports(tmp_path) -> None:
    """httpcore imports its networking at the first connection (over half a second on a busy
    machine): inside the attempt's deadline, a `timeout = 0.3` lost the first try of every
    process to imports. In a fresh interpreter the backend must be loaded before the deadline."""
    script = tmp_path / "first_attempt.py"
    script.write_text(
        "import asyncio, sys\n"
        "import httpx\n"
        "import hmtui.api.client as client_module\n"
        "from hmtui.api import Credentials, HeymarketClient\n"
        "seen = []\n"
        "real_timeout = asyncio.timeout\n"
        "def watching(delay):\n"
        "    seen.append('anyio._backends._asyncio' in sys.modules and 'httpcore._backends.anyio' in sys.modules)\n"
        "    return real_timeout(delay)\n"
        "client_module.asyncio.timeout = watching\n"
        "def answer(request):\n"
        "    return httpx.Response(200, json=[])\n"
        "async def main():\n"
        "    async with HeymarketClient(Credentials('id', 'key-0123456789abcdef'), base_url='https://x.test',\n"
        "                               transport=httpx.MockTransport(answer)) as c:\n"
        "        await c.inboxes()\n"
        "asyncio.run(main())\n"
        "print(seen)\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[True]"


async def test_a_warm_up_thread_that_failed_does_not_fail_the_session(monkeypatch) -> None:
    """An import on the warm-up thread racing one on the main thread can end in importlib's
    "deadlock detected": that failure was kept and raised by every request of the session
    (the app stayed at "connecting…"). The client is built again where it is first used."""
    import hmtui.api.client as client_module

    calls = []
    real = httpx.AsyncClient

    def racing(*args, **kwargs) -> httpx.AsyncClient:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:  # importlib's _DeadlockError is a RuntimeError
            raise RuntimeError("deadlock detected by _ModuleLock('importlib.resources')")
        return real(*args, **kwargs)

    monkeypatch.setattr(client_module.httpx, "AsyncClient", racing)
    client = HeymarketClient(Credentials("id", "key-0123456789abcdef"), base_url="https://x.test",
                             transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[])))
    client.warm_up()
    async with client:
        assert await client.inboxes() == []
        assert await client.inboxes() == []
    assert calls == ["hmtui-http-init", threading.current_thread().name]


async def test_a_client_that_cannot_be_built_says_why_each_time(monkeypatch) -> None:
    import hmtui.api.client as client_module

    def broken() -> None:
        raise OSError("no CA bundle")

    monkeypatch.setattr(client_module, "_import_network_modules", broken)
    client = HeymarketClient(Credentials("id", "key-0123456789abcdef"), base_url="https://x.test",
                             transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[])))
    client.warm_up()
    for _ in range(2):  # tried again on each use, not a failure kept for the session
        with pytest.raises(OSError, match="no CA bundle"):
            await client.inboxes()
