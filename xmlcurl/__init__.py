"""mod_xml_curl endpoints and the routing compiler.

request → (loader: a constant number of indexed queries) → compile (pure: request +
preloaded data + now → decision) → render (decision → XML, lxml only) → response.
`compile_*` and `decisions` import neither flask, lxml, sqlalchemy nor the clock.
"""
