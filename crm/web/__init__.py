"""The top layer of the project: the ways in.

`urls.py` routes every page to its app's views, and `api/` is the JSON API for outside systems
(transport only: tokens, scopes, errors, schema, endpoints that parse a request and call an app's
service). Code here may import every app; nothing outside `crm/web/` imports it. Everything else
in `crm/` is the platform that every app may use (lib, jobs, notifications, imports, roles) and
imports no app.
"""
