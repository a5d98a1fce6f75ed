"""Targets: where the suites run (local stand-ins, kind, k3d, an existing cluster) and what each offers."""
