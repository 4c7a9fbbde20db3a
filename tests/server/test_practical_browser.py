"""The practical exam in real Chromium against a real server process (gevent, Socket.IO): a full lathe exam on
the demo practical session through the page's own keys — power on, reference return, trial-cut tool setting of
two tools, a program typed on the MDI keys, a single-block dry run with machine lock, the automatic run, the
micrometer, submission — checking the CNC screen against hand-computed numbers; a reload in the middle restores
the machine exactly; the 3D view's lathe mesh holds the server's stock profile (pixel-free). The same for the
machining centre: G54 by the edge finder, H by the Z setter, a program, a reload in the middle of its single-block
dry run, the run, the depth gauge, the browser's heightmap equal to the server's cell for cell, and the part the
server measures for grading. Keys pressed while the server is down arrive in order once it is back. Screenshots
go to pytest's temporary folder (`practical-screenshots*`).

The lathe (docs/lathe.md, examples/tasks/lathe_zj01): Ø50 × 100 bar, stick-out 75, so the bar's right end is at
machine Z75 (jaw face = Z0). T01 and T02 both have the tip vector (x −40 radius = −80 on the diameter, z −19.5)
from the turret point. After reference return the turret point is at the setup's start position: machine
X280 (Ø) Z244.5 (tool 1's tip at Ø200, Z150 above the part origin Z75 + 19.5: 75 + 150 + 19.5 = 244.5).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server.conftest import begin_exam, check_in_page
from tests.server.test_browser_resilience import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "candidate_client" / "practical" / "labels.js"

EXAMCTL = Path(sys.executable).with_name("examctl")


class PracticalServer:
    def __init__(self, database_url: str, instance: Path):
        self.port = free_port()
        self.env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_INSTANCE_PATH": str(instance),
                    "EXAM_SECRET_KEY": "browser-test", "EXAM_ASYNC_MODE": "gevent", "EXAM_REDIS_URL": ""}
        self.log = instance.parent / "server.log"
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "PracticalServer":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(EXAMCTL), "serve", "--port", str(self.port)], env=self.env,
                                            stdout=log, stderr=log, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not come up: " + self.log.read_text()[-2000:])

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


def start_practical_session(database, station: str = "JS-NJ-01") -> tuple[str, str, str, int]:
    """Open check-in and start the demo practical session of `station` (JS-NJ-01: the lathe, JS-NJ-02: the
    machining centre): seat 01's ticket, ID number, PIN and roster entry id."""
    from sqlalchemy import select

    from exam_server import delivery
    from exam_server.accounts import find_user
    from exam_server.models import ExamPart, ExamSession, utcnow
    from tests.server.conftest import PAPER_KEY

    with database.transaction() as db:
        sessions = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.practical)).scalars().all()
        session = next(s for s in sessions if s.organisation.code == station)
        examiner = find_user(db, "examiner_" + station[3:].replace("-", "").lower())
        pin = delivery.open_check_in(db, session, examiner, utcnow())
        delivery.start_session(db, session, examiner, utcnow(), PAPER_KEY)
        entry = sorted(session.roster, key=lambda e: e.seat)[0]
        return entry.ticket_number, entry.candidate.id_number, pin, entry.id


@pytest.fixture
def server(database_url, tmp_path):
    process = PracticalServer(database_url, tmp_path / "instance").start()
    yield process
    process.stop()


@pytest.fixture
def shots(tmp_path_factory):
    """Screenshots are test artefacts: kept in pytest's temporary folder for this test."""
    folder = tmp_path_factory.mktemp("practical-screenshots")
    counter = iter(range(1, 100))
    started = time.monotonic()

    def shot(chrome, name):
        print(f"{time.monotonic() - started:6.1f} s {name}", flush=True)      # where the time goes, with -s
        chrome.save_screenshot(str(folder / f"{next(counter):02d}-{name}.png"))

    return shot


# ---- the page's keys -------------------------------------------------------------------------------------

def wait(chrome, condition, seconds=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, seconds, poll_frequency=0.1).until(condition)


def click(chrome, element_id):
    from selenium.webdriver.common.by import By

    chrome.find_element(By.ID, element_id).click()


def text(chrome, element_id) -> str:
    from selenium.webdriver.common.by import By

    return chrome.find_element(By.ID, element_id).text


