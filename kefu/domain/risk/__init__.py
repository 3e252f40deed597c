"""Risk rules, pure: the extortion-buyer (差评师) score."""
