"""Gate 1 suites and their shared setup."""
