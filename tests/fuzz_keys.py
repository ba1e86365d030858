"""Typing at the app faster than it draws: key bursts in the pilot, and a real pty.

`burst(app, keys)` posts every key at once, as one read from the terminal delivers a paste or
keys that piled up while the app was busy (`pilot.press` instead waits for the app between keys).
`Terminal` runs hmtui in a pseudo-terminal and writes bytes to it, so the real driver parses them.
`key_stream(seed)` makes the fuzz's random streams, `TriageLedger` says which triage requests
a stream may cause, and `SendLedger` which messages it may send (`r`/`i` open the composer: the keys
after them are text, `enter` there sends).
"""

from __future__ import annotations

import os
import random
import re
import select
import signal
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from textual import events
from textual.keys import _character_to_key, _get_unicode_name_from_key

# -- the pilot ------------------------------------------------------------------------------------


def key_event(key: str) -> events.Key:
    """The event the terminal driver makes for `key` (a name like "enter" or a character)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def burst(app: Any, keys: Iterable[str]) -> None:
    """Post all of `keys` to the app without letting it run in between."""
    for key in keys:
        app.post_message(key_event(key))


async def drain(pilot: Any, app: Any, *, turns: int = 400) -> None:
    """Pause until the typed keys have all been handed on and the app has settled (bounded)."""
    for _ in range(turns):
        await pilot.pause()
        typeahead = getattr(app, "typeahead", None)
        if typeahead is None or (typeahead.pending == 0 and typeahead.settled()):
            break
    await pilot.pause()


# -- a real terminal ------------------------------------------------------------------------------

# The bytes a terminal sends for the keys the fuzz uses.
TERMINAL_BYTES = {
    "enter": b"\r", "escape": b"\x1b", "tab": b"\t", "shift+tab": b"\x1b[Z", "up": b"\x1b[A",
    "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D", "home": b"\x1b[H", "end": b"\x1b[F",
    "pageup": b"\x1b[5~", "pagedown": b"\x1b[6~", "ctrl+p": b"\x10", "ctrl+f": b"\x06", "ctrl+r": b"\x12",
    "backspace": b"\x7f", "space": b" ", "slash": b"/", "question_mark": b"?",
}


# Escape sequences (CSI, OSC, charset selection): Textual moves the cursor between the pieces of a
# line it redraws, so text is searched with them removed.
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def terminal_bytes(key: str) -> bytes:
    return TERMINAL_BYTES.get(key) or key.encode()


class Terminal:
    """hmtui in a pseudo-terminal: write keys, read what it draws, wait for it to exit."""

    def __init__(self, args: Sequence[str], env: dict[str, str], *, cols: int = 120, rows: int = 40,
                 script: str | None = None) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            # `script` (python -c) may patch something before it calls hmtui.cli.main itself.
            command = ["-c", script, *args] if script else ["-m", "hmtui", *args]
            # PYTHONFAULTHANDLER: `diagnose()` has a hung app print where each thread is.
            os.execvpe(sys.executable, [sys.executable, *command],
                       {**env, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows),
                        "PYTHONFAULTHANDLER": "1"})
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = b""
        self.exit_code: int | None = None

    def read(self, timeout: float = 0.05) -> bool:
        """Read what is there (waiting up to `timeout`); False once the terminal is closed."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def text(self, start: int = 0) -> str:
        """What was drawn after byte `start`, without escape sequences."""
        return _ESCAPES.sub(b"", self.output[start:]).decode("utf-8", "replace")

    def wait_for(self, needle: str, *, start: int = 0, deadline: float = 60) -> bool:
        """Read until `needle` shows (after byte `start`). The deadline only stops a hung test."""
        end = time.monotonic() + deadline
        while needle not in self.text(start):
            if time.monotonic() > end or not self.read(0.2):
                return needle in self.text(start)
        return True

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def pump(self, seconds: float) -> None:
        """Keep reading for a while (the app must not block on a full pty while we type)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.read(max(0.0, min(0.02, end - time.monotonic())))

    def wait_exit(self, *, deadline: float = 60) -> int | None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if not self.read(0.2):
                break
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.exit_code = os.waitstatus_to_exitcode(status)
                return self.exit_code
        try:
            _, status = os.waitpid(self.pid, os.WNOHANG) if time.monotonic() > end else os.waitpid(self.pid, 0)
            if _:
                self.exit_code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            pass
        return self.exit_code

    def diagnose(self, env: dict[str, str] | None = None) -> str:
        """For a failed wait: the end of the screen, every thread's stack (SIGABRT makes the
        fault handler print them), and the app's log, so a hang in CI explains itself."""
        parts = [self.text()[-4000:]]
        if self.exit_code is None:
            try:
                os.kill(self.pid, signal.SIGABRT)
            except ProcessLookupError:
                pass
            mark = len(self.output)
            self.pump(2.0)
            parts.append("--- the app's threads at the deadline ---\n" + self.text(mark)[-6000:])
        state = (env or {}).get("XDG_STATE_HOME")
        if state:
            from pathlib import Path

            for log in sorted(Path(state).rglob("*.log")):
                parts.append(f"--- {log.name} ---\n" + log.read_text("utf-8", "replace")[-4000:])
        return "\n".join(parts)

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        try:
            os.close(self.fd)
        except OSError:
            pass


