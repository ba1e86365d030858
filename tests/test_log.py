"""hmtui.log: one INFO line per request (what Heymarket support asks for), private, and never a secret."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hmtui.logs import LOG_NAME, REDACTED, setup_logging

from conftest import env_for, run_cli

JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.")
REQUEST_LINE = re.compile(r" INFO hmtui\.api: (GET|POST|PUT|DELETE) (\S+) -> (\d{3}) in \d+ ms \(request id (\S+)\)$")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging changes the root logger of this process: put it back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def the_log(tmp_path: Path) -> Path:
    found = list((tmp_path / "state").rglob(LOG_NAME))
    assert len(found) == 1, "the log goes to the platformdirs log dir"
    return found[0]


def test_inboxes_without_debug_logs_each_request_with_path_status_and_request_id(server, isolated_env, tmp_path) -> None:
    result = run_cli("inboxes", env=env_for(server, isolated_env))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the request lines go to the file only, not to the screen
    log_file = the_log(tmp_path)
    lines = [m.groups() for m in map(REQUEST_LINE.search, log_file.read_text().splitlines()) if m]
    # The fake server numbers its answers fake-1, fake-2, ... in the order it sent them.
    expected = [(r.method, r.path, str(r.status), f"fake-{n}") for n, r in enumerate(server.requests, start=1)]
    assert expected and ("GET", "/v1/inboxes", "200", "fake-1") in expected
    assert lines == expected
    assert mode(log_file) == 0o600 and mode(log_file.parent) == 0o700


def test_a_refused_request_is_logged_with_its_status_and_request_id(shared_server, isolated_env, tmp_path) -> None:
    from hmtui.fake import LONG_THREAD_INBOX

    result = run_cli("conversations", "--inbox", str(LONG_THREAD_INBOX), "--user", "424242",
                     env=env_for(shared_server, isolated_env))
    assert result.returncode == 1
    request_id = re.search(r"request id (fake-\d+)", result.stderr).group(1)
    assert f"POST /v1/conversations -> 400 in" in the_log(tmp_path).read_text()
    assert f"(request id {request_id})" in the_log(tmp_path).read_text()


@pytest.mark.parametrize("debug", [False, True])
def test_the_log_never_holds_the_key_a_token_or_an_authorization_header(shared_server, isolated_env, tmp_path,
                                                                      debug) -> None:
    env = env_for(shared_server, isolated_env)
    args = ["--debug", "inboxes"] if debug else ["inboxes"]
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    # A wrong key is echoed nowhere either (the server rejects it; the error is logged).
    bad = run_cli(*args, env={**env, "HEYMARKET_SECRET_KEY": "wrong-key-that-must-not-leak"})
    assert bad.returncode == 1
    log_text = the_log(tmp_path).read_text()
    assert "GET /v1/inboxes -> 200" in log_text and "GET /v1/inboxes -> 401" in log_text
    for text in (log_text, result.stderr, bad.stderr):
        assert shared_server.secret_key not in text
        assert "wrong-key-that-must-not-leak" not in text
        assert not JWT.search(text)
        assert not re.search(r"(?i)authorization|bearer", text)


def test_the_redactor_hides_the_key_tokens_and_authorization_headers(tmp_path, restore_logging) -> None:
    key = "s3cr3t-key-0123456789"
    token = "eyJhbGciOiJIUzUxMiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    setup_logging(tmp_path / "log", debug=False, secrets=[key])
    log = logging.getLogger("hmtui.test")
    log.info("signed with %s", key)
    log.info("sent %r", {"Authorization": f"Bearer {token}"})
    log.info("headers: Authorization: Bearer opaque-token-123")
    log.info("authorization=opaque-token-456")
    try:
        raise RuntimeError(f"failed with key {key}")
    except RuntimeError:
        log.exception("boom")
    log.debug("a debug line does not reach the file without --debug")
    text = (tmp_path / "log" / LOG_NAME).read_text()
    for secret in (key, token, "opaque-token-123", "opaque-token-456", "debug line"):
        assert secret not in text
    assert text.count(REDACTED) >= 5
    assert "failed with key" in text  # the traceback is kept, only the secret goes


def test_the_log_file_and_folder_are_private_whatever_the_umask(tmp_path, restore_logging) -> None:
    folder = tmp_path / "log"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (folder / LOG_NAME).write_text("")
    os.chmod(folder / LOG_NAME, 0o644)  # made by an older hmtui
    old = os.umask(0)
    try:
        setup_logging(folder, debug=False)
        logging.getLogger("hmtui.test").info("hello")
    finally:
        os.umask(old)
    assert mode(folder) == 0o700 and mode(folder / LOG_NAME) == 0o600
    fresh = tmp_path / "fresh" / "log"
    old = os.umask(0)
    try:
        setup_logging(fresh, debug=False)
        logging.getLogger("hmtui.test").info("hello")
    finally:
        os.umask(old)
    assert mode(fresh) == 0o700 and mode(fresh / LOG_NAME) == 0o600
