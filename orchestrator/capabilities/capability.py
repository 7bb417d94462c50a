"""The `Capability` model and its `Location`: defined in the root module
`orchestrator.capability` (the config's `[[capabilities]]` tables are validated by it, and
the config may not import this subpackage); re-exported here."""

from orchestrator.capability import Capability, Kind, Location

__all__ = ["Capability", "Kind", "Location"]
