"""The call-barring page's form: one box per barrable category (ticked: barred)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField

from provisioning.numbering import Category

# The categories in the order of the operator guide's "Blocage d'appel", with their
# labels; emergency numbers are never barred, so have no box.
CATEGORIES = (
    (Category.LOCAL, _l("Local calls")),
    (Category.NATIONAL, _l("National and mobile numbers")),
    (Category.INTERNATIONAL, _l("International numbers")),
    (Category.PREMIUM, _l("Premium-rate numbers (08…) and short numbers")),
    (Category.OPERATOR, _l("Operator")),
    (Category.DIRECTORY, _l("Directory enquiries (118…)")),
    (Category.ACCESS_CODES, _l("Access codes (*…)")),
    (Category.SETTING_CODES, _l("Access codes that change settings")),
)


class BarringForm(FlaskForm):
    # The version of the settings the page showed: a save from an older one is refused.
    version = HiddenField()


for _category, _label in CATEGORIES:
    setattr(BarringForm, str(_category), BooleanField(_label))
