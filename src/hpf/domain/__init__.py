"""Domain: entities, value objects and pure rules. Imports no framework and no other layer."""
