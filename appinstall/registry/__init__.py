"""The installation registry: installed apps, their OAuth client credentials, and discovery."""