def synced(chrome) -> bool:
    """Every operation acknowledged and the last update drawn (the outbox is empty, nothing in flight)."""
    return chrome.execute_script(
        "const p = window.practical; if (!p) return false;"
        "return !p.link.flushing && p.link.acked === p.link.seq;")


def settle(chrome, seconds=20):
    wait(chrome, synced, seconds)


def machine(chrome) -> dict:
    return chrome.execute_script("return window.practical.link.view")


SHIFTED = {"P": "o", "Q": "n", "R": "g", "U": "x", "V": "y", "W": "z", "I": "m", "J": "s", "K": "t", "L": "f",
           "D": "h", "E": "eob", "+": "minus", "/": "dot"}


def key_in(chrome, characters: str) -> None:
    """Type on the MDI keypad, one key press a character (SHIFT first for the shifted ones, as on the 0i-F)."""
    names = {".": "dot", "-": "minus", ";": "eob"}
    for character in characters:
        if character in SHIFTED:
            click(chrome, "key-shift")
            click(chrome, f"key-{SHIFTED[character]}")
        else:
            click(chrome, f"key-{names.get(character, character.lower())}")


def handwheel(chrome, notches: int) -> None:
    """Turn the handwheel by mouse-wheel notches (one notch = 100 px = 10 pulses; up is +)."""
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    wheel = chrome.find_element(By.ID, "handwheel")
    ActionChains(chrome).scroll_from_origin(ScrollOrigin.from_element(wheel), 0, -100 * notches).perform()
    time.sleep(0.2)          # the panel batches the pulses of one turn into one event
    settle(chrome)


def position(chrome, kind: str, axis: str) -> str:
    return text(chrome, f"pos-{kind}-{axis}")


def test_labels_have_the_same_keys_in_both_languages():
    import re

    source = LABELS.read_text(encoding="utf-8")
    zh, en = source[source.index("  zh: {"):source.index("  en: {")], source[source.index("  en: {"):source.index("};")]
    pairs = re.compile(r'"([A-Za-z_.]+)": "([^"]*)"')
    chinese, english = dict(pairs.findall(zh)), dict(pairs.findall(en))
    assert len(chinese) > 100 and set(chinese) == set(english)
    assert chinese["mode.EDIT"] == "编辑" and chinese["mode.REF"] == "回零"
    assert chinese["panel.cycle_start"] == "循环启动" and chinese["panel.feed_hold"] == "进给保持"
    assert chinese["panel.machine_lock"] == "机床锁住" and chinese["panel.spindle_cw"] == "主轴正转"


CAPTURE_ERRORS = """window.__errors = [];
  window.addEventListener("error", (e) => window.__errors.push(`${e.message} @${e.filename}:${e.lineno}`));
  window.addEventListener("unhandledrejection", (e) => window.__errors.push(`rejection: ${e.reason}`));"""


def open_exam(chrome, server, database, station="JS-NJ-01"):
    chrome.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE_ERRORS})
    ticket, id_number, pin, entry = start_practical_session(database, station)
    check_in_page(chrome, server.url, ticket, id_number, pin)
    wait(chrome, lambda d: "/exam/" in d.current_url)
    chrome.get(f"{server.url}/exam/practical/entry/{entry}")
    begin_exam(chrome)                              # the identity card, as in the theory exam
    try:
        wait(chrome, lambda d: d.execute_script("return document.body.dataset.ready === '1'"), 30)
    except Exception:
        raise AssertionError(f"{chrome.execute_script('return window.__errors')} "
                             f"{chrome.execute_script('return document.body.innerText')[:500]}")
    return entry


def soft(chrome, name: str) -> None:
    from selenium.webdriver.common.by import By

    chrome.find_element(By.CSS_SELECTOR, f'#cnc-softkeys [data-soft="{name}"]').click()


def status(chrome) -> str:
    return machine(chrome)["status"]


def handle(chrome, axis: str, notches: int) -> None:
    click(chrome, f"handle-axis-{axis}")
    handwheel(chrome, notches)


def measure_offset(chrome, keys: str) -> None:
    """OFS/SET geometry page: key in `X48.` or `Z0` and press [MEASURE] on the cursor's offset line."""
    key_in(chrome, keys)
    soft(chrome, "ofs.measure")
    settle(chrome)


def read_instrument(chrome, name: str, **fields) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(chrome.find_element(By.ID, "instrument")).select_by_value(name)
    for key, value in fields.items():
        field = chrome.find_element(By.ID, f"inst-{key}")
        field.clear()
        field.send_keys(str(value))
    click(chrome, "inst-measure")
    settle(chrome)
    return text(chrome, "inst-reading")


