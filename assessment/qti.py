"""QTI item packages: import QTI 2.1/2.2 and 3.0, export QTI 3.0 items and a test in an IMS content package.

The subset of reference §5: `assessmentItem` with `responseDeclaration`/`correctResponse`, `outcomeDeclaration
SCORE`, a `choiceInteraction` (single, multiple, true/false as a two-option choice) or a `textEntryInteraction`
(numeric, with an absolute tolerance); `assessmentTest` > `testPart` > one `assessmentSection` per item type with
item refs, weights (points per item) and shuffled order. QTI 3.0 names are the 2.x names kebab-cased with a
`qti-` prefix, so one reader serves both through `_Dialect`.

Bank fields that QTI has no place for (鉴定点 code, p, discrimination, enemy group, status…) travel in the
manifest, as a `bank:item` element in each item resource's metadata. Items from other systems lack it: they
come in as drafts with the given occupation and level, the default difficulty and no 鉴定点, for an author to
complete. Scoring in the export: SCORE is 0..1 per item (match_correct; multiple choice: each key option
1/len(key), any wrong option scores 0), the test weights it by points. Bytes in, bytes out; zip entries carry a
fixed timestamp so the same items always give the same package.
"""
from __future__ import annotations

import hashlib
import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from assessment.bank import Item, PaperSpec

QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI2_NAMESPACES = ("http://www.imsglobal.org/xsd/imsqti_v2p1", "http://www.imsglobal.org/xsd/imsqti_v2p2")
CP3 = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
BANK_NS = "urn:exam-platform:question-bank:1"
MATCH_CORRECT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"
MAP_RESPONSE = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml"
ITEM_TYPE_PREFIX = "imsqti_item_xmlv"       # imsqti_item_xmlv2p1, …v2p2, …v3p0
TRUE_FALSE_TEXT = {"T": "正确", "F": "错误"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
BANK_FIELDS = ("id", "version", "occupation", "level", "point_code", "difficulty", "tolerance", "discrimination",
               "enemy_group", "source", "status", "exposure", "last_used")



@dataclass(frozen=True)
class QtiProblem:
    file: str
    reason_zh: str
    reason_en: str

    def message(self, locale: str = "zh-CN") -> str:
        return f"{self.file}：{self.reason_zh}" if locale.startswith("zh") else f"{self.file}: {self.reason_en}"


class QtiImportRejected(ValueError):
    """The package was refused; `problems` lists every bad item. Nothing was imported."""

    def __init__(self, problems: list[QtiProblem]):
        self.problems = problems
        super().__init__("; ".join(p.message("en") for p in problems[:5]))


@dataclass(frozen=True)
class QtiImport:
    items: tuple[Item, ...]
    media: dict[str, bytes] = field(default_factory=dict)     # file name -> bytes


# ---- export --------------------------------------------------------------------------------------------------

def identifier(item: Item) -> str:
    """QTI identifier of one item version; ids that are not XML names are hashed (the real id is in metadata)."""
    base = item.id if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", item.id) else \
        "I" + hashlib.sha1(item.id.encode("utf-8")).hexdigest()[:16]
    return f"{base}_v{item.version}"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs) -> ET.Element:
    """A child element; names stay unqualified under a root that declares xmlns (ElementTree's
    default_namespace option refuses unprefixed attributes)."""
    element = ET.SubElement(parent, name, {k.replace("_", "-"): str(v) for k, v in attrs.items()})
    element.text = text
    return element


def item_xml(item: Item) -> bytes:
    """One QTI 3.0 `qti-assessment-item`."""
    root = ET.Element("qti-assessment-item", {
        "xmlns": QTI3, "identifier": identifier(item), "title": item.stem[:40], "adaptive": "false",
        "time-dependent": "false", "{http://www.w3.org/XML/1998/namespace}lang": "zh-CN"})
    _response_declaration(root, item)
    outcome = _sub(root, "qti-outcome-declaration", identifier="SCORE", cardinality="single", base_type="float")
    _sub(_sub(outcome, "qti-default-value"), "qti-value", "0")
    body = _sub(root, "qti-item-body")
    if item.type == "numeric":
        _sub(body, "p", item.stem)
        _sub(_sub(body, "p"), "qti-text-entry-interaction", response_identifier="RESPONSE", expected_length=12)
    else:
        _choice_interaction(body, item)
    for name in item.media:
        _sub(_sub(body, "p"), "img", src=f"../media/{name}", alt=name)
    _response_processing(root, item)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _response_declaration(root: ET.Element, item: Item) -> None:
    multiple = item.type == "multiple"
    base_type = "float" if item.type == "numeric" else "identifier"
    declaration = _sub(root, "qti-response-declaration", identifier="RESPONSE",
                       cardinality="multiple" if multiple else "single", base_type=base_type)
    correct = _sub(declaration, "qti-correct-response")
    values = list(item.key) if multiple else [repr(float(item.key)) if item.type == "numeric" else item.key]
    for value in values:
        _sub(correct, "qti-value", value)
    if multiple:
        mapping = _sub(declaration, "qti-mapping", default_value=0, lower_bound=0, upper_bound=1)
        for j in range(len(item.options)):
            letter = "ABCDEFGH"[j]
            _sub(mapping, "qti-map-entry", map_key=letter, mapped_value=repr(1 / len(item.key)) if letter in item.key
                 else "-1")


