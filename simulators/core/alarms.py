"""Alarms as the FANUC 0i-F shows them: a code such as ``PS0011``, the message text, the program line.

An interpreter raises :class:`Alarm`; the run stops there and reports it, as the control does.
Anything we do not support raises an alarm too (fail closed), never a silent approximation.
"""
from __future__ import annotations

# Messages as printed on the 0i-D/F alarm screen (PS = program alarms, OT = overtravel).
MESSAGES: dict[str, str] = {
    "PS0003": "TOO MANY DIGIT",
    "PS0004": "INVALID BREAK POINT OF WORDS",
    "PS0005": "NO DATA AFTER ADDRESS",
    "PS0006": "ILLEGAL USE OF MINUS SIGN",
    "PS0007": "ILLEGAL USE OF DECIMAL POINT",
    "PS0009": "IMPROPER NC-ADDRESS",
    "PS0010": "IMPROPER G-CODE",
    "PS0011": "FEED ZERO ( COMMAND )",
    "PS0015": "TOO MANY SIMULTANEOUS AXES",
    "PS0020": "OVER TOLERANCE OF RADIUS",
    "PS0021": "ILLEGAL PLANE SELECT",
    "PS0022": "R OR I,J,K COMMAND NOT FOUND",
    "PS0023": "ILLEGAL RADIUS COMMAND",
    "PS0028": "ILLEGAL PLANE SELECT",
    "PS0029": "ILLEGAL OFFSET VALUE",
    "PS0030": "ILLEGAL OFFSET NUMBER",
    "PS0033": "NO INTERSECTION AT CUTTER COMPENSATION",
    "PS0034": "NO CIRC ALLOWED IN STUP/EXT BLK",
    "PS0037": "CAN NOT CHANGE PLANE IN G41/G42",
    "PS0041": "INTERFERENCE IN CUTTER COMPENSATION",
    "PS0044": "G27-G30 NOT ALLOWED IN FIXED CYC",
    "PS0045": "ADDRESS Q NOT FOUND (G73/G83)",
    "PS0046": "ILLEGAL REFERENCE RETURN COMMAND",
    "PS0061": "P OR Q COMMAND IS NOT IN THE MULTIPLE REPETITIVE CYCLES BLOCK",
    "PS0062": "THE CUTTING AMOUNT IS ILLEGAL IN THE ROUGH CUTTING CYCLE",
    "PS0063": "THE BLOCK OF A PROGRAM NUMBER SPECIFIED BY P CANNOT BE SEARCHED",
    "PS0064": "THE FINISHING SHAPE IS NOT A MONOTONOUS CHANGE (FIRST AXES)",
    "PS0065": "G00/G01 IS NOT IN THE FIRST BLOCK OF SHAPE PROGRAM",
    "PS0066": "UNAVAILABLE COMMAND IS IN THE MULTIPLE REPETITIVE CYCLES BLOCK",
    "PS0067": "THE MULTIPLE REPETITIVE CYCLES IS NOT IN THE PART PROGRAM STORAGE",
    "PS0069": "THE FINAL MOVE COMMAND IN THE SHAPE PROGRAM ENDED WITH CHAMFERING OR CORNER R",
    "PS0070": "NO PROGRAM SPACE IN MEMORY",     # PS0070–PS0074: program memory (editing) [verify on a 0i-F]
    "PS0071": "DATA NOT FOUND",
    "PS0072": "TOO MANY PROGRAMS",
    "PS0073": "PROGRAM NUMBER ALREADY IN USE",
    "PS0074": "ILLEGAL PROGRAM NUMBER",
    "PS0076": "PROGRAM NOT FOUND",
    "PS0077": "TOO MANY SUB,MACRO NESTING",
    "PS0078": "SEQUENCE NUMBER NOT FOUND",
    "PS0085": "OVERFLOW :INTEGER",
    "PS0111": "CALCULATED DATA OVERFLOW",
    "PS0112": "ZERO DIVIDE",
    "PS0114": "ILLEGAL EXPRESSION FORMAT",
    "PS0115": "VARIABLE NO. OUT OF RANGE",
    "PS0116": "WRITE PROTECTED VARIABLE",
    "PS0118": "TOO MANY BRACKET NESTING",
    "PS0119": "ARGUMENT VALUE OUT OF RANGE",
    "PS0122": "DUPLICATE MACRO MODAL-CALL",
    "PS0123": "ILLEGAL MODE FOR GOTO/WHILE/DO",
    "PS0124": "MISSING END STATEMENT",
    "PS0125": "MACRO STATEMENT FORMAT ERROR",
    "PS0126": "ILLEGAL LOOP NUMBER",
    "PS0128": "SEQUENCE NUMBER OUT OF RANGE",
    "PS0092": "ZERO RETURN CHECK (G27) ERROR",
    "PS0224": "ZERO RETURN NOT FINISHED",
    "PS0200": "ILLEGAL S CODE COMMAND",      # rigid tapping with S0
    "EX1001": "ILLEGAL T CODE (NO SUCH TURRET STATION)",   # machine-builder (PMC) alarm
    "EX1002": "M CODE NOT AVAILABLE ON THIS MACHINE",      # machine-builder (PMC) alarm
    "EX1003": "ILLEGAL T CODE (NO SUCH TOOL IN THE MAGAZINE)",   # machine-builder (PMC) alarm, mill
    "OT0500": "+ OVERTRAVEL ( SOFT 1 )",
    "OT0501": "- OVERTRAVEL ( SOFT 1 )",
}


class Alarm(Exception):
    """A control alarm. ``line`` is the 1-based line of the program file (0 when not tied to a line)."""

    def __init__(self, code: str, line: int = 0, detail: str = "", column: int = 0):
        self.code = code
        self.message = MESSAGES.get(code, code)
        self.line = line
        self.column = column
        self.detail = detail  # our explanation for the candidate and examiner; the screen shows code+message
        super().__init__(f"{code} {self.message} (line {line}){': ' + detail if detail else ''}")

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "line": self.line,
                "column": self.column, "detail": self.detail}
