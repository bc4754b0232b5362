"""Every day's settings table resolves under the three profiles with the same keys."""

import importlib
from pathlib import Path

import pytest

from helpers.profile import PROFILES, day_settings

ROOT = Path(__file__).resolve().parent.parent
DAYS = sorted(p.stem for p in (ROOT / "helpers" / "days").glob("day*.py"))


def test_every_notebook_has_settings():
    notebooks = {p.stem.split("_")[0] for p in (ROOT / "notebooks").glob("day*.py")}
    assert notebooks <= set(DAYS)


@pytest.mark.parametrize("day", DAYS)
def test_settings_table_is_well_formed(day):
    table = importlib.import_module(f"helpers.days.{day}").SETTINGS
    sections = {"common", *PROFILES}
    assert set(table) <= sections, f"{day}: unknown sections {set(table) - sections}"
    keys = {profile: set(day_settings(day, profile)) for profile in PROFILES}
    assert keys["ci"] == keys["laptop"] == keys["gpu"], f"{day}: profiles define different settings {keys}"
