"""The command line: ``dizuo``.

Chinese by default; ``--lang en`` or ``DIZUO_LANG=en`` for English.
"""
