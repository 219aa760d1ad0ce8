"""The load test (locust against gunicorn with the production settings): see __main__.py."""
