"""Built-in rule packs, SDK and API catalogs (shipped as scanner.rules)."""