def _choice_interaction(body: ET.Element, item: Item) -> None:
    true_false = item.type == "true_false"
    interaction = _sub(body, "qti-choice-interaction", response_identifier="RESPONSE",
                       shuffle="false" if true_false else "true",
                       max_choices=0 if item.type == "multiple" else 1)
    _sub(interaction, "qti-prompt", item.stem)
    choices = TRUE_FALSE_TEXT.items() if true_false else zip("ABCDEFGH", item.options)
    for letter, text in choices:
        _sub(interaction, "qti-simple-choice", text, identifier=letter)


def _response_processing(root: ET.Element, item: Item) -> None:
    if item.type == "multiple":
        _sub(root, "qti-response-processing", template=MAP_RESPONSE)
    elif item.type != "numeric" or not item.tolerance:
        _sub(root, "qti-response-processing", template=MATCH_CORRECT)
    else:
        processing = _sub(root, "qti-response-processing")
        branch = _sub(_sub(processing, "qti-response-condition"), "qti-response-if")
        tolerance = repr(float(item.tolerance))
        equal = _sub(branch, "qti-equal", tolerance_mode="absolute", tolerance=f"{tolerance} {tolerance}")
        _sub(equal, "qti-variable", identifier="RESPONSE")
        _sub(equal, "qti-correct", identifier="RESPONSE")
        _sub(_sub(branch, "qti-set-outcome-value", identifier="SCORE"), "qti-base-value", "1", base_type="float")


def test_xml(items: list[Item], paper: PaperSpec, test_id: str, title: str) -> bytes:
    """A fixed form: one section per paper section (item type), explicit item refs weighted by points."""
    root = ET.Element("qti-assessment-test", {"xmlns": QTI3, "identifier": test_id, "title": title})
    _sub(root, "qti-outcome-declaration", identifier="SCORE", cardinality="single", base_type="float")
    part = _sub(root, "qti-test-part", identifier="P1", navigation_mode="nonlinear", submission_mode="simultaneous")
    for number, section in enumerate(paper.sections, start=1):
        element = _sub(part, "qti-assessment-section", identifier=f"S{number}", title=section.type, visible="true")
        _sub(element, "qti-ordering", shuffle="true")
        for item in (i for i in items if i.type == section.type):
            ref = _sub(element, "qti-assessment-item-ref", identifier=identifier(item),
                       href=f"../items/{identifier(item)}.xml")
            _sub(ref, "qti-weight", identifier="W", value=repr(float(section.points_each)))
    total = _sub(_sub(_sub(root, "qti-outcome-processing"), "qti-set-outcome-value", identifier="SCORE"), "qti-sum")
    _sub(total, "qti-test-variables", variable_identifier="SCORE", weight_identifier="W")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_package(items, *, paper: PaperSpec | None = None, media: dict[str, bytes] | None = None,
                   test_id: str = "paper", title: str = "理论知识试卷") -> bytes:
    """IMS content package (zip) with imsmanifest.xml, one QTI 3.0 file per item and, given a paper, the test."""
    items, media = list(items), media or {}
    files: dict[str, bytes] = {}
    manifest = ET.Element("manifest", {"xmlns": CP3, "xmlns:bank": BANK_NS, "identifier": f"M-{test_id}"})
    schema = ET.SubElement(manifest, "metadata")
    ET.SubElement(schema, "schema").text = "QTI Package"
    ET.SubElement(schema, "schemaversion").text = "3.0.0"
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    for item in items:
        href = f"items/{identifier(item)}.xml"
        files[href] = item_xml(item)
        resource = _resource(resources, identifier(item), "imsqti_item_xmlv3p0", href, _bank_attributes(item))
        for name in item.media:
            if name in media:
                files[f"media/{name}"] = media[name]
                ET.SubElement(resource, "file", {"href": f"media/{name}"})
    if paper is not None:
        href = f"tests/{test_id}.xml"
        files[href] = test_xml(items, paper, test_id, title)
        resource = _resource(resources, test_id, "imsqti_test_xmlv3p0", href)
        for item in items:
            ET.SubElement(resource, "dependency", {"identifierref": identifier(item)})
    manifest_xml = ET.tostring(manifest, encoding="utf-8", xml_declaration=True)
    files = {"imsmanifest.xml": manifest_xml, **files}
    return _zip(files)


