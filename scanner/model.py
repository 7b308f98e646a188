"""The typed values every stage shares: app facts, SDK hits, API uses, observations, declarations, findings.

Data flows one way: inputs -> facts (StaticReport, TrafficReport, Declaration) -> findings -> reports.
Every value here is a plain dataclass so that JSON output is `to_jsonable(value)` and nothing more.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------------------
# Taxonomy: the 38 Google Play Data safety data types, ids are the PSL ids lower-cased without
# the prefix (PSL_PRECISE_LOCATION -> precise_location).  (category, English label, Chinese label)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DataTypeInfo:
    id: str
    psl_id: str
    category: str
    label: str
    label_zh: str


_DATA_TYPE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("name", "personal_info", "Name", "姓名"),
    ("email", "personal_info", "Email address", "电子邮件地址"),
    ("user_account", "personal_info", "User IDs", "用户账号"),
    ("address", "personal_info", "Address", "地址"),
    ("phone", "personal_info", "Phone number", "电话号码"),
    ("race_ethnicity", "personal_info", "Race and ethnicity", "种族和民族"),
    ("political_religious", "personal_info", "Political or religious beliefs", "政治或宗教信仰"),
    ("sexual_orientation_gender_identity", "personal_info", "Sexual orientation", "性取向"),
    ("other_personal", "personal_info", "Other info", "其他个人信息"),
    ("credit_debit_bank_account_number", "financial_info", "User payment info", "支付信息"),
    ("purchase_history", "financial_info", "Purchase history", "购买记录"),
    ("credit_score", "financial_info", "Credit score", "信用评分"),
    ("other", "financial_info", "Other financial info", "其他财务信息"),
    ("approx_location", "location", "Approximate location", "粗略位置"),
    ("precise_location", "location", "Precise location", "精确位置"),
    ("web_browsing_history", "search_and_browsing", "Web browsing history", "网页浏览记录"),
    ("emails", "email_and_text", "Emails", "电子邮件"),
    ("sms_call_log", "email_and_text", "SMS or MMS", "短信和通话记录"),
    ("other_messages", "email_and_text", "Other in-app messages", "其他应用内消息"),
    ("photos", "photos_and_videos", "Photos", "照片"),
    ("videos", "photos_and_videos", "Videos", "视频"),
    ("audio", "audio", "Voice or sound recordings", "录音"),
    ("music", "audio", "Music files", "音乐文件"),
    ("other_audio", "audio", "Other audio files", "其他音频文件"),
    ("health", "health_and_fitness", "Health info", "健康信息"),
    ("fitness", "health_and_fitness", "Fitness info", "健身信息"),
    ("contacts", "contacts", "Contacts", "通讯录"),
    ("calendar", "calendar", "Calendar events", "日历事件"),
    ("crash_logs", "app_performance", "Crash logs", "崩溃日志"),
    ("performance_diagnostics", "app_performance", "Diagnostics", "诊断信息"),
    ("other_performance", "app_performance", "Other app performance data", "其他性能数据"),
    ("files_and_docs", "files_and_docs", "Files and docs", "文件和文档"),
    ("user_interaction", "app_activity", "App interactions", "应用互动"),
    ("in_app_search_history", "app_activity", "In-app search history", "应用内搜索记录"),
    ("apps_on_device", "app_activity", "Installed apps", "已安装应用列表"),
    ("user_generated_content", "app_activity", "Other user-generated content", "其他用户生成内容"),
    ("other_app_activity", "app_activity", "Other actions", "其他操作"),
    ("device_id", "device_or_other_ids", "Device or other IDs", "设备或其他标识符"),
)

DATA_TYPES: dict[str, DataTypeInfo] = {
    row[0]: DataTypeInfo(row[0], "PSL_" + row[0].upper(), row[1], row[2], row[3]) for row in _DATA_TYPE_ROWS
}

# Identifier kinds refine device_id (and phone) observations.
IDENTIFIER_KINDS: tuple[str, ...] = (
    "imei", "meid", "imsi", "iccid", "serial", "android_id", "advertising_id", "oaid",
    "app_set_id", "firebase_installation_id", "widevine_id", "mac_address", "bluetooth_address",
    "phone_number", "vaid", "aaid",
    # What trackers send besides hardware and OS ids (tracker protocols and generic discovery find these):
    # Apple's ad and vendor ids, an SDK's own per-install or per-device id, a visitor id, the app's user id.
    "idfa", "idfv", "app_instance_id", "install_id", "vendor_device_id", "vendor_visitor_id", "utdid",
    "user_id", "email_hash", "phone_hash", "push_token",
)

# The 7 Play purposes, ids from PSL_* without the prefix.
PURPOSES: dict[str, str] = {
    "app_functionality": "App functionality",
    "analytics": "Analytics",
    "developer_communications": "Developer communications",
    "advertising": "Advertising or marketing",
    "fraud_prevention_security": "Fraud prevention, security, and compliance",
    "personalization": "Personalization",
    "account_management": "Account management",
}

# SDK categories that read data on the device without a server of their own (the advertising-ID client, debug
# tools): an SDK only of these sends nothing anywhere, so it is neither a recipient nor a transfer.
LOCAL_SDK_CATEGORIES: frozenset[str] = frozenset({"identification", "development"})

SDK_CATEGORIES: tuple[str, ...] = (
    "analytics", "advertising", "attribution", "crash_reporting", "push", "social", "payment",
    "maps_location", "engagement", "identification", "risk_control", "customer_support",
    "development", "authentication", "statistics", "app_hardening", "other",
)

# Who a recipient is to the app, in Google Play's terms (issue 19): Play does not count data sent to a service
# provider processing it on the developer's behalf as "shared"; PIPL calls the same split entrusted processing
# (Art. 21) and provision to another handler (Art. 23).  `depends`: a setting decides (it is named with the role).
# A recipient whose role is not known (an imported tracker list, a host outside the catalog) carries None, and
# rules treat it as a third party: the developer, not divulge, can show that a vendor only processes for them.
SDK_ROLES: tuple[str, ...] = ("service_provider", "third_party", "depends")


@dataclass(frozen=True)
class SdkRole:
    """An SDK's role as its catalog entry gives it."""

    role: str | None  # one of SDK_ROLES, None when not known
    setting: str | None = None  # for `depends`: the setting that decides it
    source: str | None = None  # the page that supports it


