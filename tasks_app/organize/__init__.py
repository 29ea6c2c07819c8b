"""Organizing tasks: a person's stars, the team's tags, and actions on a selection (bulk)."""
