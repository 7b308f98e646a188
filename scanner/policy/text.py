"""Privacy policy text (HTML, Markdown, plain text; English or Simplified Chinese) -> a Declaration.

Each data type, SDK and third party keeps the sentence or table row it was read from.  How it works, and how
well (precision/recall on fixtures/policies), is in docs/policy-text.md.  In short: the page becomes blocks
(html_text), SDK tables become disclosed parties (sdk_table), and every other sentence is matched against the
vocabulary (rules/vocabulary/) in linear time: data terms attach to the nearest verb of their clause, a
negation shortly before the verb turns "collects" into "does not collect", an exception ("unless", "除非")
cancels the denial, and headings or lead-in lines pass their action on to the list items below them.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import BadDeclaration
from scanner.knowledge.vocabulary import QUOTE_FOLD, Match, Vocabulary, shared_vocabulary
from scanner.model import DATA_TYPES, Declaration, DeclaredDataType, DisclosedParty, PolicyTopic
from scanner.policy.html_text import Block, PolicyDocument, cjk_share, parse_policy, read_policy_file
from scanner.policy.own_domains import own_domains
from scanner.policy.sdk_table import SdkNames, SdkRecord, table_records, text_records
from scanner.policy.statements import read_statements

log = logging.getLogger(__name__)

KIND = "policy-text"
POLICY_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".md", ".markdown", ".mdown", ".txt", ".text", ".pdf", ".docx")
ACTIONS = ("collected", "shared", "not_collected", "not_shared")
_NEGATION_WINDOW = {"en": 30, "zh": 10}  # characters between a negation and the verb it negates
_MAX_SENTENCE = 2000  # a "sentence" longer than this is a run-on list; cut it so clause logic stays local
_SENTENCE_RE = re.compile(r"(?<=[。！？!?])|(?<=[.;；])(?=\s+[A-Z\"“(（\d])|(?<=[.])(?=[\u4e00-\u9fff])")
_CLAUSE_RE = re.compile(r"[;；]|，\s*但|,\s*but\b|\bbut\b|\bhowever\b|\bwhereas\b|但是|同时，|另外，")
_FIRST_PERSON_RE = re.compile(r"\b(we|us)\b|我们")  # "our" is no subject: "Intercom runs our chat and receives"
_SINGULAR_PRONOUNS = frozenset({"it", "将其", "把它", "将它"})
_PRONOUN_RE = re.compile(r"\b(it|them|this information|this data|such information|such data|these|"
                         r"the collected data|the collected information|collected data)\b|"
                         r"上述信息|这些信息|该信息|该等信息|前述信息|上述个人信息|将其(?!他)|把它|将它")


@dataclass(frozen=True)
class ExtractOptions:
    vocabulary_dir: Path | None = None  # extra vocabulary YAML files, merged with rules/vocabulary/
    segment: bool = True  # check short Chinese terms against jieba word boundaries


@dataclass
class Statement:
    data_type: str
    action: str  # one of ACTIONS
    confidence: str  # stated | inferred
    source: str
    condition: str | None = None
    purposes: list[str] = field(default_factory=list)
    via: str | None = None  # umbrella phrase an inferred type was read from
    block: int = -1  # index of the block (paragraph, item, row) it was read from
    umbrella: str | None = None


@dataclass
class _Event:
    start: int
    end: int
    action: str  # collected | shared
    negated: bool
    clause: int
    condition: str | None = None


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


def looks_like_policy_text(path: Path) -> bool:
    """True for an HTML, Markdown or text file (by suffix, or by content when it has none)."""
    suffix = path.suffix.lower()
    if suffix in POLICY_SUFFIXES:
        return True
    if suffix in (".yaml", ".yml", ".csv", ".json") or not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(4096)
    return head.startswith(b"%PDF-") or (b"\x00" not in head and bool(head.strip()))


def load_policy_text(path: Path, options: ExtractOptions | None = None) -> Declaration:
    """Read a privacy policy file into a Declaration (kind "policy-text"); BadDeclaration on bad input."""
    text, fmt = read_policy_file(path)
    return extract_text(text, fmt, str(path), options)



def extract_text(text: str, fmt: str, path: str = "<policy>", options: ExtractOptions | None = None) -> Declaration:
    options = options or ExtractOptions()
    document = parse_policy(text, fmt, path)
    language = _language(" ".join(b.text for b in document.blocks[:2000]))
    extractor = _Extractor(shared_vocabulary(options.vocabulary_dir), language, path, options)
    declaration = extractor.run(document)
    read_statements(declaration, (b.text for b in document.blocks))
    # The hosts the policy names as its own make the capture's first party (issue 13): not an SDK's, not free mail.
    declaration.first_party_domains = sorted(set(declaration.first_party_domains) | set(own_domains(text)))
    return declaration


def _language(text: str) -> str:
    """"zh" when the Chinese part carries about as much as the rest: one Chinese character says about what four
    Latin letters do, so a bilingual policy (each paragraph in both languages) is Chinese, as its readers are."""
    share = cjk_share(text)
    return "zh" if share >= 0.3 or share / max(1e-9, 1 - share) >= _CJK_PER_LETTER else "en"


_CJK_PER_LETTER = 0.25


@functools.lru_cache(maxsize=4)
def _sdk_names(extra_dir: Path | None) -> SdkNames:
    return SdkNames(shared_vocabulary(extra_dir))


# ---------------------------------------------------------------------------------------------
# Chinese segmentation (jieba, loaded only for Chinese policies)
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba  # deferred: ~1 s of dictionary loading that English runs never pay

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _segment_checker(sentence: str) -> Callable[[int, int], bool]:
    """accept(start, end) for a short Chinese term: it must sit on jieba word boundaries, or be a dictionary word
    inside a longer one (jieba's search-mode rule) -- so 录音 is not read in 记录音频 (记录/音频).  The
    sentence is segmented once, on the first short term that needs it."""
    state: dict[str, Any] = {}

    def accept(start: int, end: int) -> bool:
        if end - start > 2:
            return True
        if not state:
            jieba = state["jieba"] = _jieba()
            tokens = [(a, b) for _, a, b in jieba.tokenize(sentence)]
            state["bounds"] = {a for a, _ in tokens} | {len(sentence)}
            state["tokens"] = tokens
        bounds = state["bounds"]
        if start in bounds and end in bounds:
            return True
        inside = any(a <= start and end <= b for a, b in state["tokens"])
        return inside and state["jieba"].dt.FREQ.get(sentence[start:end], 0) > 0

    return accept


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


class _Extractor:
    def __init__(self, vocab: Vocabulary, language: str, path: str, options: ExtractOptions) -> None:
        self.vocab = vocab
        self.language = language
        self.path = path
        self.options = options
        self.names = _sdk_names(options.vocabulary_dir)
        self.statements: list[Statement] = []
        self.parties: list[DisclosedParty] = []
        self.block = -1
        self._previous: list[Match] = []  # affirmed data terms of the previous sentence of this block
        self._previous_named: list[Match] = []  # every data term it named, whatever its verb
        self._named: set[str] = set()  # ambiguous SDK names ("Adjust") already read as names in this document
        self.topics: dict[str, tuple[str, str | None]] = {}  # topic -> (first evidence, heading it sits under)
        self.section_title: str | None = None
        self._weak_topics: set[str] = set()  # topics whose evidence so far is only a heading
        self._user_lead = False  # the items below a lead-in line in which the user acts ("You can:")
        self._defined: dict[str, set[str]] = {}  # umbrella -> the data types the policy's own label list gives it
        self._we: set[str] = set()  # names the policy defines as "we" ("Acme Inc. (“Acme,” “we,” or “us”)")

    # -- document walk ---------------------------------------------------------------------------
    def run(self, document: PolicyDocument) -> Declaration:
        for block in document.blocks[:200]:
            for found in _WE_DEFINED.finditer(_fold(block.text)):
                self._we.update(n.strip() for n in _QUOTED.findall(found.group(0)) if n.strip() not in _WE_WORDS)
        sdk_rows: set[int] = set()
        for rows in document.tables:
            records = table_records(rows, self.vocab)
            if records is not None:
                sdk_rows.update(id(row) for row in rows)
                for record in records:
                    self._sdk_record(record)
        records, used_blocks = text_records(document.blocks, self.vocab)
        # "Definitions / Personal data: your name, email…" has the shape of a plain-text SDK record; in a
        # definitions section it is what personal data may be, not an SDK.
        definitions = self._definition_blocks(document.blocks)
        for record in records:
            if definitions.isdisjoint(record.blocks):
                self._sdk_record(record)
            else:
                used_blocks.difference_update(record.blocks)
        # (level, action, kind) of the open sections; kind is a TOPIC_SECTIONS kind ("definitions", "rights")
        headings: list[tuple[int, str | None, str | None]] = []
        lead: str | None = None  # action of a lead-in line ("We collect:") for the items below it
        for index, block in enumerate(document.blocks):
            if id(block) in sdk_rows or index in used_blocks:
                continue
            if block.kind == "heading":
                action = self._heading_action(block.text)
                kinds = self._note_topics(block.text, block, heading=True)
                while headings and headings[-1][0] >= block.level:
                    headings.pop()
                # A heading that names a practice ("Information we collect and your choices") is a practice's.
                kind = None if action else next(iter(kinds), None)
                headings.append((block.level, action, kind or (headings[-1][2] if headings else None)))
                self.section_title = block.text[:120]
                lead = None
                continue
            section_kind = headings[-1][2] if headings else None
            if section_kind is not None:
                # Definitions say what personal information *may* be; a rights section what the user can do
                # ("you can access and correct your name and email"): neither declares a practice.
                for sentence in _sentences(block.text):
                    self._note_topics(sentence, block)
                self._update_user_lead(block)
                continue
            section = next((a for _, a, _ in reversed(headings) if a), None)
            context = lead if block.kind in ("item", "row") and lead else section
            if block.kind == "row" and block.table is not None:
                header = document.tables[block.table][0]
                context = context or self._heading_action(" ".join(header.cells))
                if context == "shared" and block is not header and self._processors_only(header, block):
                    context = "collected"
            last_action = None
            self.block = index
            self._previous = []
            self._previous_named = []
            for sentence in _sentences(block.text):
                self._note_topics(sentence, block)
                last_action = self._sentence(sentence, block, context) or last_action
            if block.kind == "para":
                lead = last_action if block.text.rstrip().endswith((":", "：")) else None
            self._update_user_lead(block)
        # The page footer is no policy text, but it often names who runs the site and how to reach them
        # ("© 2025 Chirp Inc. · Contact"): it may state those topics when the policy itself did not.
        for block in document.footer:
            for topic, evidence in self._topics_in(block.text, block).items():
                if self.vocab.topics[topic].group == "identity":
                    self.topics.setdefault(topic, evidence)
        if document.truncated:
            log.warning("%s: policy text truncated to its first part; statements after it were not read", self.path)
        return self._declaration()

    def _update_user_lead(self, block: Block) -> None:
        """"Parents can, at any time and from the Parent Dashboard:" -- the items below say what they can do."""
        if block.kind != "item":
            self._user_lead = block.text.rstrip().endswith((":", "：")) and bool(_USER_ACTS.search(_fold(block.text)))

    def _definition_blocks(self, blocks: list[Block]) -> set[int]:
        """Indexes of the blocks of every definitions section, its heading included."""
        out: set[int] = set()
        level: int | None = None  # level of the open definitions heading
        for index, block in enumerate(blocks):
            if block.kind == "heading":
                if level is not None and block.level <= level:
                    level = None
                if level is None and self._heading_action(block.text) is None and any(
                        self.vocab.topics[m.value].section == "definitions"
                        for m in self.vocab.matcher("topics").find(_fold(block.text))):
                    level = block.level
            if level is not None:
                out.add(index)
        return out

    def _topics_in(self, text: str, block: Block) -> dict[str, tuple[str, str | None]]:
        """The topics a footer line names, each with its evidence (cue words and patterns alike)."""
        display, folded = _display_and_folded(text)
        found = {m.value for m in self.vocab.matcher("topics").find(folded)} | {
            spec.id for spec in self.vocab.topics.values() if any(p.search(folded) for p in spec.patterns)}
        return {topic: (f"{self.path}:{block.line}: {display[:400]} [page footer]", None) for topic in found}

    def _note_topics(self, text: str, block: Block, heading: bool = False) -> list[str]:
        """Mark the topics a sentence or heading addresses (first evidence wins); return the section kinds a
        heading opens."""
        display, folded = _display_and_folded(text)
        topics = {m.value for m in self.vocab.matcher("topics").find(folded)}
        if not heading and not (block.kind == "item" and self._user_lead) and not _USER_ACTS.search(folded):
            # "a proxy server that could access your data", "Android saves a copy of your phone's data": a right is
            # stated only where the user is the one who can act.
            topics = {t for t in topics if not self.vocab.topics[t].needs_user}
        for spec in self.vocab.topics.values():
            if spec.patterns and (spec.id not in self.topics or spec.id in self._weak_topics) and spec.id not in topics and \
                    any(p.search(folded) for p in spec.patterns):
                topics.add(spec.id)
        # A heading or a table-of-contents line ("本政策如何更新及如何联系我们") names a topic; a sentence says it.
        # The first sentence replaces a first heading as the evidence.
        weak = heading or (len(display) < 40 and display[-1:] not in ".。;；:：")
        for topic in topics:
            if topic not in self.topics or (not weak and topic in self._weak_topics):
                self.topics[topic] = (f"{self.path}:{block.line}: {display[:400]}",
                                      None if heading else self.section_title)
                if weak:
                    self._weak_topics.add(topic)
                else:
                    self._weak_topics.discard(topic)
        return [spec.section for t in sorted(topics) if (spec := self.vocab.topics[t]).section] if heading else []

    def _processors_only(self, header: Block, row: Block) -> bool:
        """A row whose "Disclosed to" cell names only processors ("Service providers") or nobody."""
        columns = [i for i, cell in enumerate(header.cells) if self._heading_action(cell) == "shared"]
        if not columns or columns[0] >= len(row.cells):
            return False
        cell = re.sub(r"[(（][^)）]*[)）]", " ", row.cells[columns[0]])  # "(approximate location only)"
        parts = [p.strip() for p in re.split(r"[;,/、；，]|\band\b|和|及", _fold(cell)) if p.strip()]
        if not parts:
            return False
        for part in parts:
            found = [m for m in self.vocab.matcher("modifiers").find(part) if m.role == "processor"]
            if not any(m.start == 0 and m.end == len(part) for m in found) and \
                    self._heading_action(part) != "not_shared":  # "Not disclosed", "不共享"
                return False
        return True

    def _heading_action(self, text: str) -> str | None:
        folded = _fold(text)
        verbs = self.vocab.matcher("verbs").find(folded)
        roles = {m.role for m in verbs}
        negated = any(m.role == "negation" for m in self.vocab.matcher("modifiers").find(folded))
        if roles & {"share", "sell"} or ("share_weak" in roles and "recipient" in roles):
            return "not_shared" if negated else "shared"
        if "collect" in roles:
            return "not_collected" if negated else "collected"
        return None

    # -- one sentence ----------------------------------------------------------------------------
    def _sentence(self, sentence: str, block: Block, context: str | None) -> str | None:
        display, folded = _display_and_folded(sentence)
        accept = _segment_checker(folded) if self.language == "zh" and self.options.segment else None
        named = _drop_non_data(self._data_terms(folded, accept), folded)
        data = _drop_labels(named, folded)
        for label in named[:1]:
            if label.role == "umbrella" and label not in data:
                # "设备信息：手机型号、系统版本、内存占用": the policy says what its "device information" is, and the
                # same words elsewhere in it mean those items, not everything the umbrella usually covers.
                self._defined.setdefault(label.value, set()).update(
                    t for m in data if m.role == "data" for t in self._types(m)[0])
        data = _drop_listed_umbrellas(self._coordinated(data, folded), folded)
        named_sdks = self.names.in_prose(display, folded, self._named)
        websites = [s for s in named_sdks if _named_as_website(folded, s)]
        sdks = [s for s in named_sdks if not _named_as_absent(folded, s) and s not in websites]
        verbs = [v for v in self.vocab.matcher("verbs").find(folded, accept)
                 if not any(d.start < v.end and v.start < d.end for d in data)
                 and not any(w.start <= v.start and v.end <= w.end for w in websites)  # "Google" of a web site
                 and not (self.language == "en" and v.role in ("collect", "share", "share_weak")
                          and _DETERMINER.search(folded, max(0, v.start - 8), v.start))]
        modifiers = self.vocab.matcher("modifiers").find(folded)
        # A purpose word inside a data term is not a purpose: "advertising identifier" is no advertising.
        purpose_matches = [m for m in self.vocab.matcher("purposes").find(folded)
                           if not any(d.start < m.end and m.start < d.end for d in data)]
        purposes = sorted({m.value for m in purpose_matches})
        clauses = [m.start() for m in _CLAUSE_RE.finditer(folded)]
        company = _LEADING_COMPANY.match(display) if len(display) == len(folded) else None
        if company is not None and not any(s.start < company.end(1) for s in sdks):
            # "5. GameAnalytics (GameAnalytics ApS) – receives …": a company outside our catalog is still a
            # recipient when the item introduces it with its legal name.
            sdks = [Match(company.start(1), company.end(1), "recipient", "", folded[company.start(1):company.end(1)]),
                    *sdks]
        # The developer's own name ("Embrace collects your e-mail" in Embrace's policy) is "we", no recipient.
        events = self._events(folded, verbs, modifiers, clauses, [s for s in sdks if s.term not in self._we])
        role_cues = self.vocab.matcher("roles").find(folded)
        if _entrusted_only(role_cues, verbs, sdks):
            # "We share crash reports with our service providers", "Crashlytics processes them on our behalf":
            # Play does not count a transfer to a service provider as sharing, so the data is collected.
            events = [dataclasses.replace(e, action="collected") if e.action == "shared" and not e.negated else e
                      for e in events]
        if any(m.role == "corporate" for m in modifiers):
            # "In a merger … your data may be transferred to the buyer": Play does not count a transfer in a
            # merger, acquisition or insolvency as sharing; the data is still collected.
            events = [dataclasses.replace(e, action="collected") if e.action == "shared" and not e.negated else e
                      for e in events]
        if any(m.role == "deidentified" for m in modifiers):
            # "De-identified data has had names removed and is shared with researchers": no personal data shared.
            events = [e for e in events if e.action != "shared" or e.negated]
        stays = False
        if _ON_DEVICE.search(folded):
            # "…processed on your device", "…is not sent to our servers", "数据会保留在您的设备上": processing on the
            # device is no collection (Play); a denied upload to the developer's servers denies collection.
            stays = _NOT_TO_SERVERS.search(folded) is not None
            kept = []
            for e in events:
                if e.negated or e.action != "collected" or folded[e.start:e.end] not in _PROCESSING_VERBS:
                    kept.append(e)
                elif stays:
                    kept.append(dataclasses.replace(e, negated=True, condition=None))
            events = kept
        negations = [m for m in modifiers if m.role == "negation"]
        source = f"{self.path}:{block.line}: {display if len(display) <= 400 else display[:397] + '...'}"
        first_action: str | None = None
        if events:
            first_action = _negate(events[0].action) if events[0].negated else events[0].action
        # A sentence whose only verbs were cancelled ("we do not sell ...", "... except as described") says
        # nothing: it must not fall back to the section's action either.
        had_verbs = any(v.role in ("collect", "share", "share_weak", "sell") for v in verbs)
        conditions = _conditions(display, folded, modifiers, clauses)
        if _is_definition(folded, modifiers, verbs):
            # "Personal information means any information such as your name or location": what data may be, not
            # what is collected.  The sentence still names its SDKs below.
            data, events = [], []
        assigned: set[int] = set()  # ids of the events that took a data term of their own
        taken: dict[int, list[Match]] = {}  # the data terms each event took
        affirmed_here: list[Match] = []
        for match in data:
            event = _nearest_event(match, events, clauses)
            if event is not None:
                assigned.add(id(event))
                taken.setdefault(id(event), []).append(match)
                negated = event.negated
                if self.language == "en" and _denied_term(folded, match, event, negations, clauses):
                    negated = True  # "we receive your purchase history but never see your card number"
                action = _negate(event.action) if negated else event.action
                self._add(match, action, source, event.condition or conditions.get(
                    bisect.bisect_right(clauses, match.start)), purposes)
                if not negated:
                    affirmed_here.append(match)
            elif stays:  # "your precise location may be processed …; it is not sent to our servers"
                self._add(match, "not_collected", source, None, [])
            elif not had_verbs and context:
                self._add(match, context, source, conditions.get(bisect.bisect_right(clauses, match.start)),
                          purposes)
                if not context.startswith("not_"):
                    affirmed_here.append(match)
        # "We collect your location and share it with advertisers": an affirmed sharing verb with no data of
        # its own shares what the sentence collected, or, when the sentence names none and points back
        # ("我们会将上述信息提供给骑手"), what the previous sentence of the paragraph collected.
        # "… and we do not share it with advertisers": a denied sharing verb that points back with a pronoun
        # denies sharing what the sentence (or the previous one) collected.
        for index, event in enumerate(events):
            if event.action != "shared" or id(event) in assigned:
                continue
            if event.negated and index and (partner := events[index - 1]).negated and id(partner) in taken and \
                    _VERB_LINK.fullmatch(folded, partner.end, event.start):
                # "These files are not uploaded or shared": the coordinated verbs deny the same data.
                for match in taken[id(partner)]:
                    self._add(match, "not_shared", source, None, [])
                continue
            if event.negated:
                pronoun = _PRONOUN_RE.search(folded[max(0, event.start - 8):event.end + 24])
                if pronoun is None:
                    continue
                earlier = [m for m in affirmed_here if m.start < event.start] or [
                    m for m in data if m.start < event.start]
                if not earlier and not data:
                    # "Your email address is used to reset your password. We don't share it": "it" is the
                    # previous sentence's subject, its first term; "them", "this information" take all.
                    singular = pronoun.group() in _SINGULAR_PRONOUNS
                    earlier = self._previous_named[:1] if singular else self._previous_named
                for match in earlier:
                    self._add(match, "not_shared", source, None, [])
                continue
            earlier = [m for m in data if m.start < event.start]
            if not data and _PRONOUN_RE.search(folded):
                earlier = self._previous
            elif not earlier and not _PRONOUN_RE.search(folded[event.start:]):
                continue
            for match in earlier:
                self._add(match, "shared", source, event.condition, purposes)
        if sdks:
            all_denied = bool(events) and all(e.negated for e in events)
            roles = _party_roles(sdks, role_cues)
            for sdk, own_data, own_purposes in _sdk_segments(sdks, data, purpose_matches):
                name = display[sdk.start:sdk.end] if len(display) == len(folded) else sdk.term
                types = [] if all_denied else sorted({dt for m in own_data for dt in self._types(m)[0]})
                self._party(name, sdk.value or None, types, sorted({m.value for m in own_purposes}), source,
                            roles.get(id(sdk)))
        if data:
            # "…collect … the device location. This information is stored locally. The collected data can be
            # shared to …": a sentence that names no data leaves the earlier one as what "it" points to.
            self._previous = affirmed_here
            self._previous_named = data
        return first_action or (context if data and not had_verbs else None)

    def _data_terms(self, folded: str, accept: Callable[[int, int], bool] | None) -> list[Match]:
        """Data-type and umbrella terms of a folded text (phrases on the ignore list matched and dropped)."""
        return [m for m in self.vocab.matcher("data").find(folded, accept) if m.role != "ignore"]

    def _coordinated(self, data: list[Match], folded: str) -> list[Match]:
        """"health and fitness information": the head noun of the second term applies to the first word too."""
        out = list(data)
        for match in data:
            head = _HEAD_NOUN.search(match.term)
            if head is None:
                continue
            before = _COORDINATED.search(folded, 0, match.start)
            if before is None or any(d.start < match.start and d.end > before.start(1) for d in data):
                continue
            for candidate in self.vocab.matcher("data").find(f"{before.group(1)} {head.group(1)}"):
                if candidate.start == 0 and candidate.role != "ignore" and candidate.end == len(before.group(1)) \
                        + 1 + len(head.group(1)):
                    out.append(Match(before.start(1), before.end(1), candidate.role, candidate.value, candidate.term))
        return sorted(out, key=lambda m: m.start)

    def _events(self, folded: str, verbs: list[Match], modifiers: list[Match], clauses: list[int],
                sdks: list[Match]) -> list[_Event]:
        # A named SDK is a recipient too: "Adjust receives your advertising ID" is sharing; "we use Crashlytics
        # to collect" / "我们会使用Firebase Crashlytics收集" names a tool of ours, not a recipient.
        recipients = [v for v in verbs if v.role == "recipient"] + [
            s for s in sdks if not _INSTRUMENT.search(folded[max(0, s.start - 12):s.start])]
        negations = [m for m in modifiers if m.role == "negation"]
        legal = [m for m in modifiers if m.role == "legal"]
        exceptions = [m for m in modifiers if m.role == "exception" and not _legal_exception(m, legal, folded)]
        window = _NEGATION_WINDOW[self.language]
        # "…unless you choose to share them through other apps": the verbs of the user's own act are no practice.
        own_acts = [(e.end, act.end()) for e in exceptions if re.match(r"\s*(you|您)", folded[e.end:e.end + 4])
                    and (act := _USER_OWN_ACT.search(folded, e.end, e.end + 90)) is not None]
        events = []
        for verb in verbs:
            clause = bisect.bisect_right(clauses, verb.start)
            if verb.role in ("recipient", "neutral") or any(a <= verb.start < b for a, b in own_acts):
                continue
            same_clause_recipient = any(bisect.bisect_right(clauses, r.start) == clause for r in recipients)
            action = "collected" if verb.role == "collect" else "shared"
            if verb.role == "share_weak" and not same_clause_recipient:
                # "You can optionally provide your phone number": the user gives it to us, which is collection.
                if not _USER_GIVES.search(folded, max(0, verb.start - 40), verb.start):
                    continue
                action = "collected"
            # "由第三方平台提供", "provided by our partners", "received from": the third party is where the data
            # comes from, so this is collection, not sharing.
            if verb.role in ("share", "share_weak") and any(
                    _you_by(folded, r, verb) or (r.start >= verb.end and _FROM_SOURCE.fullmatch(folded[verb.end:r.start]))
                    for r in recipients):
                action = "collected"
            # "Failure reports are shared only with the developer": the developer is the app's side, so this is
            # collection.
            if verb.role in ("share", "share_weak") and _TO_US.match(folded, verb.end):
                action = "collected"
            # "Third-party SDKs collect ..." / "第三方SDK会收集": a third party collecting is sharing.
            # ... but not "we use X, a Google service, to collect": an infinitive's subject is "we".
            if verb.role == "collect" and not folded[max(0, verb.start - 3):verb.start] == "to " and any(
                    r.end <= verb.start and bisect.bisect_right(clauses, r.start) == clause
                    and not _FIRST_PERSON_RE.search(folded[r.end:verb.start]) for r in recipients):
                action = "shared"
            # The passive names the third party after the verb: "identifiers are collected by Crashlytics",
            # "由第三方SDK收集" before it.
            if verb.role == "collect" and any(
                    _you_by(folded, r, verb) or (r.start >= verb.end and _BY_AGENT.fullmatch(folded[verb.end:r.start]))
                    for r in [*recipients, *sdks]):  # "by Crashlytics" is the agent here, no tool of ours
                action = "shared"
            negated = any(n.end <= verb.start + 1 and verb.start - n.end <= (
                window if n.term not in ("neither", "nor") else 80)  # "Neither A nor B – nor C – receives"
                          and bisect.bisect_right(clauses, n.start) == clause for n in negations)
            if not negated and _subject_negated(folded, verb, verbs, clauses[clause - 1] if clause else 0):
                negated = True  # "No personal information, such as names or e-mail addresses, is collected"
            condition = None
            # An exception belongs to the last denial before it: in "X is not shared, and we will not use it
            # for marketing unless you tick the box" the "unless" lifts the second denial, not the first.
            own = [e for e in exceptions if not any(verb.end <= n.start < e.start for n in negations)]
            if negated and own:
                # "We do not collect X unless you enable Y" is conditional collection; "we do not share
                # except as described" says nothing either way.
                unless_you = [e for e in own if re.match(r"\s*(you|您)", folded[e.end:e.end + 4])]
                if not unless_you:
                    continue
                # "…not uploaded or shared unless you choose to do so through other apps": what the user then
                # does with another app is the user's act, not the app's collection; the denial stands.
                if not all(_USER_OWN_ACT.search(folded, e.end, e.end + 90) for e in unless_you):
                    negated = False
                    condition = folded[unless_you[0].start:unless_you[0].start + 80].split(",")[0]
            if negated and verb.role == "sell":
                continue  # "we do not sell your data" denies neither collection nor sharing
            events.append(_Event(verb.start, verb.end, action, negated, clause, condition))
        return events

    # -- recording -------------------------------------------------------------------------------
    def _types(self, match: Match) -> tuple[list[str], str]:
        if match.role == "umbrella":
            return list(self.vocab.umbrella_covers.get(match.value, [])), "inferred"
        return [match.value], "stated"

    def _add(self, match: Match, action: str, source: str, condition: str | None, purposes: list[str]) -> None:
        data_types, confidence = self._types(match)
        for data_type in data_types:
            self.statements.append(Statement(data_type, action, confidence, source, condition, purposes,
                                             match.term if confidence == "inferred" else None, self.block,
                                             match.value if confidence == "inferred" else None))

    def _sdk_record(self, record: SdkRecord) -> None:
        fields = record.fields
        sdk_id = self.names.match_cell(fields.get("name", ""), fields.get("company", ""))
        data_matches: list[Match] = []
        text = fields.get("data", "")
        if text:
            folded = _fold(text)
            data_matches = self._data_terms(folded, _segment_checker(folded) if self.language == "zh"
                                            and self.options.segment else None)
        purposes = sorted({m.value for m in self.vocab.matcher("purposes").find(_fold(fields.get("purpose", "")))})
        source = f"{self.path}:{record.line}: {record.source[:400]}"
        self.topics.setdefault("sdk_list", (source, self.section_title))
        role = _role_of(self.vocab.matcher("roles").find(_fold(" ".join(fields.values()))))
        data_types: list[str] = []
        for match in data_matches:
            # The SDK receives the data: collected by the app (Play counts SDK collection) and shared -- unless
            # the row says the SDK is the app's service provider ("受托处理"), which Play does not count as sharing.
            self._add(match, "collected" if role == "service_provider" else "shared", source, None, purposes)
            for data_type in self._types(match)[0]:
                if data_type not in data_types:
                    data_types.append(data_type)
        gaps = [gap for gap, column in (("purpose", "purpose"), ("personal information", "data"),
                                        ("company", "company")) if not fields.get(column, "").strip()]
        self._party(record.name, sdk_id, data_types, purposes, source, role, listed=True,
                    company=fields.get("company", "").strip() or None, gaps=gaps)

    def _party(self, name: str, sdk_id: str | None, data_types: list[str], purposes: list[str], source: str,
               role: str | None = None, listed: bool = False, company: str | None = None,
               gaps: list[str] | None = None) -> None:
        for party in self.parties:
            if (sdk_id and party.sdk_id == sdk_id) or (not sdk_id and party.name == name):
                party.data_types.extend(d for d in data_types if d not in party.data_types)
                party.purposes.extend(p for p in purposes if p not in party.purposes)
                party.role = party.role or role
                party.company = party.company or company
                if listed and not party.listed:  # the SDK list's row is the evidence the completeness rule shows
                    party.listed, party.source, party.list_gaps = True, source, list(gaps or [])
                elif listed:  # a second row for the same SDK fills what the first left out
                    party.list_gaps = [g for g in party.list_gaps if g in (gaps or [])]
                return
        self.parties.append(DisclosedParty(name=name.strip(), sdk_id=sdk_id, data_types=list(data_types),
                                           purposes=list(purposes), source=source, role=role, listed=listed,
                                           company=company, list_gaps=list(gaps or [])))

    def _declaration(self) -> Declaration:
        declaration = Declaration(kind=KIND, path=self.path, language=self.language)
        by_type: dict[str, list[Statement]] = {}
        for statement in _drop_shadowed(self.statements, self.vocab.umbrella_covers):
            if statement.umbrella in self._defined and statement.data_type not in self._defined[statement.umbrella]:
                continue
            by_type.setdefault(statement.data_type, []).append(statement)
        for data_type in sorted(by_type, key=list(DATA_TYPES).index):
            entry = _merge(data_type, by_type[data_type])
            if entry is not None:
                declaration.data_types[data_type] = entry
        declaration.parties = self.parties
        declaration.policy_topics = self._policy_topics(declaration)
        return declaration

    def _policy_topics(self, declaration: Declaration) -> list[PolicyTopic]:
        """Every checked topic, found or not; structure topics (definitions…) only shape the reading.  Purposes are
        asked for only when the policy says it collects something, and are found as well where a data type or
        a party carries one."""
        collected = [d for d in declaration.data_types.values() if d.collected]
        with_purpose = next((d for d in collected if d.purposes or d.shared_purposes), None) or next(
            (p for p in declaration.parties if p.purposes), None)
        if with_purpose is not None and with_purpose.source:
            self.topics.setdefault("purposes", (with_purpose.source, None))
        out = []
        for spec in self.vocab.topics.values():
            if spec.section is not None or (spec.id == "purposes" and not collected):
                continue
            source, section = self.topics.get(spec.id, (None, None))
            out.append(PolicyTopic(spec.id, spec.group, spec.label, spec.label_zh, source is not None, source,
                                   section))
        return out


def _merge(data_type: str, statements: list[Statement]) -> DeclaredDataType | None:
    """One data type from all its statements: stated beats inferred, an explicit denial beats an inference."""
    def pick(action: str) -> list[Statement]:
        return [s for s in statements if s.action == action]

    collected = pick("collected") + pick("shared")
    shared = pick("shared")
    stated_collected = [s for s in collected if s.confidence == "stated"]
    stated_shared = [s for s in shared if s.confidence == "stated"]
    denied = bool(pick("not_collected")) and not stated_collected
    share_denied = bool(pick("not_shared")) and not stated_shared
    if denied:
        collected, shared = [], []
    if share_denied:
        shared = []
    if not collected and not shared and not denied and not share_denied:
        return None
    affirmed = stated_collected or collected
    evidence = affirmed or pick("not_collected") or pick("not_shared")
    first = evidence[0]
    source = first.source if first.confidence == "stated" else f"{first.source} [inferred from {first.via!r}]"
    conditions = sorted({s.condition for s in collected if s.condition})
    return DeclaredDataType(
        data_type=data_type, collected=bool(collected), shared=bool(shared),
        purposes=sorted({p for s in collected if s.action == "collected" for p in s.purposes}),
        shared_purposes=sorted({p for s in shared for p in s.purposes}),
        optional=True if collected and all(s.condition for s in collected) else None,
        source=source, confidence="stated" if (stated_collected or not collected) else "inferred",
        denied=denied, share_denied=share_denied, conditions=conditions)


def _named_as_absent(folded: str, sdk: Match) -> bool:
    """"The app does not include any analytics code, such as Google Analytics", "我们未集成友盟": the SDK is named as
    one the app does not use, so it is no disclosed party."""
    start = max([sdk.start - 160] + [folded.rfind(c, 0, sdk.start) + 1 for c in ";；。!?"])
    return _ABSENT.search(folded, start, sdk.start) is not None


_ON_DEVICE = re.compile(r"\bon (?:your|the|this) device\b|\blocally\b|\bstays? on your device|"
                        r"\bnot (?:be )?(?:sent|uploaded|transmitted) to (?:our|[\w.]+'s?) servers?|"
                        r"(?:您的?|本)设备上|保留在您的设备|(?:不会|不)被?(?:发送|上传|传输)(?:到|至)[^，。；]{0,16}服务器")
_NOT_TO_SERVERS = re.compile(r"\bnot (?:be )?(?:sent|uploaded|transmitted) to (?:our|[\w.]+'s?) servers?|"
                             r"(?:不会|不)被?(?:发送|上传|传输)(?:到|至)[^，。；]{0,16}服务器")
# Only "process"/"access": the fixture readings keep "the app reads your contacts on your device" as collection.
_PROCESSING_VERBS = frozenset({"process", "processes", "processed", "access", "accesses", "accessed", "处理", "访问"})


# "Acme Mobile, Inc. (“Acme,” “Acme.io,” “we,” or “us”)", "（以下简称“Acme”或“我们”）": the names that mean "we".
_WE_DEFINED = re.compile(r"[(（][^()（）]{0,120}[\"“'](?:we|us|our|我们)[\"”'][^()（）]{0,60}[)）]")
_QUOTED = re.compile(r"[\"“']([^\"“”']{2,40}?)[,，]?[\"”']")
_WE_WORDS = frozenset({"we", "us", "our", "我们", "services", "service", "app", "本应用"})


def _named_as_website(folded: str, sdk: Match) -> bool:
    """"for websites like Google Maps", "用于 Google Maps 等网站": a web site the user visits, not an SDK the app
    embeds."""
    return _WEBSITE_BEFORE.search(folded, max(0, sdk.start - 60), sdk.start) is not None or \
        _WEBSITE_AFTER.match(folded, sdk.end) is not None


_WEBSITE_BEFORE = re.compile(r"\b(?:websites?|web\s?sites?|sites|web pages?|webpages?)\s+(?:like|such as|including|e\.g\.,?)"
                             r"\s+(?:[\w.\-]+(?:\s[\w.\-]+)?\s*(?:,|\bor\b|\band\b)\s*)*$")
_WEBSITE_AFTER = re.compile(r"\s*(?:等|之类的)?(?:网站|网页)|\s*(?:website|web site|\.com)\b")


_ABSENT = re.compile(r"\b(?:do|does|did|will)\s+not\s+(?:include|use|contain|integrate|embed|ship)|"
                     r"\b(?:doesn't|don't|won't|never)\s+(?:include|use|contain|integrate|embed)|"
                     r"\bno\s+(?:third[- ]party\s+|3rd[- ]party\s+)?(?:sdks?|libraries|trackers?|tracking|analytics|ads)\b|"
                     r"(?:不会|没有|未|不)(?:集成|接入|使用|包含|嵌入)")


def _drop_non_data(data: list[Match], folded: str) -> list[Match]:
    """Terms that are no data of the user's here: the people a link is sent to ("发送给您指定的联系人",
    "share your trip with your contacts"), and "files" right after the data they hold ("录音文件",
    "photo files": that is audio, those are photos)."""
    out = []
    for match in data:
        if _PERMISSION_AFTER.match(folded, match.end):
            continue
        if _MODIFIES_NOUN.match(folded, match.end) or _PURPOSE_OBJECT.search(folded, max(0, match.start - 24),
                                                                             match.start):
            # "fused location provider", "location-related features", "根据地理位置不同": the term qualifies
            # another noun or a rule, not data; "to improve app performance" is a purpose, not diagnostics.
            continue
        if _OTHERS_DATA.search(folded, max(0, match.start - 24), match.start):
            continue  # "接收方的名称和联系方式", "the recipient's name and contact details": not the user's data
        if folded.endswith("their ", 0, match.start) and _OTHER_PEOPLE.search(folded):
            continue  # "information about your friends when you invite them, such as their phone number"
        if match.role == "data" and match.value == "contacts" and _TO_RECIPIENT.search(
                folded, max(0, match.start - 16), match.start):
            continue
        if match.role == "data" and match.value == "files_and_docs" and any(
                other is not match and other.role == "data" and 0 <= match.start - other.end <= 1
                for other in data):
            continue
        out.append(match)
    return out


_OTHERS_DATA = re.compile(r"(?:(?:接收方|受让方|对方|合作方|第三方)的(?:[\u4e00-\u9fff]{1,6}[和及、与])?"
                          r"|(?:他人|好友|朋友|其他用户)的(?:[\u4e00-\u9fff]{1,6}[和及、与])?"
                          r"|(?:员工|工作人员|我们|服务器)(?:所在)?的"  # "我们员工所在的位置": our staff's, not the user's
                          r"|\b(?:recipient|recipients|buyer|acquirer|partner|partners|third party|friends?|"
                          r"contacts|other users|other people)'s?\s+"
                          r"(?:[a-z]+\s+(?:and|or)\s+)?)$")
_OTHER_PEOPLE = re.compile(r"\b(?:friends?|other users|other people|people you|recipients?|invitees?|family members|"
                           r"your contacts)\b")
_MODIFIES_NOUN = re.compile(r"(?:-related|-based|\s+(?:providers?|services?|service providers?|apis?|servers?|"
                            r"engines?|sdks?|libraries|library|functionality|features?)\b)|"
                            r"\s*(?:相关的?功能|相关|服务商|服务器|的?不同|而异|而有所不同)")
_PURPOSE_OBJECT = re.compile(r"(?:\b(?:to\s+)?(?:improve|improving|optimi[sz]e|optimi[sz]ing|enhance|enhancing)\s+"
                             r"(?:the\s+|our\s+|your\s+)?|(?:提升|改善|优化|提高)(?:应用的?|app的?|产品的?)?)$")
_PERMISSION_AFTER = re.compile(r"\s*(?:权限|permission\b|permissions\b)")
# A recipient position: "…给/向 (您指定的) 联系人", "…with (all) your (selected) contacts" (not "access to
# your contacts": after "to" the contacts are as often the data as the audience).
_TO_RECIPIENT = re.compile(r"(?:[给向]|\bwith)\s*(?:all\s+|some\s+of\s+)?(?:your\s+|您的|您|the\s+)?"
                           r"(?:指定的|选择的|selected\s+|chosen\s+|emergency\s+)?$")


def _drop_labels(data: list[Match], folded: str) -> list[Match]:
    """'账号信息：手机号码、昵称' -- a term followed by a colon and more terms is a label for them."""
    out = []
    for index, match in enumerate(data):
        if match.start <= 3 and folded[match.end:match.end + 2].lstrip()[:1] in (":", "：") \
                and index + 1 < len(data):
            continue
        out.append(match)
    return out


def _drop_shadowed(statements: list[Statement], covers: dict[str, list[str]]) -> list[Statement]:
    """An umbrella term next to a precise one refers to it: in "we collect your precise location ... we collect
    location only during a workout", "location" does not add approximate location.  Same block only."""
    stated = {(s.block, s.data_type) for s in statements if s.confidence == "stated" and s.block >= 0}
    kept = []
    for s in statements:
        if s.umbrella and s.block >= 0 and any((s.block, other) in stated
                                               for other in covers.get(s.umbrella, []) if other != s.data_type):
            continue
        kept.append(s)
    return kept