def data_type_from_psl(psl_id: str) -> str:
    """PSL_DEVICE_ID -> device_id; raises KeyError for an unknown id."""
    dt = psl_id.removeprefix("PSL_").lower()
    if dt not in DATA_TYPES:
        raise KeyError(psl_id)
    return dt


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]

    def __str__(self) -> str:
        return self.name.lower()


class SdkStatus(enum.StrEnum):
    """How strongly an SDK is in the app; only `wired` may be called running."""

    REFERENCED = "referenced"  # a type name appears but no class of it is defined
    PRESENT = "present"  # its classes are defined in the APK (or native lib / manifest say so)
    WIRED = "wired"  # app code calls into it, or the manifest declares its components

    @property
    def rank(self) -> int:
        return {"referenced": 0, "present": 1, "wired": 2}[self.value]


# ---------------------------------------------------------------------------
# Static facts
# ---------------------------------------------------------------------------


@dataclass
class AppIdentity:
    package: str
    label: str | None
    version_name: str | None
    version_code: str | None
    min_sdk: int | None
    target_sdk: int | None
    sha256: str
    sha1: str = ""
    md5: str = ""
    file_name: str = ""
    size: int = 0
    signers: list[str] = field(default_factory=list)  # SHA-256 of signing certificates
    parts: list[str] = field(default_factory=list)  # a bundle's APKs, "name sha256:HEX"; hashes above are the bundle's


