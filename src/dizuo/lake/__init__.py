"""The lake: Apache Iceberg tables (pyiceberg), their SQL catalog in the catalog database.

``dizuo.lake.iceberg`` holds the :class:`~dizuo.lake.iceberg.Lake`; it is imported only when a
workspace first uses its lake, so commands that never touch data do not pay for pyiceberg.
"""
