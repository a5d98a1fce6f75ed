"""The Gate 1 suites: one module per topic, selectable with -k <topic>."""