_INSTRUMENT = re.compile(r"(?:\b(?:use|uses|using|used|via|through|with|by)|使用|通过|借助|利用|接入|集成|采用)\s*(?:the\s+)?$")
_HEAD_NOUN = re.compile(r"^\w+ (information|data|info|details|records)$")
_LEADING_COMPANY = re.compile(
    r"^\s*(?:\d+[.)]\s*|[-•*]\s*)?([A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,3})\s*\([^()]{0,60}\b(?:Inc|LLC|Ltd|Limited|"
    r"GmbH|ApS|AB|AG|B\.V|BV|S\.A|SA|SAS|Corp|Corporation|Pte|Oy|AS|KK|PLC|plc)\.?\)\s*[-–—:,]?")
_FROM_SOURCE = re.compile(r"\s+(?:by|from)\s+(?:the\s+|our\s+|these\s+|other\s+)?")
_BY_AGENT = re.compile(r"\s+by\s+(?:the\s+|our\s+|these\s+|your\s+(?:default\s+|chosen\s+|selected\s+)?)?")
_COORDINATED = re.compile(r"\b([a-z]+) (?:and|or|&) $")
_FILLER_WORDS = 3  # at most this many words between a negation and the data term it denies
_STOP_GAP = re.compile(r"[,.;:()\[\]\"“”]")


