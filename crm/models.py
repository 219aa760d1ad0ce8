"""Project-wide tables go here; the module also makes post_migrate reach CrmConfig (roles)."""
