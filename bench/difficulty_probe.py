"""Does a small local model's confidence carry the per-query signal the embeddings lack?

On routerbench's multiple-choice datasets (arc-challenge, winogrande) a local model reads each
question (`query_last`, in the ChatML template the local models share) and gives its
probabilities over the option letters at the first answer token; the probe is its
uncertainty, 1 − the top letter's probability. On winogrande it is also read the way language
models are usually scored there: each option fills the sentence's blank, and the options'
probabilities are those of the sentence's ending after them (this probe is the one the router
gets). Printed per dataset, as ROC AUC (0.5: no signal):

- how well the probe ranks the questions Yi-34B-Chat (the cheap model the dataset-mix bound
  leans on) gets wrong, and those GPT-4 gets right where Yi-34B-Chat does not;
- the mean over models of how well the probe's confidence ranks each model being right (the
  measure router_signal.py gives the embedding's 30 nearest neighbours).

Then the default cluster router on router_quality's splits with the probe appended to each
embedding (× w, z-scored over the probed questions, 0 elsewhere), × GPT-4's accuracy at α=1 /
≤50% / ≤7% of its cost. Probes are cached by model and text hash in .cache/probes (the first
run reads 1,926 questions, then fills 887 blanks twice: about 75 minutes for
qwen2.5-coder-1.5b on 2 cores). The public `Llama.scores` holds logits only when they are
computed at every position, which makes reading the letters about 1.24× slower than reading
the last position alone.

Run: python bench/difficulty_probe.py [--model qwen2.5-coder-1.5b] [--seeds 10]
     [--weights 0,0.2,0.35,0.5] [--smoke]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import smoke
from llama_cpp import Llama
from router_quality import DATA, HERE, embed, fit, load_table, measure, splits
from router_signal import cell, model_auc, ratios
from sklearn.metrics import roc_auc_score

from orchestrator.llm.local_models import model_path
from orchestrator.routing.labelled import LabelledTable

TABLE = "routerbench_3task_11models"
DATASETS = ("arc-challenge", "winogrande")
BLANKS = ("winogrande",)
CHEAP, BEST = "zero-one-ai/Yi-34B-Chat", "gpt-4-1106-preview"
OPTION = re.compile(r"^([A-E])\)", re.MULTILINE)
OPTION_TEXT = re.compile(r"^[A-E]\) (.*)$", re.MULTILINE)
SMOKE = {
    "model": smoke.LOCAL_MODEL,
    "seeds": 2,
    "weights": "0,0.5",
    "embedder": smoke.EMBEDDER,
    "data_dir": smoke.ROUTING,
}


class Probe:
    """A local model's log-likelihood of each option of a question, cached by text hash."""

    def __init__(self, model: str, cache: Path) -> None:
        self._llm = Llama(
            str(model_path(model)), n_ctx=1024, n_threads=2, logits_all=True, verbose=False
        )
        self._letters = [self._llm.tokenize(c.encode(), add_bos=False)[0] for c in "ABCDE"]
        cache.parent.mkdir(parents=True, exist_ok=True)
        self._cache = cache
        lines = cache.read_text().splitlines() if cache.exists() else []
        self._known: dict[str, list[float]] = dict(json.loads(line) for line in lines)

    def _logprobs(self, tokens: list[int], rows: slice) -> np.ndarray:
        self._llm.reset()
        self._llm.eval(tokens)
        logits = self._llm.scores[rows]
        return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)

    def _letter_logprobs(self, question: str) -> list[float]:
        prompt = f"<|im_start|>user\n{question.strip()}<|im_end|>\n<|im_start|>assistant\n"
        tokens = self._llm.tokenize(prompt.encode(), special=True)
        last = len(tokens) - 1
        return self._logprobs(tokens, slice(last, last + 1))[0, self._letters].tolist()

    def _filled_logprobs(self, question: str) -> list[float]:
        before, after = question.splitlines()[0].split("_", 1)
        ending = self._llm.tokenize(after.encode(), add_bos=False)
        sums = []
        for option in OPTION_TEXT.findall(question):
            start = self._llm.tokenize((before + option).encode(), add_bos=False)
            rows = self._logprobs(start + ending, slice(len(start) - 1, len(start + ending) - 1))
            sums.append(float(rows[np.arange(len(ending)), ending].sum()))
        return sums

    def uncertainty(self, question: str, fill_blank: bool = False) -> float:
        """1 − the top option's probability: over the option letters after the question, or,
        with fill_blank, over the sentence's ending after each option fills its blank."""
        key = hashlib.sha256(("blank\n" if fill_blank else "").encode() + question.encode())
        if (digest := key.hexdigest()) not in self._known:
            read = self._filled_logprobs if fill_blank else self._letter_logprobs
            self._known[digest] = read(question)
            with self._cache.open("a") as out:
                out.write(json.dumps([digest, self._known[digest]]) + "\n")
        shown = len(OPTION.findall(question)) or 2
        logprobs = np.array(self._known[digest][:shown])
        return float(1 - np.exp(logprobs.max() - np.logaddexp.reduce(logprobs)))


