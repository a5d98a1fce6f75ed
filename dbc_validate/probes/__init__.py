"""Active measurements with I/O (failover writer, split load, soak sampler), thin around pure analysis."""
