"""Passwords, sessions, CSRF, login throttling and role/scope authorisation."""
