"""Desktop notifications of new inbound messages, and the terminal's title: pure logic, no Textual.

The app (wiring is the TUI's) gives a `Notifier` a title and a body; both come from the server
(a contact's name, a message's text), so both are hostile. `payload_text` strips every control
character, escape and bidi control before the text goes into an escape sequence or a command's
argument: a message holding `\\x1b]0;pwned\\x07` or a bare `\\x07` cannot end the sequence early,
set the title, or inject a second sequence.

How it notifies (config `notify`):
- `terminal`: the desktop-notification sequence of the terminal in use, chosen from the
  environment: OSC 9 (iTerm2, WezTerm, Windows Terminal), OSC 777 (foot, urxvt, Ghostty),
  OSC 99 (kitty); inside tmux wrapped in its passthrough (`\\ePtmux;...\\e\\\\`, ESCs doubled),
  which needs `set -g allow-passthrough on`.
- `bell`: BEL.
- `command`: `notify_command` with the title and the body as two more arguments: no shell, a
  timeout, in a thread of its own so the caller never waits.
- `auto`: `command` if a notify_command is set, else `terminal` if the terminal is known, else
  `bell`. `off`: nothing.

`NotifyGate` decides which inbound messages notify: only those that arrived after the app
started (never the backlog), each id at most once (across restarts too, via the store), in the
chosen scope (`mine`: assigned to me or unassigned; `all`; `none`), and not the conversation on
screen while the terminal has focus.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger("hmtui.notify")

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"
TITLE_LIMIT = 80  # characters of a notification's title
BODY_LIMIT = 200  # ...and of its body: a notification is a glance, and terminals cap OSC lengths
COMMAND_TIMEOUT = 10.0  # seconds a notify_command may run before it is killed
APP_TITLE = "hmtui"

# Protocols of the `terminal` method.
OSC9, OSC777, OSC99 = "osc9", "osc777", "osc99"

# Bidi embeddings, overrides, isolates and marks: they reorder what follows them on screen.
_BIDI = frozenset((*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))


def payload_text(value: object, limit: int) -> str:
    """`value` as one line fit for an OSC payload or a command argument: no control character
    (C0, C1, DEL: so no ESC, BEL or ST), no bidi control, no other invisible format character,
    no line or paragraph separator; runs of whitespace made one space; at most `limit`
    characters, ending in `…` when cut."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        category = unicodedata.category(ch)
        if ch in "\t\n\r\v\f" or category in ("Zl", "Zp", "Zs"):
            out.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or code in _BIDI:
            continue  # unassigned code points too: a terminal may give them any meaning later
        elif category == "Cf" and ch != "\u200d":  # keep ZWJ: emoji sequences stay whole
            continue
        else:
            out.append(ch)
    cleaned = " ".join("".join(out).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: max(limit - 1, 0)].rstrip() + "…"
    return cleaned


# --- which terminal ------------------------------------------------------------------------------


def terminal_protocol(environ: Mapping[str, str]) -> str | None:
    """The desktop-notification sequence the terminal understands, from its environment (which
    tmux passes on from the terminal it was started in); None if unknown."""
    term = environ.get("TERM", "")
    program = environ.get("TERM_PROGRAM", "")
    if environ.get("KITTY_WINDOW_ID") or term == "xterm-kitty" or program == "kitty":
        return OSC99
    if program == "ghostty" or term == "xterm-ghostty" or environ.get("GHOSTTY_RESOURCES_DIR"):
        return OSC777
    if term.startswith(("foot", "rxvt-unicode")):
        return OSC777
    if program in ("iTerm.app", "WezTerm") or environ.get("LC_TERMINAL") == "iTerm2":
        return OSC9
    if environ.get("WEZTERM_PANE") or environ.get("WEZTERM_EXECUTABLE") or environ.get("WT_SESSION"):
        return OSC9
    return None


def in_tmux(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("TMUX"))


def tmux_passthrough(sequence: str) -> str:
    """`sequence` for tmux to hand to the terminal outside it (tmux 3.3+: allow-passthrough on)."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def notification_sequence(protocol: str, title: str, body: str, ident: int = 1) -> str:
    """The escape sequence showing a desktop notification; `title` and `body` are cleaned here,
    whatever the caller did. `ident` tells kitty's notifications apart."""
    title = payload_text(title, TITLE_LIMIT) or APP_TITLE
    body = payload_text(body, BODY_LIMIT)
    if protocol == OSC99:
        # kitty: the title, then the body, as parts of one notification (i=id, d=0: more follows).
        return (f"{ESC}]99;i=hmtui{ident}:d=0:p=title;{title}{ST}"
                f"{ESC}]99;i=hmtui{ident}:d=1:p=body;{body}{ST}")
    if protocol == OSC777:
        # ';' separates the fields: one in the title would move text into the body.
        return f"{ESC}]777;notify;{title.replace(';', ',')};{body}{BEL}"
    if protocol == OSC9:
        # OSC 9 takes one text. ConEmu and Windows Terminal read "9;4;..." as a progress bar, so
        # the text never starts with a number and ';': it starts with the title, never empty.
        text = f"{title}: {body}" if body else title
        if text[:1].isdigit():
            text = f"{APP_TITLE}: {text}"
        return f"{ESC}]9;{text}{BEL}"
    raise ValueError(f"unknown notification protocol: {protocol}")


