"""Authentication and authorisation: passwords, sessions, tokens, throttling, roles."""
