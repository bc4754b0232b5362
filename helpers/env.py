"""Environment checker: ``python -m helpers.env`` prints [OK]/[FAIL] per package, device and profile.

Each package is checked against the range in ``requirements.txt`` (what the course was tested with).
Also the first code cell of every notebook, which installs the course on Colab: ``colab_install_cell()``
renders it from the repository named in ``_config.yml`` (the one place the URL lives; the website's
launch buttons read it too), and ``scripts/sync-colab-cell.py`` writes it into every notebook.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

#: distribution name -> (minimum version, days or purpose)
REQUIRED: dict[str, tuple[str, str]] = {
    "numpy": ("1.26", "every day"),
    "matplotlib": ("3.8", "every day (figures)"),
    "torch": ("2.4", "days 05-41"),
    "torchvision": ("0.19", "days 06-09 (vision datasets)"),
    "accelerate": ("1.0", "helpers.Trainer"),
    "safetensors": ("0.4", "checkpoints"),
    "scikit-learn": ("1.4", "metrics, projections"),
    "transformers": ("4.56", "days 24-41"),
    "peft": ("0.13", "days 34-40 (LoRA)"),
}


@dataclass(frozen=True)
class PackageStatus:
    name: str
    installed: str | None
    minimum: str
    purpose: str

    @property
    def ok(self) -> bool:
        return self.installed is not None and Version(self.installed) >= Version(self.minimum)

    def line(self) -> str:
        mark = "[OK]  " if self.ok else "[FAIL]"
        found = self.installed or "not installed"
        return f"{mark} {self.name:<13} {found:<14} (needs >= {self.minimum}; {self.purpose})"


def check_packages(required: dict[str, tuple[str, str]] | None = None) -> list[PackageStatus]:
    """The status of each required package (installed version vs minimum)."""
    statuses = []
    for name, (minimum, purpose) in (required or REQUIRED).items():
        try:
            installed: str | None = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        statuses.append(PackageStatus(name, installed, minimum, purpose))
    return statuses


def device_report() -> str:
    """One line on the accelerator torch can see."""
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        memory = torch.cuda.get_device_properties(0).total_memory / 2**30
        return f"device: CUDA GPU {name} ({memory:.0f} GiB)"
    return "device: CPU only (no CUDA GPU visible to torch)"


def report(profile: str | None = None) -> bool:
    """Print the full report; True when every package is OK."""
    from helpers.profile import resolve_profile

    statuses = check_packages()
    print(f"python {platform.python_version()} on {sys.platform}")
    for status in statuses:
        print(status.line())
    print(device_report())
    print(f"profile: {resolve_profile(profile)}")
    return all(status.ok for status in statuses)


#: The kernel every committed notebook names (papermill and nbgrader start it by this name).
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

#: The first code cell of every notebook; ``{url}`` and ``{branch}`` come from ``repository`` in
#: ``_config.yml``.
COLAB_CELL = """\
# Colab only: install the course's `helpers` package and what the notebooks import that Colab lacks
# (Colab already has torch). Everywhere else, scripts/setup.sh has installed it.
import sys

if "google.colab" in sys.modules:
    import subprocess

    print("Installing the course's helpers from {url} ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "wxb-course-helpers[all] @ git+{url}@{branch}"], check=True)"""


def repository(config: Path | None = None) -> tuple[str, str]:
    """``(url, branch)`` of the course's repository, from ``repository:`` in ``_config.yml``."""
    import yaml

    path = config or Path(__file__).resolve().parent.parent / "_config.yml"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the repository URL is read from the book's _config.yml "
                                "(run this from a checkout of the course).")
    settings = yaml.safe_load(path.read_text()).get("repository") or {}
    url, branch = settings.get("url"), settings.get("branch", "main")
    if not url:
        raise ValueError(f"{path} has no repository: url: (the course's git repository, for Colab installs)")
    return str(url).rstrip("/"), str(branch)


def colab_install_cell(config: Path | None = None) -> str:
    """The source of the Colab install cell (the first code cell of every notebook)."""
    url, branch = repository(config)
    return COLAB_CELL.format(url=url, branch=branch)


def main() -> int:
    """Exit status for ``python -m helpers.env``: 0 when every package is OK, else 1."""
    return 0 if report() else 1


if __name__ == "__main__":
    sys.exit(main())
