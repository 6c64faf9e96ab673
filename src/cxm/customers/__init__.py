"""Customer profiles, identities, identity resolution, merges, consent and privacy."""
