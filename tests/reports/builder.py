"""Build ScanResults from model objects for report tests and the report benchmark: a realistic app, a hostile one, a huge one."""

from __future__ import annotations

import hashlib
import random

from scanner.model import (
    ApiUse,
    AppIdentity,
    Component,
    Declaration,
    DeclaredDataType,
    DisclosedParty,
    Evidence,
    Finding,
    ManifestFacts,
    Observation,
    Permission,
    Reference,
    ScanResult,
    SdkEvidence,
    SdkHit,
    SdkStatus,
    Severity,
    StaticReport,
    TrafficReport,
)

HOSTILE_LABEL = '<script>alert("divulge")</script>"><img src=x onerror=alert(1)>'
HOSTILE_URL = 'http://evil.example/c?<script>alert("u")</script>=1&imei=359881234567890'
HOSTILE_SNIPPET = '{"imei":"359881234567890","n":"\\"><img src=x onerror=alert(2)>"}'

T0 = 1_700_000_000.0

PIPL_13 = Reference("PIPL Art. 13", "https://www.npc.gov.cn/npc/c30834/202108/a8c4e3672c74491a80b53a172bb753fe.shtml",
                    "Art. 13")
METHOD_2019 = Reference("App违法违规收集使用个人信息行为认定方法 3.1",
                        "https://www.cac.gov.cn/2019-12/27/c_1578986455686625.htm", "3.1")
PLAY_UDP = Reference("Google Play User Data policy", "https://support.google.com/googleplay/android-developer/answer/10144311")
GDPR_5 = Reference("GDPR Art. 5(1)(c)", "https://eur-lex.europa.eu/eli/reg/2016/679/oj", "Art. 5(1)(c)")


