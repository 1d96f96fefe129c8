"""The right to erasure: delete a person everywhere the project holds them, and keep them out."""
