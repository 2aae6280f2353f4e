"""Auth: sign-in, invitations, API tokens, roles and permission checks."""
