"""Plain helpers shared by test files (fixtures live in conftest.py). Test files import these
with `from support import ...` (pytest puts tests/ on sys.path) and never from each other."""

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.testing.scripted import ScriptedCall

if TYPE_CHECKING:
    from orchestrator.api import Orchestrator
    from orchestrator.capabilities import Capability
    from orchestrator.routing.router import ClusterRouter

# --- the scripted engine: a three-sub-query plan, who sent a call, default replies, config ---

PLAN_3 = {
    "subqueries": [
        {"id": "q1", "question": "Where did Alan Turing study?", "depends_on": []},
        {"id": "q2", "question": "When was Harvard founded?", "depends_on": []},
        {
            "id": "q3",
            "question": "Which is older, the answer to q1 or Harvard?",
            "depends_on": ["q1", "q2"],
        },
    ]
}


def kind_of(call: ScriptedCall) -> str:
    """Which stage sent a scripted call, read from its system prompt."""
    if "planner" in call.system:
        return "plan"
    if "final answer" in call.system:
        return "synthesize"
    return "sample"


def stage(call: ScriptedCall) -> str:
    """Which node sent a call, read from its system prompt: also tells the deep graph's
    critique, revise, judge and chain calls apart (everything else is a draft)."""
    system = call.system
    for marker, name in (
        ("planner", "plan"),
        ("final answer", "synthesize"),
        ("You review a draft", "critique"),
        ("You improve a draft", "revise"),
        ("You are a judge", "judge"),
        ("at length", "chain"),
    ):
        if marker in system:
            return name
    return "draft"


def default_responder(plan: dict[str, Any] = PLAN_3) -> Callable[[ScriptedCall], str]:
    def respond(call: ScriptedCall) -> str:
        stage = kind_of(call)
        if stage == "plan":
            return json.dumps(plan)
        if stage == "synthesize":
            return "The sub-answers say so.\nAnswer: University of Cambridge"
        return "Reasoning briefly.\nAnswer: Cambridge"

    return respond


