"""Where data is computed: the Engine interface and its implementations."""

from dizuo.engine.base import Engine

__all__ = ["Engine"]
