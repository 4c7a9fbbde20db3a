"""Blueprints: parse the request, call a workflow, render or answer JSON. No business logic here."""
