"""Pure analysis of a manifest set: findings from the object model, no I/O."""
