"""`ctrl+e` in a real terminal: the app suspends, a fake `$EDITOR` rewrites the draft, the app
comes back with the edited text (the headless pilot cannot suspend, see test_composer.py)."""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a Unix pty")


def test_ctrl_e_suspends_runs_the_editor_and_reads_the_draft_back(tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\n"
        "p = sys.argv[-1]\n"
        "s = open(p, encoding='utf-8').read()\n"
        "open(p, 'w', encoding='utf-8').write(s + ' and more\\n')\n", encoding="utf-8")
    steps = [(b"draft", "draft"), (b"\x05", "draft and more")]  # ctrl+e
    sent, screen = run_in_terminal(tmp_path, {"EDITOR": f"'{sys.executable}' '{editor}'"}, steps)
    assert sent == "draft and more"
    # It left the alternate screen for the editor and came back to it.
    assert screen.count(b"\x1b[?1049h") >= 2, screen[-1500:]


def test_the_newline_keys_as_a_terminal_sends_them(tmp_path: Path) -> None:
    # A terminal sends enter as CR, ctrl+j as LF and alt+enter as ESC CR: only CR sends.
    # (Textual alone reads ESC CR as enter, which would send: hmtui.ui.alt_enter fixes that.)
    # A terminal speaking the kitty keyboard protocol sends alt+enter as CSI 13;3u.
    steps = [(b"ab", "ab"), (b"\x1b\r", "ab\n"), (b"cd", "ab\ncd"), (b"\n", "ab\ncd\n"), (b"ef", "ab\ncd\nef"),
             (b"\x1b[13;3u", "ab\ncd\nef\n"), (b"g", "ab\ncd\nef\ng")]
    sent, _ = run_in_terminal(tmp_path, {}, steps)
    assert sent == "ab\ncd\nef\ng"


def test_ctrl_n_and_ctrl_s_reach_the_composer_in_a_terminal(tmp_path: Path) -> None:
    # ctrl+s is XOFF to a terminal in cooked mode; in the app's raw mode it must be a key.
    steps = [(b"VIP", "VIP"), (b"\x0e", "VIP")]  # ctrl+n: a note
    sent, _ = run_in_terminal(tmp_path, {}, steps, submit=b"\x13")  # ctrl+s: send and close
    assert sent == "VIP"
    assert (tmp_path / "out" / "kind").read_text() == "note close_after=True"


def run_in_terminal(tmp_path: Path, extra_env: dict[str, str], steps: list[tuple[bytes, str]],
                    submit: bytes = b"\r") -> tuple[str, bytes]:
    """Run the composer app in a pty; for each step write the bytes and wait until the saved
    draft reads as given; then press enter: (the submitted text, everything drawn)."""
    import pty

    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("VISUAL", None)
    env.pop("EDITOR", None)
    env.update(extra_env)
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execvpe(sys.executable, [sys.executable, str(HERE / "composer_pty_app.py"), str(out)], env)
    screen = b""

    def wait_for(condition, what: str) -> None:
        # Waits on the app (its output, its files); the bound is a hang guard, not a speed limit.
        nonlocal screen
        end = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < end, f"never: {what}: {screen[-1500:]!r}"
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    screen += os.read(fd, 65536)
                except OSError:
                    return

    def draft() -> str:
        path = out / "draft"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    try:
        wait_for(lambda: (out / "ready").exists() and b"Reply to Ada" in screen, "the composer is drawn")
        for keys, expected in steps:
            os.write(fd, keys)
            wait_for(lambda: draft() == expected, f"the draft reads {expected!r} after {keys!r}")
        os.write(fd, submit)  # enter sends
        wait_for(lambda: (out / "sent").exists(), "the text is submitted")
        assert b"Traceback" not in screen
        return (out / "sent").read_text(encoding="utf-8"), screen
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