def aucs(table: LabelledTable, rows: np.ndarray, probe: np.ndarray) -> str:
    scores = table.scores[rows]
    cheap, best = (scores[:, table.models.index(m)] for m in (CHEAP, BEST))
    ok = ~np.isnan(cheap) & ~np.isnan(best)
    missed = roc_auc_score(cheap[ok] < 0.5, probe[ok])
    gained = roc_auc_score((cheap[ok] < 0.5) & (best[ok] >= 0.5), probe[ok])
    per_model = model_auc(scores, np.broadcast_to(-probe[:, None], scores.shape))
    return f"{missed:.2f} | {gained:.2f} | {per_model:.2f}"


def probe_table(table: LabelledTable, probe: Probe, model: str) -> np.ndarray:
    """Each probed question's uncertainty (0 elsewhere), printing the AUC table."""
    names = np.array(table.datasets)
    uncertain = np.zeros(len(table))
    print(f"| dataset | Yi-34B-Chat misses | GPT-4 right, Yi-34B-Chat not | per model ({model}) |")
    print("|---|---|---|---|")
    for dataset in DATASETS:
        rows = np.flatnonzero(names == dataset)
        for fill in (False, True) if dataset in BLANKS else (False,):  # the router gets the last
            uncertain[rows] = [probe.uncertainty(table.texts[i], fill) for i in rows]
            how = "blank filled" if fill else "letters"
            print(f"| {dataset} ({len(rows)}), {how} | {aucs(table, rows, uncertain[rows])} |")
    return uncertain


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--weights", default="0,0.2,0.35,0.5")
    parser.add_argument("--embedder", default="all-MiniLM-L6-v2")
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".cache")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the routing tables' folder")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"bench/smoke's small table on {smoke.LOCAL_MODEL}, hashing embedder: in seconds",
    )
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.smoke:
        vars(args).update(SMOKE, cache_dir=smoke.scratch())
    table = load_table(TABLE, args.data_dir)
    if args.smoke:  # every fourth row (12): the probe reads each question on a real model
        table = table.take(np.arange(0, len(table), 4))
    probe = Probe(args.model, args.cache_dir / "probes" / f"{args.model}.jsonl")
    uncertain = probe_table(table, probe, args.model)
    probed = np.isin(np.array(table.datasets), DATASETS)
    z = np.where(probed, (uncertain - uncertain[probed].mean()) / uncertain[probed].std(), 0.0)
    vectors = embed(table, args.embedder, args.cache_dir / "embeddings")
    print("\n| probe weight w | × GPT-4: α=1 / ≤50% / ≤7% cost |\n|---|---|")
    for weight in (float(w) for w in args.weights.split(",")):
        x = np.hstack([vectors, weight * z[:, None]]).astype(np.float32)
        runs = [
            ratios(measure(fit(x[tr], table.take(tr), "probe"), x[te], table.take(te)))
            for tr, te in splits(len(table), args.seeds)
        ]
        print(f"| {weight:g} | {cell(runs)} |")


if __name__ == "__main__":
    main()
