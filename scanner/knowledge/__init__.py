"""What divulge knows, read from rules/ (shipped as scanner.rules) and indexed once per process.

One module per kind: sdks (SDK catalog and its matchers), apis (personal-data APIs, permission -> data types),
recipients (host -> organisation, registrable domains), protocols (tracker endpoints and their fields), regulation (2021 necessary scope, GB/T 41391, schemas),
vocabulary (policy-text words). The data-type ids themselves are part of the model (scanner.model.DATA_TYPES),
since every stage's values carry them. Every stage imports its knowledge from here; this package imports no stage.
"""

from __future__ import annotations

from importlib import resources


def shipped_text(name: str) -> str:
    """A file of the shipped rules/ folder (package scanner.rules), e.g. "catalogs/apis.yaml", as text."""
    return resources.files("scanner.rules").joinpath(name).read_text(encoding="utf-8")


def warm() -> None:
    """Load and index everything, so forked batch workers inherit it instead of each parsing it again."""
    from scanner.knowledge import apis, protocols, recipients, regulation, sdks, vocabulary

    sdks.shared_catalog(None)
    protocols.shared_protocols()
    apis.load_api_catalog()
    apis.permission_data_types()
    recipients.registrable_domain("warm.example.com")
    regulation.app_types()
    regulation.low_relevance_relevant_for()
    regulation.permission_data_types()
    vocabulary.shared_vocabulary(None)
