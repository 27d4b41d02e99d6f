"""Provisioning: the domain model, its validation, and the ways to change it.

May import: sqlalchemy, pydantic, phonenumbers, flask (only in `api`). Never imports
`xmlcurl` or `esl`: routing reads the database, it does not call provisioning code.
"""
