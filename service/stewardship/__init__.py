"""The data steward's tools: SAME_COMPANY links suggested from evidence in the graph, accepted or rejected."""