def _resource(parent: ET.Element, ident: str, kind: str, href: str, bank: dict | None = None) -> ET.Element:
    """A manifest resource: metadata, then files, then dependencies (the IMS CP schema's order)."""
    resource = ET.SubElement(parent, "resource", {"identifier": ident, "type": kind, "href": href})
    if bank is not None:
        ET.SubElement(ET.SubElement(resource, "metadata"), "bank:item", bank)
    ET.SubElement(resource, "file", {"href": href})
    return resource


def _bank_attributes(item: Item) -> dict[str, str]:
    values = {name: getattr(item, name) for name in BANK_FIELDS}
    return {name.replace("_", "-"): repr(v) if isinstance(v, float) else str(v)
            for name, v in values.items() if v is not None}


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


# ---- import --------------------------------------------------------------------------------------------------

class _Dialect:
    """Element and attribute names of one QTI version: 3.0 kebab-case `qti-*`, 2.x camelCase."""

    def __init__(self, namespace: str):
        self.ns, self.v3 = namespace, namespace == QTI3

    def tag(self, v3_name: str) -> str:
        if self.v3 or not v3_name.startswith("qti-"):
            return f"{{{self.ns}}}{v3_name}"
        return f"{{{self.ns}}}{_camel(v3_name[4:])}"

    def attr(self, element: ET.Element, v3_name: str, default: str | None = None) -> str | None:
        return element.get(v3_name if self.v3 else _camel(v3_name), default)


def _camel(kebab: str) -> str:
    head, *rest = kebab.split("-")
    return head + "".join(part.capitalize() for part in rest)


def import_package(data: bytes, occupation: str, level: int, *, default_difficulty: float = 0.65) -> QtiImport:
    """Items of a QTI 2.1/2.2/3.0 content package, or QtiImportRejected listing every item that failed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = _parse(archive.read("imsmanifest.xml"))
    except (zipfile.BadZipFile, KeyError, ET.ParseError, ValueError) as exc:
        raise QtiImportRejected([QtiProblem("imsmanifest.xml", "不是有效的 IMS 内容包", f"not an IMS package: {exc}")])
    items, media, problems = [], {}, []
    for resource in (e for e in manifest.iter() if _local(e.tag) == "resource"):
        if not resource.get("type", "").startswith(ITEM_TYPE_PREFIX):
            continue
        href = resource.get("href", "")
        try:
            item = _read_item(_parse(archive.read(href)), _bank_metadata(resource), occupation, level,
                              default_difficulty)
            files = [e.get("href", "") for e in resource if _local(e.tag) == "file" and e.get("href") != href]
            media.update({posixpath.basename(name): archive.read(name) for name in files})
        except (KeyError, ET.ParseError, ValueError, TypeError) as exc:
            problems.append(QtiProblem(href, f"题目无法导入：{exc}", f"item not imported: {exc}"))
            continue
        items.append(item)
    if problems:
        raise QtiImportRejected(problems)
    return QtiImport(tuple(items), media)


def _parse(data: bytes) -> ET.Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError("DTDs and entities are not accepted")
    return ET.fromstring(data)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bank_metadata(resource: ET.Element) -> dict[str, str]:
    element = resource.find(f".//{{{BANK_NS}}}item")
    return {} if element is None else {k.replace("-", "_"): v for k, v in element.attrib.items()}


def _read_item(root: ET.Element, bank: dict[str, str], occupation: str, level: int, default_difficulty: float) -> Item:
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if namespace != QTI3 and namespace not in QTI2_NAMESPACES:
        raise ValueError(f"unknown QTI namespace {namespace!r}")
    d = _Dialect(namespace)
    declaration = _response_declaration_of(root, d)
    values = [v.text.strip() for v in declaration.iter(d.tag("qti-value")) if v.text]
    body = root.find(d.tag("qti-item-body"))
    if body is None:
        raise ValueError("no item body")
    choice = body.find(f".//{d.tag('qti-choice-interaction')}")
    if choice is not None:
        fields = _choice_fields(choice, _stem(body, choice, d), d, values, declaration)
    else:
        fields = _numeric_fields(body, d, values, root)
    fields["media"] = tuple(posixpath.basename(img.get("src", "")) for img in body.iter(d.tag("img")))
    return _item(fields, bank, identifier=root.get("identifier"), occupation=occupation, level=level,
                 default_difficulty=default_difficulty)


def _response_declaration_of(root: ET.Element, d: _Dialect) -> ET.Element:
    for declaration in root.findall(d.tag("qti-response-declaration")):
        if declaration.get("identifier") == "RESPONSE" or len(root.findall(d.tag("qti-response-declaration"))) == 1:
            return declaration
    raise ValueError("no RESPONSE declaration")


def _stem(body: ET.Element, interaction: ET.Element, d: _Dialect) -> str:
    """The prompt, or else the body's text blocks other than the interaction and pictures."""
    prompt = interaction.find(d.tag("qti-prompt"))
    if prompt is not None:
        return _text(prompt)
    blocks = [_text(child) for child in body if child is not interaction and child.find(d.tag("img")) is None]
    return "\n".join(b for b in blocks if b)


