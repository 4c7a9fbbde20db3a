"""The program walk that gives each line its N number, tool and compensation."""
from grading.programs import ProgramWalk

LATHE = """%
O0001
N10 T0101
N20 G71 P30 Q50 U0.5 W0.05 F0.25
N30 G00 G42 X14.
N40 G01 Z-20.
N50 G00 G40 X52.
N60 T0202
N70 G70 P30 Q50
N80 M30
%"""


def test_g70_contour_lines_get_the_finishing_tool():
    walk = ProgramWalk(LATHE, "lathe")
    # line 6 = N40, walked under T0101 by the text, then again under T0202 by the G70 at N70: the last visit wins
    assert walk.at(6).n == "N40" and walk.at(6).tool == "T0202" and walk.at(6).comp == "G42"
    assert walk.at(7).comp == "G40" and walk.ends_with_m30


def test_forgotten_g42():
    walk = ProgramWalk(LATHE.replace("G42 ", ""), "lathe")
    assert not walk.at(6).compensated


MILL = """O2001
N10 T1 M06
N20 M98 P2002
N30 M30
O2002
N10 G41 G01 X-36. D1
N20 Y28.
N30 G40 X-55.
N40 M99"""


def test_subprogram_lines_get_the_caller_state():
    walk = ProgramWalk(MILL, "mill", main_lines=4)
    assert walk.at(7).tool == "T1" and walk.at(7).d == "D1" and walk.at(7).comp == "G41"
    assert walk.at(8).comp == "G40" and walk.ends_with_m30
    assert walk.at(3).n == "N20" and walk.at(7).describe() == "N20 (line 7) with T1, G41"


def test_unexecuted_program_lines_have_no_state():
    walk = ProgramWalk(MILL.replace("N20 M98 P2002", "N20 G00 X0"), "mill", main_lines=4)
    assert walk.at(7) is None
