"""Numbers in the prose come from executed cells: ``glue`` stores a value for the book.

In the book, ``{glue:text}`name``` (optionally ``{glue:text}`name:.2%```) shows the stored value.
Outside Jupyter Book (Colab, plain Jupyter) ``glue`` just returns the value.
"""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any) -> Any:
    """Store ``value`` under ``name`` for the book (myst-nb), hidden in the notebook; return it."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab or a plain Jupyter install: nothing to store
        return value
    myst_glue(name, value, display=False)
    return value
