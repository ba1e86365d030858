"""hmtui: a keyboard-driven terminal client for Heymarket shared inboxes."""

__version__ = "0.1.0"
