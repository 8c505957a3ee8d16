"""dizuo (底座): an open-source public-data foundation for cities."""

__version__ = "0.1.0"
