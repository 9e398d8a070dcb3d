"""Repositories: the only place with SQL. One module per aggregate/area."""