def _denied_term(folded: str, match: Match, event: _Event, negations: list[Match], clauses: list[int]) -> bool:
    """A negation right before a data term, after its verb: "we collect your name but not your email"."""
    clause = bisect.bisect_right(clauses, match.start)
    for n in negations:
        if n.end > match.start or (n.start < event.end and event.clause == clause):
            continue
        gap = folded[n.end:match.start]
        if _STOP_GAP.search(gap) or len(gap.split()) > _FILLER_WORDS:
            continue
        if re.search(r"\b(you|users?)\s*$", folded[max(0, n.start - 8):n.start]):
            continue  # "if you do not provide your email": the user's choice, not a denial
        return True
    return False


def _drop_listed_umbrellas(data: list[Match], folded: str) -> list[Match]:
    """'日志信息（包括浏览记录、搜索记录）', 'device information, including the model and Android ID': an umbrella
    followed by what it includes stands for those items, not for everything it usually covers."""
    out = []
    for index, match in enumerate(data):
        if match.role == "umbrella" and _LIST_OPENER.match(folded, match.end) and any(
                other.role == "data" and match.end <= other.start <= match.end + 80 for other in data[index + 1:]):
            continue
        out.append(match)
    return out


_LIST_OPENER = re.compile(r"\s*(?:[(（]\s*)?(?:,\s*)?(?:including|such as|e\.g\.|i\.e\.|namely|like|包括|包含|例如|如|即|含)"
                          r"|\s*[(（](?=[^()（）]{1,60}[)）])")  # "the device location (coordinates)", "位置（经纬度）"