def _fp(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def app_identity(label: str = "Demo Shop") -> AppIdentity:
    return AppIdentity(
        package="com.example.demoshop", label=label, version_name="2.3.1", version_code="231", min_sdk=23,
        target_sdk=34, sha256="a" * 64, sha1="b" * 40, md5="c" * 32, file_name="demoshop.apk", size=4_718_592,
        signers=["d" * 64],
    )


def static_report(app: AppIdentity) -> StaticReport:
    return StaticReport(
        app=app,
        permissions=[
            Permission("android.permission.ACCESS_FINE_LOCATION", "dangerous", ["precise_location"]),
            Permission("android.permission.READ_PHONE_STATE", "dangerous", ["device_id", "phone"]),
            Permission("android.permission.QUERY_ALL_PACKAGES", "normal", ["apps_on_device"]),
            Permission("android.permission.INTERNET", "normal", []),
        ],
        sdks=[
            SdkHit("adsdk", "AdSDK", "Ads Corp", "CN", ["advertising"], SdkStatus.WIRED,
                   [SdkEvidence("code", "com.adsdk.core"), SdkEvidence("manifest", "com.adsdk.InitProvider")],
                   ["device_id", "precise_location"], auto_init=True),
            SdkHit("firebase_analytics", "Firebase Analytics", "Google LLC", "US", ["analytics"], SdkStatus.PRESENT,
                   [SdkEvidence("code", "com.google.firebase.analytics")], ["device_id", "user_interaction"]),
        ],
        api_uses=[
            ApiUse("android.telephony.TelephonyManager.getImei", "device_id", "com.adsdk.core.DeviceInfo.collect",
                   "adsdk", "imei", "android.permission.READ_PHONE_STATE"),
            ApiUse("android.content.pm.PackageManager.getInstalledPackages", "apps_on_device",
                   "com.example.demoshop.util.Apps.list", None),
        ],
        endpoints=[],
        manifest=ManifestFacts(uses_cleartext_traffic=True, network_security_config=None, cleartext_permitted_base=True,
                               cleartext_domains=[], allow_backup=True, debuggable=False, meta_data={},
                               components=[Component("provider", "com.adsdk.InitProvider", False)],
                               auto_init_providers=["com.adsdk.InitProvider"]),
    )


def traffic_report(url: str = "http://t.adsdk.example/collect?imei=359881234567890&lat=31.23",
                   snippet: str = '{"imei":"359881234567890","lat":31.2304,"lng":121.4737}') -> TrafficReport:
    obs = [
        Observation("device_id", "imei", "t.adsdk.example", url, "POST", "third", "adsdk", "Ads Corp", "body",
                    ["gzip", "base64", "json"], T0 + 3, "before_consent", True, "confirmed", "f1", key="imei",
                    value_label="imei"),
        Observation("precise_location", None, "t.adsdk.example", url, "POST", "third", "adsdk", "Ads Corp", "query",
                    [], T0 + 3, "before_consent", True, "confirmed", "f1", key="lat"),
        Observation("device_id", "android_id", "api.demoshop.example", "https://api.demoshop.example/v1/login",
                    "POST", "first", None, None, "header", [], T0 + 40, "after_consent", False, "likely", "f3",
                    key="X-Device"),
        Observation("apps_on_device", None, "log.adsdk.example", "https://log.adsdk.example/apps", "POST", "third",
                    "adsdk", "Ads Corp", "body", ["zstd", "json"], T0 + 75, "after_refusal", False, "confirmed", "f5",
                    key="pkgs"),
    ]
    flow_index = [
        {"id": "f1", "time": T0 + 3, "host": "t.adsdk.example", "url": url, "method": "POST", "cleartext": True},
        {"id": "f2", "time": T0 + 8, "host": "cdn.demoshop.example", "url": "https://cdn.demoshop.example/a.png",
         "method": "GET", "cleartext": False},
        {"id": "f3", "time": T0 + 40, "host": "api.demoshop.example", "url": "https://api.demoshop.example/v1/login",
         "method": "POST", "cleartext": False},
        {"id": "f4", "time": T0 + 60, "host": "cdn.demoshop.example", "url": "https://cdn.demoshop.example/b.png",
         "method": "GET", "cleartext": False},
        {"id": "f5", "time": T0 + 75, "host": "log.adsdk.example", "url": "https://log.adsdk.example/apps",
         "method": "POST", "cleartext": False},
    ]
    marks = [{"kind": "consent", "time": T0 + 30, "label": "Agree tapped"},
             {"kind": "refusal", "time": T0 + 70, "label": "Revoked in settings"}]
    _ = snippet
    return TrafficReport(observations=obs, flows=len(flow_index), marks=marks, flow_index=flow_index,
                         destinations=[{"host": "t.adsdk.example", "party": "third", "sdk": "adsdk", "flows": 1}])


def declaration() -> Declaration:
    return Declaration(
        kind="privacy-yaml", path="privacy.yaml", package="com.example.demoshop",
        first_party_domains=["demoshop.example"], category_cn="online_shopping",
        data_types={
            "device_id": DeclaredDataType("device_id", collected=True, shared=False, purposes=["analytics"]),
            "email": DeclaredDataType("email", collected=True, purposes=["account_management"]),
            "purchase_history": DeclaredDataType("purchase_history", collected=True, purposes=["app_functionality"]),
        },
        parties=[DisclosedParty("Firebase Analytics", "firebase_analytics", ["device_id"])],
    )


def findings(url: str, snippet: str) -> list[Finding]:
    flow = Evidence("flow", "IMEI sent to t.adsdk.example before consent", url,
                    {"url": url, "method": "POST", "where": "body", "key": "imei",
                     "encodings": ["gzip", "base64", "json"], "time": T0 + 3, "phase": "before_consent",
                     "cleartext": True, "snippet": snippet, "flow_id": "f1"})
    api = Evidence("api_call", "TelephonyManager.getImei called by AdSDK", "com.adsdk.core.DeviceInfo.collect",
                   {"caller": "com.adsdk.core.DeviceInfo.collect", "api": "android.telephony.TelephonyManager.getImei"})
    manifest = Evidence("manifest", "READ_PHONE_STATE requested", "uses-permission[@name='android.permission.READ_PHONE_STATE']",
                        {"element": '<uses-permission android:name="android.permission.READ_PHONE_STATE"/>'})
    return [
        Finding("DVG-CONSENT-001", Severity.CRITICAL, "high", "Personal data sent before consent",
                "AdSDK sent the IMEI (device_id) to t.adsdk.example 27 s before the user agreed to the privacy policy.",
                "both", "device_id", "adsdk", [flow, api], [METHOD_2019, PIPL_13],
                "Initialise AdSDK only after the user has agreed to the privacy policy.", _fp("consent", "device_id"),
                title_zh="同意前发送个人信息", message_zh="AdSDK 在用户同意隐私政策前 27 秒向 t.adsdk.example 发送了 IMEI。",
                remediation_zh="在用户同意隐私政策后再初始化 AdSDK。"),
        Finding("DVG-SHARE-001", Severity.HIGH, "high", "Data shared with a third party but not declared as shared",
                "device_id is sent to Ads Corp (adsdk) but the declaration does not say it is shared.",
                "behaviour", "device_id", "adsdk", [flow], [PIPL_13, PLAY_UDP],
                "Declare device IDs as shared with Ads Corp, or stop sending them.", _fp("share", "device_id")),
        Finding("DVG-COLLECT-001", Severity.HIGH, "high", "Data collected but not declared",
                "precise_location is sent to t.adsdk.example but not declared as collected.",
                "behaviour", "precise_location", "adsdk", [flow, manifest], [PLAY_UDP, GDPR_5],
                "Declare precise location in the Data safety form.", _fp("collect", "precise_location"),
                title_zh="收集了未声明的数据", message_zh="精确位置被发送到 t.adsdk.example，但未声明收集。",
                remediation_zh="在数据安全表单中声明精确位置。"),
        Finding("DVG-HWID-001", Severity.MEDIUM, "medium", "Non-resettable hardware identifier",
                "The app may read the IMEI (TelephonyManager.getImei).", "capability", "device_id", "adsdk", [api, manifest],
                [GDPR_5], "Use a resettable identifier instead of the IMEI.", _fp("hwid", "imei")),
        Finding("DVG-APPLIST-001", Severity.LOW, "medium", "Installed-app list collected",
                "The app can list installed packages.", "capability", "apps_on_device", None,
                [Evidence("api_call", "PackageManager.getInstalledPackages",
                          "com.example.demoshop.util.Apps.list",
                          {"caller": "com.example.demoshop.util.Apps.list",
                           "api": "android.content.pm.PackageManager.getInstalledPackages"})],
                [PLAY_UDP], "Use <queries> for the packages you need.", _fp("applist")),
        Finding("DVG-OVERDECL-001", Severity.INFO, "low", "Declared but never seen",
                "email is declared as collected but was not seen.", "declaration", "email", None,
                [Evidence("declaration", "email declared as collected", "privacy.yaml:7")], [PLAY_UDP],
                "Remove email from the declaration if the app does not collect it.", _fp("overdecl", "email")),
        Finding("DVG-CLEAR-001", Severity.MEDIUM, "high", "Personal data over cleartext",
                "device_id travels over plain HTTP.", "behaviour", "device_id", "adsdk", [flow], [PIPL_13],
                "Use HTTPS.", _fp("clear", "device_id"), suppressed="Vendor fix scheduled (expires 2030-01-01)"),
    ]


def sample_result(label: str = "Demo Shop", *, hostile: bool = False) -> ScanResult:
    """A realistic scan: consent before/after, third-party SDK, capability and behaviour findings, one suppressed."""
    if hostile:
        label, url, snippet = HOSTILE_LABEL, HOSTILE_URL, HOSTILE_SNIPPET
    else:
        url = "http://t.adsdk.example/collect?imei=359881234567890&lat=31.23"
        snippet = '{"imei":"359881234567890","lat":31.2304,"lng":121.4737}'
    app = app_identity(label)
    return ScanResult(
        app=app, findings=findings(url, snippet), static=static_report(app), traffic=traffic_report(url, snippet),
        declaration=declaration(), tool_version="0.1.0",
        rule_pack={"name": "divulge-builtin", "version": "1", "sha256": "e" * 64, "rules": 22},
        catalog={"name": "divulge-sdks", "version": "2024.1", "sha256": "f" * 64, "entries": 180},
        started="2024-05-01T10:00:00Z", finished="2024-05-01T10:00:04Z",
        inputs=[{"path": "demoshop.apk", "kind": "apk", "sha256": "a" * 64},
                {"path": "capture.flows", "kind": "capture", "sha256": "9" * 64},
                {"path": "privacy.yaml", "kind": "declaration", "sha256": "8" * 64}],
        fail_on="high",
    )


def big_result(n_findings: int = 5_000, n_flows: int = 50_000, seed: int = 7) -> ScanResult:
    """Benchmark size: thousands of findings with evidence, tens of thousands of flows and observations."""
    rng = random.Random(seed)
    base = sample_result()
    from scanner.model import DATA_TYPES
    data_types = sorted(DATA_TYPES)
    sdks = ["adsdk", "firebase_analytics", None]
    hosts = [f"h{i}.tracker{i % 17}.example" for i in range(60)]
    flow_index = []
    observations = []
    for i in range(n_flows):
        t = T0 + i * 0.05
        host = rng.choice(hosts)
        url = f"https://{host}/p/{i}?aid={i}"
        flow_index.append({"id": f"f{i}", "time": t, "host": host, "url": url, "method": "POST", "cleartext": i % 11 == 0})
        if i % 2 == 0:
            observations.append(Observation(rng.choice(data_types), None, host, url, "POST", "third", rng.choice(sdks),
                                            None, "query", ["base64"], t,
                                            "before_consent" if t < T0 + 300 else "after_consent", False, "confirmed",
                                            f"f{i}", key="aid"))
    assert base.traffic is not None
    base.traffic.flow_index = flow_index
    base.traffic.observations = observations
    base.traffic.flows = n_flows
    base.traffic.marks = [{"kind": "consent", "time": T0 + 300}]
    templates = base.findings
    out = []
    for i in range(n_findings):
        f = templates[i % len(templates)]
        ev = [Evidence(e.kind, e.summary, e.location, dict(e.details)) for e in f.evidence]
        out.append(Finding(f.rule_id, Severity(rng.randrange(5)), f.confidence, f.title, f.message + f" #{i}", f.basis,
                           rng.choice(data_types), rng.choice(sdks), ev, list(f.references), f.remediation,
                           _fp(f.fingerprint, str(i)), title_zh=f.title_zh, message_zh=f.message_zh,
                           remediation_zh=f.remediation_zh))
    base.findings = out
    return base
