"""The JSON API for outside systems (shop, ERP, web sign-up form, social listening).

It lives in one module of the project, not spread over the domain apps, because
it is a second way in, like the pages: it owns nothing of the domain. Each
endpoint module (members, transactions, interactions, webhooks) turns JSON into
the arguments of the same services the pages call, and turns their
ValidationErrors into 4xx answers. What is its own lives here too: the
integrations and their tokens (ApiClient). A social mention is the domain's
(interactions), even when no customer could be found for it yet.
"""
