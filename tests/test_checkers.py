"""Each checker accepts a right answer and rejects wrong ones with a message that says what is wrong."""

import numpy as np
import pytest
import torch

from helpers.checks import ExerciseError, check_function, check_gradient, check_shape, check_value


def test_check_shape(capsys):
    check_shape("W1", np.zeros((2, 3)), (2, 3))
    assert "[OK] W1: shape (2, 3)" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match=r"wrong shape \(3, 2\), expected \(2, 3\)"):
        check_shape("W1", np.zeros((3, 2)), (2, 3))
    with pytest.raises(ExerciseError, match="no answer yet"):
        check_shape("W1", None, (2, 3))


def test_check_value(capsys):
    check_value("y", torch.tensor([1.0, 2.0]), [1.0, 2.0])
    assert "[OK] y: values match" in capsys.readouterr().out
    message = r"largest difference 0.5 at index \(1,\) \(yours 2.5, expected 2\)"
    with pytest.raises(ExerciseError, match=message):
        check_value("y", [1.0, 2.5], [1.0, 2.0])
    with pytest.raises(ExerciseError, match="wrong shape"):
        check_value("y", [1.0], [1.0, 2.0])
    with pytest.raises(ExerciseError, match="NaN"):
        check_value("y", [np.nan, 2.0], [1.0, 2.0])
    with pytest.raises(ExerciseError, match="no answer yet"):
        check_value("y", ..., [1.0])


def test_check_gradient():
    w = np.array([1.0, -2.0])

    def loss() -> float:
        return float(np.sum(w**3))

    check_gradient("dL/dw", loss, {"w": w}, {"w": 3 * w**2})
    with pytest.raises(ExerciseError, match=r"wrong gradient for w \(relative error"):
        check_gradient("dL/dw", loss, {"w": w}, {"w": 2 * w})
    with pytest.raises(ExerciseError, match="has shape"):
        check_gradient("dL/dw", loss, {"w": w}, {"w": np.zeros(3)})
    with pytest.raises(ExerciseError, match="no gradient for 'w'"):
        check_gradient("dL/dw", loss, {"w": w}, {})


def test_check_function(capsys):
    cases = [((0, 0), 0), ((1, 1), 1), ((1, 0), 0)]
    check_function("AND", lambda a, b: a & b, cases)
    assert capsys.readouterr().out == "[OK] AND: 3 cases\n"
    with pytest.raises(ExerciseError, match=r"AND: for input \(1, 0\), wrong value; largest difference 1 \("):
        check_function("AND", lambda a, b: a | b, cases)
    with pytest.raises(ExerciseError, match="raised ZeroDivisionError"):
        check_function("AND", lambda a, b: a / 0, cases)

    def todo(a, b):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check_function("AND", todo, cases)
