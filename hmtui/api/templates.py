"""The team's message templates (`POST /v1/templates`) and their merge tokens.

A template's text holds tokens such as `{{first_name}}`. Sent unedited, a message goes with its
`template_id` and the server fills them in; once the agent edits it, it goes as plain text, with
the tokens filled in locally where the conversation knows them (`fill_tokens`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hmtui.api.models import Id, parse_datetime, parse_id

TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


def merge_tokens(text: str) -> list[str]:
    """The token names in `text`, in order, each once: "Hi {{first_name}}" -> ["first_name"]."""
    return list(dict.fromkeys(m.group(1) for m in TOKEN.finditer(text or "")))


def fill_tokens(text: str, values: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """`text` with the tokens it knows a value for filled in: (the text, the tokens left)."""
    left: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value:
            return value
        if match.group(1) not in left:
            left.append(match.group(1))
        return match.group(0)

    return TOKEN.sub(replace, text or ""), left


def contact_tokens(name: str | None, phone: str | None) -> dict[str, str | None]:
    """What a conversation knows for the usual tokens."""
    parts = (name or "").split()
    return {"first_name": parts[0] if parts else None,
            "last_name": " ".join(parts[1:]) or None if len(parts) > 1 else None,
            "name": (name or "").strip() or None, "full_name": (name or "").strip() or None,
            "phone": phone or None}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(slots=True)
class Template:
    id: Id
    name: str
    text: str
    created: datetime | None
    updated: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def tokens(self) -> list[str]:
        return merge_tokens(self.text)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Template | None:
        id_ = parse_id(raw.get("id"), own=True)
        if id_ is None:
            return None
        content = raw.get("content")
        text = _str(raw.get("text"))
        if text is None and isinstance(content, Mapping):
            text = _str(content.get("text"))
        created = parse_datetime(raw.get("created") or raw.get("created_at"))
        return cls(
            id=id_,
            name=_str(raw.get("name")) or _str(raw.get("title")) or "",
            text=text or "",
            created=created,
            updated=parse_datetime(raw.get("updated") or raw.get("updated_at")) or created,
            raw=dict(raw),
        )
