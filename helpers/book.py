"""Numbers in the prose come from executed cells: ``glue`` stores a value for the book.

In the book, ``{glue:text}`name``` (optionally ``{glue:text}`name:.2%```) shows the stored value.
Outside Jupyter Book (Colab, plain Jupyter) ``glue`` just returns the value.
"""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any) -> Any:
    """Store ``value`` (floats rounded to 4 decimals) for the book (myst-nb), hidden in the notebook."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab or a plain Jupyter install: nothing to store
        return value
    stored = round(float(value), 4) if isinstance(value, float) else value
    myst_glue(name, stored, display=False)
    return value