_CUE_ROLE = {"entrusted": "service_provider", "controller": "third_party"}


def _entrusted_only(role_cues: list[Match], verbs: list[Match], sdks: list[Match]) -> bool:
    """A sentence that names only service providers as recipients: an `entrusted` cue, no `controller` cue, and
    no recipient word outside the cues and the SDK names ("Google" in "Google Analytics for Firebase" is the
    SDK; "our service providers and advertising partners" names a third party too)."""
    if not role_cues or any(c.role == "controller" for c in role_cues):
        return False
    spans = [*role_cues, *sdks]

    def named(v: Match) -> bool:  # inside a cue or an SDK name, or the "SDK" word right after a name
        return any(s.start <= v.start and v.end <= s.end for s in spans) or (
            v.term in ("sdk", "sdks") and any(0 <= v.start - s.end <= 1 for s in sdks))

    return not any(v.role == "recipient" and not named(v) for v in verbs)


def _role_of(cues: list[Match]) -> str | None:
    """The party role the cues say; a `controller` cue wins ("a service provider that also uses the data for its
    own purposes" is a third party in Play's terms)."""
    found = {_CUE_ROLE[c.role] for c in cues if c.role in _CUE_ROLE}
    return "third_party" if "third_party" in found else next(iter(found), None)


def _party_roles(sdks: list[Match], cues: list[Match]) -> dict[int, str]:
    """Each SDK mention's role (by id of its match): every role cue goes to the nearest SDK mention, so
    "Crashlytics, our service provider, and AppsFlyer, an independent controller" gives each its own."""
    if not sdks or not cues:
        return {}
    mine: dict[int, list[Match]] = {}
    for cue in cues:
        nearest = min(sdks, key=lambda s: min(abs(cue.start - s.end), abs(s.start - cue.end)))
        mine.setdefault(id(nearest), []).append(cue)
    return {key: role for key, own in mine.items() if (role := _role_of(own)) is not None}


