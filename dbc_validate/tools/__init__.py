"""Generic helpers for driving external programs: locating binaries, lab child processes, free ports, cleanup."""
