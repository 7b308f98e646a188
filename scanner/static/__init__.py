"""Static analysis: APK -> StaticReport (manifest, permissions, SDKs, personal-data API uses, endpoints)."""

from scanner.static.analyze import StaticOptions, analyze_apk

__all__ = ["StaticOptions", "analyze_apk"]
