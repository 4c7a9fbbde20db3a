"""QTI: export 3.0 → import gives equal items; hand-written 2.1 and 3.0 packages import; bad packages are refused."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest

from assessment.bank import Item, PaperSpec, Section
from assessment.qti import QTI3, QtiImportRejected, export_package, identifier, import_package

ITEMS = (
    Item("Q-0001", 2, "数控车工", 4, "A-B-003", "single", "G00 指令的含义是",
         ("快速定位", "直线插补", "顺圆插补", "逆圆插补"), "A", 0.82, discrimination=0.37, enemy_group="G-快速",
         source="provincial", exposure=5, last_used="2026-10-01", status="active", media=("g00.png",)),
    Item("Q-0002", 1, "数控车工", 4, "A-B-004", "multiple", "属于插补指令的有", ("G00", "G01", "G02", "G04"), "BC",
         0.55),
    Item("Q-0003", 1, "数控车工", 4, "A-C-001", "true_false", "G04 是暂停指令。", (), "F", 0.9, status="reviewed"),
    Item("题库-7", 3, "数控车工", 4, "B-A-001", "numeric", "Ø50 外圆、S=600 r/min 时切削速度约为多少 m/min？", (), 94.2,
         0.5, tolerance=0.5),
)
PNG = b"\x89PNG\r\n\x1a\nfake"


def _package(files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_export_then_import_gives_equal_items_and_media():
    data = export_package(ITEMS, media={"g00.png": PNG})
    result = import_package(data, "其他职业", 3)
    assert result.items == ITEMS
    assert result.media == {"g00.png": PNG}


def test_export_is_deterministic():
    assert export_package(ITEMS) == export_package(ITEMS)


def test_package_holds_manifest_items_and_a_weighted_test():
    paper = PaperSpec(sections=(Section("single", 1, 0.5), Section("multiple", 1, 2.0),
                                Section("true_false", 1, 0.5), Section("numeric", 1, 1.0)))
    archive = zipfile.ZipFile(io.BytesIO(export_package(ITEMS, paper=paper)))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    types = sorted(e.get("type") for e in manifest.iter() if e.tag.endswith("}resource"))
    assert types == ["imsqti_item_xmlv3p0"] * 4 + ["imsqti_test_xmlv3p0"]
    test = ET.fromstring(archive.read("tests/paper.xml"))
    assert test.tag == f"{{{QTI3}}}qti-assessment-test"
    sections = test.findall(f".//{{{QTI3}}}qti-assessment-section")
    assert [s.get("title") for s in sections] == ["single", "multiple", "true_false", "numeric"]
    weights = [w.get("value") for w in test.iter(f"{{{QTI3}}}qti-weight")]
    assert weights == ["0.5", "2.0", "0.5", "1.0"]
    # the non-XML-name id "题库-7" is hashed into the identifier; the item file is where the ref points
    ref = sections[3].find(f"{{{QTI3}}}qti-assessment-item-ref")
    assert ref.get("identifier") == identifier(ITEMS[3]) and ref.get("identifier").endswith("_v3")
    assert f"items/{identifier(ITEMS[3])}.xml" in archive.namelist()


def test_item_xml_is_qti3_kebab_case_with_the_key():
    archive = zipfile.ZipFile(io.BytesIO(export_package(ITEMS[:2])))
    root = ET.fromstring(archive.read("items/Q-0002_v1.xml"))
    assert root.tag == f"{{{QTI3}}}qti-assessment-item"
    declaration = root.find(f"{{{QTI3}}}qti-response-declaration")
    assert declaration.get("cardinality") == "multiple" and declaration.get("base-type") == "identifier"
    assert [v.text for v in declaration.iter(f"{{{QTI3}}}qti-value")] == ["B", "C"]
    interaction = root.find(f".//{{{QTI3}}}qti-choice-interaction")
    assert interaction.get("response-identifier") == "RESPONSE" and interaction.get("shuffle") == "true"
    # each of the two key options earns 1/2 of the item, a wrong option −1 (lower bound 0: any wrong choice → 0)
    entries = {e.get("map-key"): e.get("mapped-value") for e in root.iter(f"{{{QTI3}}}qti-map-entry")}
    assert entries == {"A": "-1", "B": "0.5", "C": "0.5", "D": "-1"}


QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
MANIFEST_21 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="M1">
  <resources>
    <resource identifier="choice" type="imsqti_item_xmlv2p1" href="choice.xml"><file href="choice.xml"/></resource>
    <resource identifier="multi" type="imsqti_item_xmlv2p1" href="multi.xml"><file href="multi.xml"/></resource>
    <resource identifier="tf" type="imsqti_item_xmlv2p1" href="tf.xml"><file href="tf.xml"/></resource>
    <resource identifier="num" type="imsqti_item_xmlv2p1" href="num.xml"><file href="num.xml"/></resource>
  </resources>
</manifest>"""
CHOICE_21 = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI21}" identifier="choice" title="Unattended Luggage" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>ChoiceA</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>Look at the text in the picture.</p>
    <p><img src="images/sign.png" alt="NEVER LEAVE LUGGAGE UNATTENDED"/></p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <prompt>What does it say?</prompt>
      <simpleChoice identifier="ChoiceA">You must stay with your luggage at all times.</simpleChoice>
      <simpleChoice identifier="ChoiceB">Do not let someone else look after your luggage.</simpleChoice>
      <simpleChoice identifier="ChoiceC">Remember your luggage when you leave.</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>"""
MULTI_21 = f"""<assessmentItem xmlns="{QTI21}" identifier="multi" title="m" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
    <correctResponse><value>H</value><value>O</value></correctResponse>
  </responseDeclaration>
  <itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="0"><prompt>Which are gases?</prompt>
    <simpleChoice identifier="H">Hydrogen</simpleChoice><simpleChoice identifier="Fe">Iron</simpleChoice>
    <simpleChoice identifier="O">Oxygen</simpleChoice></choiceInteraction></itemBody>