def _sdk_segments(sdks: list[Match], data: list[Match],
                  purposes: list[Match]) -> list[tuple[Match, list[Match], list[Match]]]:
    """Which data and purposes of a sentence go with which SDK.

    "We use Crashlytics to receive crash reports, and AppsFlyer for attribution": each SDK takes what follows
    it up to the next one, an SDK with nothing of its own shares the next one's ("A and B for X"), and what
    comes before the first SDK goes to all.  When fewer than two SDKs have something of their own, the
    sentence is one list ("we share identifiers with A and B") and every SDK takes everything.
    """
    if len(sdks) < 2:
        return [(s, data, purposes) for s in sdks]
    bounds = [s.start for s in sdks[1:]] + [1 << 30]
    own = [([m for m in data if s.end <= m.start < b], [p for p in purposes if s.end <= p.start < b])
           for s, b in zip(sdks, bounds, strict=True)]
    if sum(1 for d, p in own if d or p) < 2:
        return [(s, data, purposes) for s in sdks]
    lead_data = [m for m in data if m.start < sdks[0].start]
    lead_purposes = [p for p in purposes if p.start < sdks[0].start]
    out = []
    for index, sdk in enumerate(sdks):
        later = next(((d, p) for d, p in own[index:] if d or p), ([], []))
        out.append((sdk, lead_data + later[0], lead_purposes + later[1]))
    return out


