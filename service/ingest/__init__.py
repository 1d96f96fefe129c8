"""Reading source exports (CSV), validating every row, and writing them to the graph."""
