"""Checking a user's [keymap] against the app's real bindings, before the app starts.

Textual silently ignores an unknown binding id and accepts any key string, so a typo would
simply do nothing; worse, a keymap could give `q` to "conversation.close", and `q` would then
close a conversation on the server instead of quitting. So: unknown ids and impossible key
names are refused, `q` stays Quit and `?` stays Help, and single characters are turned into
Textual's key names ("?" -> "question_mark"), which is what a keymap must hold to match.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, key_to_character

from hmtui.safe_text import one_line

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# What the app promises whatever the keymap: q quits, ? shows the keys.
RESERVED = {"q": "app.quit", "question_mark": "app.help"}
# Bindings that may carry a reserved key as well (the help screen closes on q and ?).
MAY_SHARE_RESERVED = frozenset({"help.close"})

_NAMED_KEYS = frozenset(
    key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")
)


class KeymapError(ValueError):
    """A keymap entry that cannot be used; the message names it, in one line."""


def default_bindings() -> dict[str, str]:
    """{binding id: its default keys} for every Binding with an id in hmtui.ui.

    Every module of the package is imported (some screens are imported lazily), so a new screen's
    bindings are known without a list to keep up to date. Only called when a keymap is set.
    """
    import hmtui.ui

    for module in pkgutil.walk_packages(hmtui.ui.__path__, "hmtui.ui."):
        importlib.import_module(module.name)
    found: dict[str, str] = {}
    for cls in _subclasses(DOMNode):
        if not cls.__module__.startswith("hmtui.ui"):
            continue
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, binding.key)
    return found


def _subclasses(cls: type) -> Iterator[type]:
    seen: set[type] = set()
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def normalize_key(key: str) -> str:
    """A key as Textual names it ("?" -> "question_mark", "ctrl+x" unchanged); KeymapError if
    no key can have that name."""
    text = key.strip()
    if not text:
        raise KeymapError("an empty key")
    if len(text) == 1:
        if not text.isprintable() or text.isspace():
            raise KeymapError(f"{text!r} is not a key (use a name such as space or tab)")
        return _character_to_key(text)
    *mods, base = text.split("+")
    if not base:  # "ctrl++" or a trailing plus: the key itself is "plus"
        raise KeymapError(f"{one_line(text, 40)!r} is not a key name (write plus for +)")
    unknown = [m for m in mods if m.lower() not in MODIFIERS]
    if unknown:
        raise KeymapError(f"{one_line(text, 40)!r}: {one_line(unknown[0], 20)!r} is not a modifier "
                          f"({', '.join(sorted(MODIFIERS))})")
    if len(base) == 1:
        if not base.isprintable() or base.isspace():
            raise KeymapError(f"{one_line(text, 40)!r} is not a key name")
        base = _character_to_key(base)
    elif base not in _NAMED_KEYS and key_to_character(base) is None:
        raise KeymapError(f"{one_line(text, 40)!r} is not a key name (e.g. x, ctrl+x, f5, escape, question_mark)")
    return "+".join([*(m.lower() for m in mods), base])


def validate_keymap(keymap: Mapping[str, str], bindings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The keymap with its keys normalized; KeymapError for an unknown id, an impossible key, or
    an entry that would take q (Quit) or ? (Help) away."""
    if not keymap:
        return {}
    known = default_bindings() if bindings is None else bindings
    normalized: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            guess = difflib.get_close_matches(binding_id, list(known), n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else " (press ? in hmtui to see every id)"
            raise KeymapError(f"unknown binding id {one_line(binding_id, 60)!r}{hint}")
        try:
            names = [normalize_key(key) for key in keys.split(",")]
        except KeymapError as exc:
            raise KeymapError(f"{binding_id!r} = {one_line(keys, 40)!r}: {exc}") from None
        normalized[binding_id] = ",".join(dict.fromkeys(names))
    effective = {binding_id: normalized.get(binding_id, keys) for binding_id, keys in known.items()}
    for key, owner in RESERVED.items():
        label = "q" if key == "q" else "?"
        if owner in effective and key not in effective[owner].split(","):
            raise KeymapError(f"{owner!r} must keep {label!r}: add it, e.g. \"{owner}\" = \"{label},...\"")
        for binding_id in normalized:
            if binding_id not in (owner, *MAY_SHARE_RESERVED) and key in normalized[binding_id].split(","):
                raise KeymapError(f"{binding_id!r} cannot take {label!r}: it is reserved for {owner}")
    return normalized