def _you_by(folded: str, party: Match, verb: Match) -> bool:
    """"由<party>…<verb>" in one clause with no "我们" between: the party does what the verb says (由第三方SDK
    收集: it collects; 由第三方平台提供: it provides, to us)."""
    return (party.end <= verb.start and folded[max(0, party.start - 1):party.start] == "由"
            and not _YOU_BY_BREAK.search(folded, party.end, verb.start))


_YOU_BY_BREAK = re.compile(r"[,，;；]|我们")


def _legal_exception(exception: Match, legal: list[Match], folded: str) -> bool:
    """"except as required by law" (the law right after the cue) or "但法律法规另有规定的除外" (the law between
    the clause's "but" and a trailing 除外): an exception for what the law compels, not for business use."""
    for cue in legal:
        if exception.end <= cue.start <= exception.end + 24:
            return True
        if cue.end <= exception.start and not _CLAUSE_BREAK.search(folded, cue.end, exception.start) and \
                re.search(r"(但|但是|除)[^,;，；。]*$", folded[:cue.start]):
            return True
    return False


_CLAUSE_BREAK = re.compile(r"[,;，；。]")
_USER_ACTS = re.compile(r"\b(?:you|users?|parents?)\s+(?:can|may|could|have|has|are able|will be able|might)\b|"
                        r"\byour right|\bright to\b|\brequest|\bcontact us\b|\bat any time\b|\bin settings\b|"
                        r"您可以|您有权|用户可以|您可通过|您可|申请|请求|您也可以|随时")