# --- the notifier ---------------------------------------------------------------------------------


def _safe_argument(text: str) -> str:
    # A leading '-' would make an argument an option of the notifier (`notify-send --icon=...`).
    return " " + text if text.startswith("-") else text


@dataclass(frozen=True)
class Delivery:
    """What one notification did: the method, and what was written or run (for tests and logs)."""

    method: str
    written: str = ""
    argv: tuple[str, ...] = ()
    thread: threading.Thread | None = None


class Notifier:
    """Turns (title, body) into the configured notification.

    `write` takes the terminal text (the TUI passes its driver's write; default: stdout).
    `environ` is the environment the terminal is chosen from (default: os.environ)."""

    def __init__(self, mode: str = "auto", command: Sequence[str] | None = None, *,
                 environ: Mapping[str, str] | None = None, write: Callable[[str], None] | None = None,
                 timeout: float = COMMAND_TIMEOUT) -> None:
        import os

        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.command = list(command) if command else None
        self.timeout = timeout
        self._write = write or _write_stdout
        self.protocol = terminal_protocol(self.environ)
        self.method = self._resolve(mode)
        self._sent = 0

    def _resolve(self, mode: str) -> str:
        if mode == "auto":
            if self.command:
                return "command"
            return "terminal" if self.protocol else "bell"
        if mode == "terminal" and self.protocol is None:
            return "bell"  # asked for, but no known sequence: a bell still tells
        if mode == "command" and not self.command:
            return "off"
        if mode not in ("terminal", "bell", "command", "off"):
            raise ValueError(f"unknown notify mode: {mode}")
        return mode

    def terminal_text(self, title: str, body: str) -> str:
        """What `terminal` or `bell` writes (empty for the other methods)."""
        if self.method == "bell":
            return BEL
        if self.method != "terminal" or self.protocol is None:
            return ""
        self._sent += 1
        sequence = notification_sequence(self.protocol, title, body, self._sent)
        return tmux_passthrough(sequence) if in_tmux(self.environ) else sequence

    def argv(self, title: str, body: str) -> list[str]:
        """The command `command` runs: notify_command, then the title and the body, cleaned."""
        assert self.command
        clean_title = payload_text(title, TITLE_LIMIT) or APP_TITLE
        return [*self.command, _safe_argument(clean_title), _safe_argument(payload_text(body, BODY_LIMIT))]

    def notify(self, title: str, body: str) -> Delivery:
        """Notify now; never raises, never waits for a command (it runs in a daemon thread,
        returned in the Delivery so a test can join it)."""
        if self.method == "off":
            return Delivery("off")
        if self.method == "command":
            argv = self.argv(title, body)
            thread = threading.Thread(target=run_command, args=(argv, self.timeout), name="hmtui-notify",
                                      daemon=True)
            thread.start()
            return Delivery("command", argv=tuple(argv), thread=thread)
        text = self.terminal_text(title, body)
        try:
            self._write(text)
        except (OSError, ValueError):
            log.debug("cannot write the notification to the terminal", exc_info=True)
        return Delivery(self.method, written=text)


def notifier_from_config(config: Any, *, write: Callable[[str], None] | None = None,
                         environ: Mapping[str, str] | None = None) -> Notifier:
    """The Notifier a Config asks for (`notify`, `notify_command`); the TUI passes its driver's
    write so the sequence goes where Textual draws."""
    return Notifier(getattr(config, "notify", "auto"), getattr(config, "notify_command", None),
                    environ=environ, write=write)


def _write_stdout(text: str) -> None:
    stream = sys.__stdout__
    if stream is not None:
        stream.write(text)
        stream.flush()


