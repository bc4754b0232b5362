"""``python -m helpers COMMAND``: the course's command line, for set-up scripts and terminals.

    python -m helpers fetch-offline   fetch the offline sources of the `ci` profile (scripts/setup.sh runs it)
    python -m helpers where           print the data and offline folders
    python -m helpers env             check the environment ([OK]/[FAIL] per package, device, profile)

It replaces ``python -m helpers.data ...``, which works too but makes Python warn (``RuntimeWarning:
'helpers.data' found in sys.modules``): importing the package ``helpers`` already imports ``helpers.data``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["env"]:
        from helpers import env

        return env.main()
    from helpers import data

    data.main(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
