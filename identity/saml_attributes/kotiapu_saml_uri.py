"""pysaml2 attribute map (loaded by ``attribute_map_dir``): the Suomi.fi attributes
keep their URI names, so the settings and the code use the names Suomi.fi
documents (``urn:oid:1.2.246.21`` for the personal identity code)."""

_URIS = (
    "urn:oid:1.2.246.21",  # personal identity code (henkilötunnus)
    "urn:oid:2.5.4.42",  # given name
    "urn:oid:2.5.4.4",  # surname
    "urn:oid:2.16.840.1.113730.3.1.241",  # display name
    "urn:oid:1.2.246.517.2002.2.19",  # Finnish nationality
)

MAP = {
    "identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
    "fro": {uri: uri for uri in _URIS},
    "to": {uri: uri for uri in _URIS},
}
