import base64
import re

import numpy as np
import pytest

from helpers.interactive import interactive_projection


def test_interactive_projection_bundle_has_svg_script_and_png():
    vectors = np.random.default_rng(0).normal(size=(8, 5))
    labels = [f"word{i}" for i in range(8)]
    figure = interactive_projection(vectors, labels, groups=["a", "b"] * 4)
    bundle = figure._repr_mimebundle_()
    svg = bundle["text/html"]
    assert svg.count("<circle") == 8 + 2  # points + legend
    assert "<title>word3 (b)</title>" in svg  # hover label without scripts
    ident = re.search(r'<svg id="(proj-[0-9a-f]+)"', svg).group(1)
    assert f'getElementById("{ident}")' in svg and "http" not in svg.split("<script>")[1]  # nothing fetched
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    again = interactive_projection(vectors, labels, groups=["a", "b"] * 4)._repr_mimebundle_()["text/html"]
    assert again == svg  # deterministic, so notebook outputs can be compared


def test_interactive_projection_checks_labels():
    with pytest.raises(ValueError, match="3 labels for 4 vectors"):
        interactive_projection(np.zeros((4, 3)), ["a", "b", "c"])
