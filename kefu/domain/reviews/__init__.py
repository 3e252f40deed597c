"""Pure rules for reviews: what buyers praise or blame, reply drafts, the recovery steps, reward-for-review wording."""