@dataclass
class Permission:
    name: str
    protection_level: str  # dangerous | normal | signature | signatureOrSystem | unknown | custom
    data_types: list[str] = field(default_factory=list)
    max_sdk: int | None = None


@dataclass
class Component:
    kind: str  # activity | service | receiver | provider
    name: str
    exported: bool
    permission: str | None = None
    authorities: str | None = None
    intent_actions: list[str] = field(default_factory=list)
    foreground_service_type: str | None = None  # as compiled: flags ("0x00000048") or names ("location|camera")
    meta_data: dict[str, str] = field(default_factory=dict)  # the component's own <meta-data>: name -> value/resource


@dataclass
class ManifestFacts:
    uses_cleartext_traffic: bool | None
    network_security_config: str | None
    cleartext_permitted_base: bool | None
    cleartext_domains: list[str]
    allow_backup: bool | None
    debuggable: bool
    meta_data: dict[str, str]
    components: list[Component]
    auto_init_providers: list[str]
    application_class: str | None = None
    queries_packages: list[str] = field(default_factory=list)  # <queries><package>: apps it may see at target 30+
    queries_broad: str | None = None  # a <queries> intent that matches every launchable app, in words

    @property
    def exported_components(self) -> list[Component]:
        return [c for c in self.components if c.exported]


@dataclass
class SdkEvidence:
    basis: str  # code | reference | call | manifest | native_lib | domain | exodus
    detail: str


@dataclass
class SdkHit:
    id: str
    name: str
    owner: str
    country: str
    categories: list[str]
    status: SdkStatus
    evidence: list[SdkEvidence] = field(default_factory=list)
    data_types: list[str] = field(default_factory=list)
    auto_init: bool = False
    source: str = "divulge"  # divulge catalog or an imported list ("exodus")
    website: str | None = None
    role: str | None = None  # one of SDK_ROLES; None when the catalog entry has none (imported lists)
    role_setting: str | None = None  # for `depends`: the setting that decides the role
    role_source: str | None = None  # the vendor's page that supports the role
    # For `depends`: what the app's manifest sets of the role's meta-data settings, "name=value" (empty: defaults)
    role_manifest: list[str] = field(default_factory=list)

    @property
    def bases(self) -> list[str]:
        return sorted({e.basis for e in self.evidence})


@dataclass
class ApiUse:
    api: str  # android.telephony.TelephonyManager.getDeviceId
    data_type: str
    caller: str  # com.example.Foo.bar
    sdk: str | None  # SDK id owning the caller, or None for the app itself
    identifier: str | None = None
    permission: str | None = None
    api_id: str | None = None  # catalog entry id
    origin: str = "app"  # app | sdk | library (framework or a general-purpose library bundled in the app)
    # For library code: the first app or SDK method found calling the path ("Class.method [app]"); None = dormant.
    reached_from: str | None = None

    @property
    def dormant(self) -> bool:
        """Library code nothing in the app or its SDKs was seen calling."""
        return self.origin == "library" and self.reached_from is None


@dataclass
class SpecialAccess:
    """One special access the app asks for or builds: a service the system binds, a permission from Special app
    access, or a call (clipboard, screen capture, exact alarms)."""

    kind: str  # catalog id: accessibility | notification_listener | input_method | vpn | usage_stats | ...
    label: str
    source: str  # component | permission | call | fgs_type
    via: str  # the manifest element, permission or call that shows it
    origin: str = "app"  # app | sdk | library: whose component or code it is
    sdk: str | None = None
    component: str | None = None
    data_types: list[str] = field(default_factory=list)
    # What the service's own configuration says (accessibility and device-admin XML), empty when there is none:
    # can_retrieve_window_content, event_types, packages (the apps it watches; empty = all), policies; for a call,
    # user_action: the framework callback it sits in when that callback is the user's own action (a paste).
    config: dict[str, Any] = field(default_factory=dict)
    reached_from: str | None = None  # for a library call: the app or SDK method calling it; None = dormant

    @property
    def dormant(self) -> bool:
        return self.origin == "library" and self.reached_from is None