</assessmentItem>"""
TF_21 = f"""<assessmentItem xmlns="{QTI21}" identifier="tf" title="t" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>false</value></correctResponse></responseDeclaration>
  <itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="1"><prompt>G00 切削工件。</prompt>
    <simpleChoice identifier="true">对</simpleChoice><simpleChoice identifier="false">错</simpleChoice>
  </choiceInteraction></itemBody>
</assessmentItem>"""
NUM_21 = f"""<assessmentItem xmlns="{QTI21}" identifier="num" title="n" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="float">
    <correctResponse><value>3.14</value></correctResponse></responseDeclaration>
  <itemBody><p>π to two decimals: <textEntryInteraction responseIdentifier="RESPONSE" expectedLength="6"/></p>
  </itemBody>
  <responseProcessing><responseCondition><responseIf>
    <equal toleranceMode="absolute" tolerance="0.005 0.005"><variable identifier="RESPONSE"/>
      <correct identifier="RESPONSE"/></equal>
    <setOutcomeValue identifier="SCORE"><baseValue baseType="float">1</baseValue></setOutcomeValue>
  </responseIf></responseCondition></responseProcessing>
</assessmentItem>"""


def test_import_qti21_package_of_the_four_types():
    data = _package({"imsmanifest.xml": MANIFEST_21, "choice.xml": CHOICE_21, "multi.xml": MULTI_21,
                     "tf.xml": TF_21, "num.xml": NUM_21})
    choice, multi, tf, num = import_package(data, "数控车工", 4).items
    assert (choice.type, choice.key, choice.stem) == ("single", "A", "What does it say?")
    assert choice.options[2] == "Remember your luggage when you leave."
    assert choice.media == ("sign.png",)
    assert (choice.id, choice.version, choice.status, choice.difficulty) == ("choice", 1, "draft", 0.65)
    assert (multi.type, multi.key, multi.options) == ("multiple", "AC", ("Hydrogen", "Iron", "Oxygen"))
    assert (tf.type, tf.key, tf.options) == ("true_false", "F", ())
    assert (num.type, num.key, num.tolerance, num.stem) == ("numeric", 3.14, 0.005, "π to two decimals:")


def test_import_foreign_qti3_item():
    item = f"""<qti-assessment-item xmlns="{QTI3}" identifier="x1" title="x" adaptive="false" time-dependent="false">
      <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
        <qti-correct-response><qti-value>b</qti-value></qti-correct-response></qti-response-declaration>
      <qti-item-body><p>主轴正转的指令是</p>
        <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
          <qti-simple-choice identifier="a">M03</qti-simple-choice>
          <qti-simple-choice identifier="b">M04</qti-simple-choice></qti-choice-interaction></qti-item-body>
    </qti-assessment-item>"""
    manifest = """<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m"><resources>
      <resource identifier="x1" type="imsqti_item_xmlv3p0" href="x1.xml"><file href="x1.xml"/></resource>
      </resources></manifest>"""
    (got,) = import_package(_package({"imsmanifest.xml": manifest, "x1.xml": item}), "数控车工", 4).items
    assert (got.stem, got.options, got.key, got.point_code) == ("主轴正转的指令是", ("M03", "M04"), "B", "")


def test_unsupported_interaction_rejects_the_package():
    essay = f"""<assessmentItem xmlns="{QTI21}" identifier="essay" title="e" adaptive="false" timeDependent="false">
      <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string"/>
      <itemBody><extendedTextInteraction responseIdentifier="RESPONSE"/></itemBody></assessmentItem>"""
    manifest = MANIFEST_21.replace('href="num.xml"><file href="num.xml"/>', 'href="essay.xml"><file href="essay.xml"/>')
    data = _package({"imsmanifest.xml": manifest, "choice.xml": CHOICE_21, "multi.xml": MULTI_21, "tf.xml": TF_21,
                     "essay.xml": essay})
    with pytest.raises(QtiImportRejected) as caught:
        import_package(data, "数控车工", 4)
    assert [p.file for p in caught.value.problems] == ["essay.xml"]
    assert caught.value.problems[0].message().startswith("essay.xml：题目无法导入")


def test_entities_and_non_packages_are_refused():
    bomb = '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><manifest>&a;</manifest>'
    with pytest.raises(QtiImportRejected):
        import_package(_package({"imsmanifest.xml": bomb}), "数控车工", 4)
    with pytest.raises(QtiImportRejected):
        import_package(b"plain bytes", "数控车工", 4)


def test_demo_bank_items_round_trip():
    from assessment.demo_bank import lathe_bank
    items = tuple(lathe_bank().items[:300])
    assert import_package(export_package(items), "数控车工", 4).items == items