def micrometer(chrome, z: float) -> str:
    return read_instrument(chrome, "micrometer", z=z)


def screen_snapshot(chrome) -> dict:
    """What the CNC screen shows: every position, the two offset lines, the program text."""
    click(chrome, "key-pos")
    soft(chrome, "pos.all")
    values = {f"{k}-{a}": position(chrome, k, a) for k in ("relative", "absolute", "machine", "distance_to_go")
              for a in "XZ"}
    click(chrome, "key-ofs")
    soft(chrome, "ofs.geometry")
    values.update({f"ofs-{n}-{a}": text(chrome, f"ofs-geometry-{n}-{a}") for n in (1, 2) for a in "XZRT"})
    click(chrome, "key-prog")
    values["program"] = text(chrome, "prog-text")
    return values


def type_program(chrome) -> None:
    """EDIT mode, PROG page: O0100 by the MDI keys, each block keyed in, EOB, INSERT; the last two blocks on the
    computer keyboard (Enter = EOB on the program page)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    key_in(chrome, "O0100")
    click(chrome, "key-insert")
    for block in ("T0101", "G99M03S800", "G00X52.Z2.", "G01X44.F0.3", "Z-10.", "X52.", "G00X100.Z50."):
        key_in(chrome, block + ";")
        click(chrome, "key-insert")
    settle(chrome)
    for block in ("M05", "M30"):
        ActionChains(chrome).send_keys(block, Keys.ENTER).perform()
        click(chrome, "key-insert")
    settle(chrome)


def run_until(chrome, final: str, limit: int = 20) -> int:
    """Cycle start until the run reaches `final` (single block: one start per block); the starts used."""
    for count in range(1, limit):
        click(chrome, "cycle-start")
        settle(chrome)
        wait(chrome, lambda d: status(d) != "running" and synced(d), 30)
        if status(chrome) == final:
            return count
    raise AssertionError("the run did not end")


def server_profile(chrome) -> dict:
    """The stock profile as the server has it now (a fresh GET of the machine state)."""
    return chrome.execute_async_script(
        "const done = arguments[arguments.length - 1]; const link = window.practical.link;"
        "fetch(link.machineUrl(), {credentials: 'same-origin'}).then((r) => r.json())"
        ".then((d) => done(d.view.machine.stock));")


def test_a_full_lathe_exam_in_the_browser(server, chrome, database, shots):
    open_exam(chrome, server, database)
    shots(chrome, "loaded")
    click(chrome, "power-on")
    settle(chrome)
    assert text(chrome, "status-run") == "停止" and not machine(chrome)["referenced"]

    # Automatic operation before reference return: PS0224 on the alarm page, cleared by RESET.
    click(chrome, "mode-MDI")
    click(chrome, "key-prog")
    key_in(chrome, "G00U-2.")
    click(chrome, "key-insert")
    settle(chrome)
    assert "G00U-2." in text(chrome, "mdi-text").replace(" ", "")
    click(chrome, "cycle-start")
    settle(chrome)
    click(chrome, "key-msg")
    assert "PS0224" in text(chrome, "alarm-list") and text(chrome, "alm") == "ALM"
    shots(chrome, "ps0224")
    click(chrome, "key-reset")
    settle(chrome)
    assert "PS0224" not in text(chrome, "alarm-list")

    # Reference return X then Z: the turret stays at the reference position X280 Z244.5 (module docstring).
    click(chrome, "mode-REF")
    click(chrome, "jog-Xplus")
    click(chrome, "jog-Zplus")
    settle(chrome)
    assert machine(chrome)["referenced"] == ["X", "Z"]
    click(chrome, "key-pos")
    soft(chrome, "pos.all")
    assert (position(chrome, "machine", "X"), position(chrome, "machine", "Z")) == ("280.000", "244.500")

    # The bar in the chuck (stick-out 75), clamped; handwheel ×100 = 0.1 mm a pulse, 10 pulses a notch.
    click(chrome, "load-stock")
    click(chrome, "chuck")
    click(chrome, "mode-HANDLE")
    click(chrome, "increment-0.1")
    click(chrome, "spindle-cw")
    settle(chrome)

    # T01 facing: tip (turret − (80 Ø, 19.5)) from Ø200 Z225 to Ø54 Z76: Z −149 notches, X −146 (X is a
    # diameter: 1 mm of Ø a notch); to Z74 (1 mm into the bar's end at Z75), face to Ø−1 and back to Ø54.
    handle(chrome, "Z", -149)
    handle(chrome, "X", -146)
    handle(chrome, "Z", -2)
    handle(chrome, "X", -55)
    handle(chrome, "X", 55)
    assert (position(chrome, "machine", "X"), position(chrome, "machine", "Z")) == ("134.000", "93.500")
    click(chrome, "key-ofs")
    measure_offset(chrome, "Z0")
    # MEASURE Z0: geometry Z = machine Z − 0 = 74 + 19.5 = 93.5
    assert text(chrome, "ofs-geometry-1-Z") == "93.500"

    # T01 trial cut Ø48 from the face to Z54 (tip Ø54 → Ø48: −6 notches; Z76 → Z54: −22), out in Z only.
    handle(chrome, "Z", 2)
    handle(chrome, "X", -6)
    handle(chrome, "Z", -22)
    handle(chrome, "Z", 22)
    click(chrome, "spindle-stop")
    settle(chrome)
    # Micrometer at stock z −10 (machine 65, inside the Ø48 band Z54…74): the cut diameter, 48.00.
    assert micrometer(chrome, -10) == "外径千分尺: 48.00 mm"
    measure_offset(chrome, "X48.")
    # MEASURE X48.: geometry X = machine X − 48 = (48 + 80) − 48 = 80
    assert text(chrome, "ofs-geometry-1-X") == "80.000"
    shots(chrome, "t01-set")

    # T02 (same tip vector): Ø46 from the face to Z64, micrometer at stock z −5 (machine 70): 46.00.
    click(chrome, "key-pos")
    from selenium.webdriver.support.ui import Select
    from selenium.webdriver.common.by import By
    Select(chrome.find_element(By.ID, "turret-station")).select_by_value("2")
    click(chrome, "turret")
    click(chrome, "spindle-cw")
    settle(chrome)
    assert machine(chrome)["modal"]["T"].startswith("02")
    handle(chrome, "X", -2)
    handle(chrome, "Z", -12)
    handle(chrome, "Z", 12)
    click(chrome, "spindle-stop")
    settle(chrome)
    assert micrometer(chrome, -5) == "外径千分尺: 46.00 mm"
    click(chrome, "key-ofs")
    click(chrome, "key-down")                       # cursor to offset line 002
    measure_offset(chrome, "X46.")
    assert text(chrome, "ofs-geometry-2-X") == "80.000"            # (46 + 80) − 46
    handle(chrome, "X", 2)                          # tip Ø48, clear of the Ø46 step
    handle(chrome, "Z", -2)                         # tip on the faced end, Z74
    click(chrome, "key-ofs")
    measure_offset(chrome, "Z0")
    assert text(chrome, "ofs-geometry-2-Z") == "93.500"            # 74 + 19.5
    # The nose radius by the computer keyboard: cursor to the R column, `0.4`, Enter = INPUT on this page.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    ActionChains(chrome).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, "0.4", Keys.ENTER).perform()
    settle(chrome)
    assert text(chrome, "ofs-geometry-2-R") == "0.400"

    # The program through the MDI keys (EDIT mode, PROG page).
    click(chrome, "mode-EDIT")
    click(chrome, "key-prog")
    type_program(chrome)
    program = text(chrome, "prog-text")
    assert program.split() == ["O0100", ";", "T0101", ";", "G99", "M03", "S800", ";", "G00", "X52.", "Z2.", ";",
                               "G01", "X44.", "F0.3", ";", "Z-10.", ";", "X52.", ";", "G00", "X100.", "Z50.", ";",
                               "M05", ";", "M30", ";"]
    shots(chrome, "program")

    # A reload in the middle restores the machine exactly.
    before = screen_snapshot(chrome)
    chrome.refresh()
    wait(chrome, lambda d: d.execute_script("return document.body.dataset.ready === '1'"), 30)
    assert screen_snapshot(chrome) == before
    assert before["machine-X"] == "128.000" and before["machine-Z"] == "93.500"

    # Single-block dry run with machine lock: one start per block, the axes stay where they are.
    click(chrome, "mode-MEM")
    click(chrome, "key-prog")
    key_in(chrome, "O100")
    soft(chrome, "prog.search")
    for name in ("single_block", "dry_run", "machine_lock"):
        click(chrome, f"switch-{name}")
    settle(chrome)
    starts = run_until(chrome, "idle")
    assert starts == 9                               # nine blocks after the O line
    assert machine(chrome)["position"]["machine"] == {"X": 128.0, "Z": 93.5}
    for name in ("single_block", "dry_run", "machine_lock"):
        click(chrome, f"switch-{name}")
    settle(chrome)

    # The automatic run: Ø44 to Z−10, then G00 X100. Z50.: absolute X100 Z50, machine X100 + 80 = 180,
    # Z50 + 93.5 = 143.5.
    assert run_until(chrome, "idle") == 1
    shots(chrome, "after-run")
    click(chrome, "key-pos")
    soft(chrome, "pos.all")
    assert [position(chrome, k, a) for k in ("absolute", "machine") for a in "XZ"] == \
        ["100.000", "50.000", "180.000", "143.500"]
    assert not machine(chrome)["alarms"] and not machine(chrome)["crashes"]

    # The part: Ø44 at work Z−5 = stock z −6 (work zero = stock z −1).
    assert micrometer(chrome, -6) == "外径千分尺: 44.00 mm"

    # The mesh check: the revolved profile the 3D view holds is the server's stock profile, and it has the
    # turned steps (radius 22 from the face to work Z−10 = stock z −11, 24 to stock z −21, the bar's 25 beyond).
    held = chrome.execute_script("return window.practical.view3d.profile()")
    server_stock = server_profile(chrome)
    assert len(held["outer"]) == len(server_stock["outer"]) and len(held["inner"]) == len(server_stock["inner"])
    for mine, theirs in zip(held["outer"] + held["inner"], server_stock["outer"] + server_stock["inner"]):
        assert mine == pytest.approx(theirs, abs=1e-9)
    radii = {round(r, 3) for z, r in held["outer"] if z < -1.5}
    assert {22.0, 24.0, 25.0} <= radii
    shots(chrome, "measured")

    # Submit.
    click(chrome, "submit")
    click(chrome, "confirm-yes")
    wait(chrome, lambda d: d.find_element(By.ID, "receipt").is_displayed(), 20)
    shots(chrome, "submitted")
    with database.session(write=False) as db:
        from sqlalchemy import select

        from exam_server.models import Attempt
        attempts = db.execute(select(Attempt)).scalars().all()
        practical = [a for a in attempts if a.roster_entry.exam_session.part.value == "practical"]
        assert [a.submitted_at is not None for a in practical] == [True]
    assert chrome.execute_script("return window.__errors") == []



MILL_PROGRAM = ("G90G54G43G00Z1.H1", "M03S1000", "G01Z-5.5F300", "X10.F800", "G02I-10.", "G01X0", "G00Z50.",
                "M05", "M30")


def mill_snapshot(chrome) -> dict:
    """What the machining centre shows and is: every position, G54, offset line 1, the program with its
    executing line, the mode and status lines, and the machine state the page holds."""
    shown = "return Object.fromEntries([...document.querySelectorAll(arguments[0])].map((e) => [e.id, e.innerHTML]))"
    click(chrome, "key-pos")
    soft(chrome, "pos.all")
    values = chrome.execute_script(shown, "[id^=pos-]")
    assert len(values) == 12                       # relative, absolute, machine, distance to go × XYZ
    click(chrome, "key-ofs")
    soft(chrome, "ofs.work")
    values.update(chrome.execute_script(shown, "[id^=ofs-work-G54-]"))
    soft(chrome, "ofs.geometry")
    values.update(chrome.execute_script(shown, "[id^=ofs-geometry-1-]"))
    click(chrome, "key-prog")
    values.update(chrome.execute_script(shown, "#prog-text, #cnc-onum, #status-mode, #status-run"))
    view = machine(chrome)
    values.update({key: view[key] for key in ("mode", "status", "position", "modal", "program", "switches",
                                               "referenced", "alarms")})
    return values


def single_block(chrome, starts: int) -> None:
    """`starts` cycle starts in single block, each waited for until the block has ended."""
    for _ in range(starts):
        click(chrome, "cycle-start")
        settle(chrome)
        wait(chrome, lambda d: status(d) != "running" and synced(d), 30)


def mesh_matches_the_server(chrome) -> tuple[int, int]:
    """The heightmap the 3D view holds against the server's, cell for cell: the server's cut tiles from a fresh
    GET of the machine (each decoded as tiles.decode does), the raw top 0 elsewhere. (cells compared, cut cells)."""
    import base64

    import numpy as np

    from simulators.cnc_mill.tiles import decode

    stock = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1]; const link = window.practical.link;"
        "fetch(link.machineUrl(), {credentials: 'same-origin'}).then((r) => r.json())"
        ".then((d) => done(d.view.machine.stock));")
    rows, cols = stock["heightmap"]["shape"]
    size = stock["heightmap"]["tile"]
    server = np.zeros((rows, cols), dtype=np.float32)
    tiles = list(stock.get("tiles") or []) + list((stock.get("tiles_by_key") or {}).values())
    for tile in tiles:
        r0, c0 = tile["row"] * size, tile["col"] * size
        server[r0:r0 + tile["rows"], c0:c0 + tile["cols"]] = decode(tile)
    held = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1]; const scene = window.practical.view3d.machine;"
        "scene.ready().then(() => { const bytes = new Uint8Array(scene.full.buffer); let text = '';"
        "for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));"
        "done(btoa(text)); });")
    browser = np.frombuffer(base64.b64decode(held), dtype="<f4").reshape(rows, cols)
    assert np.array_equal(browser, server), int(np.count_nonzero(browser != server))
    return browser.size, int(np.count_nonzero(server != 0.0))


def test_a_full_mill_exam_with_edge_finder_and_z_setter(server, chrome, database, shots):
    """The machining centre (examples/tasks/mill_zj01): 80 × 80 × 30 block whose top centre is at machine
    (−400, −250, −420) with the default 12 mm above the jaws; the spindle gauge point starts at machine 0, 0, 0.
    Edge finder Ø10, tip 100 mm below the gauge line; tool 1 a Ø10 flat end mill 95 long. G54 X and Y by the
    edge finder, H1 by the Z setter, then the drawing's Ø30 pocket, 5 deep from the finished top (task work zero
    0.5 below the raw top), typed on the MDI keys, dry-run in single block, run, measured and submitted."""
    from selenium.webdriver.common.by import By

    open_exam(chrome, server, database, "JS-NJ-02")
    click(chrome, "power-on")
    click(chrome, "mode-REF")
    for axis in "XYZ":
        click(chrome, f"jog-{axis}plus")
    click(chrome, "load-stock")
    click(chrome, "vise")
    click(chrome, "edge-finder")
    click(chrome, "spindle-cw")
    settle(chrome)
    assert machine(chrome)["referenced"] == ["X", "Y", "Z"] and machine(chrome)["machine"]["probe"]

    # The long approach by MDI rapids (X and Y first, then Z): the edge finder left of the block (X−460: its Ø10
    # tip clear of the face at X−440), on the block's centre line Y−250, 5 mm below the top (tip −425: gauge −325).
    click(chrome, "mode-MDI")
    click(chrome, "key-prog")
    key_in(chrome, "G91G00X-460.Y-250.;Z-325.;")
    click(chrome, "key-insert")
    settle(chrome)
    single_block(chrome, 1)                         # not in single block: one start runs both blocks
    click(chrome, "key-pos")
    assert [position(chrome, "machine", a) for a in "XYZ"] == ["-460.000", "-250.000", "-325.000"]
    click(chrome, "mode-HANDLE")
    click(chrome, "increment-0.1")
    settle(chrome)

    # X: 15 mm to the right, the axis 5 mm (its radius) from the face at X−440: it kicks.
    assert read_instrument(chrome, "edge_finder") == "寻边器: clear"
    handle(chrome, "X", 15)
    assert read_instrument(chrome, "edge_finder") == "寻边器: kick"
    click(chrome, "key-ofs")
    soft(chrome, "ofs.work")
    measure_offset(chrome, "X-45.")
    # G54 X = machine − EXT − value = −445 − 0 − (−45) = −400: the block's centre
    assert text(chrome, "ofs-work-G54-X") == "-400.000"
    # Y: up clear of the top (tip −415), over the centre, out to Y−300, down, then 5 mm in: the axis at Y−295,
    # 5 mm from the face at Y−290: it kicks. G54 Y = −295 − (−45) = −250.
    handle(chrome, "Z", 10)
    handle(chrome, "X", 45)
    handle(chrome, "Y", -50)
    handle(chrome, "Z", -10)
    assert read_instrument(chrome, "edge_finder") == "寻边器: clear"
    handle(chrome, "Y", 5)
    assert read_instrument(chrome, "edge_finder") == "寻边器: kick"
    click(chrome, "key-ofs")
    measure_offset(chrome, "Y-45.")
    assert [text(chrome, f"ofs-work-G54-{a}") for a in "XYZ"] == ["-400.000", "-250.000", "0.000"]
    shots(chrome, "mill-edge-finder")

    # Tool 1 into pocket 1 and the spindle, over the centre (Y+45), tip 50 above the top: the Z setter (50.000)
    # reads 0.00 at gauge Z −420 + 50 + 95 = −275 (the edge finder's gauge went up 50 from −325).
    click(chrome, "spindle-stop")
    handle(chrome, "Z", 50)
    handle(chrome, "Y", 45)
    click(chrome, "edge-finder")
    click(chrome, "load-tool")
    click(chrome, "spindle-tool")
    settle(chrome)
    assert read_instrument(chrome, "z_setter") == "Z轴设定器: 0.00 mm"
    soft(chrome, "ofs.geometry")
    measure_offset(chrome, "Z50.")
    # tool length MEASURE: H = machine Z − (G54 Z + EXT Z) − 50 = −275 − 0 − 50 = −325 (the touch convention)
    assert text(chrome, "ofs-geometry-1-H") == "-325.000"

    # The program (EDIT mode, PROG page), the O number and the first blocks on the MDI keys, the rest on the
    # computer keyboard (Enter = EOB): tool centre on a circle of radius 10 with a Ø10 cutter: a Ø30 pocket, its
    # floor at G54 Z−5.5 (the raw top is G54 Z0: 5 below the finished top at −0.5).
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    click(chrome, "mode-EDIT")
    click(chrome, "key-prog")
    key_in(chrome, "O0200")
    click(chrome, "key-insert")
    for block in MILL_PROGRAM[:2]:
        key_in(chrome, block + ";")
        click(chrome, "key-insert")
    for block in MILL_PROGRAM[2:]:
        ActionChains(chrome).send_keys(block, Keys.ENTER, Keys.INSERT).perform()
    settle(chrome)
    assert text(chrome, "prog-text").split() == [
        "O0200", ";", "G90", "G54", "G43", "G00", "Z1.", "H1", ";", "M03", "S1000", ";", "G01", "Z-5.5", "F300", ";",
        "X10.", "F800", ";", "G02", "I-10.", ";", "G01", "X0", ";", "G00", "Z50.", ";", "M05", ";", "M30", ";"]
    shots(chrome, "mill-program")

    # Single-block dry run with machine lock, and a reload after the third block: the machine comes back exactly.
    click(chrome, "mode-MEM")
    click(chrome, "key-prog")
    key_in(chrome, "O200")
    soft(chrome, "prog.search")
    for name in ("single_block", "dry_run", "machine_lock"):
        click(chrome, f"switch-{name}")
    settle(chrome)
    single_block(chrome, 3)
    before = mill_snapshot(chrome)
    assert before["program"]["line"] == 4 and before["status"] != "idle"      # line 1 is O0200: 3 blocks done
    chrome.refresh()
    wait(chrome, lambda d: d.execute_script("return document.body.dataset.ready === '1'"), 30)
    assert mill_snapshot(chrome) == before
    assert [before[f"ofs-work-G54-{a}"] for a in "XYZ"] == ["-400.000", "-250.000", "0.000"]
    assert (before["ofs-geometry-1-H"], before["ofs-geometry-1-D"]) == ("-325.000", "5.000")
    assert '<span class="cursor">' in before["prog-text"] and before["pos-machine-Z"] == "-275.000"
    starts = 3
    while status(chrome) != "idle":
        single_block(chrome, 1)
        starts += 1
    assert starts == len(MILL_PROGRAM)                                           # one start a block
    assert machine(chrome)["position"]["machine"] == {"X": -400.0, "Y": -250.0, "Z": -275.0}    # locked
    for name in ("single_block", "dry_run", "machine_lock"):
        click(chrome, f"switch-{name}")
    settle(chrome)

    # The automatic run, one start; it ends at G54 X0 Y0 Z50: machine Z = G54 Z + H1 + 50 = −325 + 50 = −275.
    click(chrome, "cycle-start")
    settle(chrome)
    wait(chrome, lambda d: status(d) == "idle" and synced(d), 40)
    shots(chrome, "mill-after-run")
    click(chrome, "key-pos")
    soft(chrome, "pos.all")
    # M30 resets the control to G49, so the absolute Z is the machine's less G54 Z, without the length offset
    assert [position(chrome, k, a) for k in ("absolute", "machine") for a in "XYZ"] == \
        ["0.000", "0.000", "-275.000", "-400.000", "-250.000", "-275.000"]
    assert not machine(chrome)["alarms"] and not machine(chrome)["crashes"]

    # The depth gauge: base on the raw top at (−35, −35), rod on the pocket floor at (5, 5): 5.5 below the raw top.
    assert read_instrument(chrome, "depth_gauge", base="-35,-35", at="5,5") == "深度尺: 5.50 mm"

    # The mesh: every cell the 3D view holds is the server's; the pocket floor −5.5 out to radius 15.
    compared, cut = mesh_matches_the_server(chrome)
    assert compared == 800 * 800 and cut > 3.14 * 150 ** 2 * 0.95     # the Ø30 disc is ≈ 70,700 cells of 0.1 mm
    depth = "return await window.practical.view3d.heightAt(arguments[0], arguments[1])"
    assert chrome.execute_script(depth, 5.05, 5.05) == -5.5
    assert chrome.execute_script(depth, 14.95, 0.05) == -5.5                   # 14.95 from the axis: inside
    assert chrome.execute_script(depth, 15.05, 0.05) == 0.0                    # 15.05: the raw top
    shots(chrome, "mill-measured")

    click(chrome, "submit")
    click(chrome, "confirm-yes")
    wait(chrome, lambda d: d.find_element(By.ID, "receipt").is_displayed(), 20)
    shots(chrome, "mill-submitted")
    assert chrome.execute_script("return window.__errors") == []

    # The part as the server measures it for grading (a fresh replay of the stored trace): the drawing's Ø30
    # pocket (M04, +0.033/0) and its depth 5 below the task's work zero (M05, +0.05/0), no alarm, no crash.
    from sqlalchemy import select

    from exam_server import machines, practical
    from exam_server.models import Attempt

    with database.session(write=False) as db:
        attempt = next(a for a in db.execute(select(Attempt)).scalars()
                       if a.roster_entry.exam_session.part.value == "practical")
        assert attempt.submitted_at is not None
        summary = practical.attempt_summary(db, machines.MachineManager(practical.loader(database)), attempt)
    measured = {m["id"]: m for m in summary["measurements"]}
    assert measured["M04"]["measured"] == pytest.approx(30.0, abs=1e-6) and measured["M04"]["ok"]
    assert measured["M05"]["measured"] == pytest.approx(5.0, abs=1e-9) and measured["M05"]["ok"]
    assert summary["alarms"] == [] and summary["crashes"] == []


def test_keys_pressed_while_the_server_is_down_arrive_in_order(server, chrome, database):
    """The outbox keeps every key while the server is killed (-9) and sends them, in order, once it is back."""
    open_exam(chrome, server, database)
    click(chrome, "power-on")
    click(chrome, "mode-REF")
    click(chrome, "jog-Xplus")
    settle(chrome)
    assert machine(chrome)["referenced"] == ["X"]
    server.stop()
    click(chrome, "jog-Zplus")                       # REF mode: Z reference return
    click(chrome, "mode-JOG")
    click(chrome, "switch-single_block")
    wait(chrome, lambda d: d.find_element("id", "offline").is_displayed())
    assert machine(chrome)["referenced"] == ["X"]   # nothing is shown before the server has it
    server.start()
    settle(chrome, 60)
    shown = machine(chrome)
    assert (shown["referenced"], shown["mode"], shown["switches"]["single_block"]) == (["X", "Z"], "JOG", True)
    chrome.refresh()
    wait(chrome, lambda d: d.execute_script("return document.body.dataset.ready === '1'"), 30)
    reloaded = machine(chrome)
    assert (reloaded["referenced"], reloaded["mode"], reloaded["switches"]["single_block"]) == \
        (["X", "Z"], "JOG", True)
    assert not chrome.find_element("id", "offline").is_displayed()
    assert text(chrome, "mode-EDIT") == "编辑" and text(chrome, "cycle-start") == "循环启动"
    click(chrome, "language")                       # English labels on request (kept for the next loads)
    wait(chrome, lambda d: d.execute_script("const k = document.getElementById('cycle-start');"
                                            "return k !== null && k.textContent === 'CYCLE START'"), 30)
    assert text(chrome, "mode-EDIT") == "EDIT" and text(chrome, "key-ofs") == "OFS/SET"