# "The log may contain…", "the collected data", "a record": after a determiner the word is a noun or an
# adjective, not the verb of the clause.
_DETERMINER = re.compile(r"\b(?:the|a|an|these|those|its|their|each|every)\s+$")
_TO_US = re.compile(r"\s+(?:only\s+)?(?:with|to)\s+(?:the\s+)?(?:app(?:'s)?\s+)?(?:developers?|us)\b"
                    r"(?!\s+(?:and|or)\s+(?:our\s+|its\s+|the\s+)?(?:partners|third|advertis|affiliates|other))")
# The user as the subject of a weak verb ("you may provide", "if you choose to send us"): data given to us.
_USER_GIVES = re.compile(r"\byou\s+(?:can\s+|may\s+|might\s+|will\s+|choose\s+to\s+|decide\s+to\s+|"
                         r"need\s+to\s+|are\s+asked\s+to\s+)?(?:also\s+)?(?:optionally\s+)?$")


# A negated subject at the head of its clause with the verb in the passive at its end: "No personal data, such
# as names, phone numbers or e-mail addresses, is collected", "None of this information is shared".
_SUBJECT_NO = re.compile(r"[\s,;；:：*_(（]*(?:no|none\s+of)\s+")
_PASSIVE = re.compile(r"\b(?:is|are|be|been|was|were|gets?)\s+(?:ever\s+|ever\s+be\s+)?$")
# The user acting through some other app or on their own ("unless you choose to share them through other apps",
# "除非您自行通过其他应用分享"): not the app's collection.
_USER_OWN_ACT = re.compile(r"\b(?:through|via|using|with|in)\s+(?:an?\s+|any\s+|the\s+)?other\s+(?:apps?|applications?|"
                           r"services?)\b|\byourself\b|\bon your own\b|自行|通过其他(?:应用|软件|app)")


