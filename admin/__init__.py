"""The panel: users manage their own lines, tenant admins their tenant's users.

One sub-package per concept (`session`, `security`, `lines`, `calls`, `contacts`,
`groups`, `reminders`, `directory`, `users`, `media`), each with the same files:
`views.py` (a blueprint of thin views over the provisioning service, and the concept's
nav entries), `forms.py` (flask-wtf forms, labels in `lazy_gettext`) and its templates
in `templates/<concept>/`. `admin.panel` nests them in one blueprint; `admin.concepts`
builds the nav from them; `admin.shared` holds what they all use, `admin.problems` puts
the domain's problems beside the fields they concern, `admin.messages` words them in the
user's language, `admin.languages` holds the French and English catalogues and formats.

Every change is one item's (a line's settings, one user, one reminder…), checked with
the same rules as `centrex apply` and the REST API, from the version the page showed.
Forms carry CSRF tokens; sessions are kept in the database, the signed cookie
(`CENTREX_SECRET_KEY`) holding only their token.
"""

from admin.panel import blueprint, configure_panel

__all__ = ["blueprint", "configure_panel"]