@dataclass
class Endpoint:
    url: str
    host: str
    source: str  # dex file or resource path
    sdk: str | None = None


# --- iOS (issue 17): what an IPA shows beyond the fields it shares with an APK ----------------------------------


@dataclass
class CollectedDataDeclaration:
    """One entry of a privacy manifest's NSPrivacyCollectedDataTypes."""

    key: str  # NSPrivacyCollectedDataTypeDeviceID
    data_types: list[str]  # DATA_TYPES ids
    linked: bool | None = None
    tracking: bool | None = None
    purposes: list[str] = field(default_factory=list)  # PURPOSES ids


@dataclass
class PrivacyManifest:
    """A PrivacyInfo.xcprivacy: the app's own or an embedded framework's."""

    path: str  # inside the IPA
    bundle: str  # "app" or the framework's name
    sdk: str | None = None  # catalog id of the framework's SDK
    tracking: bool | None = None  # NSPrivacyTracking
    tracking_domains: list[str] = field(default_factory=list)
    collected: list[CollectedDataDeclaration] = field(default_factory=list)
    accessed_api_types: dict[str, list[str]] = field(default_factory=dict)  # category -> reason codes
    warnings: list[str] = field(default_factory=list)


@dataclass
class IosFramework:
    """A bundle under Frameworks/ (a .framework, or a bare .dylib)."""

    name: str
    path: str
    sdk: str | None = None
    apple_listed: str | None = None  # its name on Apple's list of SDKs that need a manifest and signature
    privacy_manifest: str | None = None  # path of its PrivacyInfo.xcprivacy
    signed: bool = False  # carries _CodeSignature/CodeResources
    encrypted: bool = False


@dataclass
class RequiredReasonUse:
    """A required-reason API category one binary uses, and whether its bundle's manifest gives a reason."""

    category: str  # NSPrivacyAccessedAPICategoryFileTimestamp
    label: str
    via: list[str]  # the symbols, classes or selectors that show it
    binary: str
    bundle: str  # "app" or the framework's name
    sdk: str | None = None
    declared: bool = False  # the bundle's privacy manifest lists the category (the app's covers static SDKs)
    reasons: list[str] = field(default_factory=list)  # the reasons it gives


@dataclass
class IosFacts:
    bundle_id: str
    executable: str
    minimum_os: str | None = None
    tracking_usage_description: str | None = None  # NSUserTrackingUsageDescription
    ats_allows_arbitrary_loads: bool = False  # NSAppTransportSecurity/NSAllowsArbitraryLoads
    ats_arbitrary_loads_in_web_content: bool = False
    ats_insecure_domains: list[str] = field(default_factory=list)  # exception domains allowing HTTP
    url_schemes: list[str] = field(default_factory=list)  # CFBundleURLTypes
    queried_schemes: list[str] = field(default_factory=list)  # LSApplicationQueriesSchemes
    linked_frameworks: list[str] = field(default_factory=list)  # of the main binary
    frameworks: list[IosFramework] = field(default_factory=list)
    privacy_manifests: list[PrivacyManifest] = field(default_factory=list)
    required_reason_apis: list[RequiredReasonUse] = field(default_factory=list)
    encrypted_binaries: list[str] = field(default_factory=list)


@dataclass
class StaticReport:
    app: AppIdentity
    permissions: list[Permission]
    sdks: list[SdkHit]
    api_uses: list[ApiUse]
    endpoints: list[Endpoint]
    manifest: ManifestFacts
    native_libs: list[str] = field(default_factory=list)
    dex_files: list[str] = field(default_factory=list)
    class_count: int = 0
    warnings: list[str] = field(default_factory=list)
    special_access: list[SpecialAccess] = field(default_factory=list)
    hidden_code: list[str] = field(default_factory=list)  # signs that code is loaded at run time from elsewhere
    platform: str = "android"  # android | ios
    ios: IosFacts | None = None  # only for an IPA

    SCHEMA = "divulge/static/1"


