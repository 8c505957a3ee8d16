"""Record linkage: normalising and comparing identity attributes across registries."""
