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
    import pty

    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\n"
        "p = sys.argv[-1]\n"
        "s = open(p, encoding='utf-8').read()\n"
        "open(p, 'w', encoding='utf-8').write(s + ' and more\\n')\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30",
           "EDITOR": f"'{sys.executable}' '{editor}'", "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("VISUAL", None)
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
        os.write(fd, b"draft")
        wait_for(lambda: draft() == "draft", "the draft is typed")
        os.write(fd, b"\x05")  # ctrl+e
        wait_for(lambda: draft() == "draft and more", "the editor's text is read back")
        os.write(fd, b"\r")  # enter sends
        wait_for(lambda: (out / "sent").exists(), "the edited text is submitted")
        assert (out / "sent").read_text(encoding="utf-8") == "draft and more"
        # It left the alternate screen for the editor and came back to it.
        assert screen.count(b"\x1b[?1049h") >= 2, screen[-1500:]
        assert b"Traceback" not in screen
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
