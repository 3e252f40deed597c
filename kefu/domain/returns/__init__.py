"""Returns: the 7-day no-reason policy engine and the return-reason classification (pure, no I/O)."""