_VERB_LINK = re.compile(r"\s*(?:,\s*)?(?:or|and|nor|或|或者|和|及|、|并)\s*(?:be\s+)?")


def _subject_negated(folded: str, verb: Match, verbs: list[Match], clause_start: int) -> bool:
    head = _SUBJECT_NO.match(folded, clause_start)
    if head is None or _PASSIVE.search(folded, max(0, verb.start - 16), verb.start) is None:
        return False
    # the first verb of the clause: "No account is needed; we collect…" is split, "No X is sent, and Y is" stops
    return not any(head.end() <= v.start < verb.start and v.role in ("collect", "share", "share_weak", "sell")
                   for v in verbs)


def _negate(action: str) -> str:
    return "not_collected" if action == "collected" else "not_shared"


def _nearest_event(match: Match, events: list[_Event], clauses: list[int]) -> _Event | None:
    """The verb a data term belongs to: nearest before it in its clause, else nearest after it in its clause,
    else the last one of an earlier clause ("We collect: your name; your email")."""
    if not events:
        return None
    clause = bisect.bisect_right(clauses, match.start)
    same = [e for e in events if e.clause == clause]
    before = [e for e in same if e.end <= match.start]
    if before:
        return before[-1]
    after = [e for e in same if e.start >= match.end]
    if after:
        return after[0]
    earlier = [e for e in events if e.clause < clause]
    return earlier[-1] if earlier else None


def _conditions(display: str, folded: str, modifiers: list[Match], clauses: list[int]) -> dict[int, str]:
    """The condition of each clause that has one: "我们会收集您的手机号码；如果您使用导航功能，我们会收集您的精确位置"
    makes the location conditional, not the phone number of the clause before."""
    found: dict[int, str] = {}
    text = display if len(display) == len(folded) else folded
    for m in modifiers:
        if m.role == "conditional":
            found.setdefault(bisect.bisect_right(clauses, m.start),
                             re.split(r"[,，;；。]", text[m.start:m.start + 120])[0].strip())
    return found


def _is_definition(folded: str, modifiers: list[Match], verbs: list[Match]) -> bool:
    """A definition cue before the first verb and no "we" in the sentence: "X means …", "个人信息是指…"."""
    cues = [m for m in modifiers if m.role == "definition"]
    if not cues or _FIRST_PERSON_RE.search(folded):
        return False
    first_verb = min((v.start for v in verbs if v.role in ("collect", "share", "share_weak", "sell")), default=1 << 30)
    return cues[0].start < first_verb


def _fold(text: str) -> str:
    return _display_and_folded(text)[1]


def _display_and_folded(text: str) -> tuple[str, str]:
    display = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    return display, display.lower().translate(QUOTE_FOLD)


def _sentences(text: str) -> list[str]:
    out = []
    for part in _SENTENCE_RE.split(text):
        part = part.strip()
        while len(part) > _MAX_SENTENCE:
            out.append(part[:_MAX_SENTENCE])
            part = part[_MAX_SENTENCE:]
        if part:
            out.append(part)
    return out


def check_policy_path(path: Path) -> None:
    """Raise BadDeclaration unless `path` can be read as policy text (for CLI pre-checks)."""
    if not looks_like_policy_text(path):
        raise BadDeclaration("not a privacy policy text file (HTML, Markdown or plain text)", path=str(path))


def extraction_document(declaration: Declaration) -> dict[str, object]:
    """What `divulge policy extract` prints: the declaration with every item's evidence, plain data."""
    data_types: dict[str, object] = {}
    for data_type, entry in declaration.data_types.items():
        item: dict[str, object] = {"collected": entry.collected, "shared": entry.shared}
        if entry.denied:
            item["not_collected"] = True
        if entry.share_denied:
            item["not_shared"] = True
        item["confidence"] = entry.confidence
        for key in ("purposes", "shared_purposes", "conditions"):
            if getattr(entry, key):
                item[key] = list(getattr(entry, key))
        if entry.optional is not None:
            item["optional"] = entry.optional
        item["source"] = entry.source
        data_types[data_type] = item
    parties = [{"name": p.name, "sdk": p.sdk_id, "role": p.role, "data_types": p.data_types, "purposes": p.purposes,
                "source": p.source} for p in declaration.parties]
    topics = [{"topic": t.topic, "found": t.found, **({"source": t.source} if t.source else {})}
              for t in declaration.policy_topics]
    return {"schema": "divulge/policy-text/1", "path": declaration.path, "language": declaration.language,
            "data_types": data_types, "third_parties": parties, "topics": topics}


def render_extraction(declaration: Declaration, fmt: str = "yaml") -> str:
    import json

    import yaml

    document = extraction_document(declaration)
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)
