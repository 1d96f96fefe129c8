"""Real time: re-evaluating saved segments for the people a change touches, as it happens."""
