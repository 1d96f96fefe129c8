"""accountgraph: one graph of people, accounts and activity across every source system."""
