"""People: user accounts, roles and each user's own settings."""
