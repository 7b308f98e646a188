"""Device profiles: the personal values known to be on the test device, loaded from YAML and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import BadDeviceProfile
from scanner.model import DATA_TYPES
from scanner.yaml_lines import load_yaml, parse_yaml, raise_schema_errors

# Keys whose value is one device identifier; each becomes data type device_id with this identifier kind.
ID_KEYS: tuple[str, ...] = (
    "imei", "meid", "imsi", "iccid", "serial", "android_id", "advertising_id", "oaid",
    "mac_address", "bluetooth_address",
)

_SCALAR = {"type": ["string", "integer"]}
_CONTACT = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "additionalProperties": False, "minProperties": 1,
         "properties": {"name": {"type": "string"}, "phone": _SCALAR, "email": {"type": "string"}}},
    ]
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **{key: _SCALAR for key in ID_KEYS},
        "label": {"type": "string"},  # a name for the profile itself, e.g. "pixel-7 test phone"
        "phone_number": _SCALAR,
        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
        "name": {"type": "string", "minLength": 2},
        "location": {
            "type": "object", "additionalProperties": False, "required": ["lat", "lon"],
            "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                           "lon": {"type": "number", "minimum": -180, "maximum": 180}},
        },
        "contacts": {"type": "array", "items": _CONTACT},
        "installed_apps": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z][\\w]*(\\.[\\w]+)+$"}},
        "custom": {"type": "object", "additionalProperties": _SCALAR},
    },
}

# Checks the schema cannot express well; each gives the reason shown to the user.
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "imei": (re.compile(r"^\d{14,16}$"), "14 to 16 digits"),
    "meid": (re.compile(r"^[0-9A-Fa-f]{14}$"), "14 hex digits"),
    "imsi": (re.compile(r"^\d{6,15}$"), "6 to 15 digits"),
    "iccid": (re.compile(r"^\d{18,22}F?$"), "18 to 22 digits"),
    "serial": (re.compile(r"^[\w-]{6,}$"), "at least 6 letters or digits"),
    "android_id": (re.compile(r"^[0-9A-Fa-f]{8,16}$"), "8 to 16 hex digits"),
    "advertising_id": (re.compile(r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$"),
                       "a UUID"),
    "oaid": (re.compile(r"^[\w-]{8,}$"), "at least 8 letters, digits or dashes"),
    "mac_address": (re.compile(r"^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$"), "six hex octets"),
    "bluetooth_address": (re.compile(r"^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$"), "six hex octets"),
    "phone_number": (re.compile(r"^\+?[\d\s().-]{6,20}$"), "a phone number, best with +country code"),
}


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class DeviceProfile:
    """Values on the test device; every field is optional. `path` says where it came from."""

    identifiers: dict[str, str] = field(default_factory=dict)  # identifier kind -> value
    phone_number: str | None = None
    email: str | None = None
    name: str | None = None
    location: tuple[float, float] | None = None
    contacts: tuple[Contact, ...] = ()
    installed_apps: tuple[str, ...] = ()
    custom: dict[str, str] = field(default_factory=dict)  # label -> value
    label: str | None = None
    path: str | None = None

    @property
    def value_count(self) -> int:
        """How many distinct values the profile holds (each contact field counts)."""
        contact_values = sum(bool(c.name) + bool(c.phone) + bool(c.email) for c in self.contacts)
        return (len(self.identifiers) + bool(self.phone_number) + bool(self.email) + bool(self.name)
                + bool(self.location) + contact_values + len(self.installed_apps) + len(self.custom))

    def has_kind(self, kind: str) -> bool:
        """True when the profile holds a value of this identifier kind or data type (shape detection then defers)."""
        if kind in self.identifiers:
            return True
        return {"phone_number": bool(self.phone_number), "phone": bool(self.phone_number),
                "email": bool(self.email), "location": bool(self.location)}.get(kind, False)


def custom_data_type(label: str) -> str:
    """A custom value's data type: the label itself when it is a data type id (`user_account`), else other_personal."""
    head = label.split(".", 1)[0].split(":", 1)[0].strip().lower()
    return head if head in DATA_TYPES else "other_personal"


def _text(value: Any) -> str:
    return str(value).strip()


def profile_from_data(data: Any, path: str, line_of: Any = None) -> DeviceProfile:
    """Build a profile from parsed YAML data that already passed the schema; checks value formats."""
    data = data or {}
    identifiers: dict[str, str] = {}
    for key in ID_KEYS:
        if key in data:
            value = _text(data[key])
            _check_format(key, value, path, line_of)
            identifiers[key] = value
    phone = _text(data["phone_number"]) if "phone_number" in data else None
    if phone is not None:
        _check_format("phone_number", phone, path, line_of)
    location = None
    if "location" in data:
        location = (float(data["location"]["lat"]), float(data["location"]["lon"]))
    contacts = []
    for item in data.get("contacts") or []:
        if isinstance(item, str):
            contacts.append(Contact(name=item) if "@" not in item and not re.fullmatch(r"\+?[\d\s-]+", item)
                            else Contact(email=item) if "@" in item else Contact(phone=item))
        else:
            contacts.append(Contact(name=item.get("name"), phone=_text(item["phone"]) if "phone" in item else None,
                                    email=item.get("email")))
    return DeviceProfile(
        identifiers=identifiers, phone_number=phone, email=data.get("email"), name=data.get("name"),
        location=location, contacts=tuple(contacts), installed_apps=tuple(data.get("installed_apps") or ()),
        custom={str(k): _text(v) for k, v in (data.get("custom") or {}).items()}, label=data.get("label"),
        path=path,
    )


def _check_format(key: str, value: str, path: str, line_of: Any) -> None:
    pattern, expected = _FORMATS[key]
    if not pattern.match(value):
        line = line_of([key]) if line_of else None
        raise BadDeviceProfile(f"{key}: {value!r} does not look like {expected} (quote numbers that start with 0)",
                               path=path, line=line)


def load_device_profile(path: Path) -> DeviceProfile:
    """Read a device profile YAML; errors name the file and line."""
    doc = load_yaml(path, BadDeviceProfile, max_bytes=1024 * 1024)
    return _from_doc(doc)


def parse_device_profile(text: str, path: str = "<profile>") -> DeviceProfile:
    return _from_doc(parse_yaml(text, path, BadDeviceProfile))


def _from_doc(doc: Any) -> DeviceProfile:
    if doc.data is None:
        return DeviceProfile(path=doc.path)
    if not isinstance(doc.data, dict):
        raise BadDeviceProfile("a device profile must be a YAML mapping of keys to values", path=doc.path, line=1)
    raise_schema_errors(doc, SCHEMA, BadDeviceProfile)
    return profile_from_data(doc.data, doc.path, doc.line_of)