# ---------------------------------------------------------------------------
# Dynamic facts
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Observation:
    """One piece of personal data seen leaving the device in one flow.

    FlowAnalyzer.analyse builds it with positional arguments, one per field in this order: keep them in step."""

    data_type: str
    identifier: str | None
    host: str
    url: str
    method: str
    party: str  # first | third
    sdk: str | None
    owner: str | None
    where: str  # query | path | header | cookie | body
    encodings: list[str]
    time: float  # epoch seconds
    phase: str | None  # before_consent | after_consent | after_refusal | None
    cleartext: bool
    confidence: str  # confirmed (a device-profile value) | protocol (a tracker protocol's field) | likely (shape)
    flow_id: str
    key: str | None = None  # parameter / JSON key it was found under
    value_label: str | None = None  # which device-profile value matched (never the value itself)
    registrable_domain: str | None = None
    # Which value it was, as a fingerprint (profile:LABEL for profile values, else the first 16 hex digits of the
    # SHA-256 of the value lower-cased): equal fingerprints are the same identifier (see link_identifiers).
    value_ref: str | None = None
    capture: str | None = None  # the capture file the flow came from
    # The request itself says the user refused (TCF without purpose 1, US Privacy opt-out, Consent Mode denied,
    # npa=1, advertiser_tracking_enabled=0 …): "refused", and which signal (consent_source) said so.
    consent: str | None = None
    consent_source: str | None = None


# Data types whose values identify someone across requests (a location or a list of apps changes).
LINKING_TYPES = frozenset({"device_id", "user_account", "email", "phone"})


@dataclass
class LinkedIdentifier:
    """One identifier value seen by several organisations (linkable across them) or in several captures (persistent)."""

    value_ref: str
    data_type: str
    identifier: str | None
    organisations: list[str]  # owners; the app itself is "first party"; unknown owners by registrable domain
    hosts: list[str]
    captures: list[str]
    flows: int
    cross_party: bool
    persistent: bool


def recipient_organisation(party: str | None, owner: str | None, registrable_domain: str | None, host: str) -> str:
    """Who received a request, for linkage: its owner company, the app itself, else its registrable domain."""
    if party == "first":
        return "first party"
    return owner or registrable_domain or host


def link_identifiers(sightings: Iterable[tuple[str, str, str | None, str, str, str | None, str]]
                     ) -> list[LinkedIdentifier]:
    """(value_ref, data_type, identifier, organisation, host, capture, flow id) -> the identifiers that link
    (flow ids are per capture).

    Cross-party: the same value reached two or more organisations, which can then join what each knows. Persistent:
    the same value in two or more captures (sessions) of the app: it survives restarts and ties them together."""
    groups: dict[str, list[tuple[str, str, str | None, str, str, str | None, str]]] = {}
    for sighting in sightings:
        groups.setdefault(sighting[0], []).append(sighting)
    linked = []
    for ref, rows in groups.items():
        if len(rows) == 1:
            continue  # most values are seen once: one organisation, one capture
        organisations = sorted({r[3] for r in rows})
        captures = sorted({r[5] for r in rows if r[5]})
        if len(organisations) < 2 and len(captures) < 2:
            continue
        kinds = sorted({(r[1], r[2] or "") for r in rows})
        data_type, identifier = kinds[0]
        linked.append(LinkedIdentifier(ref, data_type, identifier or None, organisations, sorted({r[4] for r in rows}),
                                       captures, len({(r[5], r[6]) for r in rows}), len(organisations) >= 2,
                                       len(captures) >= 2))
    return sorted(linked, key=lambda li: (-len(li.organisations), -len(li.captures), li.value_ref))


