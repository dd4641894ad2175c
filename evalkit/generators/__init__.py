"""Model adapters: turn (prompt, seed) jobs into images."""
