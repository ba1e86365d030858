"""Make alt+enter reach the app as `alt+enter` in terminals that send it as ESC CR.

Textual (8.x) reads ESC followed by CR as a plain `enter`: its parser marks the character after
an ESC as alt, but a CR maps to the Enter key, which drops the alt. In the composer `enter`
sends and `alt+enter` is a newline, so on most terminals (xterm, tmux, GNOME Terminal without the
kitty keyboard protocol) an agent asking for a new line would send a half-written message. This
reports ESC CR as `alt+enter` instead; terminals that speak the kitty protocol already do.

The parser class is swapped in the Unix drivers' modules before the app starts (their input
thread makes the parser); `install()` is idempotent and is called when the composer is imported.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual._xterm_parser import XTermParser


class AltEnterParser(XTermParser):
    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if alt and sequence == "\r":
            yield events.Key("alt+enter", None)
            return
        yield from super()._sequence_to_key_events(sequence, alt)


def install() -> None:
    """Use `AltEnterParser` in the drivers that read a Unix terminal (no-op where absent)."""
    import importlib

    for name in ("textual.drivers.linux_driver", "textual.drivers.linux_inline_driver"):
        try:
            module = importlib.import_module(name)
        except Exception:  # Windows, or a Textual without that driver
            continue
        if getattr(module, "XTermParser", None) is XTermParser:
            module.XTermParser = AltEnterParser  # type: ignore[attr-defined]
