"""Machine access: API keys and their roles."""