@dataclass
class TrafficReport:
    observations: list[Observation]
    flows: int
    destinations: list[dict[str, Any]] = field(default_factory=list)
    frequency: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flow_index: list[dict[str, Any]] = field(default_factory=list)  # per flow: id, time, host, url, cleartext
    # Hosts whose TLS the app would not let the proxy read: host, kind, count, first, last, error.
    unseen: list[dict[str, Any]] = field(default_factory=list)
    linkage: list[LinkedIdentifier] = field(default_factory=list)

    SCHEMA = "divulge/traffic/1"


@dataclass
class RuntimeCall:
    """Reads of one personal-data API by one caller in one consent phase, as the runtime monitor saw them."""

    api: str  # android.telephony.TelephonyManager.getImei, or a native read: "open /sys/class/net/wlan0/address"
    data_type: str
    identifier: str | None
    caller: str  # first frame outside the platform: com.example.Foo.bar, or libfoo.so!fn for native code
    sdk: str | None  # SDK id owning the call, or None
    origin: str  # app | sdk | library
    phase: str | None  # before_consent | after_consent | after_refusal | None (no consent timeline)
    count: int
    first: float  # epoch seconds
    last: float
    per_minute: float  # calls per minute over [first, last]; 0 for a single call or a burst within a second
    kind: str = "java"  # java | native | permission_request (the user was asked for a permission opening it)
    reached_from: str | None = None  # for library code: the first app or SDK frame below it on the stack
    values: int = 0  # distinct return values (by hash): 1 = the same identifier every time
    stack: list[str] = field(default_factory=list)  # one example stack, innermost first
    screen: str | None = None  # the session's screenshot nearest before the first call (divulge run), if any


@dataclass
class RuntimeReport:
    calls: list[RuntimeCall]
    events: int
    session: str | None = None
    java: bool | None = None  # whether the agent reached a Java VM (False on a native-only process)
    warnings: list[str] = field(default_factory=list)

    SCHEMA = "divulge/runtime/1"


# ---------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------


@dataclass
class DeclaredDataType:
    data_type: str
    collected: bool = False
    shared: bool = False
    purposes: list[str] = field(default_factory=list)  # collection purposes (all purposes when not split)
    optional: bool | None = None
    ephemeral: bool | None = None
    source: str | None = None  # file:line or the policy sentence it came from
    shared_purposes: list[str] = field(default_factory=list)  # Play asks sharing purposes separately
    confidence: str = "stated"  # stated | inferred (umbrella term)
    denied: bool = False  # the declaration says it is NOT collected
    share_denied: bool = False  # the declaration says it is NOT shared (policy text: "we do not share your contacts")
    conditions: list[str] = field(default_factory=list)  # feature scopes: "if you use the map feature"


@dataclass
class DisclosedParty:
    name: str
    sdk_id: str | None = None
    data_types: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    source: str | None = None
    # What the declaration says the party is (one of SDK_ROLES but `depends`), None when it does not say:
    # "Crashlytics, our service provider" / "受托处理" -> service_provider.
    role: str | None = None
    listed: bool = False  # read from the policy's SDK list (a table or key：value records), not from prose
    company: str | None = None  # the company the SDK list names for it
    # What its SDK-list entry leaves out of what the 2019 method asks for each SDK: "purpose", "personal
    # information", "company" (judged on the entry's own cells, whether or not we understood their words).
    list_gaps: list[str] = field(default_factory=list)


@dataclass
class PolicyTopic:
    """Whether a policy text addresses one thing a regulator checks (rules/vocabulary/policy_topics.yaml): the
    first sentence or heading that does, or none -- then the absence is the evidence."""

    topic: str
    group: str
    label: str
    label_zh: str
    found: bool
    source: str | None = None  # file:line: sentence
    section: str | None = None  # the heading it sits under


