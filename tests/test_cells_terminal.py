"""Issue 10, item 10: rows with Devanagari (and Thai, CJK, emoji ZWJ, RTL) names keep the list's
border straight in a real terminal (tmux), before and after scrolling.

Rich counts a spacing combining mark (U+093E in "राहुल वर्मा") as zero cells; tmux, like glibc's
wcwidth, gives it one. Without `hmtui.cells` aligning Rich, the row reaches tmux two cells too
wide: its border moves right and fragments stay behind when the list scrolls."""

from __future__ import annotations

import ctypes
import locale
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from hmtui.fake.world_names import WORLD_NAMES, add_world_names

from conftest import env_for, tidy_only

BORDER = "▎"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _libc_wcwidth():
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
        libc = ctypes.CDLL("libc.so.6")
    except (OSError, locale.Error):
        return None
    libc.wcwidth.restype = ctypes.c_int
    return lambda ch: libc.wcwidth(ctypes.c_wchar(ch))


WCWIDTH = _libc_wcwidth()


def terminal_columns(line: str, wanted: str) -> list[int]:
    """The cells at which `wanted` sits in a captured line, measured by glibc's wcwidth (as tmux
    places characters), not by Rich or hmtui: tmux 3.3a also joins a ZWJ sequence into one glyph."""
    assert WCWIDTH is not None
    columns: list[int] = []
    at = 0
    joined = False
    for ch in line:
        if ch == wanted:
            columns.append(at)
        if joined:  # the character after a ZWJ joins the glyph before it
            joined = False
            continue
        if ch == "\u200d":
            joined = True
            continue
        at += max(WCWIDTH(ch), 0)
    return columns


class Tmux:
    """One hmtui in a tmux server of its own (its own socket: other tmux users are untouched)."""

    def __init__(self, env: dict[str, str], cols: int, rows: int) -> None:
        self.socket = f"hmtui-cells-{os.getpid()}"
        self.env = env
        self.cols, self.rows = cols, rows

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True,
                              text=True, encoding="utf-8", timeout=30, check=False).stdout

    def start(self, command: list[str]) -> None:
        self.run("new-session", "-d", "-s", "t", "-x", str(self.cols), "-y", str(self.rows),
                 " ".join(map(_quote, command)))

    def screen(self) -> list[str]:
        return self.run("capture-pane", "-p", "-t", "t").split("\n")[: self.rows]

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", "t", key)

    def wait_for(self, condition, *, polls: int = 300) -> list[str]:
        """Capture until `condition(screen)` holds and the screen has stopped changing
        (a hang guard of `polls` captures, not a time limit on the app)."""
        previous: list[str] | None = None
        screen: list[str] = []
        for _ in range(polls):
            screen = self.screen()
            if condition(screen) and screen == previous:
                return screen
            previous = screen
            time.sleep(0.2)
        raise AssertionError("the screen never settled:\n" + "\n".join(screen))

    def close(self) -> None:
        self.run("kill-server")


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def check_borders(screen: list[str]) -> None:
    """Every line of the panes has the border glyphs at the columns of the header line."""
    expected = terminal_columns(screen[0], BORDER)
    assert len(expected) >= 1, screen[0]
    body = [line for line in screen[1:] if BORDER in line]
    assert len(body) > 10, "\n".join(screen)
    for line in body:
        assert terminal_columns(line, BORDER) == expected, f"{line!r}\n" + "\n".join(screen)


# A row's time, then maybe the scrollbar's thumb in the last column.
TIME_AT_END = re.compile(r"(\d{1,2} [A-Z][a-z]{2}|\d+[mhd]|now)\s*[▁▂▃▄▅▆▇█]?\s*$")


def width_of(text: str) -> int:
    return terminal_columns(text + "\0", "\0")[0]


def check_time_column(screen: list[str]) -> None:
    """The narrow (stacked) layout has no border beside the list: there, the right-aligned time
    of every list row ends at the same cell."""
    list_area = screen[1:next(i for i, line in enumerate(screen) if line.startswith("▁"))]
    timed = [width_of(line[: m.end(1)]) for line in list_area if (m := TIME_AT_END.search(line))]
    # One time per two-line row (a row pushed too wide loses its time past the edge).
    assert len(list_area) >= 4 and len(timed) == len(list_area) // 2, "\n".join(screen)
    assert len(set(timed)) == 1, "\n".join(screen)


@tidy_only  # screen geometry, the same in both profiles
@pytest.mark.skipif(WCWIDTH is None, reason="needs glibc's wcwidth")
@pytest.mark.parametrize(("cols", "rows"), [(120, 30), (80, 24)], ids=["120x30", "80x24"])
def test_list_border_stays_straight_under_world_scripts(server, isolated_env, cols: int, rows: int) -> None:
    add_world_names(server.data, 501, now=server.data.anchor + timedelta(minutes=10))
    tmux = Tmux({**env_for(server, isolated_env), "TERM": "xterm-256color"}, cols, rows)
    try:
        tmux.start([sys.executable, "-m", "hmtui"])
        names = [name for name, _ in WORLD_NAMES]
        check = check_borders if cols >= 100 else check_time_column
        shown = names[:5] if cols >= 100 else names[:2]
        first = tmux.wait_for(lambda s: all(any(n in line for line in s) for n in shown))
        check(first)
        # Walk down past every scripted row: the list scrolls, each line is repainted with rows
        # of other widths (where a too-wide row would leave fragments of its border behind).
        tmux.keys(*["j"] * 18)
        after = tmux.wait_for(lambda s: not any(names[0] in line for line in s[:4]) and s != first)
        check(after)
        tmux.keys(*["k"] * 18)
        back = tmux.wait_for(lambda s: any(names[0] in line for line in s[:4]))
        check(back)
    finally:
        tmux.close()