# -- random streams -------------------------------------------------------------------------------

# Every key bound in the app's main screen, lists, thread and modals (q aside: it ends a stream).
BOUND_KEYS = [
    "j", "k", "up", "down", "g", "G", "home", "end", "pageup", "pagedown", "enter", "escape",
    "tab", "shift+tab", "slash", "n", "N", "1", "2", "3", "c", "u", "a", "t", "y", "o", "e", "ctrl+r",
    "ctrl+f", "question_mark", "ctrl+p", "space", "backspace", "left", "right",
]
BOUND_KEYS += ["m", "w", "W"]  # issue 12's queue keys (hmtui/ui/screens/main_queue.py)
# Typed as text after "/" in one burst: never `q` (it quits where no input takes it).
TEXT = "abcdefghijklmnoprstuvwxyz0123456789 "
# `r` and `i` open the composer (issue 9) only in a compose step: [r|i, text..., (enter), escape].
# Its text has no key that would act if the composer did not open (no current conversation, a
# group, a modal on top): no triage key, no r/i, no q.
COMPOSE_KEYS = ("r", "i")
COMPOSE_TEXT = "bdefghjklmnopsvwxyz0123456789 "
# Single letters typed where no input is: not r/i (they would open the composer and make the
# keys after them text, with an enter that sends), never q.
LETTERS = "abcdefghjklmnopstuvwxyz"
TRIAGE_KEYS = {"c": ("close", "open"), "u": ("read", "unread"), "a": ("reassign",), "t": ("transfer",)}
TRIAGE_PATHS = {f"/v1/conversations/{kind}": key for key, kinds in TRIAGE_KEYS.items() for kind in kinds}


@dataclass
class Step:
    """Keys sent together (one burst, one write), then a pause before the next step."""

    keys: list[str]
    gap: float = 0.0  # seconds, in the pty run only
    text: bool = False  # the keys after the first are text for an input the first one opens
    compose: str | None = None  # a compose step: the text typed (its last keys: [enter,] escape)
    sends: bool = False  # a compose step that ends with enter


@dataclass
class KeyStream:
    seed: int
    steps: list[Step]
    after_q: list[str] = field(default_factory=list)  # typeahead sent with the final `q`

    def keys(self) -> list[str]:
        return [k for step in self.steps for k in step.keys]

    def describe(self) -> str:
        return f"seed {self.seed}: " + " ".join("[" + " ".join(s.keys) + "]" if len(s.keys) > 1 else s.keys[0]
                                                 for s in self.steps)


