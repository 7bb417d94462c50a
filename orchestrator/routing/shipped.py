"""The router an orchestrator gets when it is given none: the config's artifact, else the
shipped one for the embedded local models, else always the default model."""

from __future__ import annotations

from pathlib import Path

from orchestrator.config import Config
from orchestrator.errors import ConfigError
from orchestrator.protocols import Embedder, Router

SHIPPED_ROUTER = Path(__file__).parent.parent / "data" / "local_router"


def default_router(cfg: Config, embedder: Embedder) -> Router:
    """The configured router artifact; else the shipped one when it covers the pool (the
    embedded local models); else always the default model."""
    from orchestrator.routing.artifact import load_router
    from orchestrator.routing.router import FixedRouter

    if cfg.router.path:
        router = load_router(
            cfg.router.path, embedder_name=embedder.name, embedder_dim=embedder.dim
        )
    elif (SHIPPED_ROUTER / "router.json").is_file() and embedder.name == "all-MiniLM-L6-v2":
        router = load_router(SHIPPED_ROUTER, embedder_name=embedder.name)
    else:
        return FixedRouter(cfg.default_model, cfg.embedder.name)
    missing = sorted(set(router.models) - set(cfg.model_ids))
    if missing and cfg.router.path:
        raise ConfigError(f"router {cfg.router.path} routes to {missing}, not in the model pool")
    return router if not missing else FixedRouter(cfg.default_model, cfg.embedder.name)