@dataclass
class Declaration:
    kind: str  # privacy-yaml | datasafety-csv | policy-text | draft | app-store-label | privacy-manifest
    path: str | None
    package: str | None = None
    first_party_domains: list[str] = field(default_factory=list)
    category_cn: str | None = None
    play_category: str | None = None
    data_types: dict[str, DeclaredDataType] = field(default_factory=dict)
    parties: list[DisclosedParty] = field(default_factory=list)
    language: str | None = None
    form_answers: dict[str, str] = field(default_factory=dict)  # other Data safety answers, kept for export
    # Issue 18: where the app is offered (cn, eea, other: empty when the declaration does not say), who it is for
    # (children, mixed, general; None: not said), and the consents it says it asks for (None: not said).
    markets: list[str] = field(default_factory=list)
    audience: str | None = None
    guardian_consent: bool | None = None
    cross_border_consent: bool | None = None
    policy_topics: list[PolicyTopic] = field(default_factory=list)  # policy text only: what it addresses

    def declares_collected(self, data_type: str) -> bool:
        d = self.data_types.get(data_type)
        return bool(d and d.collected and not d.denied)

    def declares_shared(self, data_type: str) -> bool:
        d = self.data_types.get(data_type)
        return bool(d and d.shared and not d.denied)


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


@dataclass
class Reference:
    title: str
    url: str
    article: str | None = None


@dataclass
class Evidence:
    kind: str  # manifest | permission | api_call | sdk | flow | declaration | policy_text
    summary: str
    location: str | None = None  # class/method, manifest element, URL
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    confidence: str  # high | medium | low
    title: str
    message: str
    basis: str  # capability | behaviour | both | declaration
    data_type: str | None = None
    sdk: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    remediation: str | None = None
    fingerprint: str = ""
    suppressed: str | None = None  # justification when suppressed by config
    in_baseline: bool = False  # also in the baseline report: known, not new
    # Simplified Chinese texts from the rule (title_zh, message_zh, remediation_zh); None -> reports fall back to English
    title_zh: str | None = None
    message_zh: str | None = None
    remediation_zh: str | None = None


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and containers -> plain JSON values, keys in field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Severity):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, (set, frozenset)) else items
    return value


@dataclass
class Transfer:
    """Personal data leaving the app's market (issue 18): one recipient in one country, as the facts show it."""

    recipient: str
    country: str
    country_source: str  # catalog (the SDK owner's country) | domain | cctld (approximate, from the name)
    market: str  # cn | eea: the market the data leaves
    data_types: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    sdk: str | None = None
    disclosed: bool = False  # the declaration names the recipient
    adequacy: str | None = None  # the certification that would cover it (EU-US Data Privacy Framework), if any
    basis: str = "behaviour"  # behaviour (seen in traffic) | capability (an SDK in the APK known to collect it)


@dataclass
class ScanResult:
    """Everything one `divulge scan` knows: the facts it used and the findings; reports render this."""

    app: AppIdentity | None
    findings: list[Finding]
    static: StaticReport | None = None
    traffic: TrafficReport | None = None
    declaration: Declaration | None = None
    tool_version: str = ""
    rule_pack: dict[str, Any] = field(default_factory=dict)  # name, version, sha256, rule count
    catalog: dict[str, Any] = field(default_factory=dict)  # SDK catalog version, sha256, entry count
    started: str = ""  # ISO 8601 UTC
    finished: str = ""
    inputs: list[dict[str, Any]] = field(default_factory=list)  # path, kind, sha256 of every input used
    fail_on: str | None = None
    runtime: RuntimeReport | None = None  # what the runtime monitor saw (divulge monitor), when given
    # Issue 18: the app's markets (cn, eea) and audience as the facts decided them, and its transfers out of them.
    markets: list[str] = field(default_factory=list)
    audience: str | None = None
    transfers: list[Transfer] = field(default_factory=list)

    SCHEMA = "divulge/findings/1"
