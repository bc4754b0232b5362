"""Day 01 (setup): nothing varies between profiles."""

SETTINGS: dict[str, dict] = {"common": {}}
