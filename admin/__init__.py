"""The panel: users manage their own lines, tenant admins their tenant's users.

Thin views (`admin.views`) over the provisioning service: every change is made to the
tenant document and applied with the same checks as `centrex apply` and the REST API.
Forms carry CSRF tokens (flask-wtf); sessions are signed cookies (`CENTREX_SECRET_KEY`).
"""

from admin.views import blueprint, configure_panel

__all__ = ["blueprint", "configure_panel"]
