"""Issue 15, item 8: SIGTERM and SIGHUP exit the TUI as cleanly as `q`: the terminal is restored and
queued cache writes reach the disk. Run in a real pseudo-terminal against the fake server."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from hmtui.cache import Store

from conftest import env_for

# What Textual's driver writes when it leaves application mode.
RESTORE = {
    "alternate screen off": "\x1b[?1049l",
    "cursor shown": "\x1b[?25h",
    "mouse reporting off": "\x1b[?1000l",
    "any-event mouse off": "\x1b[?1003l",
    "SGR mouse off": "\x1b[?1006l",
    "bracketed paste off": "\x1b[?2004l",
}


def newest_open_name(server, inbox_id: int) -> str:
    conversations = [c for c in server.data.conversations if c["inbox"] == inbox_id and c["status"] == "open"]
    return max(conversations, key=lambda c: c["updated"])["name"]


def signal_in_terminal(args: list[str], env: dict[str, str], *, until: list[str], signum: int,
                       deadline: float = 90) -> tuple[int, str, str]:
    """Run hmtui in a pty, wait for every string of `until` on screen, send `signum`, read to the
    end: (exit code, output before the signal, output after it)."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execvpe(sys.executable, [sys.executable, "-m", "hmtui", *args],
                   {**env, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "40"})
    before = b""
    after = b""
    sent = False
    end = time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                if sent:
                    after += chunk
                else:
                    before += chunk
            on_screen = before.partition(b"\x1b[?1049h")[2]  # what the TUI drew, not stderr before it
            if not sent and all(text.encode() in on_screen for text in until):
                os.kill(pid, signum)
                sent = True
        if not sent:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        return (os.waitstatus_to_exitcode(status), before.decode("utf-8", "replace"),
                after.decode("utf-8", "replace"))
    finally:
        os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_restores_the_terminal_and_keeps_the_cache(server, isolated_env, signum) -> None:
    env = env_for(server, isolated_env)
    name = newest_open_name(server, 501)
    code, before, after = signal_in_terminal([], env, until=["@Priya Raman", name], signum=signum)
    assert "\x1b[?1049h" in before, before[-2000:]  # it did enter the alternate screen
    for what, sequence in RESTORE.items():
        assert sequence in after, f"{what}: {after[-2000:]!r}"
    # Restored last: nothing switches the alternate screen back on after leaving it.
    assert "\x1b[?1049h" not in after.rpartition("\x1b[?1049l")[2]
    assert "Traceback" not in before + after
    assert code == 128 + signum, after[-2000:]

    store = Store.open(server.url, server.secret_id, directory=Path(isolated_env["XDG_CACHE_HOME"]) / "hmtui")
    try:
        info = store.info()
        assert info.inboxes == len(server.data.inboxes)
        assert any(c.display_name == name for c in store.conversations(501, closed=False))
    finally:
        store.close()



def test_a_real_hang_up_exits_and_keeps_the_cache(server, isolated_env) -> None:
    """The terminal goes away (its master side closes): the kernel sends SIGHUP, every write to
    the terminal fails. hmtui must still exit, 129, with what it fetched in the cache."""
    import pty
    import select

    env = env_for(server, isolated_env)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-m", "hmtui"],
                   {**env, "TERM": "xterm-256color"})
    screen = b""
    closed = False
    try:
        end = time.monotonic() + 90
        # A conversation row: painted in the narrow layout too, where the inboxes are hidden.
        while time.monotonic() < end and b"@Priya Raman" not in screen:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                screen += os.read(fd, 65536)
        assert b"@Priya Raman" in screen, screen[-2000:]
        # At once, while it is still painting: the terminal goes away with output in flight.
        os.close(fd)
        closed = True
        # A hang guard, not a speed limit: without the fix it never exits.
        waited: list[tuple[int, int]] = []
        waiter = threading.Thread(target=lambda: waited.append(os.waitpid(pid, 0)), daemon=True)
        waiter.start()
        waiter.join(60)
        assert waited, "hmtui did not exit after the terminal hung up"
        assert os.waitstatus_to_exitcode(waited[0][1]) == 128 + signal.SIGHUP
    finally:
        if not closed:
            os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    store = Store.open(server.url, server.secret_id, directory=Path(isolated_env["XDG_CACHE_HOME"]) / "hmtui")
    try:
        assert store.info().inboxes == len(server.data.inboxes)
    finally:
        store.close()


# -- item 13: start-up warnings are shown in the app too ------------------------------------------


async def test_config_warnings_are_shown_in_the_app_once(server) -> None:
    from app_harness import running, settle

    from hmtui.config import Config

    warning = "/tmp/x/config.toml is readable by other users and may hold your secret key: run chmod 600 it"
    async with running(server, config=Config(warnings=[warning])) as (app, pilot):
        app.main.refresh_now()
        await settle(pilot)
        shown = [n for n in app.notified if n.message == warning]  # raised (not yet expired by the wall clock)
        assert len(shown) == 1 and shown[0].severity == "warning"


def test_a_world_readable_config_is_warned_about_in_the_tui(server, isolated_env) -> None:
    env = env_for(server, isolated_env)
    config = Path(env["HMTUI_CONFIG"])
    config.write_text("retries = 1\n", encoding="utf-8")
    config.chmod(0o644)
    code, before, _ = signal_in_terminal([], env, until=["@Priya Raman", "Config"], signum=signal.SIGTERM)
    printed, _, in_app = before.partition("\x1b[?1049h")
    assert "readable by other users" in printed  # on stderr, before the TUI: it scrolls away
    # ... and in the app, as a toast titled "Config" that names the file (it wraps: its start).
    assert "Config" in in_app and str(config)[:30] in in_app
