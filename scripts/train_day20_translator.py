"""Train the English -> German translator that day 20 ships for ``ci``, with the course's own code.

The command that made ``data/day20_translator.safetensors`` and ``data/day20_translator_log.json`` is::

    OMP_NUM_THREADS=1 python scripts/train_day20_translator.py

It runs the ``ci`` settings of ``helpers/days/day20.py``: the FreeDict English-German sentence pairs
(``helpers.corpora.freedict``), shuffled and split exactly as the notebook splits them, the same BPE
vocabularies (``helpers.translation.train_bpe`` on the training split), the same model
(``helpers.translation.build_translator``) and the same training loop (``train_translator``), for
``checkpoint_steps`` steps instead of the notebook's ``steps``. Every ``checkpoint_eval_every`` steps it
records the validation NLL (masked, and with pads included) and the greedy BLEU on the validation and on
training sentences. It writes:

- ``<out>.safetensors``: the model's state dict;
- ``<out>_log.json``: the settings, this command, a fingerprint of each vocabulary (the notebook checks that
  its own vocabularies are the same), and the history.

About 4 minutes of CPU on one thread. ``--steps`` shortens it (the test runs a few steps).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from helpers import repro
from helpers.profile import day_settings, seed_everything
from helpers.trainer import save_weights

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "OMP_NUM_THREADS=1 python scripts/train_day20_translator.py"


def main(argv: list[str] | None = None) -> dict:
    from helpers import translation as tr

    s = day_settings("day20", "ci")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=s["checkpoint_steps"])
    parser.add_argument("--eval-every", type=int, default=s["checkpoint_eval_every"])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "data" / s["checkpoint"],
        help="output prefix (without .safetensors)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    repro.apply_env()  # the ci profile's pinned numerics (helpers/repro.py), as the notebook runs them
    repro.pin_runtime()
    seed_everything(args.seed, deterministic=True)
    data = tr.prepare_data(s)
    model = tr.build_translator(
        data.src_tokenizer.get_vocab_size(),
        data.tgt_tokenizer.get_vocab_size(),
        s["embed_size"],
        s["hidden_size"],
        s["attention"],
        s["dropout"],
    )
    started = time.perf_counter()
    history = tr.train_translator(
        model,
        data.train_loader,
        args.steps,
        s["lr"],
        s["grad_clip"],
        evaluate=data.evaluator(s["eval_sentences"], with_train=True),
        eval_every=args.eval_every,
        seed=args.seed,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_weights(model.state_dict(), args.out.with_suffix(".safetensors"))
    log = {
        "command": COMMAND + ("" if args.steps == s["checkpoint_steps"] else f" --steps {args.steps}"),
        "settings": s,
        "steps": args.steps,
        "seed": args.seed,
        "vocabularies": {
            "source": tr.vocabulary_fingerprint(data.src_tokenizer),
            "target": tr.vocabulary_fingerprint(data.tgt_tokenizer),
        },
        "seconds": round(time.perf_counter() - started, 1),
        "history": history,
    }
    Path(f"{args.out}_log.json").write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out.name}.safetensors and {args.out.name}_log.json")
    return log


if __name__ == "__main__":
    main()
