"""Seeded message templates for the fake server, and `POST /v1/templates`.

The list is 30 a page (as documented), newest `updated` first, paged by a date cursor: `date`
asks for templates updated before it (the server's `cursor` option decides whether the bound is
inclusive, as for conversations). Texts carry merge tokens (`{{first_name}}`, ...); a send with a
`template_id` fills them from the conversation, leaving unknown ones as they are.
"""

from __future__ import annotations

import re
from typing import Any

PAGE_SIZE = 30
TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")

_TEXTS = (
    ("Greeting", "Hi {{first_name}}, thanks for reaching out! How can we help today?"),
    ("Order ready", "Hi {{first_name}}, your order is ready for pickup at {{store}}."),
    ("Appointment reminder", "Reminder: your appointment is tomorrow at {{time}}. Reply C to confirm."),
    ("Follow-up", "Hi {{first_name}}, just checking in: did that solve it?"),
    ("Hours", "We're open Mon–Fri 9–6 and Sat 10–2."),
    ("Callback", "Thanks {{first_name}}! Someone from our team will call you at {{phone}} shortly."),
    ("Review request", "Thanks for visiting, {{first_name}}! Would you leave us a review? {{link}}"),
    ("Payment link", "Hi {{first_name}} {{last_name}}, here is your secure payment link: {{link}}"),
    ("Closing", "Glad we could help, {{first_name}}. Have a great day!"),
    ("Out of office", "Thanks for your message. We're away until Monday and will reply then."),
)


def build_templates(anchor_epoch: int, count: int = 42) -> list[dict[str, Any]]:
    """`count` templates (the base texts, then numbered variants), newest first: enough for two
    pages. Dates are a pure function of the anchor, an hour apart."""
    from hmtui.fake.generate import rfc3339

    out: list[dict[str, Any]] = []
    for n in range(count):
        name, text = _TEXTS[n % len(_TEXTS)]
        if n >= len(_TEXTS):
            name = f"{name} ({n // len(_TEXTS) + 1})"
        updated = anchor_epoch - 3600 * (n + 1)
        out.append({"id": 7001 + n, "name": name, "text": text, "created": rfc3339(updated - 86400 * 30),
                    "updated": rfc3339(updated), "attachments": [], "user": None})
    return out


def fill_template(text: str, conv: dict[str, Any] | None) -> str:
    """The server's filling of merge tokens from a conversation; unknown tokens stay."""
    name = ((conv or {}).get("name") or "").strip()
    parts = name.split()
    values = {"first_name": parts[0] if parts else "", "last_name": " ".join(parts[1:]),
              "name": name, "full_name": name, "phone": (conv or {}).get("target") or ""}
    return TOKEN.sub(lambda m: values.get(m.group(1)) or m.group(0), text)


class TemplateBook:
    """The team's templates, newest `updated` first."""

    def __init__(self, anchor_epoch: int) -> None:
        self.items = build_templates(anchor_epoch)
        self._by_id = {t["id"]: t for t in self.items}

    def by_id(self, template_id: int) -> dict[str, Any] | None:
        return self._by_id.get(template_id)

    def page(self, before: float | None, *, inclusive: bool, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
        from hmtui.fake.server import parse_rfc3339

        def keep(t: dict[str, Any]) -> bool:
            if before is None:
                return True
            stamp = parse_rfc3339(t["updated"]) or 0.0
            return stamp <= before if inclusive else stamp < before

        return [t for t in self.items if keep(t)][:limit]
