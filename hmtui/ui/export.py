"""Writing a thread to a file: Markdown for people, JSON Lines for programs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

import platformdirs

from hmtui.api import Conversation, Message, MessageKind
from hmtui.safe_text import clean_text, dumps_terminal_safe, one_line
from hmtui.ui.timefmt import day_key, day_label

FORMATS = {"markdown": ".md", "jsonl": ".jsonl"}


def export_path(conversation: Conversation, fmt: str, now: datetime, directory: Path | None = None) -> Path:
    directory = directory or platformdirs.user_downloads_path()
    # Only digits and our own words reach the file name: a server string never picks a path.
    number = "".join(ch for ch in (conversation.target or "") if ch.isdigit()) or "unknown"
    inbox = "".join(ch for ch in str(conversation.inbox_id) if ch.isalnum()) or "inbox"
    return directory / f"hmtui-{inbox}-{number}-{now:%Y%m%d-%H%M%S}{FORMATS[fmt]}"


def render_markdown(conversation: Conversation, messages: Sequence[Message], tz: tzinfo) -> str:
    lines = [f"# Conversation with {one_line(conversation.display_name)}", ""]
    if conversation.target:
        lines += [f"Number: +{one_line(conversation.target)}", ""]
    last_day = None
    for message in messages:
        key = day_key(message.date, tz)
        if key != last_day and message.date is not None:
            lines += [f"## {day_label(message.date, tz)}", ""]
            last_day = key
        when = message.date.astimezone(tz).strftime("%H:%M") if message.date else "--:--"
        label = {MessageKind.INBOUND: "", MessageKind.OUTBOUND: " (team)", MessageKind.NOTE: " (private note)"}[message.kind]
        if message.hidden:  # not shown in the app, kept here, marked
            label += " (hidden)"
        status = f" · {one_line(message.status)}" if message.status and message.kind is MessageKind.OUTBOUND else ""
        author = message.author or ("Team (automated)" if message.automated else "?")
        lines.append(f"**{one_line(author)}**{label} · {when}{status}")
        lines.append("")
        body = clean_text(message.text).strip("\n")
        if body:
            lines.extend(f"> {line}" for line in body.split("\n"))
        else:
            lines.append("> (no text)")
        for url in (message.media, message.link_url):
            if url:
                lines.append(f">\n> <{one_line(url)}>")
        if message.failure and message.kind is not MessageKind.INBOUND:
            lines.append(f">\n> not delivered: {one_line(message.failure, 300)}")
        lines.append("")
    return "\n".join(lines)


def render_jsonl(messages: Sequence[Message]) -> str:
    return "".join(dumps_terminal_safe(m.raw) + "\n" for m in messages)


def write_export(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Customer data: readable by the user only.
    with open(path, "w", encoding="utf-8", errors="replace", opener=lambda p, flags: os.open(p, flags, 0o600)) as handle:
        handle.write(content)