def run_command(argv: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> int | None:
    """Run a notify_command: no shell, no terminal (its own session, stdin/stdout/stderr closed,
    so it can neither read keys nor draw over the app), killed after `timeout` seconds. Returns
    its exit status, None if it could not run or was killed; never raises."""
    try:
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        log.warning("notify_command cannot run: %s", exc.strerror or type(exc).__name__)
        return None
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("notify_command did not finish within %g s: killed", timeout)
        process.kill()
        process.wait()
        return None


# --- which messages notify ---------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """A new inbound message as the gate judges it (the app builds these from its models)."""

    id: Any
    inbox_id: Any
    target: str
    assigned: Any = None  # the conversation's assignee id; None: unassigned
    date: datetime | None = None
    title: str = ""  # the contact's name or number (server text)
    body: str = ""  # the message's text (server text)


# A message dated this long before the app started is backlog even if the first load missed it
# (an older page); the margin keeps a server clock a little behind ours from hiding new ones.
BACKLOG_MARGIN = timedelta(minutes=5)


class NotifyGate:
    """Which inbound messages notify. Prime it with what the app had when it started (the
    backlog: it never notifies); then `admit` each refresh's inbound messages."""

    def __init__(self, store: Any, *, scope: str = "mine", me: Any = None, started: datetime | None = None,
                 my_inboxes: Iterable[Any] | None = None) -> None:
        self.store = store
        self.scope = scope
        self.me = me
        self.started = started
        self.my_inboxes = set(my_inboxes) if my_inboxes is not None else None
        self._seen: set[Any] = set()

    def prime(self, ids: Iterable[Any]) -> None:
        """Ids present when the app started: never notified."""
        self._seen.update(ids)

    def in_scope(self, message: Inbound) -> bool:
        if self.scope == "none":
            return False
        if self.my_inboxes is not None and message.inbox_id not in self.my_inboxes:
            return False
        if self.scope == "all":
            return True
        return message.assigned is None or (self.me is not None and message.assigned == self.me)

    def admit(self, messages: Sequence[Inbound], *, on_screen: tuple[Any, str] | None = None,
              focused: bool = False) -> list[Inbound]:
        """The messages to notify, each id once ever; records them (in the store too). Every
        message judged is remembered, so a later change of scope does not notify old ones.
        `on_screen`: the (inbox id, target) shown; with `focused`, it does not notify."""
        fresh = [m for m in _unique(messages) if m.id not in self._seen]
        self._seen.update(m.id for m in fresh)
        try:
            already = self.store.notified_ids([m.id for m in fresh]) if fresh else set()
        except Exception:  # noqa: BLE001 - a cache problem must not stop notifications
            log.debug("cannot read notified ids", exc_info=True)
            already = set()
        chosen = [m for m in fresh if m.id not in already and not self._backlog(m) and self.in_scope(m)
                  and not (focused and on_screen is not None and (m.inbox_id, m.target) == on_screen)]
        if chosen:
            try:
                self.store.mark_notified([m.id for m in chosen])
            except Exception:  # noqa: BLE001 - then only this run remembers them
                log.debug("cannot record notified ids", exc_info=True)
        return chosen

    def _backlog(self, message: Inbound) -> bool:
        return (self.started is not None and message.date is not None
                and message.date < self.started - BACKLOG_MARGIN)


def _unique(messages: Sequence[Inbound]) -> list[Inbound]:
    seen: set[Any] = set()
    out = []
    for message in messages:
        if message.id not in seen:
            seen.add(message.id)
            out.append(message)
    return out


def summary(messages: Sequence[Inbound], *, most: int = 3) -> list[tuple[str, str]]:
    """(title, body) of the notifications for one refresh: one per message up to `most`, else
    one that counts them (a burst must not flood the desktop)."""
    if len(messages) <= most:
        return [(m.title, m.body) for m in messages]
    senders = {(m.inbox_id, m.target) for m in messages}
    return [(APP_TITLE, f"{len(messages)} new messages from {len(senders)} "
                        f"{'customer' if len(senders) == 1 else 'customers'}")]


# --- the terminal's title ------------------------------------------------------------------------

# xterm's title stack: push the title the terminal had, pop it back on exit. A terminal without
# the stack ignores both, and keeps our title until the shell sets its own.
TITLE_PUSH = f"{ESC}[22;0t"
TITLE_POP = f"{ESC}[23;0t"


def title_text(unread: int, account: str | None = None) -> str:
    """`hmtui · 3 unread` (`hmtui · work · 3 unread` for a named account; `hmtui` at none)."""
    parts = [APP_TITLE]
    if account:
        parts.append(payload_text(account, 40))
    if unread > 0:
        parts.append(f"{unread:,} unread")
    return " · ".join(p for p in parts if p)


def title_sequence(text: str) -> str:
    """OSC 2 (the window title; OSC 0 would also rename the icon) with `text` cleaned."""
    return f"{ESC}]2;{payload_text(text, TITLE_LIMIT)}{BEL}"


class TerminalTitle:
    """The title while the app runs: `start` saves the terminal's own, `show` writes only what
    changed, `restore` puts the saved one back (call it on every exit path)."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write or _write_stdout
        self._shown: str | None = None
        self._started = False

    def _emit(self, text: str) -> None:
        try:
            self._write(text)
        except (OSError, ValueError):
            log.debug("cannot write the terminal title", exc_info=True)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._emit(TITLE_PUSH)

    def show(self, unread: int, account: str | None = None) -> None:
        text = title_text(unread, account)
        if text != self._shown:
            self.start()
            self._shown = text
            self._emit(title_sequence(text))

    def restore(self) -> None:
        if self._started:
            self._started = False
            self._shown = None
            self._emit(TITLE_POP)