def scripted_config(**sections: Any) -> dict[str, Any]:
    """A config over two scripted models, priced so costs are easy to check by hand."""
    base: dict[str, Any] = {
        "models": [
            {"id": "scripted/big", "input_usd_per_mtok": 10.0, "output_usd_per_mtok": 30.0},
            {"id": "scripted/small", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0},
        ],
        "embedder": {"name": "hashing-64"},
        "router": {"default_model": "scripted/big"},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


class CountingEmbedder(HashingEmbedder):
    """A 16-dimensional hashing embedder that records every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__(16)
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> Any:
        self.seen += texts
        return super().embed(texts)


# --- the router: two well-separated groups of queries and a hand-made score table ---

MODELS = ["big", "mid", "small"]


def two_groups(per_group: int = 10) -> np.ndarray:
    """Points around (1, 0, 0) and around (0, 1, 0): two clusters k-means cannot miss."""
    rng = np.random.default_rng(0)
    a = np.array([1.0, 0.0, 0.0]) + 0.05 * rng.normal(size=(per_group, 3))
    b = np.array([0.0, 1.0, 0.0]) + 0.05 * rng.normal(size=(per_group, 3))
    x = np.vstack([a, b]).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def hand_table(per_group: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group A: big 1.0, mid 0.5, small 0.0 at costs 10, 2, 1.
    Group B: small is the most accurate (1.0), big 0.5, mid 0.0, same costs."""
    x = two_groups(per_group)
    scores = np.array([[1.0, 0.5, 0.0]] * per_group + [[0.5, 0.0, 1.0]] * per_group)
    costs = np.array([[10.0, 2.0, 1.0]] * (2 * per_group))
    return x, scores, costs


def fit_hand(**options) -> "ClusterRouter":
    """A router fitted on `hand_table` (imported here so that the scripted-engine helpers
    above stay importable without the routing package, e.g. from a subprocess)."""
    from orchestrator.routing.router import ClusterRouter

    x, scores, costs = hand_table()
    options = {"k": 2, "top_p": 1, "bags": 1, **options}
    return ClusterRouter.fit(x, scores, costs, MODELS, embedder_name="test-3", **options)


A = np.array([1.0, 0.0, 0.0], dtype=np.float32)
B = np.array([0.0, 1.0, 0.0], dtype=np.float32)


def edit_json(folder, change):
    """Apply `change` to the router.json of the artifact saved in `folder`."""
    path = folder / "router.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


# --- the evaluation harness: a small GSM8K-style data set and `eval` arguments ---

GSM = [
    {"id": f"g{i}", "question": f"What is {i} + {i}?", "answers": [str(2 * i)]} for i in range(4)
]


def write(path, rows):
    """Write `rows` as JSON lines to `path` and return it."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def eval_args(tmp_path, *extra):
    """Parsed `eval` arguments over GSM, a one-model config and an output folder in tmp_path."""
    parser = argparse.ArgumentParser()
    from orchestrator.cli.eval import add_eval_parser

    add_eval_parser(parser.add_subparsers())
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[models]]\nid = "scripted/big"\ninput_usd_per_mtok = 10.0\n'
        'output_usd_per_mtok = 30.0\n[embedder]\nname = "hashing-32"\n'
    )
    data = write(tmp_path / "gsm8k.jsonl", GSM)
    return parser.parse_args(
        ["eval", "--data", str(data), "--config", str(cfg), "--out", str(tmp_path / "out"), *extra]
    )


# --- tools in the graph: four capabilities and a keyword embedder that knows which fits ---

SUM = {
    "type": "object",
    "properties": {"expression": {"type": "string"}},
    "required": ["expression"],
}
MAIL = {"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]}
PCT = "What is 17.3% of 2,418?"
TURING = "Where did Alan Turing study?"
EMAIL = "Send an email to Ada saying the plan is ready."
SLOW = "Look up the slow record."


class ToolWords:
    """Texts as counts of one keyword per capability: which tool fits is known by hand."""

    name, dim = "tool-words", 5
    WORDS = ("%", "paragraph", "email", "slow", "turing")

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = [[t.lower().count(w) + 0.01 for w in self.WORDS] for t in texts]
        matrix = np.array(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def tool_capabilities(approval: bool = False) -> list["Capability"]:
    from orchestrator.capabilities import Capability

    return [
        Capability(
            id="calculator",
            description="Work out a % of a number.",
            parameters=SUM,
            cost_usd=0.25,
            location={"callable": "orchestrator.capabilities.builtin_tools:calculate"},
        ),
        Capability(id="search", description="Find the paragraph about something."),
        Capability(
            id="send_email",
            description="Send an email.",
            parameters=MAIL,
            tags=("side-effects",),
            requires_approval=approval,
        ),
        Capability(id="slow", description="A slow lookup."),
    ]


class Outbox:
    """The side-effect tool: every call is a sent email (kept in `sent`, and appended to
    `path` when given, so that another process can see it)."""

    def __init__(self, path: Any = None) -> None:
        self.sent: list[str] = []
        self.path = path

    def __call__(self, to: str) -> str:
        if "@" not in to:
            raise ValueError(f"not an email address: {to!r}")
        self.sent.append(to)
        if self.path is not None:
            with open(self.path, "a") as file:
                file.write(to + "\n")
        return f"sent to {to}"


async def slow_lookup() -> str:
    import asyncio

    await asyncio.sleep(5)
    return "too late"


def tool_orchestrator(
    outbox=None, *, approval=False, policy=None, timeout_s=2.0, width=1, **toolbox
) -> "Orchestrator":
    """A scripted pool whose sub-queries may go to the four capabilities above: the router
    abstains below a score of 0.5 and offers the planner two."""
    from orchestrator.agents.toolbox import CapabilityToolbox
    from orchestrator.api import Orchestrator
    from orchestrator.capabilities import CapabilityRouter, Policy
    from orchestrator.config import parse_config

    embedder = ToolWords()
    router = CapabilityRouter.fit(
        tool_capabilities(approval), embedder.embed, embedder_name=embedder.name
    )
    box = CapabilityToolbox(
        router,
        embedder,
        policy=policy or Policy(),
        top_k=2,
        timeout_s=timeout_s,
        tools={"send_email": outbox or Outbox(), "slow": slow_lookup},
        **{"min_score": 0.5, **toolbox},  # below it the router's best counts as an abstention
    )
    cfg = parse_config(scripted_config(graph={"width": width}))
    return Orchestrator.from_config(cfg, embedder=embedder, capabilities=box)


def tool_responder(plan, arguments=None):
    """Plans `plan`; fills a tool's arguments from `arguments` (by tool name); samples answer
    with the tool's fenced output when they see one."""
    arguments = arguments or {
        "calculator": {"expression": "17.3% of 2,418"},
        "send_email": {"to": "ada@example.org"},
    }

    from orchestrator.testing.scripted import tool_reply

    def respond(call: ScriptedCall) -> Any:
        if call.tools:
            return tool_reply(call.tool_names[0], arguments[call.tool_names[0]])
        if kind_of(call) == "plan":
            return json.dumps(plan)
        if kind_of(call) == "synthesize":
            return "Both found.\nAnswer: 418.314 and Cambridge"
        return "Answer: 418.314" if "418.314" in call.prompt else "Answer: Cambridge"

    return respond
