"""Find a compiled graph by its spec string, the way langgraph.json does:
a built-in name (`wide`), `path/to/file.py:attr`, or `package.module:attr`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.graph.build import build_deep_graph, build_single_graph, build_wide_graph

BUILTIN_GRAPHS: dict[str, Callable[[], Any]] = {
    "wide": build_wide_graph,
    "deep": build_deep_graph,
    "deep-long": partial(build_deep_graph, long_chain=True),
    "single": build_single_graph,
}


@cache
def _builtin(name: str) -> Any:
    return BUILTIN_GRAPHS[name]()


def load_graph(spec: str) -> Any:
    """The compiled graph a spec names: a built-in name (built by the library, once per
    process), `path/to/file.py:attr` or `package.module:attr`."""
    if spec in BUILTIN_GRAPHS:
        return _builtin(spec)
    location, sep, attr = spec.rpartition(":")
    if not sep or not location or not attr:
        known = ", ".join(BUILTIN_GRAPHS)
        raise ConfigError(f"graph {spec!r} is neither a built-in ({known}) nor PATH:ATTR")
    module = _load_file(location) if location.endswith(".py") else _import(location, spec)
    graph = getattr(module, attr, None)
    if graph is None or not hasattr(graph, "astream"):
        raise ConfigError(f"graph {spec!r}: {location} has no compiled graph named {attr!r}")
    return graph


def _import(name: str, spec: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(f"graph {spec!r}: cannot import {name} ({exc})") from None


def _load_file(path: str) -> Any:
    file = Path(path).resolve()
    if not file.is_file():
        raise ConfigError(f"graph file not found: {path}")
    name = f"_orchestrator_graph_{abs(hash(str(file)))}"
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"graph file cannot be loaded: {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module
