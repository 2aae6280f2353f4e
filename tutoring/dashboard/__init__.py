"""Dashboard: the signed-in user's home page, gathered from the other features."""
