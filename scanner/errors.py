"""Typed errors of every stage; cli.py maps them to exit codes in one place."""

from __future__ import annotations


class DivulgeError(Exception):
    """Base of every error divulge reports to the user as one line (exit code 2)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class BadApk(DivulgeError):
    """The APK cannot be read: not a zip, truncated, zip bomb, malformed manifest, no dex."""


class BadApp(BadApk):
    """An iOS app (IPA) cannot be read: not a zip, no Payload/*.app, no or broken Info.plist, malformed Mach-O.

    A subclass of BadApk so that every caller handling an unreadable app handles both platforms."""


class BadCatalog(DivulgeError):
    """An SDK or API catalog (ours or an imported Exodus list) is malformed."""


class BadCapture(DivulgeError):
    """A traffic capture (session, flow file, HAR, traffic JSON) cannot be read."""


class BadDeviceProfile(DivulgeError):
    """A device profile YAML is malformed."""


class BadDeclaration(DivulgeError):
    """A declaration (privacy.yaml, Data safety CSV, policy text) is malformed."""


class BadRule(DivulgeError):
    """A rule file is malformed or fails its schema."""


class BadConfig(DivulgeError):
    """A .divulge.yml config or baseline is malformed."""


class BadReport(DivulgeError):
    """A saved findings file has the wrong schema or version."""


class ProxyError(DivulgeError):
    """The capture proxy could not start or run."""
