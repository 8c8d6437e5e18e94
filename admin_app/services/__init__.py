"""Write operations shared by the admin, the JSON API and the CLI."""
