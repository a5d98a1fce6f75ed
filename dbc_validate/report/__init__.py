"""The Gate 1 report: statuses and verdict (pure), gate1.json assembly, and the HTML rendered from it."""
