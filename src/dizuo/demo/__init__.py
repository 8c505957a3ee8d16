"""The demo city: a seeded synthetic public-data estate and ``dizuo demo``."""