def _choice_fields(choice: ET.Element, stem: str, d: _Dialect, values: list[str], declaration: ET.Element) -> dict:
    choices = [(c.get("identifier"), _text(c)) for c in choice.findall(d.tag("qti-simple-choice"))]
    ids = [c[0] for c in choices]
    multiple = d.attr(declaration, "cardinality") == "multiple"
    if not values or any(v not in ids for v in values):
        raise ValueError(f"correct response {values} is not among the choices {ids}")
    if not multiple and (ids in (["T", "F"], ["true", "false"]) or _is_true_false(choices)):
        return {"type": "true_false", "stem": stem, "options": (), "key": _true_false_key(values[0], choices)}
    if len(ids) > 8:
        raise ValueError(f"{len(ids)} choices; the bank holds at most 8 (A–H)")
    letters = "ABCDEFGH"[:len(ids)]
    key = "".join(sorted(letters[ids.index(v)] for v in values))
    return {"type": "multiple" if multiple else "single", "stem": stem, "options": tuple(t for _, t in choices),
            "key": key}


def _is_true_false(choices: list[tuple[str, str]]) -> bool:
    return [t for _, t in choices] in (["正确", "错误"], ["对", "错"], ["True", "False"], ["true", "false"])


def _true_false_key(value: str, choices: list[tuple[str, str]]) -> str:
    position = [c[0] for c in choices].index(value)
    return "T" if position == 0 else "F"


def _numeric_fields(body: ET.Element, d: _Dialect, values: list[str], root: ET.Element) -> dict:
    entry = body.find(f".//{d.tag('qti-text-entry-interaction')}")
    if entry is None:
        raise ValueError("only choice and text-entry interactions are supported")
    if not values:
        raise ValueError("no correct response")
    blocks = [_text(child) for child in body if child.find(d.tag("img")) is None]
    equal = root.find(f".//{d.tag('qti-equal')}")
    tolerance = (d.attr(equal, "tolerance") or "0").split()[0] if equal is not None else "0"
    return {"type": "numeric", "stem": "\n".join(b for b in blocks if b), "options": (), "key": float(values[0]),
            "tolerance": float(tolerance)}


def _text(element: ET.Element) -> str:
    return "".join(element.itertext()).strip()


def _item(fields: dict, bank: dict[str, str], *, identifier: str, occupation: str, level: int,
          default_difficulty: float) -> Item:
    optional = {name: bank[name] for name in ("enemy_group", "last_used") if name in bank}
    return Item(
        id=bank.get("id", identifier), version=int(bank.get("version", 1)),
        occupation=bank.get("occupation", occupation), level=int(bank.get("level", level)),
        point_code=bank.get("point_code", ""), difficulty=float(bank.get("difficulty", default_difficulty)),
        tolerance=float(bank["tolerance"]) if "tolerance" in bank else fields.pop("tolerance", 0.0),
        discrimination=float(bank["discrimination"]) if "discrimination" in bank else None,
        source=bank.get("source", "national"), status=bank.get("status", "draft"),
        exposure=int(bank.get("exposure", 0)), **optional,
        **{k: v for k, v in fields.items() if k != "tolerance"})
