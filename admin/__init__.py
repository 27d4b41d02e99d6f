"""The panel: users manage their own lines, tenant admins their tenant's users.

One sub-package per concept (`session`, `security`, `lines`, `calls`, `contacts`, `users`,
`media`), each with the same files: `views.py` (a blueprint of thin views over the
provisioning service, and the concept's nav entries), `forms.py` (flask-wtf forms, labels
in `lazy_gettext`) and its templates in `templates/<concept>/`. `admin.panel` nests them in
one blueprint; `admin.concepts` builds the nav from them; `admin.shared` holds what they
all use, `admin.problems` puts the tenant document's problems beside the fields they
concern, `admin.languages` the French and English catalogues and formats.

Every change is made to the tenant document and applied with the same checks as
`centrex apply` and the REST API. Forms carry CSRF tokens; sessions are kept in the
database, the signed cookie (`CENTREX_SECRET_KEY`) holding only their token.
"""

from admin.panel import blueprint, configure_panel

__all__ = ["blueprint", "configure_panel"]