def key_stream(seed: int, *, length: int = 30) -> KeyStream:
    rng = random.Random(seed)
    steps: list[Step] = []
    while len(steps) < length:
        roll = rng.random()
        gap = rng.choice([0.0, 0.0, 0.01, 0.03, 0.05, 0.12])
        if roll < 0.55:
            steps.append(Step([rng.choice(BOUND_KEYS)], gap))
        elif roll < 0.66:
            steps.append(Step([rng.choice(LETTERS)], gap))
        elif roll < 0.72:  # a reply or a note: text, sent (enter) or not, then escape leaves
            text = "".join(rng.choice(COMPOSE_TEXT) for _ in range(rng.randint(1, 10)))
            sends = rng.random() < 0.6
            keys = [rng.choice(COMPOSE_KEYS), *("space" if ch == " " else ch for ch in text),
                    *(["enter"] if sends else []), "escape"]
            steps.append(Step(keys, gap, text=True, compose=text, sends=sends))
        elif roll < 0.85:  # a burst of bound keys, as if they piled up
            steps.append(Step([rng.choice(BOUND_KEYS) for _ in range(rng.randint(2, 6))], gap))
        else:  # "/" and text, pasted
            text = [rng.choice(TEXT) for _ in range(rng.randint(1, 8))]
            steps.append(Step(["slash", *("space" if ch == " " else ch for ch in text)], gap, text=True))
    after_q = [rng.choice(BOUND_KEYS) for _ in range(rng.randint(0, 6))]
    return KeyStream(seed, steps, after_q)


class TriageLedger:
    """Which triage requests (POST /v1/conversations/{open,close,...}) a stream may cause.

    Each needs a key that meant it: `c` for close/open, `u` for read/unread, `a` and `t` for the
    pickers, typed as a key and not as text after "/" (or a command palette, which can run any of
    them). Requests the server acted on (2xx) may be at most as many as those keys; a request it
    refused (a fault) may be retried, so only its existence is checked.
    """

    def __init__(self, stream: KeyStream) -> None:
        self.meant: Counter[str] = Counter()
        palettes = 0
        for step in stream.steps:
            keys = step.keys[:1] if step.text else step.keys
            for key in keys:
                if key in TRIAGE_KEYS:
                    self.meant[key] += 1
                palettes += key == "ctrl+p"
        self.palettes = palettes

    def problems(self, requests: Sequence[Any]) -> list[str]:
        acted: Counter[str] = Counter()
        problems = []
        for request in requests:
            key = TRIAGE_PATHS.get(request.path)
            if request.method != "POST" or key is None:
                continue
            if not self.meant[key] and not self.palettes:
                problems.append(f"{request.path} with no {key!r} key in the stream")
            if 200 <= request.status < 300:
                acted[key] += 1
        for key, count in acted.items():
            if count > self.meant[key] + self.palettes:
                problems.append(f"{count} {key!r} actions for {self.meant[key]} {key!r} keys")
        return problems


SEND_PATH = "/v1/message/send"


class SendLedger:
    """Which messages (POST /v1/message/send) a stream may send: one per compose step that ended
    with enter (retries of one message share its `local_id`), each carrying the text that step
    typed (a draft kept from an earlier compose step of the same conversation may come with it),
    and a private note only if an `i` step was typed."""

    def __init__(self, stream: KeyStream) -> None:
        steps = [s for s in stream.steps if s.compose is not None]
        self.texts = [" ".join(s.compose.split()) for s in steps if s.sends and s.compose.strip()]
        self.notes = any(s.keys[0] == "i" for s in steps)

    def problems(self, requests: Sequence[Any]) -> list[str]:
        problems: list[str] = []
        sent: dict[str, str] = {}
        for request in requests:
            if request.method != "POST" or request.path != SEND_PATH:
                continue
            body = request.body if isinstance(request.body, dict) else {}
            text = " ".join(str(body.get("text", "")).split())
            if not any(t in text for t in self.texts):
                problems.append(f"a send of {text!r} that no compose step typed")
            if body.get("private") and not self.notes:
                problems.append("a private note with no i key in the stream")
            sent.setdefault(str(body.get("local_id")), text)
        if len(sent) > len(self.texts):
            problems.append(f"{len(sent)} messages sent for {len(self.texts)} compose steps that sent")
        return problems
