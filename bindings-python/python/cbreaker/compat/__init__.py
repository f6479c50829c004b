"""Drop-in replacements for other circuit-breaker libraries' APIs."""
