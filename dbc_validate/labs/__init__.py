"""Real local services the local target starts: PostgreSQL, a Patroni cluster, Traefik, variant backends."""
