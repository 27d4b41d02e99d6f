"""Bootstrap: settings, database, the Flask application and the `centrex` command.

The one place where the parts are wired together; nothing connects at import time.
"""
