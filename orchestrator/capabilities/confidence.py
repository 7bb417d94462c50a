"""The probability that a decision's top capability is right, and when to abstain.

Three features of a decision, none of which depends on how many candidates were offered:
`top` (the method's score of the top capability), `margin` (the top capability's description
cosine minus the best description cosine of any *other-named* capability in the registry:
how much better it fits than the nearest alternative the router knows of, offered or not)
and `relative` (that cosine minus the query's mean cosine over every description row). A
logistic model (scikit-learn) fitted out of fold on the labelled queries turns them into a
probability; the router abstains below the probability threshold that maximises
right-or-rightly-abstained. Decisions within a request's own candidates (`pool`) and over the
whole registry (`open`) get a model each: their score distributions differ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from orchestrator.capabilities.index import Ints, Matrix, Rows
from orchestrator.capabilities.scoring import Tables
from orchestrator.capability import Capability, spoken

FEATURES = ("top", "margin", "relative")
NEVER = float("-inf")
NEAR = 32  # description rows searched for the nearest other-named capability


@dataclass(frozen=True)
class Confidence:
    """A fitted logistic model over FEATURES and the probability to abstain below."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float = NEVER

    def probability(self, features: Matrix) -> np.ndarray:
        z = features @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["threshold"] = None if self.threshold == NEVER else self.threshold
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Confidence:
        threshold = data.get("threshold")
        return cls(
            tuple(float(c) for c in data["coef"]),  # type: ignore[attr-defined]
            float(data["intercept"]),  # type: ignore[arg-type]
            NEVER if threshold is None else float(threshold),  # type: ignore[arg-type]
        )


def from_header(models: dict[str, dict[str, object]]) -> dict[str, Confidence]:
    """The abstention models as an artifact's header holds them (kind → model)."""
    return {kind: Confidence.from_json(model) for kind, model in models.items()}


def name_groups(capabilities: Sequence[Capability]) -> Ints:
    """A number per capability, shared by those whose names read alike (its versions, and
    one function offered under several ids): they are not each other's alternatives."""
    names: dict[str, int] = {}
    keys = [spoken(c.name or c.id).lower() for c in capabilities]
    return np.asarray([names.setdefault(k, len(names)) for k in keys], dtype=np.int64)


def features(tables: Tables, groups: Ints, query: Matrix, top: int, score: float) -> Matrix:
    """FEATURES of one decision: query vector, top capability's index and score."""
    desc, mean = tables.desc, tables.mean
    rows = desc.nearest(query, NEAR)
    sims = desc.vectors[rows] @ query
    mine = _own(desc, query, top)
    other = groups[desc.owners[rows]] != groups[top]
    best_other = float(sims[other].max()) if other.any() else -1.0
    return np.array([score, mine - best_other, mine - float(mean @ query)], dtype=np.float64)


def _own(desc: Rows, query: Matrix, top: int) -> float:
    rows, _ = desc.span(np.array([top], dtype=np.int64))
    return float((desc.vectors[rows] @ query).max()) if rows.size else -1.0


def fit_threshold(score: np.ndarray, right: np.ndarray, empty: np.ndarray) -> float:
    """The threshold maximising right-or-rightly-abstained (abstain below it)."""
    if not empty.any():
        return NEVER
    order = np.argsort(score, kind="stable")
    t, r, e = score[order], right[order] & ~empty[order], empty[order]
    # abstaining on the first i queries: empties among them right, right answers after them
    gain = np.concatenate([[0], np.cumsum(e)]) + np.concatenate([np.cumsum(r[::-1])[::-1], [0]])
    i = int(np.argmax(gain))
    if i == 0:
        return NEVER
    return float(t[i - 1] if i == t.size else (t[i - 1] + t[i]) / 2) + (1e-9 if i == t.size else 0)


def fit(x: Matrix, right: np.ndarray, empty: np.ndarray) -> Confidence | None:
    """A model for one kind of decision; None where its labels are all alike."""
    target = right & ~empty
    if target.all() or not target.any():
        return None
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=10.0, max_iter=1000).fit(x, target)
    fitted = Confidence(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]))
    threshold = fit_threshold(fitted.probability(x), right, empty)
    return Confidence(fitted.coef, fitted.intercept, threshold)
