"""Use cases: each ties pure rules to the store for one thing a seller does."""
