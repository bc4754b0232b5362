"""The day-04 NumPy multilayer perceptron, collected for later days.

``NumpyMLP`` is the 2-layer network that day 04 derives and builds cell by cell::

    a1   = sigmoid(x @ W1 + b1)        # hidden layer, (N, n_hidden)
    yhat = sigmoid(a1 @ W2 + b2)       # output layer, (N, n_out)
    loss = mean_n 0.5 * sum_k (yhat[n, k] - y[n, k]) ** 2

Gradients come from the delta recursion (backpropagation), averaged over the N samples;
training is plain full-batch gradient descent. Everything is float64 so that finite differences
(``helpers.checks.grad_check``) can check the gradients to about 1e-9.
"""

from __future__ import annotations

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), written so that it never overflows."""
    return np.exp(-np.logaddexp(0.0, -z))


class NumpyMLP:
    """2-layer perceptron in NumPy: yhat = sigmoid(sigmoid(x @ W1 + b1) @ W2 + b2). Defined in day 04.

    Initialisation: ``W1`` and ``W2`` are drawn from the standard normal distribution N(0, 1) by
    ``np.random.default_rng(seed)`` (W1 first, then W2); ``b1`` and ``b2`` start at zero.

    >>> model = NumpyMLP(n_in=2, n_hidden=2, n_out=1, seed=0)
    >>> losses = model.fit(x, y, epochs=10_000, lr=1.0)   # doctest: +SKIP
    """

    def __init__(self, n_in: int = 2, n_hidden: int = 2, n_out: int = 1, seed: int = 0) -> None:
        for name, size in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            if not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"{name} must be a positive integer, got {size!r}")
        self.n_in, self.n_hidden, self.n_out = int(n_in), int(n_hidden), int(n_out)
        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {
            "W1": rng.standard_normal((self.n_in, self.n_hidden)),
            "b1": np.zeros(self.n_hidden),
            "W2": rng.standard_normal((self.n_hidden, self.n_out)),
            "b2": np.zeros(self.n_out),
        }
        self.cache: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"NumpyMLP(n_in={self.n_in}, n_hidden={self.n_hidden}, n_out={self.n_out})"

    # ------------------------------------------------------------ shapes
    def _inputs(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"x must have shape (N, {self.n_in}), got {x.shape}"
                             + ("; use x.reshape(1, -1) for one sample" if x.ndim == 1 else ""))
        return x

    def _targets(self, y: np.ndarray, n_samples: int) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (n_samples, self.n_out):
            hint = "; use y.reshape(-1, 1)" if y.ndim == 1 and self.n_out == 1 else ""
            raise ValueError(f"y must have shape ({n_samples}, {self.n_out}), got {y.shape}{hint}")
        return y

    # ------------------------------------------------------------ forward, loss, backward
    def _forward(self, x: np.ndarray) -> np.ndarray:
        p = self.params
        a1 = sigmoid(x @ p["W1"] + p["b1"])
        yhat = sigmoid(a1 @ p["W2"] + p["b2"])
        self.cache = {"x": x, "a1": a1, "yhat": yhat}
        return yhat

    def _backward(self, y: np.ndarray) -> dict[str, np.ndarray]:
        x, a1, yhat = self.cache["x"], self.cache["a1"], self.cache["yhat"]
        delta2 = (yhat - y) * yhat * (1 - yhat) / len(x)          # d loss / d z2, (N, n_out)
        delta1 = (delta2 @ self.params["W2"].T) * a1 * (1 - a1)   # d loss / d z1, (N, n_hidden)
        return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0),
                "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}

    @staticmethod
    def _loss(yhat: np.ndarray, y: np.ndarray) -> float:
        return float(0.5 * np.sum((yhat - y) ** 2) / len(y))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs for ``x`` (N, n_in) -> yhat (N, n_out); caches x, a1 and yhat for ``gradients``."""
        return self._forward(self._inputs(x))

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean over samples of 0.5 * sum((yhat - y) ** 2); ``y`` has shape (N, n_out)."""
        yhat = self.forward(x)
        return self._loss(yhat, self._targets(y, len(yhat)))

    def gradients(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """d loss / d param for every parameter (same keys and shapes as ``params``), by backprop."""
        yhat = self.forward(x)
        return self._backward(self._targets(y, len(yhat)))

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """One gradient-descent update, in place: param -= lr * grad."""
        missing = set(PARAM_NAMES) - set(grads)
        if missing:
            raise KeyError(f"gradients missing for {sorted(missing)}")
        for name, param in self.params.items():
            if np.shape(grads[name]) != param.shape:
                raise ValueError(f"gradient of {name!r} has shape {np.shape(grads[name])}, "
                                 f"parameter has {param.shape}")
        self._step(grads, lr)

    def _step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        for name, param in self.params.items():
            param -= lr * grads[name]

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, log_every: int = 0) -> list[float]:
        """Full-batch gradient descent for ``epochs`` epochs; returns the loss of every epoch.

        The loss of epoch ``e`` is measured before that epoch's update (so ``losses[0]`` is the loss
        of the initial weights). With ``log_every > 0`` it prints ``epoch e loss ...`` every
        ``log_every`` epochs, starting at epoch 0.
        """
        x = self._inputs(x)
        y = self._targets(y, len(x))
        losses = []
        for epoch in range(epochs):  # the checks ran once above; the loop calls the unchecked steps
            losses.append(self._loss(self._forward(x), y))
            if log_every and epoch % log_every == 0:
                print(f"epoch {epoch:>6} loss {losses[-1]:.5f}")
            self._step(self._backward(y), lr)
        return losses
