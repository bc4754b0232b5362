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


def test_interactive_attention_bundle_has_lines_controls_script_and_png():
    from helpers.interactive import interactive_attention

    rng = np.random.default_rng(0)
    weights = rng.random((2, 3, 4, 4))
    weights /= weights.sum(-1, keepdims=True)
    tokens = ["[CLS]", "a", "<b>", "[SEP]"]
    bundle = interactive_attention(weights, tokens, layer_labels=["first", "last"])._repr_mimebundle_()
    page = bundle["text/html"]
    assert page.count("<line data-q") == 16  # one line per (query, key)
    assert page.count('<option value="') == 2 + 3  # layers + heads
    assert "&lt;b&gt;" in page and "<b>" not in page  # tokens are escaped
    assert f'stroke-opacity="{round(weights[0, 0, 1, 2], 3) / 2:.3f}"' in page  # static view: layer 0 head 0
    script = page.split("<script>")[1]
    assert "http" not in script and "data-interactive" in script  # nothing fetched; marks itself ready
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert interactive_attention(weights, tokens, layer_labels=["first", "last"])._repr_mimebundle_()[
        "text/html"] == page  # deterministic


def test_interactive_attention_checks_its_input():
    from helpers.interactive import interactive_attention

    with pytest.raises(ValueError, match="3 tokens for attention over 4 positions"):
        interactive_attention(np.zeros((1, 1, 4, 4)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="layers×heads×T×T"):
        interactive_attention(np.zeros((4, 4)), ["a"] * 4)
