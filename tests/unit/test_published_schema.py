"""docs/tenant.schema.json is the published schema: it must be the current one.
Regenerate with: centrex schema > docs/tenant.schema.json"""

import json
from pathlib import Path

from provisioning.document import json_schema

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "tenant.schema.json"


def test_published_schema_is_current():
    assert json.loads(PUBLISHED.read_text()) == json_schema()
