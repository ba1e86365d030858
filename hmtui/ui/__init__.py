"""The Textual terminal UI. Data flows one way: API -> app state -> widgets."""
