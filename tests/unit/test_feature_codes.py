"""The codes users dial for a feature, one registry: what each matches, what it does not."""

import pytest

from provisioning.feature_codes import Dialled, Feature, feature_dialled
from provisioning.numbering import Category


@pytest.mark.parametrize(
    "dialled, found",
    [
        ("*318", Dialled(Feature.VOICEMAIL)),
        ("**1001", Dialled(Feature.PICKUP, "1001")),
        ("*55300", Dialled(Feature.GROUP_LOG_IN, "300", Category.SETTING_CODES)),
        ("*56250", Dialled(Feature.GROUP_LOG_OUT, "250", Category.SETTING_CODES)),
        ("##3435", Dialled(Feature.DIRECTORY, "3435", None)),
        # What follows must be what the code takes, whole.
        ("*3181", None),
        ("**", None),
        ("**1", None),
        ("**123456789", None),
        ("*55", None),
        ("*55*300", None),
        ("*59300", None),
        ("##", None),
        ("1001", None),
        ("+33612345678", None),
    ],
)
def test_a_dial_string_names_a_feature_only_as_a_whole_code(dialled, found):
    assert feature_dialled(dialled) == found
