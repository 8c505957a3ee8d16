"""The catalog: organisations, datasets (信息资源), fields (信息项), versions and lineage."""
